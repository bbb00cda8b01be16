"""Alarm floods: related alarms folded into one queue line with a count (`fold`, by the labels of rules.yaml
`grouping:`), the flood state (more than N alarms raised within M minutes, EEMUA 191), and acting on a group
(acknowledging it acknowledges each member, each on its own timeline and in the audit stream).

Groups are computed when the queue is read, from the open alarms themselves: nothing is stored about them,
so a member is always an ordinary alarm, retrievable and auditable by its own id.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

import redis

from ioc.alerts.book import AlertBook
from ioc.alerts.record import AlertConflict, AlertNotFound, AlertRecord, queue_order
from ioc.audit import AuditTrail
from ioc.config_alarms import Grouping
from ioc.keys import Keys
from ioc.model import AlertState, Severity, utcnow


def labels_of(record: AlertRecord, labels: Sequence[str], kinds: Collection[str]
              ) -> tuple[tuple[str, str], ...] | None:
    """The record's group labels, or None when its rule's kind does not group."""
    if record.kind not in kinds:
        return None
    alert = record.alert
    values = {"rule": alert.rule_id, "kind": record.kind, "sector": alert.sector, "agency": alert.agency,
              "area": alert.district or ""}
    return tuple((label, values[label]) for label in labels)


def group_key(labels: Iterable[tuple[str, str]]) -> str:
    """A group's id: its labels as `label=value|...` (what the page, the CLI and the audit stream name it by)."""
    return "|".join(f"{label}={value}" for label, value in labels)


@dataclass(frozen=True, slots=True)
class AlarmGroup:
    """Related open alarms on one line: how many, the worst, since and until when, where; the members in
    queue order. `settled_at` is the group's last summary time (group_wait after its first alarm, then
    every group_interval); `new` counts the members raised since."""

    key: str
    labels: tuple[tuple[str, str], ...]
    members: tuple[AlertRecord, ...]
    worst: Severity
    first: datetime | None
    last: datetime | None
    settled_at: datetime | None
    new: int

    @property
    def count(self) -> int:
        return len(self.members)

    @property
    def label(self) -> dict[str, str]:
        return dict(self.labels)

    @property
    def areas(self) -> list[tuple[str, int]]:
        """The members' areas, most alarms first ("" for outside every area)."""
        counts = Counter(m.alert.district or "" for m in self.members)
        return sorted(counts.items(), key=lambda item: (-item[1], item[0]))

    @property
    def unacknowledged(self) -> int:
        return sum(m.state == AlertState.NEW for m in self.members)

    @property
    def ids(self) -> list[str]:
        return [m.id for m in self.members]

    def to_dict(self) -> dict[str, object]:
        return {"group": self.key, "labels": self.label, "count": self.count, "worst": str(self.worst),
                "first": self.first.isoformat() if self.first else None,
                "last": self.last.isoformat() if self.last else None, "new": self.new,
                "unacknowledged": self.unacknowledged, "members": self.ids}


Line = AlarmGroup | AlertRecord


