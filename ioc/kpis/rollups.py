"""KPI rollups in Redis: every stored batch becomes hourly and daily aggregates per KPI and scope, incrementally.

`KpiRollups` is the runner's batch listener. For each KPI that reads the batch's feed it picks the records
(new observations of a metric, entities and events counted once, or every entity of a poll), and adds them
to mergeable aggregates of the local hour and the local day the record's own time falls in, so late data
lands in its own hour and a day starts at the city's midnight: a count `n`, a sum `s`, hits `k` (for
shares), a denominator sum `d` (for ratios), sketch bins `q<bin>` (for medians and p90s), and per-hour flags
`a<HH>` saying whether the hour's mean was above a limit. Minimum and maximum live in a sorted set next to each hash (ZADD LT/GT
keeps them atomically). Scopes: the city, each district, and each group (who is behind a record, e.g. the
agency a citizen request was sent to); groups are ranked over periods, so they keep days only.

It also records each feed's successful polls per hour, and the hours in which each agency's data was fresh:
the data scorecard and the cross-sector integration rate are computed from those.

Hourly keys expire 92 days after their day ends, daily keys five years after their month ends.
"""

from __future__ import annotations

import logging
import math
import unicodedata
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from ioc.config import Feed, Settings
from ioc.keys import Keys
from ioc.kpis import sketch
from ioc.kpis.catalogue import QUANTILES, Catalogue, Kpi, load_catalogue
from ioc.kpis.expressions import as_time
from ioc.kpis.periods import day_start, local_bucket, month_key, months_between
from ioc.model import Batch, utcnow
from ioc.store import Store

log = logging.getLogger("ioc.kpis")

HOURLY_RETENTION = timedelta(days=92)
DAILY_RETENTION = timedelta(days=5 * 366 + 31)
SEEN_RETENTION = timedelta(days=120)
# a feed slower than hourly keeps its data fresh for at most this long on the integration board
FRESH_HORIZON = timedelta(hours=24)
CITY = "city"


def slug(text: str) -> str:
    """'Hải Châu' -> 'hai-chau': a key token for a district or group name."""
    folded = unicodedata.normalize("NFKD", text.replace("đ", "d").replace("Đ", "D"))
    ascii_text = "".join(ch for ch in folded if not unicodedata.combining(ch)).lower()
    return "-".join("".join(ch if ch.isalnum() else " " for ch in ascii_text).split()) or "unknown"


def district_scope(name: str) -> str:
    return f"district:{slug(name)}"


def group_scope(name: str) -> str:
    return f"group:{slug(name)}"


# --- aggregates ----------------------------------------------------------------------------------------------


@dataclass(slots=True)
class Agg:
    """Mergeable aggregate of one bucket (an hour, a day, or any merge of them)."""

    n: int = 0
    s: float = 0.0
    k: int = 0
    d: float = 0.0
    lo: float | None = None
    hi: float | None = None
    bins: Counter[str] = field(default_factory=Counter)
    above: int = 0  # hours whose mean was above the KPI's limit (days only)

    def merge(self, other: Agg) -> Agg:
        self.n += other.n
        self.s += other.s
        self.k += other.k
        self.d += other.d
        if other.lo is not None:
            self.lo = other.lo if self.lo is None else min(self.lo, other.lo)
        if other.hi is not None:
            self.hi = other.hi if self.hi is None else max(self.hi, other.hi)
        if other.bins:
            self.bins.update(other.bins)
        self.above += other.above
        return self

    @classmethod
    def merged(cls, parts: Iterable[Agg]) -> Agg:
        total = cls()
        for part in parts:
            total.merge(part)
        return total


