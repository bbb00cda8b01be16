"""The alarm system's own measures (EEMUA 191, ISA-18.2 / IEC 62682) over a window, from the alert records.

An alarm here is one annunciation: a new alert (a rule raising for an entity). Repeats of an alert that is
still open (its occurrence count) are not annunciated again, so they are not counted. The measures:

- alarm rate per operator position per 10 minutes, average and peak: the window is cut into 10-minute
  intervals from its start; the city's one queue is shared by `operator_positions` desks, so an interval's
  count is divided by them;
- share of time in flood: the share of those intervals with more than `flood_per_10_minutes` alarms per
  position (rules.yaml grouping.flood as a rate per 10 minutes) (ISA-18.2's "percentage of 10-minute periods containing more than 10 alarms");
- the 10 most frequent alarms (rule and entity) and their share of all alarms;
- chattering alarms (ISA-18.2 TR5 style): a rule and entity raised `chatter_raises` times or more with at most
  `chatter_seconds` from the first of them to the last;
- stale alarms: open at the window's end and raised more than `stale_hours` before it (with how many of them
  nobody acknowledged);
- the priority mix of the raised alarms against EEMUA 191's ~80 % low, ~15 % medium, ~5 % high, with the
  priority an alarm had when raised (an escalation later does not move it).

`measure` is the computation on plain records; `read_alarms` reads them from Redis in two round trips (plus
one for the timelines of escalated alarms); `alarm_metrics` does both.
"""

from __future__ import annotations

import contextlib
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Protocol

import redis

from ioc.config import AlarmSystem
from ioc.keys import Keys
from ioc.model import Severity, from_iso, utcnow

INTERVAL_SECONDS = 600
TOP = 10
PRIORITIES = ("high", "medium", "low")
# CAP severities as the three alarm priorities EEMUA 191 counts: extreme pops up first and loudest
PRIORITY_OF: dict[str, str] = {
    str(Severity.EXTREME): "high",
    str(Severity.SEVERE): "medium",
    str(Severity.MODERATE): "low",
    str(Severity.MINOR): "low",
    str(Severity.UNKNOWN): "low",
}
PRIORITY_TARGET: dict[str, float] = {"high": 5.0, "medium": 15.0, "low": 80.0}  # EEMUA 191, % of alarms
_FIELDS = (
    "rule_id",
    "entity_id",
    "title",
    "place",
    "severity",
    "raised_at",
    "acknowledged_at",
    "resolved_at",
    "escalations",
    "sector",
    "district",
)


@dataclass(frozen=True, slots=True)
class Raised:
    """One annunciated alarm, as the measures read it."""

    alert_id: str
    rule_id: str
    entity_id: str
    severity: str  # when raised
    raised_at: datetime
    acknowledged_at: datetime | None = None
    resolved_at: datetime | None = None
    title: str = ""
    place: str = ""
    sector: str = ""
    district: str = ""

    @property
    def source(self) -> tuple[str, str]:
        return self.rule_id, self.entity_id


@dataclass(frozen=True, slots=True)
class Frequent:
    rule_id: str
    entity_id: str
    title: str
    place: str
    count: int
    share: float  # % of every alarm of the window


@dataclass(frozen=True, slots=True)
class Chattering:
    rule_id: str
    entity_id: str
    title: str
    place: str
    raises: int  # in the window
    most_in_span: int  # the most raises with at most `chatter_seconds` from first to last


@dataclass(frozen=True, slots=True)
class Stale:
    alert_id: str
    rule_id: str
    entity_id: str
    title: str
    place: str
    hours_open: float
    acknowledged: bool


@dataclass(frozen=True, slots=True)
class AlarmMetrics:
    """The measures of one window: plain values only, so a cache can keep them and a report can carry them."""

    start: datetime
    end: datetime
    positions: int
    flood_limit: float  # alarms per position in 10 minutes above which an interval is a flood
    chatter_raises: int
    chatter_seconds: int
    stale_hours: float
    total: int
    sources: int  # distinct alarms (rule and entity) raised
    intervals: int
    average_rate: float  # alarms per position per 10 minutes
    peak_rate: float
    peak_at: datetime | None
    flood_intervals: int
    top: list[Frequent] = field(default_factory=list)
    chattering: list[Chattering] = field(default_factory=list)
    stale: list[Stale] = field(default_factory=list)
    priorities: dict[str, int] = field(default_factory=dict)
    severities: dict[str, int] = field(default_factory=dict)

    @property
    def flood_share(self) -> float:
        """% of the window's 10-minute intervals in flood."""
        return 100.0 * self.flood_intervals / self.intervals if self.intervals else 0.0

    @property
    def top_share(self) -> float:
        """% of every alarm that the 10 most frequent ones make up."""
        return 100.0 * sum(f.count for f in self.top) / self.total if self.total else 0.0

    @property
    def priority_shares(self) -> dict[str, float]:
        return {p: 100.0 * self.priorities.get(p, 0) / self.total if self.total else 0.0 for p in PRIORITIES}

    @property
    def stale_unacknowledged(self) -> int:
        return sum(not s.acknowledged for s in self.stale)


