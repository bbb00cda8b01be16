"""The Redis store: writes batches atomically, keeps feed health, raises alerts, reads the live city.

Keys come from ioc.keys only. Every write that changes what a screen shows bumps the city's change
counter, so the dashboard can skip work when nothing changed.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import orjson
import redis

from ioc.alerts import AlertBook
from ioc.keys import Keys
from ioc.model import Alert, Batch, RecordProblem, Severity, from_iso, to_iso, utcnow
from ioc.privacy import scrub_batch, scrub_text
from ioc.store_batch import OBSERVATIONS_PER_STREAM, WRITE_BATCH_LUA, Writes, batch_writes, feed_index

REJECTED_PAYLOADS_KEPT = 5
REJECTED_PAYLOAD_BYTES = 256 * 1024
# The records a poll refused or repaired are all counted; the first few are kept with their reasons to show.
RECORD_PROBLEMS_KEPT = 20
RECORD_PROBLEM_CHARS = 500


@dataclass(frozen=True, slots=True)
class FeedHealth:
    feed: str
    last_success: datetime | None
    last_attempt: datetime | None
    last_error: str
    last_error_at: datetime | None
    record_count: int
    previous_record_count: int
    fetch_latency_ms: float | None
    consecutive_failures: int
    interval: float
    stale_factor: float
    # the last stored batch's records a reader refused or repaired, and the first few of them with reasons
    records_refused: int = 0
    records_repaired: int = 0
    record_problems: tuple[RecordProblem, ...] = ()

    def stale_at(self, now: datetime) -> bool:
        """Old data: no success yet, or the last one is older than the expected cadence allows."""
        if self.last_success is None:
            return True
        return (now - self.last_success).total_seconds() > self.interval * self.stale_factor

    def to_dict(self, now: datetime | None = None) -> dict[str, Any]:
        now = now or utcnow()
        lag = (now - self.last_success).total_seconds() if self.last_success else None
        return {
            "last_success": to_iso(self.last_success) or None,
            "last_attempt": to_iso(self.last_attempt) or None,
            "last_error": self.last_error or None,
            "last_error_at": to_iso(self.last_error_at) or None,
            "record_count": self.record_count,
            "previous_record_count": self.previous_record_count,
            "fetch_latency_ms": self.fetch_latency_ms,
            "consecutive_failures": self.consecutive_failures,
            "interval": self.interval,
            "lag_seconds": round(lag, 1) if lag is not None else None,
            "stale": self.stale_at(now),
            # counts only: a reason may quote the value it refused, shown to those who may see raw payloads
            "records_refused": self.records_refused,
            "records_repaired": self.records_repaired,
        }


class Store:
    """All reads and writes of one city's state in Redis."""

    def __init__(self, client: redis.Redis, city: str) -> None:
        self.redis = client
        self.keys = Keys(city)
        self.city = city
        self._scripting: bool | None = None  # probed on first write

    # --- writing a poll's results -------------------------------------------------------------------

    def write_batch(
        self, feed: str, batch: Batch, *, now: datetime | None = None, replace: bool = True
    ) -> int:
        """Write everything a poll produced in one atomic step: readers see all of it or none of it.

        A polled feed delivers the whole picture each time, so its entity records are replaced (`replace`);
        pushed messages (MQTT) each describe one device, so they are added to the feed's records instead.
        On a Redis server the batch goes to a Lua script as flat runs of values (atomic like MULTI/EXEC, and
        several times faster than queuing one command per record from Python, see bench/ingest.py); where
        scripting is missing (the in-process Redis) the same writes go through a MULTI/EXEC pipeline.
        """
        scrub_batch(batch)  # the one privacy guarantee: nothing personal is written past this line
        writes = batch_writes(self.keys, feed, batch, to_iso(now or utcnow()), replace)
        if self._scripting_available():
            self._write_script(keys=[writes.header["records"]], args=writes.script_args())
        else:
            self._write_pipeline(writes)
        return batch.record_count

    def _write_pipeline(self, w: Writes) -> None:
        h = w.header
        # read before MULTI: the in-process Redis has one writer per feed, so nothing moves in between
        ended = self._ended_events(w) if h["replace"] else []
        moved = not h["digest"] or self.redis.hget(h["digests"], h["feed"]) != h["digest"]
        pipe = self.redis.pipeline(transaction=True)
        if h["replace"]:
            pipe.delete(h["records"], h["feed_events"])
            if ended:
                pipe.zrem(h["events_key"], *ended)
                pipe.hdel(h["event_feeds"], *ended)
        if w.records:
            pipe.execute_command("HSET", h["records"], *w.records)
            pipe.execute_command("HSET", h["entity_feeds"], *feed_index(w.records, h["feed"]))
        if w.geo:
            pipe.geoadd(h["geo_key"], w.geo)
        obs = w.observations
        for i in range(0, len(obs), 4):
            pipe.xadd(obs[i], {"t": obs[i + 1], "v": obs[i + 2], "u": obs[i + 3]}, maxlen=h["maxlen"],
                      approximate=True)
        events = w.events
        for i in range(0, len(events), 3):
            event_id, record, expiry = events[i : i + 3]
            pipe.hset(h["feed_events"], event_id, record)
            pipe.zadd(h["events_key"], {event_id: math.inf if expiry == "+inf" else float(expiry)})
            pipe.hset(h["event_feeds"], event_id, h["feed"])
        if moved:
            pipe.hset(h["digests"], h["feed"], h["digest"])
            pipe.hincrby(h["versions"], h["feed"], 1)
        header, runs, records = w.script_args()
        pipe.xadd(h["archive"], {"h": header, "a": runs, **({"r": records} if moved else {})},
                  maxlen=h["archive_maxlen"], approximate=True)
        pipe.incr(h["changes"])
        pipe.execute()

    def _ended_events(self, w: Writes) -> list[str]:
        """Events the feed listed last time and no longer lists."""
        current = set(w.events[::3])
        return [e for e in self.redis.hkeys(w.header["feed_events"]) if e not in current]

    def _scripting_available(self) -> bool:
        if self._scripting is None:
            try:
                self._write_script = self.redis.register_script(WRITE_BATCH_LUA)
                self.redis.script_load(WRITE_BATCH_LUA)
                self._scripting = True
            except (redis.ResponseError, NotImplementedError, ModuleNotFoundError, ImportError):
                self._scripting = False
        return self._scripting

    # --- feed health ---------------------------------------------------------------------------------

    def record_success(
        self, feed: str, *, records: int, latency_ms: float, interval: float, stale_factor: float,
        now: datetime | None = None, problems: Sequence[RecordProblem] = (),
    ) -> None:
        """Note a stored poll, with the records its reader refused or repaired (their reasons scrubbed: a reason
        may quote the value it could not read, and that value may be a phone number in the wrong column)."""
        refused = sum(problem.refused for problem in problems)
        kept = [
            _problem_dict(RecordProblem(problem.where, scrub_text(problem.reason)[:RECORD_PROBLEM_CHARS],
                                        problem.refused))
            for problem in problems[:RECORD_PROBLEMS_KEPT]
        ]
        now_iso = to_iso(now or utcnow())
        key = self.keys.feed_health(feed)
        previous = self.redis.hget(key, "record_count")
        pipe = self.redis.pipeline(transaction=True)
        pipe.sadd(self.keys.feeds(), feed)
        pipe.hset(
            key,
            mapping={
                "last_success": now_iso,
                "last_attempt": now_iso,
                "record_count": records,
                "previous_record_count": previous if previous is not None else records,
                "fetch_latency_ms": round(latency_ms, 1),
                "consecutive_failures": 0,
                "interval": interval,
                "stale_factor": stale_factor,
                "stale": 0,
                "records_refused": refused,
                "records_repaired": len(problems) - refused,
                "record_problems": json.dumps(kept, ensure_ascii=False),
            },
        )
        pipe.incr(self.keys.changes())
        pipe.execute()

    def record_failure(
        self, feed: str, *, error: str, interval: float, stale_factor: float, payload: bytes | None = None,
        now: datetime | None = None,
    ) -> None:
        """Note a failed poll; a refused payload is kept (capped) for an integrator to inspect."""
        now = now or utcnow()
        key = self.keys.feed_health(feed)
        last_success = from_iso(self.redis.hget(key, "last_success"))
        stale = last_success is None or (now - last_success).total_seconds() > interval * stale_factor
        pipe = self.redis.pipeline(transaction=True)
        pipe.sadd(self.keys.feeds(), feed)
        pipe.hset(
            key,
            mapping={
                "last_attempt": to_iso(now),
                "last_error": error[:2000],
                "last_error_at": to_iso(now),
                "interval": interval,
                "stale_factor": stale_factor,
                "stale": int(stale),
            },
        )
        pipe.hincrby(key, "consecutive_failures", 1)
        if payload is not None:
            sample = payload[:REJECTED_PAYLOAD_BYTES]
            pipe.lpush(
                self.keys.feed_rejected(feed),
                json.dumps(
                    {
                        "at": to_iso(now),
                        "error": error[:2000],
                        "bytes": len(payload),
                        "truncated": len(payload) > len(sample),
                        "payload": sample.decode("utf-8", errors="replace"),
                    }
                ),
            )
            pipe.ltrim(self.keys.feed_rejected(feed), 0, REJECTED_PAYLOADS_KEPT - 1)
        pipe.incr(self.keys.changes())
        pipe.execute()

    def feed_health(self, feed: str) -> FeedHealth | None:
        raw = self.redis.hgetall(self.keys.feed_health(feed))
        return _health_from_hash(feed, raw) if raw else None

    def all_health(self, feeds: Iterable[str]) -> dict[str, FeedHealth | None]:
        names = list(feeds)
        pipe = self.redis.pipeline(transaction=False)
        for name in names:
            pipe.hgetall(self.keys.feed_health(name))
        return {
            name: (_health_from_hash(name, raw) if raw else None)
            for name, raw in zip(names, pipe.execute(), strict=True)
        }

    def rejected_payloads(self, feed: str) -> list[dict[str, Any]]:
        return [json.loads(item) for item in self.redis.lrange(self.keys.feed_rejected(feed), 0, -1)]

    # --- reading the live city -----------------------------------------------------------------------

    def change_counter(self) -> int:
        return int(self.redis.get(self.keys.changes()) or 0)

    def layer_versions(self) -> dict[str, int]:
        """Every layer's change version (a field per feed, and `alerts`) in one read."""
        return {name: int(value) for name, value in self.redis.hgetall(self.keys.versions()).items()}

    def entities_of_feed(self, feed: str) -> list[dict[str, Any]]:
        """The feed's entities as its last poll left them, by id: one read, however many entities."""
        return _decoded(self.redis.hgetall(self.keys.entities_of_feed(feed)))

    def entities_of_feeds(self, feeds: Iterable[str]) -> dict[str, list[dict[str, Any]]]:
        """Several feeds' entities in one round trip (the map reads every layer at once)."""
        names = list(feeds)
        pipe = self.redis.pipeline(transaction=False)
        for name in names:
            pipe.hgetall(self.keys.entities_of_feed(name))
        return {name: _decoded(raw) for name, raw in zip(names, pipe.execute(), strict=True)}

    def all_entities(self) -> list[dict[str, Any]]:
        """Every entity of every feed that has written some (a city-wide query, not a screen's tick)."""
        feeds = sorted(set(self.redis.hvals(self.keys.entity_feeds())))
        return [entity for entities in self.entities_of_feeds(feeds).values() for entity in entities]

    def entities_of_sector(self, sector: str) -> list[dict[str, Any]]:
        return [entity for entity in self.all_entities() if entity["sector"] == sector]

    def entities(self, ids: Iterable[str]) -> list[dict[str, Any]]:
        """Entities by id, in the order asked, skipping unknown ones: two round trips for any number."""
        ids = list(ids)
        if not ids:
            return []
        feeds = self.redis.hmget(self.keys.entity_feeds(), ids)
        by_feed: dict[str, list[str]] = {}
        for entity_id, feed in zip(ids, feeds, strict=True):
            if feed is not None:
                by_feed.setdefault(feed, []).append(entity_id)
        pipe = self.redis.pipeline(transaction=False)
        for feed, members in by_feed.items():
            pipe.hmget(self.keys.entities_of_feed(feed), members)
        found: dict[str, str] = {}
        for members, records in zip(by_feed.values(), pipe.execute(), strict=True):
            found.update((entity_id, record) for entity_id, record in zip(members, records, strict=True) if record)
        return [orjson.loads(found[entity_id]) for entity_id in ids if entity_id in found]

    def entity(self, entity_id: str) -> dict[str, Any] | None:
        found = self.entities([entity_id])
        return found[0] if found else None

    def recent_observations(self, entity_id: str, metric: str, count: int = 100) -> list[dict[str, Any]]:
        rows = self.redis.xrevrange(self.keys.observations(entity_id, metric), count=count)
        return [{"id": row_id, **fields} for row_id, fields in reversed(rows)]

    def events_of_feed(self, feed: str, now: datetime | None = None) -> list[dict[str, Any]]:
        """The feed's active events shaped like entities (name, type, lon/lat, district, attributes), so the
        map draws incidents in their sector's layer and a feed KPI can count them. One round trip."""
        pipe = self.redis.pipeline(transaction=False)
        pipe.hgetall(self.keys.events_of_feed(feed))
        pipe.zrangebyscore(self.keys.events_active(), (now or utcnow()).timestamp(), "+inf")
        records, active = pipe.execute()
        active = set(active)
        return [_event_as_entity(orjson.loads(records[event_id])) for event_id in sorted(records)
                if event_id in active]

    def active_events(self, now: datetime | None = None) -> list[dict[str, Any]]:
        now = now or utcnow()
        ids = self.redis.zrangebyscore(self.keys.events_active(), now.timestamp(), "+inf")
        if not ids:
            return []
        feeds = self.redis.hmget(self.keys.event_feeds(), ids)
        pipe = self.redis.pipeline(transaction=False)
        for event_id, feed in zip(ids, feeds, strict=True):
            pipe.hget(self.keys.events_of_feed(feed or ""), event_id)
        return [orjson.loads(record) for record in pipe.execute() if record]

    # --- alerts: the lifecycle lives in ioc.alerts; these keep the store's callers working -------------

    @property
    def alerts(self) -> AlertBook:
        """The city's alerts: raise, acknowledge, assign, resolve, escalate, read."""
        return AlertBook(self.redis, self.keys)

    def raise_alert(self, alert: Alert, *, actor: str = "system") -> tuple[Alert, bool]:
        return self.alerts.raise_alert(alert, actor=actor)

    def resolve_alert(self, alert_id: str, *, actor: str, note: str = "") -> Alert:
        return self.alerts.resolve(alert_id, actor=actor, note=note).alert

    def open_alert_for(self, rule_id: str, entity_id: str) -> str | None:
        return self.alerts.open_alert_for(rule_id, entity_id)

    def alert(self, alert_id: str) -> Alert | None:
        return self.alerts.alert(alert_id)

    def open_alerts(self, limit: int = 200) -> list[Alert]:
        """Open alerts, most severe first, then oldest first."""
        return self.alerts.open_alerts(limit)

    def alert_timeline(self, alert_id: str) -> list[dict[str, str]]:
        return self.alerts.timeline(alert_id)