def value_of(kpi: Kpi, agg: Agg) -> float | None:
    """The KPI's value over an aggregate; None when the aggregate holds no record it can use."""
    if agg.n == 0:
        return None
    match kpi.aggregate:
        case "mean":
            return agg.s / agg.n
        case "sum":
            return agg.s
        case "count":
            return float(agg.n)
        case "min":
            return agg.lo
        case "max":
            return agg.hi
        case "median" | "p90":
            return sketch.quantile(agg.bins, QUANTILES[kpi.aggregate])
        case "share":
            return 100.0 * agg.k / agg.n
        case "ratio":
            return 100.0 * agg.s / agg.d if agg.d else None
        case "hours_above":
            return float(agg.above)
    raise ValueError(f"{kpi.id}: aggregate '{kpi.aggregate}' is not read from record rollups")


def hour_above(kpi: Kpi, agg: Agg) -> bool:
    return agg.n > 0 and kpi.limit is not None and agg.s / agg.n > kpi.limit


# --- picking records from a batch ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Contribution:
    """What one record adds to its buckets."""

    time: datetime
    scopes: tuple[tuple[str, str], ...]  # (scope key token, label)
    value: float | None
    per: float | None
    hit: bool


def _entity_record(entity: Any) -> dict[str, Any]:
    record = dict(entity.attributes)
    record.update(type=entity.type, agency=entity.agency, sector=entity.sector, name=entity.name,
                  district=entity.district, observed_at=entity.observed_at)
    return record


def _event_record(event: Any) -> dict[str, Any]:
    return {
        "type": event.type, "agency": event.agency, "sector": event.sector, "headline": event.headline,
        "severity": str(event.severity), "urgency": event.urgency, "certainty": event.certainty,
        "status": event.status, "district": event.district, "onset": event.onset, "expires": event.expires,
        "ingested_at": event.ingested_at,
    }


def candidate_records(kpi: Kpi, batch: Batch, now: datetime) -> list[tuple[str, datetime, dict[str, Any]]]:
    """(dedup id, time, record) of every record of the batch the KPI's source selects, before dedup."""
    source = kpi.source
    assert source is not None
    found: list[tuple[str, datetime, dict[str, Any]]] = []
    if source.records == "observations":
        entities = {e.id: e for e in batch.entities}
        cache: dict[str, dict[str, Any] | None] = {}
        for obs in batch.observations:
            if obs.metric != source.metric:
                continue
            if obs.entity_id not in cache:
                entity = entities.get(obs.entity_id)
                if entity is None:
                    cache[obs.entity_id] = None if source.entity_type else {}
                else:
                    cache[obs.entity_id] = (
                        None if source.entity_type and entity.type != source.entity_type else _entity_record(entity)
                    )
            base = cache[obs.entity_id]
            if base is None:
                continue
            record = {**base, source.metric: obs.value}
            found.append((obs.entity_id, obs.time, record))
    elif source.records == "snapshots":
        # the fleet as this poll saw it, at the poll's time: each poll is a new record of every entity
        for entity in batch.entities:
            if not source.entity_type or entity.type == source.entity_type:
                found.append((entity.id, now, _entity_record(entity)))
    elif source.records == "entities":
        for entity in batch.entities:
            if source.entity_type and entity.type != source.entity_type:
                continue
            record = _entity_record(entity)
            moment = as_time(record.get(source.time)) if source.time else entity.observed_at
            if moment is not None:
                found.append((entity.id, moment, record))
    else:
        for event in batch.events:
            if source.entity_type and event.type != source.entity_type:
                continue
            record = _event_record(event)
            moment = as_time(record.get(source.time)) if source.time else (event.onset or event.ingested_at)
            if moment is not None:
                found.append((event.id, moment, record))
    return found


def selected(kpi: Kpi, record: Mapping[str, Any]) -> bool:
    """Whether a record passes the KPI's `where` conditions."""
    return kpi.source is not None and all(condition.test(record) for condition in kpi.source.where)


