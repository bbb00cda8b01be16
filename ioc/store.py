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

import redis

from ioc.keys import Keys
from ioc.model import Alert, AlertState, Batch, Entity, Event, Severity, from_iso, to_iso, utcnow
from ioc.privacy import scrub_attributes, scrub_text

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

    # --- writing a poll's results -------------------------------------------------------------------

    def write_batch(
        self, feed: str, batch: Batch, *, now: datetime | None = None, replace: bool = True
    ) -> int:
        """Write everything a poll produced in one MULTI/EXEC: readers see all of it or none of it.

        A polled feed delivers the whole picture each time, so its entity set is replaced (`replace`);
        pushed messages (MQTT) each describe one device, so they are added to the set instead."""
        now = now or utcnow()
        ingested = to_iso(now)
        keys = self.keys
        pipe = self.redis.pipeline(transaction=True)
        feed_set = keys.entities_of_feed(feed)
        if replace:
            pipe.delete(feed_set)
        entity_ids: list[str] = []
        geo_members: list[Any] = []
        for entity in batch.entities:
            entity_ids.append(entity.id)
            pipe.hset(keys.entity(entity.id), mapping=_entity_hash(entity, feed, ingested))
            if entity.location:
                geo_members.extend((entity.location[0], entity.location[1], entity.id))
        if entity_ids:
            pipe.sadd(feed_set, *entity_ids)
            pipe.sadd(keys.entities_all(), *entity_ids)
        if geo_members:
            pipe.geoadd(keys.geo(), geo_members)
        for obs in batch.observations:
            pipe.xadd(
                keys.observations(obs.entity_id, obs.metric),
                {"t": to_iso(obs.time), "v": _scalar(obs.value), "u": obs.unit},
                maxlen=OBSERVATIONS_PER_STREAM,
                approximate=True,
            )
        for event in batch.events:
            pipe.hset(keys.event(event.id), mapping=_event_hash(event, feed, ingested))
            expiry = event.expires.timestamp() if event.expires else math.inf
            pipe.zadd(keys.events_active(), {event.id: expiry})
        pipe.incr(keys.changes())
        pipe.execute()
        return batch.record_count

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

    def active_events(self, now: datetime | None = None) -> list[dict[str, Any]]:
        now = now or utcnow()
        ids = self.redis.zrangebyscore(self.keys.events_active(), now.timestamp(), "+inf")
        pipe = self.redis.pipeline(transaction=False)
        for event_id in ids:
            pipe.hgetall(self.keys.event(event_id))
        return [raw for raw in pipe.execute() if raw]

    # --- alerts --------------------------------------------------------------------------------------

    def raise_alert(self, alert: Alert, *, actor: str = "system") -> tuple[Alert, bool]:
        """Raise an alert, or count one more occurrence of the open alert for the same rule and entity.

        Returns the stored alert and whether it is new. Optimistic transaction on the dedup key, so two
        rule evaluators racing on one condition leave one alert.
        """
        dedup_key = self.keys.alert_dedup(alert.rule_id, alert.entity_id)
        now = alert.updated_at or utcnow()

        def _raise(pipe: redis.client.Pipeline) -> tuple[Alert, bool]:
            open_id = pipe.get(dedup_key)
            if open_id:
                pipe.watch(self.keys.alert(open_id))  # an operator resolving it meanwhile restarts this
                existing_raw = pipe.hgetall(self.keys.alert(open_id))
                if existing_raw and existing_raw.get("state") != AlertState.RESOLVED:
                    existing = Alert.from_hash(existing_raw)
                    existing.occurrences += 1
                    existing.value = alert.value
                    existing.updated_at = now
                    pipe.multi()
                    pipe.hincrby(self.keys.alert(existing.id), "occurrences", 1)
                    pipe.hset(
                        self.keys.alert(existing.id),
                        mapping={"value": existing.to_hash()["value"], "updated_at": to_iso(now)},
                    )
                    pipe.incr(self.keys.changes())
                    return existing, False
            number = int(pipe.get(self.keys.alert_sequence()) or 0) + 1
            alert.id = f"A{number:06d}"
            alert.raised_at = alert.raised_at or now
            alert.updated_at = now
            pipe.multi()
            pipe.set(self.keys.alert_sequence(), number)
            pipe.hset(self.keys.alert(alert.id), mapping=alert.to_hash())
            pipe.set(dedup_key, alert.id)
            pipe.zadd(self.keys.alerts_open(), {alert.id: alert.raised_at.timestamp()})
            pipe.zadd(self.keys.alerts_all(), {alert.id: alert.raised_at.timestamp()})
            self._timeline(pipe, alert.id, actor=actor, action="raised", to_state=AlertState.NEW,
                           note=alert.message, at=now)
            pipe.incr(self.keys.changes())
            return alert, True

        return self.redis.transaction(
            _raise, dedup_key, self.keys.alert_sequence(), value_from_callable=True
        )

    def resolve_alert(self, alert_id: str, *, actor: str, note: str = "") -> Alert:
        """Move an alert to resolved (atomic on the alert's hash); resolving twice is refused."""
        alert_key = self.keys.alert(alert_id)

        def _resolve(pipe: redis.client.Pipeline) -> Alert:
            raw = pipe.hgetall(alert_key)
            if not raw:
                raise KeyError(f"no alert {alert_id}")
            alert = Alert.from_hash(raw)
            if alert.state == AlertState.RESOLVED:
                raise ValueError(f"alert {alert_id} is already resolved")
            now = utcnow()
            previous = alert.state
            alert.state, alert.updated_at = AlertState.RESOLVED, now
            pipe.multi()
            pipe.hset(alert_key, mapping={"state": str(alert.state), "updated_at": to_iso(now)})
            pipe.zrem(self.keys.alerts_open(), alert_id)
            pipe.delete(self.keys.alert_dedup(alert.rule_id, alert.entity_id))
            self._timeline(pipe, alert_id, actor=actor, action="resolved", from_state=previous,
                           to_state=AlertState.RESOLVED, note=note, at=now)
            pipe.incr(self.keys.changes())
            return alert

        return self.redis.transaction(_resolve, alert_key, value_from_callable=True)

    def open_alert_for(self, rule_id: str, entity_id: str) -> str | None:
        return self.redis.get(self.keys.alert_dedup(rule_id, entity_id))

    def alert(self, alert_id: str) -> Alert | None:
        raw = self.redis.hgetall(self.keys.alert(alert_id))
        return Alert.from_hash(raw) if raw else None

    def open_alerts(self, limit: int = 200) -> list[Alert]:
        """Open alerts, most severe first, then oldest first."""
        ids = self.redis.zrange(self.keys.alerts_open(), 0, -1)
        pipe = self.redis.pipeline(transaction=False)
        for alert_id in ids:
            pipe.hgetall(self.keys.alert(alert_id))
        alerts = [Alert.from_hash(raw) for raw in pipe.execute() if raw]
        alerts.sort(key=lambda a: (a.severity.rank, a.raised_at.timestamp() if a.raised_at else 0))
        return alerts[:limit]

    def alert_timeline(self, alert_id: str) -> list[dict[str, str]]:
        return [fields for _, fields in self.redis.xrange(self.keys.alert_timeline(alert_id))]

    def _timeline(
        self, pipe: redis.client.Pipeline, alert_id: str, *, actor: str, action: str, at: datetime,
        to_state: AlertState, from_state: AlertState | None = None, note: str = "",
    ) -> None:
        entry = {
            "at": to_iso(at),
            "actor": actor,
            "action": action,
            "from": str(from_state or ""),
            "to": str(to_state),
            "note": scrub_text(note),
        }
        pipe.xadd(self.keys.alert_timeline(alert_id), entry)
        pipe.xadd(self.keys.audit(), {"object": f"alert:{alert_id}", **entry})


# --- hash encoding -----------------------------------------------------------------------------------


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
        "name": scrub_text(entity.name),
        "lon": repr(location[0]) if location else "",
        "lat": repr(location[1]) if location else "",
        "geometry": json.dumps(entity.geometry) if entity.geometry else "",
        "district": entity.district or "",
        "attributes": json.dumps(scrub_attributes(entity.attributes), ensure_ascii=False, default=str),
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
        "headline": scrub_text(event.headline),
        "description": scrub_text(event.description),
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
