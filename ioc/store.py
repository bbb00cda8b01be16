"""The Redis store: writes batches atomically, keeps feed health, raises alerts, reads the live city.

Keys come from ioc.keys only. Every write that changes what a screen shows bumps the city's change
counter, so the dashboard can skip work when nothing changed.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import orjson
import redis

from ioc.alerts import AlertBook
from ioc.keys import Keys
from ioc.model import Alert, Batch, Entity, Event, Severity, from_iso, to_iso, utcnow
from ioc.privacy import scrub_batch

OBSERVATIONS_PER_STREAM = 1_000  # recent history per entity and metric; rollups keep the long view
REJECTED_PAYLOADS_KEPT = 5
REJECTED_PAYLOAD_BYTES = 256 * 1024


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

        A polled feed delivers the whole picture each time, so its entity set is replaced (`replace`);
        pushed messages (MQTT) each describe one device, so they are added to the set instead.
        On a Redis server the batch goes as one JSON argument to a Lua script (atomic like MULTI/EXEC, and
        about ten times faster than queuing one command per record from Python, see bench/ingest.py);
        where scripting is missing (the in-process Redis) the same writes go through a MULTI/EXEC pipeline.
        """
        scrub_batch(batch)  # the one privacy guarantee: nothing personal is written past this line
        writes = self._batch_writes(feed, batch, to_iso(now or utcnow()), replace)
        if self._scripting_available():
            self._write_script(keys=[writes["feed_set"]], args=[orjson.dumps(writes)])
        else:
            self._write_pipeline(writes)
        return batch.record_count

    def _batch_writes(self, feed: str, batch: Batch, ingested: str, replace: bool) -> dict[str, Any]:
        """The batch as plain key/field lists, shared by the script and the pipeline paths."""
        keys = self.keys
        entities, ids, geo = [], [], []
        for entity in batch.entities:
            ids.append(entity.id)
            entities.append([keys.entity(entity.id), _flat(_entity_hash(entity, feed, ingested))])
            if entity.location:
                geo.extend((entity.location[0], entity.location[1], entity.id))
        observations = [
            [keys.observations(o.entity_id, o.metric), to_iso(o.time), _scalar(o.value), o.unit]
            for o in batch.observations
        ]
        events = [
            [keys.event(e.id), _flat(_event_hash(e, feed, ingested)), e.id,
             e.expires.timestamp() if e.expires else "+inf"]
            for e in batch.events
        ]
        return {
            "feed_set": keys.entities_of_feed(feed), "replace": replace, "all": keys.entities_all(),
            "geo_key": keys.geo(), "events_key": keys.events_active(), "changes": keys.changes(),
            "feed_events": keys.events_of_feed(feed),
            "maxlen": OBSERVATIONS_PER_STREAM, "entities": entities, "ids": ids, "geo": geo,
            "obs": observations, "events": events,
        }

    def _write_pipeline(self, w: dict[str, Any]) -> None:
        # read before MULTI: the in-process Redis has one writer per feed, so nothing moves in between
        ended = self._ended_events(w) if w["replace"] else []
        pipe = self.redis.pipeline(transaction=True)
        if w["replace"]:
            pipe.delete(w["feed_set"], w["feed_events"])
            if ended:
                pipe.zrem(w["events_key"], *ended)
        for key, fields in w["entities"]:
            pipe.execute_command("HSET", key, *fields)
        if w["ids"]:
            pipe.sadd(w["feed_set"], *w["ids"])
            pipe.sadd(w["all"], *w["ids"])
        if w["geo"]:
            pipe.geoadd(w["geo_key"], w["geo"])
        for key, time_, value, unit in w["obs"]:
            pipe.xadd(key, {"t": time_, "v": value, "u": unit}, maxlen=w["maxlen"], approximate=True)
        for key, fields, event_id, expiry in w["events"]:
            pipe.execute_command("HSET", key, *fields)
            pipe.zadd(w["events_key"], {event_id: math.inf if expiry == "+inf" else expiry})
            pipe.sadd(w["feed_events"], event_id)
        pipe.incr(w["changes"])
        pipe.execute()

    def _ended_events(self, w: dict[str, Any]) -> list[str]:
        """Events the feed listed last time and no longer lists."""
        current = {event_id for _, _, event_id, _ in w["events"]}
        return [e for e in self.redis.smembers(w["feed_events"]) if e not in current]

    def _scripting_available(self) -> bool:
        if self._scripting is None:
            try:
                self._write_script = self.redis.register_script(_WRITE_BATCH_LUA)
                self.redis.script_load(_WRITE_BATCH_LUA)
                self._scripting = True
            except (redis.ResponseError, NotImplementedError, ModuleNotFoundError, ImportError):
                self._scripting = False
        return self._scripting

    # --- feed health ---------------------------------------------------------------------------------

    def record_success(
        self, feed: str, *, records: int, latency_ms: float, interval: float, stale_factor: float,
        now: datetime | None = None,
    ) -> None:
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

    def entities_of_feed(self, feed: str) -> list[dict[str, Any]]:
        ids = sorted(self.redis.smembers(self.keys.entities_of_feed(feed)))
        return self.entities(ids)

    def entities(self, ids: Iterable[str]) -> list[dict[str, Any]]:
        ids = list(ids)
        pipe = self.redis.pipeline(transaction=False)
        for entity_id in ids:
            pipe.hgetall(self.keys.entity(entity_id))
        return [_entity_from_hash(raw) for raw in pipe.execute() if raw]

    def entity(self, entity_id: str) -> dict[str, Any] | None:
        raw = self.redis.hgetall(self.keys.entity(entity_id))
        return _entity_from_hash(raw) if raw else None

    def recent_observations(self, entity_id: str, metric: str, count: int = 100) -> list[dict[str, Any]]:
        rows = self.redis.xrevrange(self.keys.observations(entity_id, metric), count=count)
        return [{"id": row_id, **fields} for row_id, fields in reversed(rows)]

    def events_of_feed(self, feed: str, now: datetime | None = None) -> list[dict[str, Any]]:
        """The feed's active events shaped like entities (name, type, lon/lat, district, attributes), so the
        map draws incidents in their sector's layer and a feed KPI can count them."""
        now_ts = (now or utcnow()).timestamp()
        ids = self.redis.smembers(self.keys.events_of_feed(feed))
        pipe = self.redis.pipeline(transaction=False)
        for event_id in sorted(ids):
            pipe.hgetall(self.keys.event(event_id))
            pipe.zscore(self.keys.events_active(), event_id)
        replies = pipe.execute()
        shaped = []
        for raw, expiry in zip(replies[::2], replies[1::2], strict=True):
            if raw and expiry is not None and float(expiry) >= now_ts:
                shaped.append(_event_as_entity(raw))
        return shaped

    def active_events(self, now: datetime | None = None) -> list[dict[str, Any]]:
        now = now or utcnow()
        ids = self.redis.zrangebyscore(self.keys.events_active(), now.timestamp(), "+inf")
        pipe = self.redis.pipeline(transaction=False)
        for event_id in ids:
            pipe.hgetall(self.keys.event(event_id))
        return [raw for raw in pipe.execute() if raw]

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


