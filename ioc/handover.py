"""Shift handover: the shifts of notifications.yaml as time windows, which handover is at hand and when it is
due, and the handover record in Redis: handed over by the outgoing operator (with notes and the shift's
summary as it stood), accepted by an incoming one (not the same person); both in the audit trail, each in one
transaction with its check, so two people pressing at once leave one result and the other is told who was first.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import cache
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import redis

from ioc.audit import AuditTrail
from ioc.config import Settings
from ioc.keys import Keys
from ioc.model import from_iso, to_iso, utcnow
from ioc.notifications.config import NotificationSettings, Shift, load_notifications
from ioc.notifications.policy import shift_on_duty
from ioc.privacy import scrub_text

# the handover shows as due on every screen this long before the shift ends ...
DUE_BEFORE = timedelta(minutes=30)
# ... and, not accepted, stays the one at hand this long into the next shift
ACCEPT_WITHIN = timedelta(hours=2)
NOTE_CHARS = 4000
PAST_SHOWN = 20
OPEN, HANDED_OVER, ACCEPTED = "open", "handed_over", "accepted"


@cache
def _shifts(directory: str, _mtime: int) -> NotificationSettings | None:
    return load_notifications(Path(directory))


def notification_settings(settings: Settings) -> NotificationSettings | None:
    """notifications.yaml through its own loader, read again only when the file changed."""
    path = Path(settings.directory) / "notifications.yaml"
    return _shifts(str(settings.directory), path.stat().st_mtime_ns if path.exists() else 0)


def city_zone(settings: Settings) -> ZoneInfo:
    return ZoneInfo(settings.city.timezone)


# --- shift windows -----------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ShiftWindow:
    """One shift on one day: its id, the local date it began, and its start and end (aware)."""

    shift: str
    started: date
    start: datetime
    end: datetime

    @property
    def key(self) -> str:
        return f"{self.started.isoformat()}:{self.shift}"


def window_of(shift: Shift, started: date, zone: ZoneInfo) -> ShiftWindow:
    start = datetime.combine(started, shift.start, tzinfo=zone)
    end = datetime.combine(started, shift.end, tzinfo=zone)
    if end <= start:  # a night shift ends the next day
        end += timedelta(days=1)
    return ShiftWindow(shift.id, started, start, end)


def window_at(shifts: NotificationSettings, moment: datetime, zone: ZoneInfo) -> ShiftWindow | None:
    """The shift on duty at `moment` (the rota's own rule: ioc.notifications.policy.shift_on_duty)."""
    found = shift_on_duty(shifts, moment, zone)
    return window_of(found[0], found[1], zone) if found else None


def window_by_key(shifts: NotificationSettings, key: str, zone: ZoneInfo) -> ShiftWindow | None:
    """The window a key names ("2026-12-06:day"); None when it names no configured shift or no date."""
    day, _, shift_id = (key or "").partition(":")
    shift = next((s for s in shifts.shifts if s.id == shift_id), None)
    try:
        started = date.fromisoformat(day)
    except ValueError:
        return None
    return window_of(shift, started, zone) if shift else None


# --- the record --------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Handover:
    """One shift's handover as stored; `summary` is the shift's summary as it was handed over."""

    key: str
    handed_by: str = ""
    handed_at: datetime | None = None
    notes: str = ""
    accepted_by: str = ""
    accepted_at: datetime | None = None
    accept_note: str = ""
    summary: dict[str, Any] | None = None

    @property
    def state(self) -> str:
        return ACCEPTED if self.accepted_by else HANDED_OVER if self.handed_by else OPEN

    @classmethod
    def from_hash(cls, key: str, raw: dict[str, str]) -> Handover:
        return cls(key=key, handed_by=raw.get("handed_by", ""), handed_at=from_iso(raw.get("handed_at")),
                   notes=raw.get("notes", ""), accepted_by=raw.get("accepted_by", ""),
                   accepted_at=from_iso(raw.get("accepted_at")), accept_note=raw.get("accept_note", ""),
                   summary=json.loads(raw["summary"]) if raw.get("summary") else None)


class HandoverRefused(ValueError):
    """The handover cannot change so: `reason` is handed_over, accepted, not_handed or same_person."""

    def __init__(self, key: str, reason: str, *, by: str = "", at: datetime | None = None) -> None:
        self.key, self.reason, self.by, self.at = key, reason, by, at
        super().__init__(f"handover {key}: {reason}" + (f" by {by}" if by else ""))


class HandoverBook:
    """Every shift's handover of one city."""

    def __init__(self, client: redis.Redis, keys: Keys) -> None:
        self.redis = client
        self.keys = keys

    def get(self, key: str) -> Handover:
        return Handover.from_hash(key, self.redis.hgetall(self.keys.handover(key)))

    def past(self, limit: int = PAST_SHOWN) -> list[Handover]:
        """The latest handed-over shifts, newest shift first."""
        found = self.redis.zrevrange(self.keys.handovers(), 0, limit - 1)
        pipe = self.redis.pipeline(transaction=False)
        for key in found:
            pipe.hgetall(self.keys.handover(key))
        return [Handover.from_hash(key, raw) for key, raw in zip(found, pipe.execute(), strict=True) if raw]

    def hand_over(self, window: ShiftWindow, *, actor: str, notes: str, summary: dict[str, Any],
                  now: datetime | None = None) -> Handover:
        """The outgoing operator hands the shift over, once, with notes and the summary as it stands."""
        moment = now or utcnow()
        key = self.keys.handover(window.key)
        text = scrub_text(notes or "")[:NOTE_CHARS]

        def _apply(pipe: redis.client.Pipeline) -> Handover:
            current = Handover.from_hash(window.key, pipe.hgetall(key))
            if current.handed_by:
                raise HandoverRefused(window.key, HANDED_OVER, by=current.handed_by, at=current.handed_at)
            pipe.multi()
            pipe.hset(key, mapping={"shift": window.shift, "start": to_iso(window.start), "end": to_iso(window.end),
                                    "handed_by": actor, "handed_at": to_iso(moment), "notes": text,
                                    "summary": json.dumps(summary, ensure_ascii=False)})
            pipe.zadd(self.keys.handovers(), {window.key: window.start.timestamp()})
            AuditTrail(self.redis, self.keys).record(actor=actor, action="handover.handed_over",
                                                     object=f"handover:{window.key}", to_state=HANDED_OVER,
                                                     note=text, at=moment, pipe=pipe)
            return Handover(window.key, actor, moment, text, summary=summary)

        return self.redis.transaction(_apply, key, value_from_callable=True)

    def accept(self, window_key: str, *, actor: str, note: str = "", now: datetime | None = None) -> Handover:
        """An incoming operator (not the one who handed over) accepts the handed-over shift, once."""
        moment = now or utcnow()
        key = self.keys.handover(window_key)
        text = scrub_text(note or "")[:NOTE_CHARS]

        def _apply(pipe: redis.client.Pipeline) -> Handover:
            current = Handover.from_hash(window_key, pipe.hgetall(key))
            if not current.handed_by:
                raise HandoverRefused(window_key, "not_handed")
            if current.accepted_by:
                raise HandoverRefused(window_key, ACCEPTED, by=current.accepted_by, at=current.accepted_at)
            if current.handed_by == actor:
                raise HandoverRefused(window_key, "same_person", by=actor)
            pipe.multi()
            pipe.hset(key, mapping={"accepted_by": actor, "accepted_at": to_iso(moment), "accept_note": text})
            AuditTrail(self.redis, self.keys).record(actor=actor, action="handover.accepted",
                                                     object=f"handover:{window_key}", from_state=HANDED_OVER,
                                                     to_state=ACCEPTED, note=text, at=moment, pipe=pipe)
            return Handover(window_key, current.handed_by, current.handed_at, current.notes, actor, moment, text,
                            current.summary)

        return self.redis.transaction(_apply, key, value_from_callable=True)


# --- which handover is at hand, and whether it is due ----------------------------------------------------


@dataclass(frozen=True, slots=True)
class AtHand:
    window: ShiftWindow
    handover: Handover
    due: bool  # the header says so on every screen of a role that hands over


def at_hand(book: HandoverBook, shifts: NotificationSettings, now: datetime, zone: ZoneInfo) -> AtHand | None:
    """The handover to do now: the previous shift's while it is not accepted (in the first hours of the next
    shift), else the current shift's; due from DUE_BEFORE its end until it is accepted. None without shifts."""
    current = window_at(shifts, now, zone)
    if current is None:
        return None
    previous = window_at(shifts, current.start - timedelta(seconds=1), zone)
    if previous is not None and now - current.start < ACCEPT_WITHIN:
        earlier = book.get(previous.key)
        if earlier.state != ACCEPTED:
            return AtHand(previous, earlier, due=True)
    record = book.get(current.key)
    return AtHand(current, record, due=now >= current.end - DUE_BEFORE and record.state != ACCEPTED)


def shown(book: HandoverBook, shifts: NotificationSettings, now: datetime, zone: ZoneInfo,
          key: str | None = None) -> AtHand | None:
    """The handover a page shows: the one a link names (`?shift=<YYYY-MM-DD>:<shift id>`), else the one at
    hand; None when the key names no shift or no shift is configured."""
    if not key:
        return at_hand(book, shifts, now, zone)
    window = window_by_key(shifts, key, zone)
    return AtHand(window, book.get(window.key), due=False) if window else None