def contribution(kpi: Kpi, record: Mapping[str, Any], moment: datetime, zone: ZoneInfo) -> Contribution | None:
    """What a record adds, or None when the KPI's filters leave it out or it carries no usable value."""
    source = kpi.source
    assert source is not None
    if source.hours and moment.astimezone(zone).hour not in source.hours:
        return None
    if not selected(kpi, record):
        return None
    value = per = None
    expr = kpi.value_expr
    if expr is not None:
        value = expr.of(record)
        if value is None or math.isinf(value):
            return None
    if kpi.per is not None:
        per = kpi.per.of(record)
        if per is None or per <= 0:
            return None
    hit = bool(kpi.count_if.test(record)) if kpi.count_if is not None else False
    scopes: list[tuple[str, str]] = [(CITY, "")]
    district = record.get("district")
    if district:
        scopes.append((district_scope(district), district))
    if source.group_by:
        group = record.get(source.group_by)
        if group not in (None, ""):
            scopes.append((group_scope(str(group)), str(group)))
    return Contribution(moment, tuple(scopes), value, per, hit)


# --- writing -------------------------------------------------------------------------------------------------


class _Writes:
    """Increments gathered over a batch, so each Redis field is touched once per batch."""

    def __init__(self) -> None:
        self.ints: dict[tuple[str, str], int] = defaultdict(int)
        self.floats: dict[tuple[str, str], float] = defaultdict(float)
        self.lows: dict[tuple[str, str], float] = {}
        self.highs: dict[tuple[str, str], float] = {}
        self.expiry: dict[str, int] = {}
        self.labels: dict[str, dict[str, str]] = defaultdict(dict)
        self.seen: dict[str, dict[str, float]] = defaultdict(dict)
        # fields set to 1 (not counted): the hours in which an agency's data was fresh
        self.flags: dict[str, dict[str, int]] = defaultdict(dict)
        # (feed, local day, hour, polls): a poll count whose capped daily total follows the hour's total
        self.polls: tuple[Feed, date, int, int] | None = None
        # (kpi, scope, day, hour): the hour buckets whose "above the limit" flag must be re-evaluated
        self.above: dict[tuple[str, str, date, int], Kpi] = {}

    def __bool__(self) -> bool:
        return bool(self.ints or self.floats or self.seen or self.flags)


