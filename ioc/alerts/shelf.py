"""Shelving: an operator puts an alarm aside for a while, with a reason, within the time its priority allows
(`rules.yaml` shelving); it comes back by itself. Every shelve and return is on the alert's timeline and in
the audit stream."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

import redis

from ioc.alerts.record import AlertRecord, mark_changed
from ioc.alerts.timeline import write_entry
from ioc.config import Shelving
from ioc.keys import Keys
from ioc.model import from_iso, to_iso, utcnow


class ShelvingRefused(ValueError):
    """The alarm may not be shelved so: no reason, too long for its priority, or not open."""


@dataclass(frozen=True, slots=True)
class Shelved:
    alert_id: str
    reason: str
    by: str
    at: datetime | None
    until: datetime | None


def shelved_ids(client: redis.Redis, keys: Keys, now: datetime | None = None) -> set[str]:
    """Alarms on the shelf now (their time not yet up): for whoever only needs to leave them out."""
    now = now or utcnow()
    return set(client.zrangebyscore(keys.alerts_shelved(), f"({now.timestamp()}", "+inf"))


class Shelf:
    """The shelved alarms of one city."""

    def __init__(self, client: redis.Redis, keys: Keys, rules: Shelving) -> None:
        self.redis, self.keys, self.rules = client, keys, rules

    def shelve(self, record: AlertRecord, *, actor: str, reason: str, minutes: int,
               now: datetime | None = None) -> Shelved:
        now = now or utcnow()
        alert = record.alert
        limit = self.rules.max_minutes.get(str(alert.severity))  # type: ignore[call-overload]
        if not reason.strip():
            raise ShelvingRefused("a shelved alarm needs a reason")
        if not record.is_open:
            raise ShelvingRefused(f"{alert.id} is resolved: nothing to shelve")
        if limit is None:
            raise ShelvingRefused(f"{alert.severity} alarms may not be shelved (rules.yaml shelving.max_minutes)")
        if not 0 < minutes <= limit:
            raise ShelvingRefused(f"{alert.severity} alarms may be shelved for 1 to {limit} minutes, not {minutes}")
        until = now + timedelta(minutes=minutes)
        with self.redis.pipeline(transaction=True) as pipe:
            pipe.zadd(self.keys.alerts_shelved(), {alert.id: until.timestamp()})
            pipe.hset(self.keys.alert_shelf(alert.id), mapping={"reason": reason.strip(), "by": actor,
                                                                "at": to_iso(now), "until": to_iso(until)})
            write_entry(pipe, self.keys, alert.id, actor=actor, action="shelved", at=now, to_state=alert.state,
                        from_state=alert.state, note=f"{reason.strip()} (until {to_iso(until)})")
            mark_changed(pipe, self.keys)  # every alert panel and the map redraw it as shelved
            pipe.execute()
        return Shelved(alert.id, reason.strip(), actor, now, until)

    def unshelve(self, record: AlertRecord, *, actor: str, note: str = "", now: datetime | None = None) -> bool:
        """Bring an alarm back before its time (or at it, as `system`); False when it was not shelved."""
        now = now or utcnow()
        alert = record.alert
        with self.redis.pipeline(transaction=True) as pipe:
            pipe.zrem(self.keys.alerts_shelved(), alert.id)
            pipe.delete(self.keys.alert_shelf(alert.id))
            removed = pipe.execute()[0]
        if removed:
            with self.redis.pipeline(transaction=True) as pipe:
                write_entry(pipe, self.keys, alert.id, actor=actor, action="unshelved", at=now,
                            to_state=alert.state, from_state=alert.state, note=note)
                mark_changed(pipe, self.keys)
                pipe.execute()
        return bool(removed)

    def due(self, now: datetime | None = None) -> list[str]:
        """Alarms whose shelving time is up, still on the shelf: the caller unshelves them as `system`."""
        now = now or utcnow()
        return list(self.redis.zrangebyscore(self.keys.alerts_shelved(), "-inf", now.timestamp()))

    def shelved_ids(self, now: datetime | None = None) -> set[str]:
        """Alarms on the shelf now (their time not yet up)."""
        return shelved_ids(self.redis, self.keys, now)

    def shelved(self, now: datetime | None = None) -> list[Shelved]:
        """The shelved list, soonest back first (the sorted set's own order), read in one round trip."""
        now = now or utcnow()
        ids = self.redis.zrangebyscore(self.keys.alerts_shelved(), f"({now.timestamp()}", "+inf")
        with self.redis.pipeline(transaction=False) as pipe:
            for alert_id in ids:
                pipe.hgetall(self.keys.alert_shelf(alert_id))
            shelves = pipe.execute()
        return [Shelved(alert_id, raw.get("reason", ""), raw.get("by", ""), from_iso(raw.get("at")),
                        from_iso(raw.get("until"))) for alert_id, raw in zip(ids, shelves, strict=True)]


def return_due(shelf: Shelf, get: Callable[[str], AlertRecord | None], now: datetime | None = None) -> list[str]:
    """Unshelve, as `system`, every alarm whose time is up (called by whoever reads the shelf: a screen's tick,
    the CLI), so its return is on its timeline and in the audit stream."""
    returned = []
    for alert_id in shelf.due(now):
        record = get(alert_id)
        if record is not None and shelf.unshelve(record, actor="system", note="shelving time up", now=now):
            returned.append(alert_id)
        elif record is None:
            shelf.redis.zrem(shelf.keys.alerts_shelved(), alert_id)
    return returned