# --- reading records back ---------------------------------------------------------------------------


def _decoded(records: dict[str, str]) -> list[dict[str, Any]]:
    return [orjson.loads(records[entity_id]) for entity_id in sorted(records)]


def _entity_from_hash(raw: dict[str, str]) -> dict[str, Any]:
    return {
        "id": raw.get("id", ""),
        "type": raw.get("type", ""),
        "agency": raw.get("agency", ""),
        "sector": raw.get("sector", ""),
        "feed": raw.get("feed", ""),
        "name": raw.get("name", ""),
        "lon": float(raw["lon"]) if raw.get("lon") else None,
        "lat": float(raw["lat"]) if raw.get("lat") else None,
        "geometry": json.loads(raw["geometry"]) if raw.get("geometry") else None,
        "district": raw.get("district") or None,
        "attributes": json.loads(raw.get("attributes") or "{}"),
        "observed_at": raw.get("observed_at") or None,
        "ingested_at": raw.get("ingested_at") or None,
    }


_EVENT_ATTRIBUTES = ("severity", "urgency", "certainty", "status", "onset", "expires", "description")


def _event_as_entity(raw: dict[str, str]) -> dict[str, Any]:
    """An event hash read like an entity hash: headline as name, area as geometry, CAP fields as attributes."""
    shaped = _entity_from_hash({
        **raw,
        "name": raw.get("headline", ""),
        "geometry": raw.get("area", ""),
        "attributes": "",
        "observed_at": raw.get("onset") or raw.get("ingested_at", ""),
    })
    shaped["attributes"] = {key: raw[key] for key in _EVENT_ATTRIBUTES if raw.get(key)}
    shaped["is_event"] = True
    return shaped