class KpiRollups:
    """The runner's batch listener that keeps the KPI rollups (see the module docstring)."""

    def __init__(
        self, store: Store, settings: Settings, catalogue: Catalogue | None = None,
        on_record: Callable[[Kpi, Contribution], None] | None = None,
    ) -> None:
        """`on_record` sees every record counted (the benchmark keeps them to recompute KPIs from raw)."""
        self.on_record = on_record
        self.store = store
        self.keys: Keys = store.keys
        self.settings = settings
        self.catalogue = catalogue or load_catalogue(settings)
        self.zone = ZoneInfo(settings.city.timezone)

    def __repr__(self) -> str:
        return f"KpiRollups({len(self.catalogue.kpis)} KPIs)"

    # the BatchListener protocol
    def on_batch(self, feed: Feed, batch: Batch) -> None:
        self.ingest(feed, batch, now=utcnow())

    def ingest(self, feed: Feed, batch: Batch, *, now: datetime, polls: int = 1) -> int:
        """Roll one stored batch of a feed into the KPIs (and count `polls` successful polls at `now`).

        Returns the number of records counted. `polls=0` rolls up without counting a poll (the backfill
        counts its polls itself).
        """
        writes = _Writes()
        counted = self._records(feed, batch, writes, now)
        self._polls(feed, now, polls, writes)
        self._flush(writes)
        return counted

    def _records(self, feed: Feed, batch: Batch, writes: _Writes, now: datetime) -> int:
        kpis = self.catalogue.for_feed(feed.name)
        if not kpis or not (batch.entities or batch.observations or batch.events):
            return 0
        candidates = {kpi.id: candidate_records(kpi, batch, now) for kpi in kpis}
        pipe = self.store.redis.pipeline(transaction=False)
        asked: list[tuple[Kpi, list[str]]] = []
        for kpi in kpis:
            ids = sorted({record_id for record_id, _, _ in candidates[kpi.id]})
            if ids:
                pipe.hmget(self.keys.kpi_seen(kpi.id), ids)
                asked.append((kpi, ids))
        counted = 0
        for (kpi, ids), marks in zip(asked, pipe.execute(), strict=True):
            last_seen = {i: float(m) for i, m in zip(ids, marks, strict=True) if m is not None}
            once = kpi.source is not None and kpi.source.records in ("entities", "events")
            # oldest first, so a batch holding several observations of one entity counts each new one
            for record_id, moment, record in sorted(candidates[kpi.id], key=lambda c: c[1]):
                epoch = moment.timestamp()
                previous = last_seen.get(record_id)
                if previous is not None and (once or epoch <= previous):
                    continue  # a re-sent observation, or an entity or event already counted
                if once and not selected(kpi, record):
                    continue  # not yet what the KPI counts (a request still open): look again next poll
                last_seen[record_id] = epoch
                writes.seen[kpi.id][record_id] = epoch
                part = contribution(kpi, record, moment, self.zone)
                if part is None:
                    continue
                self._add(kpi, part, writes)
                if self.on_record is not None:
                    self.on_record(kpi, part)
                counted += 1
        return counted

    def _add(self, kpi: Kpi, part: Contribution, writes: _Writes) -> None:
        day, hour = local_bucket(part.time, self.zone)
        month = month_key(day)
        hour_expiry = int((day_start(day, self.zone) + timedelta(days=1) + HOURLY_RETENTION).timestamp())
        day_expiry = _month_expiry(day, self.zone)
        sketch_bin = sketch.bin_of(part.value) if kpi.needs_sketch and part.value is not None else None
        for scope, label in part.scopes:
            if label:
                writes.labels[kpi.id][scope] = label
            # groups are ranked over a period, never charted by the hour: a day's total is all they need
            # (except for hours above a limit, which are decided hour by hour)
            group = scope.startswith("group:")
            buckets = (
                (self.keys.kpi_days(kpi.id, scope, month), f"{day.day:02d}",
                 self.keys.kpi_day_extremes(kpi.id, scope, month), day_expiry),
            )
            if not group or kpi.aggregate == "hours_above":
                buckets += (
                    (self.keys.kpi_hours(kpi.id, scope, day.isoformat()), f"{hour:02d}",
                     self.keys.kpi_hour_extremes(kpi.id, scope, day.isoformat()), hour_expiry),
                )
            for key, slot, extremes, expiry in buckets:
                writes.expiry[key] = expiry
                writes.ints[(key, f"{slot}:n")] += 1
                if part.hit:
                    writes.ints[(key, f"{slot}:k")] += 1
                if part.value is not None:
                    writes.floats[(key, f"{slot}:s")] += part.value
                if part.value is not None and (not group or kpi.aggregate in ("min", "max")):
                    writes.expiry[extremes] = expiry
                    low, high = (extremes, f"{slot}:lo"), (extremes, f"{slot}:hi")
                    writes.lows[low] = min(writes.lows.get(low, part.value), part.value)
                    writes.highs[high] = max(writes.highs.get(high, part.value), part.value)
                if part.per is not None:
                    writes.floats[(key, f"{slot}:d")] += part.per
                if sketch_bin is not None:
                    writes.ints[(key, f"{slot}:q{sketch_bin}")] += 1
            if kpi.aggregate == "hours_above":
                writes.above[(kpi.id, scope, day, hour)] = kpi

    def _polls(self, feed: Feed, now: datetime, polls: int, writes: _Writes) -> None:
        if polls <= 0:
            return
        day, hour = local_bucket(now, self.zone)
        key = self.keys.feed_polls_hours(feed.name, day.isoformat())
        writes.ints[(key, f"{hour:02d}")] += polls
        writes.expiry[key] = int((day_start(day, self.zone) + timedelta(days=1) + HOURLY_RETENTION).timestamp())
        # the data stays fresh for its stale window after the poll: mark the hours of that window
        window = min(timedelta(seconds=feed.interval * feed.stale_factor), FRESH_HORIZON)
        moment = now.astimezone(self.zone).replace(minute=0, second=0, microsecond=0)
        until = now + window
        while moment < until:
            key = self.keys.agency_fresh(feed.agency, month_key(moment.date()))
            writes.flags[key][f"{moment.day:02d}:{moment.hour:02d}"] = 1
            writes.expiry[key] = _month_expiry(moment.date(), self.zone)
            moment += timedelta(hours=1)
        writes.polls = (feed, day, hour, polls)

    def _flush(self, writes: _Writes) -> None:
        if not writes:
            return
        pipe = self.store.redis.pipeline(transaction=False)
        positions: dict[tuple[str, str], int] = {}
        for (key, name), amount in writes.ints.items():
            positions[(key, name)] = len(pipe)
            pipe.hincrby(key, name, amount)
        for key, flags in writes.flags.items():
            pipe.hset(key, mapping=flags)
        for (key, name), amount in writes.floats.items():
            positions[(key, name)] = len(pipe)
            pipe.hincrbyfloat(key, name, amount)
        for (key, member), low in writes.lows.items():
            pipe.zadd(key, {member: low}, lt=True)
        for (key, member), high in writes.highs.items():
            pipe.zadd(key, {member: high}, gt=True)
        for kpi_id, labels in writes.labels.items():
            pipe.hset(self.keys.kpi_scopes(kpi_id), mapping=labels)
        for kpi_id, seen in writes.seen.items():
            pipe.hset(self.keys.kpi_seen(kpi_id), mapping={k: repr(v) for k, v in seen.items()})
            pipe.expire(self.keys.kpi_seen(kpi_id), int(SEEN_RETENTION.total_seconds()))
        for key, expiry in writes.expiry.items():
            pipe.expireat(key, expiry)
        pipe.incr(self.keys.kpi_rollup_version())
        results = pipe.execute()

        # second round: what depends on the totals after this batch (concurrent writers included)
        follow = self.store.redis.pipeline(transaction=False)
        if writes.polls:
            feed, day, hour, count = writes.polls
            total = int(results[positions[(self.keys.feed_polls_hours(feed.name, day.isoformat()), f"{hour:02d}")]])
            cap = expected_per_hour(feed)
            earned = max(0, min(total, cap) - min(total - count, cap))
            if earned:
                key = self.keys.feed_polls_days(feed.name, month_key(day))
                follow.hincrby(key, f"{day.day:02d}", earned)
                follow.expireat(key, _month_expiry(day, self.zone))
        for (_, scope, day, hour), kpi in writes.above.items():
            key = self.keys.kpi_hours(kpi.id, scope, day.isoformat())
            n = int(results[positions[(key, f"{hour:02d}:n")]])
            s = float(results[positions[(key, f"{hour:02d}:s")]])
            flag = "1" if hour_above(kpi, Agg(n=n, s=s)) else "0"
            follow.hset(self.keys.kpi_days(kpi.id, scope, month_key(day)), f"{day.day:02d}:a{hour:02d}", flag)
        if len(follow):
            follow.execute()

    # --- what the backfill needs ----------------------------------------------------------------------

    def record_polls(self, feed: Feed, hour_start: datetime, count: int) -> None:
        """Count `count` successful polls of a feed in the hour starting at `hour_start`."""
        writes = _Writes()
        self._polls(feed, hour_start, count, writes)
        self._flush(writes)

    def clear(self) -> int:
        """Delete every KPI rollup key of the city (the backfill replaces them); returns how many."""
        removed = 0
        batch: list[str] = []
        for key in self.store.redis.scan_iter(match=self.keys.kpi_rollups_pattern(), count=1000):
            batch.append(key)
            if len(batch) >= 1000:
                removed += self.store.redis.delete(*batch)
                batch.clear()
        if batch:
            removed += self.store.redis.delete(*batch)
        return removed


