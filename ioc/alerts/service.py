"""Out of service and maintenance: a feed or an entity taken out of service (with a reason, until a time or
until put back), and maintenance windows over feeds or areas (declared by an operator, or recurring in
`rules.yaml` `maintenance:`). While either holds, the rules raise no alarms for what it covers
(`Suppression`, read by ioc.rules.engine) and the feed board shows the feed as such, not as healthy. Every
change is in the audit stream."""

from __future__ import annotations

import json
import secrets
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from typing import Any

import redis

from ioc.alerts.record import mark_changed
from ioc.audit import AuditTrail
from ioc.config import Settings
from ioc.config_alarms import WEEKDAYS, MaintenanceWindow
from ioc.i18n import CITY_ZONE
from ioc.keys import Keys
from ioc.model import from_iso, to_iso, utcnow

FEED, ENTITY = "feed", "entity"
OUT_OF_SERVICE, MAINTENANCE = "out_of_service", "maintenance"
REASON_CHARS = 500


class ServiceRefused(ValueError):
    """The change is refused: no reason, an unknown feed, an end before its start."""


@dataclass(frozen=True, slots=True)
class OutOfService:
    """A feed or an entity out of service: why, who said so, since when, until when (None: until put back)."""

    kind: str  # FEED or ENTITY
    name: str
    reason: str
    by: str
    at: datetime | None
    until: datetime | None = None

    @property
    def target(self) -> str:
        return f"{self.kind}:{self.name}"

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "name": self.name, "reason": self.reason, "by": self.by,
                "at": to_iso(self.at) or None, "until": to_iso(self.until) or None}


@dataclass(frozen=True, slots=True)
class Window:
    """A maintenance window now or to come: declared (`by` someone) or one occurrence of a recurring one."""

    id: str
    feeds: tuple[str, ...]
    areas: tuple[str, ...]
    start: datetime
    end: datetime
    reason: str
    by: str = ""
    recurring: bool = False

    def active(self, now: datetime) -> bool:
        return self.start <= now < self.end

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "feeds": list(self.feeds), "areas": list(self.areas), "start": to_iso(self.start),
                "end": to_iso(self.end), "reason": self.reason, "by": self.by or None, "recurring": self.recurring}


def feed_of(subject: str) -> str | None:
    """The feed a rule's subject belongs to: `feed:<name>`, or an entity URN urn:ioc:<city>:<feed>:<local id>."""
    if subject.startswith("feed:"):
        return subject.removeprefix("feed:")
    parts = subject.split(":", 4)
    if len(parts) >= 5 and parts[0] == "urn" and parts[1] == "ioc":
        return parts[3]
    return None


@dataclass(frozen=True, slots=True)
class Suppression:
    """What is silenced at one moment: feeds and entities out of service, feeds and areas in maintenance."""

    feeds_out: frozenset[str] = frozenset()
    entities_out: frozenset[str] = frozenset()
    feeds_in_maintenance: frozenset[str] = frozenset()
    areas_in_maintenance: frozenset[str] = frozenset()
    windows: tuple[Window, ...] = field(default=())

    def __bool__(self) -> bool:
        return bool(self.feeds_out or self.entities_out or self.feeds_in_maintenance or self.areas_in_maintenance)

    def silences(self, subject: str, district: str | None = None) -> str | None:
        """OUT_OF_SERVICE or MAINTENANCE when a rule must raise nothing for this subject now, else None."""
        feed = feed_of(subject)
        if subject in self.entities_out or (feed is not None and feed in self.feeds_out):
            return OUT_OF_SERVICE
        if (feed is not None and feed in self.feeds_in_maintenance) or (
                district and district in self.areas_in_maintenance):
            return MAINTENANCE
        return None

    def feed_state(self, feed: str) -> str | None:
        """How the feed board shows a feed: out of service, in maintenance, or None (its health says)."""
        if feed in self.feeds_out:
            return OUT_OF_SERVICE
        return MAINTENANCE if feed in self.feeds_in_maintenance else None