def _health_from_hash(feed: str, raw: dict[str, str]) -> FeedHealth:
    return FeedHealth(
        feed=feed,
        last_success=from_iso(raw.get("last_success")),
        last_attempt=from_iso(raw.get("last_attempt")),
        last_error=raw.get("last_error", ""),
        last_error_at=from_iso(raw.get("last_error_at")),
        record_count=int(raw.get("record_count") or 0),
        previous_record_count=int(raw.get("previous_record_count") or 0),
        fetch_latency_ms=float(raw["fetch_latency_ms"]) if raw.get("fetch_latency_ms") else None,
        consecutive_failures=int(raw.get("consecutive_failures") or 0),
        interval=float(raw.get("interval") or 60),
        stale_factor=float(raw.get("stale_factor") or 3),
        records_refused=int(raw.get("records_refused") or 0),
        records_repaired=int(raw.get("records_repaired") or 0),
        record_problems=tuple(
            RecordProblem(str(item["where"]), str(item["reason"]), bool(item["refused"]))
            for item in json.loads(raw.get("record_problems") or "[]")
        ),
    )


def _problem_dict(problem: RecordProblem) -> dict[str, Any]:
    return {"where": problem.where, "reason": problem.reason, "refused": problem.refused}


__all__ = ["OBSERVATIONS_PER_STREAM", "FeedHealth", "Store", "Severity"]