def expected_per_hour(feed: Feed) -> int:
    """Polls a feed is expected to deliver in an hour (at least one: an hourly or daily feed's hour counts once)."""
    return max(1, round(3600 / feed.interval))


def expected_per_day(feed: Feed) -> float:
    """Polls expected in a day: a feed slower than hourly is expected 86400/interval times, not 24."""
    return 24.0 * expected_per_hour(feed) if feed.interval <= 3600 else 86400 / feed.interval


def _month_expiry(day: date, zone: ZoneInfo) -> int:
    next_month = (day.replace(day=28) + timedelta(days=4)).replace(day=1)
    return int((day_start(next_month, zone) + DAILY_RETENTION).timestamp())


# --- reading -------------------------------------------------------------------------------------------------


def _parse_hash(raw: Mapping[str, str], extremes: Sequence[tuple[str, float]]) -> dict[int, Agg]:
    """Fields `<slot>:<stat>` of one hourly or daily hash (and its extremes) into one Agg per slot."""
    slots: dict[int, Agg] = {}
    for name, text in raw.items():
        slot_text, _, stat = name.partition(":")
        agg = slots.get(int(slot_text))
        if agg is None:
            agg = slots[int(slot_text)] = Agg()
        if stat == "n":
            agg.n = int(text)
        elif stat == "s":
            agg.s = float(text)
        elif stat == "k":
            agg.k = int(text)
        elif stat == "d":
            agg.d = float(text)
        elif stat[0] == "q":
            agg.bins[stat[1:]] = int(text)
        elif stat[0] == "a":
            agg.above += text == "1"
    for member, score in extremes:
        slot_text, _, which = member.partition(":")
        agg = slots.setdefault(int(slot_text), Agg())
        if which == "lo":
            agg.lo = score
        else:
            agg.hi = score
    return slots