def _most_in_span(times: Sequence[float], span: float) -> int:
    """The most of `times` (sorted) that lie within `span` seconds of one another, first to last."""
    most, first = 0, 0
    for last, moment in enumerate(times):
        while moment - times[first] > span:
            first += 1
        most = max(most, last - first + 1)
    return most


def measure(
    raised: Sequence[Raised],
    standing: Iterable[Raised],
    *,
    start: datetime,
    end: datetime,
    rules: AlarmSystem,
) -> AlarmMetrics:
    """The measures of the window [start, end): `raised` are the alarms raised in it (others are ignored),
    `standing` the ones that may still be open at its end (the stale candidates; `raised` are candidates too)."""
    if end <= start:
        raise ValueError(f"an empty window: {start.isoformat()} .. {end.isoformat()}")
    inside = sorted((r for r in raised if start <= r.raised_at < end), key=lambda r: r.raised_at)
    seconds = (end - start).total_seconds()
    intervals = -(-int(seconds) // INTERVAL_SECONDS)  # the last, partial interval counts as one
    positions = rules.operator_positions
    counts = Counter(int((r.raised_at - start).total_seconds() // INTERVAL_SECONDS) for r in inside)
    peak_index, peak = max(counts.items(), key=lambda item: (item[1], -item[0]), default=(0, 0))

    by_source: dict[tuple[str, str], list[Raised]] = defaultdict(list)
    for alarm in inside:
        by_source[alarm.source].append(alarm)
    total = len(inside)
    ranked = sorted(by_source.items(), key=lambda item: (-len(item[1]), item[0]))
    top = [
        Frequent(rule, entity, alarms[-1].title, alarms[-1].place, len(alarms), 100.0 * len(alarms) / total)
        for (rule, entity), alarms in ranked[:TOP]
    ]
    chattering = []
    for (rule, entity), alarms in ranked:
        most = _most_in_span([a.raised_at.timestamp() for a in alarms], rules.chatter_seconds)
        if most >= rules.chatter_raises:
            chattering.append(Chattering(rule, entity, alarms[-1].title, alarms[-1].place, len(alarms), most))
    chattering.sort(key=lambda c: (-c.most_in_span, -c.raises, c.rule_id, c.entity_id))

    stale_after = timedelta(hours=rules.stale_hours)
    candidates = {a.alert_id: a for a in (*standing, *inside)}
    stale = [
        Stale(
            a.alert_id,
            a.rule_id,
            a.entity_id,
            a.title,
            a.place,
            (end - a.raised_at).total_seconds() / 3600,
            a.acknowledged_at is not None and a.acknowledged_at <= end,
        )
        for a in candidates.values()
        if a.raised_at <= end - stale_after and (a.resolved_at is None or a.resolved_at > end)
    ]
    stale.sort(key=lambda s: (-s.hours_open, s.alert_id))

    return AlarmMetrics(
        start=start,
        end=end,
        positions=positions,
        flood_limit=rules.flood_per_10_minutes,
        chatter_raises=rules.chatter_raises,
        chatter_seconds=rules.chatter_seconds,
        stale_hours=rules.stale_hours,
        total=total,
        sources=len(by_source),
        intervals=intervals,
        average_rate=total / (seconds / INTERVAL_SECONDS) / positions,
        peak_rate=peak / positions,
        peak_at=start + timedelta(seconds=peak_index * INTERVAL_SECONDS) if peak else None,
        flood_intervals=sum(count > rules.flood_per_10_minutes * positions for count in counts.values()),
        top=top,
        chattering=chattering,
        stale=stale,
        priorities=dict(Counter(PRIORITY_OF.get(a.severity, "low") for a in inside)),
        severities=dict(Counter(a.severity for a in inside)),
    )


# --- reading them from Redis ---------------------------------------------------------------------------------


def _raised(alert_id: str, values: Sequence[str | None], severity_at_raise: str | None) -> Raised | None:
    record = dict(zip(_FIELDS, values, strict=True))
    raised_at = from_iso(record["raised_at"])
    if raised_at is None or not record["rule_id"]:
        return None  # not an alert hash (or one a bad write left half-done): nothing to count
    return Raised(
        alert_id=alert_id,
        rule_id=record["rule_id"] or "",
        entity_id=record["entity_id"] or "",
        severity=severity_at_raise or record["severity"] or str(Severity.UNKNOWN),
        raised_at=raised_at,
        acknowledged_at=from_iso(record["acknowledged_at"]),
        resolved_at=from_iso(record["resolved_at"]),
        title=record["title"] or "",
        place=record["place"] or "",
        sector=record["sector"] or "",
        district=record["district"] or "",
    )


def _severity_when_raised(client: redis.Redis, keys: Keys, escalated: Sequence[str]) -> dict[str, str]:
    """The severity an escalated alarm was raised with: its first escalation's `severity_from`."""
    with client.pipeline(transaction=False) as pipe:
        for alert_id in escalated:
            pipe.xrange(keys.alert_timeline(alert_id))
        timelines = pipe.execute()
    found = {}
    for alert_id, entries in zip(escalated, timelines, strict=True):
        first = next(
            (f for _, f in entries if f.get("action") == "escalated" and f.get("severity_from")), None
        )
        if first:
            found[alert_id] = first["severity_from"]
    return found


# One script call per chunk of alarms returns their fields: a pipeline of one HMGET per alarm spent most of its
# time packing the commands' arguments (about 50 ms for 1,000 alarms); chunks keep Redis free between them.
_READ_LUA = """
local out = {}
for i, key in ipairs(KEYS) do out[i] = redis.call('HMGET', key, unpack(ARGV)) end
return out
"""
_CHUNK = 2000


def _read_fields(client: redis.Redis, keys: Keys, ids: Sequence[str]) -> list[list[str | None]]:
    """The `_FIELDS` of each alarm, in order; by script, or by pipeline where Redis runs no scripts."""
    names = [keys.alert(alert_id) for alert_id in ids]
    try:
        script = client.register_script(_READ_LUA)
        return [
            row
            for first in range(0, len(names), _CHUNK)
            for row in script(keys=names[first : first + _CHUNK], args=_FIELDS)
        ]
    except (redis.ResponseError, NotImplementedError, ModuleNotFoundError, ImportError):
        with client.pipeline(transaction=False) as pipe:
            for name in names:
                pipe.hmget(name, _FIELDS)
            return pipe.execute()


def read_alarms(
    client: redis.Redis, keys: Keys, start: datetime, end: datetime
) -> tuple[list[Raised], list[Raised]]:
    """(alarms raised in [start, end), alarms open now that were raised before start): the two inputs of
    `measure`. Alarms raised before the window and resolved since are not read, so for a past window an
    alarm that stood over its end is stale only if it is still open."""
    with client.pipeline(transaction=False) as pipe:
        pipe.zrangebyscore(keys.alerts_all(), start.timestamp(), f"({end.timestamp()}")
        pipe.zrangebyscore(keys.alerts_open(), "-inf", f"({start.timestamp()}")
        inside_ids, before_ids = pipe.execute()
    ids = [*inside_ids, *before_ids]
    rows = _read_fields(client, keys, ids)
    escalations = _FIELDS.index("escalations")
    escalated = [alert_id for alert_id, row in zip(ids, rows, strict=True) if int(row[escalations] or 0)]
    at_raise = _severity_when_raised(client, keys, escalated) if escalated else {}
    alarms = [_raised(alert_id, row, at_raise.get(alert_id)) for alert_id, row in zip(ids, rows, strict=True)]
    inside = [a for a in alarms[: len(inside_ids)] if a is not None]
    before = [a for a in alarms[len(inside_ids) :] if a is not None]
    return inside, before


def alarm_metrics(
    client: redis.Redis,
    keys: Keys,
    rules: AlarmSystem,
    *,
    start: datetime | None = None,
    end: datetime | None = None,
    district: str | None = None,
    sector: str | None = None,
) -> AlarmMetrics:
    """The measures of [start, end) (default: the last `rules.window_hours` up to now), of the whole city or
    of the alarms of one district and/or sector."""
    end = end or utcnow()
    start = start or end - timedelta(hours=rules.window_hours)
    inside, before = read_alarms(client, keys, start, end)

    def wanted(alarm: Raised) -> bool:
        return (not district or alarm.district == district) and (not sector or alarm.sector == sector)

    return measure(
        [a for a in inside if wanted(a)], [a for a in before if wanted(a)], start=start, end=end, rules=rules
    )


# --- measured once for every screen ---------------------------------------------------------------------------


class MetricsCache(Protocol):
    def get(self, key: str) -> Any: ...
    def set(self, key: str, value: Any, timeout: int | None = None) -> Any: ...


@dataclass(frozen=True, slots=True)
class Measured:
    metrics: AlarmMetrics
    version: str | None  # the alerts' change version they were measured at
    at: float  # when (epoch seconds)


def shared_metrics(
    client: redis.Redis,
    keys: Keys,
    rules: AlarmSystem,
    cache: MetricsCache | None,
    *,
    version: str | None,
    now: datetime,
    fresh_seconds: float,
) -> Measured:
    """The measures of the window up to now, measured once for every screen of every worker sharing `cache`:
    again when the alerts changed or the minute stepped on, but not within `fresh_seconds` of the last time,
    so a flood of alarms is not measured by every screen on every tick."""
    key = f"alarm-metrics:{keys.city}"
    found = None
    if cache is not None:
        with contextlib.suppress(redis.RedisError):  # a cache outage costs time, not the measures
            found = cache.get(key)
    moment = now.timestamp()
    if isinstance(found, Measured) and (
        (found.version == version and int(found.at // 60) == int(moment // 60))
        or moment - found.at < fresh_seconds
    ):
        return found
    measured = Measured(alarm_metrics(client, keys, rules, end=now), version, moment)
    if cache is not None:
        with contextlib.suppress(redis.RedisError):
            cache.set(key, measured, timeout=120)
    return measured