def settled_at(first: datetime | None, grouping: Grouping, now: datetime) -> datetime | None:
    """The group's last summary time: `group_wait` after its first alarm, then every `group_interval`."""
    if first is None:
        return None
    since_first = (now - first).total_seconds() - grouping.group_wait_seconds
    if since_first < 0:
        return None
    steps = int(since_first // grouping.group_interval_seconds)
    return first + timedelta(seconds=grouping.group_wait_seconds + steps * grouping.group_interval_seconds)


def _group(labels: tuple[tuple[str, str], ...], members: Sequence[AlertRecord], grouping: Grouping,
           now: datetime) -> AlarmGroup:
    raised = [m.alert.raised_at for m in members if m.alert.raised_at is not None]
    first, last = (min(raised), max(raised)) if raised else (None, None)
    settled = settled_at(first, grouping, now)
    new = sum(1 for m in members if settled is None or (m.alert.raised_at or now) > settled)
    worst = min((m.alert.severity for m in members), key=lambda s: s.rank)
    return AlarmGroup(group_key(labels), labels, tuple(sorted(members, key=queue_order)), worst, first, last,
                      settled, new)


def line_order(line: Line) -> tuple[int, float, str]:
    """Groups and single alarms in one order: the worst first, then the one waiting longest."""
    if isinstance(line, AlarmGroup):
        return line.worst.rank, line.first.timestamp() if line.first else 0.0, line.key
    return queue_order(line)


def fold(records: Iterable[AlertRecord], grouping: Grouping, now: datetime | None = None, *,
         flood: bool = False) -> list[Line]:
    """The queue's lines: alarms sharing their group labels (the flood's coarser ones during a `flood`) with
    at least `min_members - 1` others fold into one group line; every other alarm is a line of its own.
    Nothing is left out: the members of the lines are exactly the records given."""
    now = now or utcnow()
    by, kinds = grouping.labels(flood), frozenset(grouping.kinds)
    buckets: dict[tuple[tuple[str, str], ...], list[AlertRecord]] = {}
    lines: list[Line] = []
    for record in records:
        labels = labels_of(record, by, kinds)
        if labels is None:
            lines.append(record)
        else:
            buckets.setdefault(labels, []).append(record)
    for labels, members in buckets.items():
        if len(members) >= grouping.min_members:
            lines.append(_group(labels, members, grouping, now))
        else:
            lines.extend(members)
    return sorted(lines, key=line_order)


def members_of(lines: Iterable[Line]) -> list[AlertRecord]:
    """Every alarm behind the lines, groups opened."""
    return [m for line in lines for m in (line.members if isinstance(line, AlarmGroup) else (line,))]


def find_group(lines: Iterable[Line], key: str) -> AlarmGroup | None:
    return next((line for line in lines if isinstance(line, AlarmGroup) and line.key == key), None)


# --- the flood state ---------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Flood:
    """Whether the alarm rate is a flood now: `count` alarms raised in the last `minutes`, above `limit`."""

    active: bool
    count: int
    limit: int
    minutes: float

    def to_dict(self) -> dict[str, object]:
        return {"flood": self.active, "raised": self.count, "limit": self.limit, "minutes": self.minutes}


def flood_state(client: redis.Redis, keys: Keys, grouping: Grouping, now: datetime | None = None) -> Flood:
    """Alarms raised within the flood window (from the raise-time index of every alarm), against the limit."""
    now = now or utcnow()
    window = grouping.flood.minutes * 60
    count = int(client.zcount(keys.alerts_all(), now.timestamp() - window, now.timestamp()))
    return Flood(count > grouping.flood.alarms, count, grouping.flood.alarms, grouping.flood.minutes)


# --- acting on a group -------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class GroupOutcome:
    """What acknowledging a group did: the members acknowledged, and those someone else had acted on first."""

    key: str
    acknowledged: list[str]
    refused: list[str]


def acknowledge_group(book: AlertBook, group: AlarmGroup, *, actor: str, note: str = "",
                      now: datetime | None = None) -> GroupOutcome:
    """Acknowledge every member still new, each on its own timeline and in the audit stream (naming the
    group), then one audit line for the group itself."""
    now = now or utcnow()
    said = f"{note.strip()} · " if note.strip() else ""
    done, refused = [], []
    for member in group.members:
        if member.state != AlertState.NEW:
            continue
        try:
            book.acknowledge(member.id, actor=actor, note=f"{said}with its group {group.key}", now=now)
            done.append(member.id)
        except (AlertConflict, AlertNotFound):
            refused.append(member.id)  # acknowledged, assigned or resolved meanwhile by someone else
    AuditTrail(book.redis, book.keys).record(
        actor=actor, action="alert_group.acknowledged", object=f"alert-group:{group.key}", at=now,
        note=f"{said}{len(done)} of {group.count} acknowledged: {', '.join(done) or '—'}")
    return GroupOutcome(group.key, done, refused)