class RollupReader:
    """Reads rollups back for reports: all (KPI, scope) pairs of a date range in one pipeline."""

    def __init__(self, store: Store, zone: ZoneInfo) -> None:
        self.store = store
        self.keys = store.keys
        self.zone = zone

    def version(self) -> int:
        return int(self.store.redis.get(self.keys.kpi_rollup_version()) or 0)

    def scopes(self, kpi_ids: Sequence[str]) -> dict[str, dict[str, str]]:
        """KPI id -> {scope: label} of every scope the KPI has data for."""
        pipe = self.store.redis.pipeline(transaction=False)
        for kpi_id in kpi_ids:
            pipe.hgetall(self.keys.kpi_scopes(kpi_id))
        return dict(zip(kpi_ids, pipe.execute(), strict=True))

    def days(
        self, wanted: Sequence[tuple[Kpi, str]], first: date, last: date
    ) -> dict[tuple[str, str], dict[date, Agg]]:
        """(KPI id, scope) -> {local date: Agg} for the days first..last that hold data."""
        months = months_between(first, last)
        pipe = self.store.redis.pipeline(transaction=False)
        plan: list[tuple[str, str, str, bool]] = []
        for kpi, scope in wanted:
            with_extremes = kpi.aggregate in ("min", "max")
            for month in months:
                pipe.hgetall(self.keys.kpi_days(kpi.id, scope, month))
                if with_extremes:
                    pipe.zrange(self.keys.kpi_day_extremes(kpi.id, scope, month), 0, -1, withscores=True)
                plan.append((kpi.id, scope, month, with_extremes))
        results = iter(pipe.execute())
        found: dict[tuple[str, str], dict[date, Agg]] = defaultdict(dict)
        for kpi_id, scope, month, with_extremes in plan:
            raw = next(results)
            extremes = next(results) if with_extremes else ()
            year, month_number = (int(part) for part in month.split("-"))
            for slot, agg in _parse_hash(raw, extremes).items():
                day = date(year, month_number, slot)
                if first <= day <= last:
                    found[(kpi_id, scope)][day] = agg
        return found

    def hours(self, wanted: Sequence[tuple[Kpi, str]], day: date) -> dict[tuple[str, str], dict[int, Agg]]:
        """(KPI id, scope) -> {local hour: Agg} of one day."""
        pipe = self.store.redis.pipeline(transaction=False)
        for kpi, scope in wanted:
            pipe.hgetall(self.keys.kpi_hours(kpi.id, scope, day.isoformat()))
            pipe.zrange(self.keys.kpi_hour_extremes(kpi.id, scope, day.isoformat()), 0, -1, withscores=True)
        results = iter(pipe.execute())
        found: dict[tuple[str, str], dict[int, Agg]] = {}
        for kpi, scope in wanted:
            raw, extremes = next(results), next(results)
            slots = _parse_hash(raw, extremes)
            if kpi.aggregate == "hours_above":
                for agg in slots.values():
                    agg.above = int(hour_above(kpi, agg))
            found[(kpi.id, scope)] = slots
        return found

    def polls(self, feeds: Sequence[str], first: date, last: date) -> dict[str, dict[date, int]]:
        """Feed -> {local date: successful polls (capped per hour at the expected count)}."""
        months = months_between(first, last)
        pipe = self.store.redis.pipeline(transaction=False)
        for feed in feeds:
            for month in months:
                pipe.hgetall(self.keys.feed_polls_days(feed, month))
        results = iter(pipe.execute())
        found: dict[str, dict[date, int]] = {}
        for feed in feeds:
            per_day: dict[date, int] = {}
            for month in months:
                year, month_number = (int(part) for part in month.split("-"))
                for slot, count in next(results).items():
                    day = date(year, month_number, int(slot))
                    if first <= day <= last:
                        per_day[day] = int(count)
            found[feed] = per_day
        return found

    def polls_by_hour(self, feeds: Sequence[str], day: date) -> dict[str, dict[int, int]]:
        pipe = self.store.redis.pipeline(transaction=False)
        for feed in feeds:
            pipe.hgetall(self.keys.feed_polls_hours(feed, day.isoformat()))
        return {
            feed: {int(hour): int(count) for hour, count in raw.items()}
            for feed, raw in zip(feeds, pipe.execute(), strict=True)
        }

    def fresh_hours(self, agencies: Sequence[str], first: date, last: date) -> dict[str, set[tuple[date, int]]]:
        """Agency -> the (local date, hour) pairs in which its data was fresh."""
        months = months_between(first, last)
        pipe = self.store.redis.pipeline(transaction=False)
        for agency in agencies:
            for month in months:
                pipe.hkeys(self.keys.agency_fresh(agency, month))
        results = iter(pipe.execute())
        found: dict[str, set[tuple[date, int]]] = {}
        for agency in agencies:
            hours: set[tuple[date, int]] = set()
            for month in months:
                year, month_number = (int(part) for part in month.split("-"))
                for name in next(results):
                    day_text, _, hour_text = name.partition(":")
                    day = date(year, month_number, int(day_text))
                    if first <= day <= last:
                        hours.add((day, int(hour_text)))
            found[agency] = hours
        return found


def rollup_listener(settings: Settings, store: Store) -> KpiRollups | None:
    """The listener for ioc.runner.default_listeners; None (with a warning) if kpis.yaml does not load."""
    from ioc.config import ConfigError

    try:
        return KpiRollups(store, settings)
    except ConfigError as exc:
        log.warning("KPI rollups are off: %s", exc)
        return None


__all__ = ["Agg", "KpiRollups", "RollupReader", "rollup_listener", "value_of"]
