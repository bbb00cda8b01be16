"""KPI rollups in Redis: every stored batch becomes hourly and daily aggregates per KPI and scope, incrementally.

`KpiRollups` is the runner's batch listener. For each KPI that reads the batch's feed it picks the records
(new observations of a metric, entities and events counted once, or every entity of a poll), and adds them
to mergeable aggregates of the local hour and the local day the record's own time falls in, so late data
lands in its own hour and a day starts at the city's midnight: a count `n`, a sum `s`, hits `k` (for
shares), a denominator sum `d` (for ratios), sketch bins `q<bin>` (for medians and p90s), and per-hour flags
`a<HH>` saying whether the hour's mean was above a limit. Minimum and maximum live in a sorted set next to each hash (ZADD LT/GT
keeps them atomically). Scopes: the city, each district, and each group (who is behind a record, e.g. the
agency a citizen request was sent to); groups are ranked over periods, so they keep days only.
Which records a KPI counts is `ioc.kpis.records`; reading the rollups back is `ioc.kpis.rollup_reader`.

It also records each feed's successful polls per hour, and the hours in which each agency's data was fresh:
the data scorecard and the cross-sector integration rate are computed from those.

Hourly keys expire 92 days after their day ends, daily keys five years after their month ends.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Callable
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from ioc.config import Feed, Settings
from ioc.keys import Keys
from ioc.kpis import sketch
from ioc.kpis.aggregates import Agg, hour_above
from ioc.kpis.catalogue import Catalogue, Kpi, load_catalogue
from ioc.kpis.periods import day_start, local_bucket, month_key
from ioc.kpis.records import Contribution, candidate_records, contribution, selected
from ioc.model import Batch, utcnow
from ioc.store import Store

log = logging.getLogger("ioc.kpis")

HOURLY_RETENTION = timedelta(days=92)
DAILY_RETENTION = timedelta(days=5 * 366 + 31)
SEEN_RETENTION = timedelta(days=120)
# a feed slower than hourly keeps its data fresh for at most this long on the integration board
FRESH_HORIZON = timedelta(hours=24)


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

    # --- what a history of past payloads needs (ioc.kpis.history, the demo's backfill) ------------

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


def rollup_listener(settings: Settings, store: Store) -> KpiRollups | None:
    """The listener for ioc.runner.default_listeners; None (with a warning) if kpis.yaml does not load."""
    from ioc.config import ConfigError

    try:
        return KpiRollups(store, settings)
    except ConfigError as exc:
        log.warning("KPI rollups are off: %s", exc)
        return None