def occurrences(window: MaintenanceWindow, now: datetime) -> list[Window]:
    """The recurring window's occurrences that hold `now` or start within the next day (local time)."""
    local = now.astimezone(CITY_ZONE)
    start_clock, end_clock = (time.fromisoformat(window.start), time.fromisoformat(window.end))
    found = []
    for back in (-1, 0, 1):
        day = local.date() + timedelta(days=back)
        if WEEKDAYS[day.weekday()] not in window.weekdays:
            continue
        start = datetime.combine(day, start_clock, CITY_ZONE)
        end = datetime.combine(day + timedelta(days=1 if window.end < window.start else 0), end_clock, CITY_ZONE)
        if end > now and start < now + timedelta(days=1):
            found.append(Window(window.id, tuple(window.feeds), tuple(window.areas), start, end,
                                window.reason.vi, recurring=True))
    return found


class Service:
    """Out of service and maintenance windows of one city."""

    def __init__(self, client: redis.Redis, keys: Keys, settings: Settings) -> None:
        self.redis, self.keys, self.settings = client, keys, settings
        self.audit = AuditTrail(client, keys)

    # --- out of service ---------------------------------------------------------------------------------

    def take_out(self, kind: str, name: str, *, actor: str, reason: str, until: datetime | None = None,
                 now: datetime | None = None) -> OutOfService:
        """Take a feed or an entity out of service; taking it out again replaces the reason and the end."""
        now = now or utcnow()
        reason = _reason(reason)
        if kind not in (FEED, ENTITY):
            raise ServiceRefused(f"out of service applies to a feed or an entity, not '{kind}'")
        if kind == FEED and name not in {f.name for f in self.settings.feeds}:
            raise ServiceRefused(f"no feed '{name}' in agencies.yaml")
        if kind == ENTITY and feed_of(name) is None:
            raise ServiceRefused(f"'{name}' is not an entity id (urn:ioc:<city>:<feed>:<id>)")
        if until is not None and until <= now:
            raise ServiceRefused("the end of an out-of-service period must be in the future")
        item = OutOfService(kind, name, reason, actor, now, until)
        with self.redis.pipeline(transaction=True) as pipe:
            pipe.hset(self.keys.out_of_service(), item.target, json.dumps(item.to_dict()))
            self.audit.record(actor=actor, action="service.out", object=item.target, at=now, to_state=OUT_OF_SERVICE,
                              note=reason + (f" (until {to_iso(until)})" if until else ""), pipe=pipe)
            mark_changed(pipe, self.keys)
            pipe.execute()
        return item

    def put_back(self, kind: str, name: str, *, actor: str, note: str = "", now: datetime | None = None) -> bool:
        """Back in service (the rules judge it again from its next reading); False when it was not out."""
        target = f"{kind}:{name}"
        if not self.redis.hdel(self.keys.out_of_service(), target):
            return False
        self._audited(actor=actor, action="service.back", object=target, now=now, from_state=OUT_OF_SERVICE,
                      note=note)
        return True

    def out_of_service(self, now: datetime | None = None) -> list[OutOfService]:
        """What is out of service now; a period whose end has passed is put back (as `system`, audited)."""
        now = now or utcnow()
        items = []
        for raw in self.redis.hvals(self.keys.out_of_service()):
            try:
                data = json.loads(raw)
                item = OutOfService(data["kind"], data["name"], data.get("reason", ""), data.get("by", ""),
                                    from_iso(data.get("at")), from_iso(data.get("until")))
            except (ValueError, KeyError, TypeError):
                continue  # an unreadable entry silences nothing
            if item.until is not None and item.until <= now:
                self.put_back(item.kind, item.name, actor="system", note="out-of-service time up", now=now)
                continue
            items.append(item)
        return sorted(items, key=lambda i: (i.kind, i.name))

    # --- maintenance windows ----------------------------------------------------------------------------

    def declare_window(self, *, feeds: Sequence[str] = (), areas: Sequence[str] = (), start: datetime,
                       end: datetime, reason: str, actor: str, now: datetime | None = None) -> Window:
        now = now or utcnow()
        reason = _reason(reason)
        feeds, areas = tuple(dict.fromkeys(f.strip() for f in feeds if f.strip())), tuple(
            dict.fromkeys(a.strip() for a in areas if a.strip()))
        if not feeds and not areas:
            raise ServiceRefused("a maintenance window names feeds or areas")
        unknown = sorted(set(feeds) - {f.name for f in self.settings.feeds})
        if unknown:
            raise ServiceRefused(f"no feed {', '.join(repr(u) for u in unknown)} in agencies.yaml")
        if end <= start:
            raise ServiceRefused("a maintenance window ends after it starts")
        if end <= now:
            raise ServiceRefused("a maintenance window that is already over silences nothing")
        window = Window(f"M{secrets.token_hex(3)}", feeds, areas, start, end, reason, actor)
        with self.redis.pipeline(transaction=True) as pipe:
            pipe.hset(self.keys.maintenance_windows(), window.id, json.dumps(window.to_dict()))
            self.audit.record(actor=actor, action="service.maintenance", object=f"maintenance:{window.id}", at=now,
                              to_state=MAINTENANCE, note=f"{reason} ({_covers(window)}, {to_iso(start)} to "
                                                         f"{to_iso(end)})", pipe=pipe)
            mark_changed(pipe, self.keys)
            pipe.execute()
        return window

    def cancel_window(self, window_id: str, *, actor: str, note: str = "", now: datetime | None = None) -> bool:
        if not self.redis.hdel(self.keys.maintenance_windows(), window_id):
            return False
        self._audited(actor=actor, action="service.maintenance_cancelled", object=f"maintenance:{window_id}",
                      now=now, from_state=MAINTENANCE, note=note)
        return True

    def _audited(self, *, actor: str, action: str, object: str, now: datetime | None, from_state: str,
                 note: str) -> None:
        with self.redis.pipeline(transaction=True) as pipe:
            self.audit.record(actor=actor, action=action, object=object, at=now or utcnow(), from_state=from_state,
                              note=note, pipe=pipe)
            mark_changed(pipe, self.keys)  # the feed board and the alert page redraw at once
            pipe.execute()

    def windows(self, now: datetime | None = None) -> list[Window]:
        """Declared windows not yet over and recurring ones holding now or starting within a day, soonest first;
        declared windows that are over are dropped (they stay in the audit stream)."""
        now = now or utcnow()
        found: list[Window] = []
        for window_id, raw in self.redis.hgetall(self.keys.maintenance_windows()).items():
            try:
                data = json.loads(raw)
                window = Window(window_id, tuple(data.get("feeds") or ()), tuple(data.get("areas") or ()),
                                from_iso(data["start"]), from_iso(data["end"]), data.get("reason", ""),  # type: ignore[arg-type]
                                data.get("by", ""))
            except (ValueError, KeyError, TypeError):
                continue
            if window.end is None or window.start is None:
                continue
            if window.end <= now:
                self.redis.hdel(self.keys.maintenance_windows(), window_id)
                continue
            found.append(window)
        for recurring in self.settings.maintenance:
            found.extend(occurrences(recurring, now))
        return sorted(found, key=lambda w: (w.start, w.id))

    # --- what the rules and the feed board read ---------------------------------------------------------

    def suppression(self, now: datetime | None = None) -> Suppression:
        now = now or utcnow()
        out = self.out_of_service(now)
        active = [w for w in self.windows(now) if w.active(now)]
        return Suppression(
            feeds_out=frozenset(i.name for i in out if i.kind == FEED),
            entities_out=frozenset(i.name for i in out if i.kind == ENTITY),
            feeds_in_maintenance=frozenset(f for w in active for f in w.feeds),
            areas_in_maintenance=frozenset(a for w in active for a in w.areas),
            windows=tuple(active),
        )


def _reason(reason: str) -> str:
    reason = (reason or "").strip()
    if not reason:
        raise ServiceRefused("a reason is required (it is in the audit trail)")
    return reason[:REASON_CHARS]


def _covers(window: Window) -> str:
    parts: Iterable[str] = [*(f"feed {f}" for f in window.feeds), *(f"area {a}" for a in window.areas)]
    return ", ".join(parts)