# --- hash encoding -----------------------------------------------------------------------------------

# One batch in one script call. All keys of a city share its hash tag, so on a cluster they live in the slot
# of KEYS[1] (the feed's entity set); the others travel in the JSON argument, built by ioc.keys.
_WRITE_BATCH_LUA = """
local w = cjson.decode(ARGV[1])
if w.replace then
  redis.call('DEL', KEYS[1])
  -- an event a full feed no longer lists has ended
  local listed = {}
  for _, e in ipairs(w.events) do listed[e[3]] = true end
  for _, id in ipairs(redis.call('SMEMBERS', w.feed_events)) do
    if not listed[id] then redis.call('ZREM', w.events_key, id) end
  end
  redis.call('DEL', w.feed_events)
end
for _, e in ipairs(w.entities) do redis.call('HSET', e[1], unpack(e[2])) end
local ids = w.ids
for i = 1, #ids, 4000 do
  local chunk = {unpack(ids, i, math.min(i + 3999, #ids))}
  redis.call('SADD', KEYS[1], unpack(chunk))
  redis.call('SADD', w.all, unpack(chunk))
end
local geo = w.geo
for i = 1, #geo, 3000 do redis.call('GEOADD', w.geo_key, unpack(geo, i, math.min(i + 2999, #geo))) end
for _, o in ipairs(w.obs) do
  redis.call('XADD', o[1], 'MAXLEN', '~', w.maxlen, '*', 't', o[2], 'v', o[3], 'u', o[4])
end
for _, e in ipairs(w.events) do
  redis.call('HSET', e[1], unpack(e[2]))
  redis.call('ZADD', w.events_key, e[4], e[3])
  redis.call('SADD', w.feed_events, e[3])
end
return redis.call('INCR', w.changes)
"""


def _flat(mapping: dict[str, str]) -> list[str]:
    return [item for pair in mapping.items() for item in pair]



def _scalar(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _entity_hash(entity: Entity, feed: str, ingested: str) -> dict[str, str]:
    location = entity.location
    return {
        "id": entity.id,
        "type": entity.type,
        "agency": entity.agency,
        "sector": entity.sector,
        "feed": feed,
        "name": entity.name,
        "lon": repr(location[0]) if location else "",
        "lat": repr(location[1]) if location else "",
        "geometry": json.dumps(entity.geometry) if entity.geometry else "",
        "district": entity.district or "",
        "attributes": orjson.dumps(entity.attributes, default=str).decode(),
        "observed_at": to_iso(entity.observed_at),
        "ingested_at": ingested,
    }


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


def _event_hash(event: Event, feed: str, ingested: str) -> dict[str, str]:
    return {
        "id": event.id,
        "type": event.type,
        "agency": event.agency,
        "sector": event.sector,
        "feed": feed,
        "headline": event.headline,
        "description": event.description,
        "severity": str(event.severity),
        "urgency": event.urgency,
        "certainty": event.certainty,
        "area": json.dumps(event.area) if event.area else "",
        "lon": repr(event.location[0]) if event.location else "",
        "lat": repr(event.location[1]) if event.location else "",
        "district": event.district or "",
        "onset": to_iso(event.onset),
        "expires": to_iso(event.expires),
        "status": event.status,
        "ingested_at": ingested,
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
    )


__all__ = ["FeedHealth", "Store", "Severity"]
