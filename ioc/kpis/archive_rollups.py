"""KPI aggregates from the history archive: each local day's observations rolled up as Redis does live, kept
as two small Parquet files per day (`<archive>/kpis/day=YYYY-MM-DD/days.parquet`, `hours.parquet`).

Redis keeps daily rollups for five years and hourly ones for 92 days, and only from the day they began; the
archive keeps the raw observations (`archive.yaml`, retention). `compact_kpis` (`ioc archive compact`, and
the archiver's rounds) turns each finished local day of archived observations into the same mergeable
aggregates (`ioc.kpis.aggregates.Agg`) per KPI, scope and hour, so a report over years reads a few
thousand rows per year instead of millions of observations (bench/kpi_archive.py measured both).

What a record counts is the catalogue's and `ioc.kpis.records`' (the live rollups' own code): an observation
of the KPI's metric, with the entity record archived last at or before its batch (looked back at most
`ENTITY_LOOKBACK`), counted once per entity, metric and time. The KPIs that read entities counted once,
events, fleet snapshots or the feeds' polls are Redis's alone (`ARCHIVED_RECORDS`).
"""

from __future__ import annotations

import os
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import duckdb
import orjson
import pyarrow as pa
import pyarrow.parquet as pq

from ioc.archive.files import files_of, partition_dir
from ioc.archive.settings import KPI_FOLDER
from ioc.config import Settings
from ioc.kpis import sketch
from ioc.kpis.aggregates import Agg, hour_above
from ioc.kpis.catalogue import Catalogue, Kpi, load_catalogue
from ioc.kpis.periods import day_start
from ioc.kpis.records import Contribution, _entity_record, contribution
from ioc.model import Entity, from_iso, utcnow

KPI_KIND = KPI_FOLDER  # the archive's folder of KPI aggregates, beside observations, entities, events, alerts
DAYS_FILE, HOURS_FILE = "days.parquet", "hours.parquet"
ARCHIVED_RECORDS = frozenset({"observations"})
# an observation's entity record is the one archived last before it, at most this long before it: the
# archiver writes a record again whenever it changes and after each restart, and the look back bounds what
# a roll-up reads (an entity unchanged for longer counts as unknown: only for KPIs of any entity type)
ENTITY_LOOKBACK = timedelta(days=31)
CHUNK_DAYS = 31  # days rolled up from one query per feed: each query reads the look back's records once
# the archiver writes a finished day's last rows up to a round later: a day is rolled up once it is this old
SETTLE = timedelta(hours=1)

_AGG_FIELDS: list[tuple[str, pa.DataType]] = [
    ("n", pa.int64()), ("s", pa.float64()), ("k", pa.int64()), ("d", pa.float64()), ("lo", pa.float64()),
    ("hi", pa.float64()), ("bins", pa.string()), ("above", pa.int32()),
]
DAY_SCHEMA = pa.schema([("kpi", pa.string()), ("scope", pa.string()), ("label", pa.string()), *_AGG_FIELDS])
HOUR_SCHEMA = pa.schema([("kpi", pa.string()), ("scope", pa.string()), ("hour", pa.int8()), *_AGG_FIELDS])
_SID = "CAST(split_part(sid, '-', 1) AS BIGINT) * 1000000 + CAST(split_part(sid, '-', 2) AS BIGINT)"


def archived_kpis(catalogue: Catalogue) -> list[Kpi]:
    """The KPIs the archive can answer: those that count observations of a metric."""
    return [k for k in catalogue.kpis if k.source is not None and k.source.records in ARCHIVED_RECORDS]


def kpi_day_dir(root: Path, day: date) -> Path:
    return Path(root) / KPI_KIND / f"day={day.isoformat()}"


def _quoted(paths: Iterable[Path]) -> str:
    return ", ".join("'" + str(path).replace("'", "''") + "'" for path in paths)


def _utc_days(day: date, zone: ZoneInfo) -> tuple[datetime, datetime]:
    start = day_start(day, zone).astimezone(UTC)
    return start, day_start(day + timedelta(days=1), zone).astimezone(UTC)


# --- archived rows -> contributions (the live rollups' own selection) ----------------------------------------


def observation_rows(root: Path, feed: str, metrics: Iterable[str], start: datetime, end: datetime,
                     lookback: timedelta = ENTITY_LOOKBACK) -> list[tuple[Any, ...]]:
    """(entity, metric, time, value, text, entity record JSON or None) of a feed's observations of `metrics`
    in [start, end): each (entity, metric, time) once (its first archived copy), with the entity's record
    archived last at or before that copy's batch, if archived no more than `lookback` before the reading."""
    observed = files_of(Path(root), "observations", start.date(), (end - timedelta(microseconds=1)).date(), feed)
    if not observed:
        return []
    records = files_of(Path(root), "entities", (start - lookback).date(), end.date(), feed)
    wanted = sorted(set(metrics))
    observations = (
        f"SELECT entity, metric, time, value, text, {_SID} AS ord "
        f"FROM read_parquet([{_quoted(observed)}], union_by_name = true, hive_partitioning = false) "
        f"WHERE metric IN ({', '.join('?' for _ in wanted)}) AND time >= ?::TIMESTAMPTZ "
        f"AND time < ?::TIMESTAMPTZ "
        "QUALIFY row_number() OVER (PARTITION BY entity, metric, time ORDER BY ord) = 1"
    )
    params: list[Any] = [*wanted, start.isoformat(), end.isoformat()]
    if records:
        sql = (
            f"WITH o AS ({observations}), e AS (SELECT entity, record, ingested_at, {_SID} AS ord "
            f"FROM read_parquet([{_quoted(records)}], union_by_name = true, hive_partitioning = false) "
            "WHERE ingested_at >= ?::TIMESTAMPTZ) "
            "SELECT o.entity, o.metric, o.time, o.value, o.text, "
            f"CASE WHEN e.ingested_at >= o.time - INTERVAL {int(lookback.total_seconds())} SECOND "
            "THEN e.record END FROM o "
            "ASOF LEFT JOIN e ON o.entity = e.entity AND o.ord >= e.ord ORDER BY o.time, o.entity, o.metric"
        )
        params.append((start - lookback).isoformat())
    else:
        sql = (f"SELECT entity, metric, time, value, text, NULL AS record FROM ({observations}) "
               "ORDER BY time, entity, metric")
    with duckdb.connect() as connection:
        connection.execute("SET TimeZone = 'UTC'")
        return connection.execute(sql, params).fetchall()


def entity_fields(record_json: str | None) -> dict[str, Any] | None:
    """The fields a KPI reads of an archived entity record (as the live rollups see the entity)."""
    if record_json is None:
        return None
    data = orjson.loads(record_json)
    entity = Entity(
        id=data.get("id", ""), type=data.get("type", ""), agency=data.get("agency", ""),
        sector=data.get("sector", ""), name=data.get("name") or "", district=data.get("district"),
        attributes=data.get("attributes") or {}, observed_at=from_iso(data.get("observed_at")),
    )
    return _entity_record(entity)


def contributions(root: Path, kpis: Iterable[Kpi], first: date, last: date, zone: ZoneInfo,
                  lookback: timedelta = ENTITY_LOOKBACK) -> Iterator[tuple[Kpi, Contribution]]:
    """What every archived observation of the local days first..last adds to the KPIs that read them."""
    start, end = _utc_days(first, zone)[0], _utc_days(last, zone)[1]
    by_feed: dict[str, list[Kpi]] = defaultdict(list)
    for kpi in kpis:
        if kpi.source is not None and kpi.source.records in ARCHIVED_RECORDS:
            for feed in kpi.source.feeds:
                by_feed[feed].append(kpi)
    for feed, feed_kpis in by_feed.items():
        metrics = {k.source.metric for k in feed_kpis if k.source and k.source.metric}
        fields: dict[str | None, dict[str, Any] | None] = {}
        for _entity, metric, moment, value, text, record_json in observation_rows(
                root, feed, metrics, start, end, lookback):
            if record_json not in fields:
                fields[record_json] = entity_fields(record_json)
            base = fields[record_json]
            reading = value if value is not None else text
            moment = moment.astimezone(UTC) if moment.tzinfo else moment.replace(tzinfo=UTC)
            for kpi in feed_kpis:
                source = kpi.source
                assert source is not None
                if metric != source.metric:
                    continue
                if source.entity_type and (base is None or base.get("type") != source.entity_type):
                    continue  # as live: an observation of an unknown entity counts only for an untyped KPI
                part = contribution(kpi, {**(base or {}), metric: reading}, moment, zone)
                if part is not None:
                    yield kpi, part


# --- contributions -> aggregates --------------------------------------------------------------------------


@dataclass(slots=True)
class DayRollup:
    """One local day's aggregates: (KPI id, scope) -> the day's Agg, and (KPI id, scope, hour) -> the hour's."""

    days: dict[tuple[str, str], Agg] = field(default_factory=dict)
    hours: dict[tuple[str, str, int], Agg] = field(default_factory=dict)
    labels: dict[tuple[str, str], str] = field(default_factory=dict)

    def add(self, kpi: Kpi, part: Contribution, zone: ZoneInfo) -> None:
        """As `KpiRollups._add` counts a record into its day and hour buckets (groups: days only, except
        hours above a limit, which are decided hour by hour)."""
        hour = part.time.astimezone(zone).hour
        for scope, label in part.scopes:
            if label:
                self.labels[(kpi.id, scope)] = label
            _count(self.days.setdefault((kpi.id, scope), Agg()), kpi, part)
            if not scope.startswith("group:") or kpi.aggregate == "hours_above":
                _count(self.hours.setdefault((kpi.id, scope, hour), Agg()), kpi, part)

    def settle(self, kpis: dict[str, Kpi]) -> None:
        """A day's `above`: its hours whose mean exceeded the KPI's limit."""
        for (kpi_id, scope, _), agg in self.hours.items():
            kpi = kpis[kpi_id]
            if kpi.aggregate == "hours_above" and hour_above(kpi, agg):
                agg.above = 1
                self.days[(kpi_id, scope)].above += 1


def _count(agg: Agg, kpi: Kpi, part: Contribution) -> None:
    agg.n += 1
    agg.k += part.hit
    if part.value is not None:
        agg.s += part.value
        agg.lo = part.value if agg.lo is None else min(agg.lo, part.value)
        agg.hi = part.value if agg.hi is None else max(agg.hi, part.value)
        if kpi.needs_sketch:
            sketch.add(agg.bins, [part.value])
    if part.per is not None:
        agg.d += part.per


def roll_up_days(root: Path, catalogue: Catalogue, first: date, last: date, zone: ZoneInfo,
                 lookback: timedelta = ENTITY_LOOKBACK) -> dict[date, DayRollup]:
    """The local days first..last rolled up (every day of the range, an empty one too)."""
    kpis = archived_kpis(catalogue)
    rollups = {first + timedelta(days=n): DayRollup() for n in range((last - first).days + 1)}
    for kpi, part in contributions(root, kpis, first, last, zone, lookback):
        rollups[part.time.astimezone(zone).date()].add(kpi, part, zone)
    by_id = {k.id: k for k in kpis}
    for rollup in rollups.values():
        rollup.settle(by_id)
    return rollups


def _agg_columns(aggs: list[Agg]) -> list[pa.Array]:
    return [
        pa.array([a.n for a in aggs], pa.int64()), pa.array([a.s for a in aggs], pa.float64()),
        pa.array([a.k for a in aggs], pa.int64()), pa.array([a.d for a in aggs], pa.float64()),
        pa.array([a.lo for a in aggs], pa.float64()), pa.array([a.hi for a in aggs], pa.float64()),
        pa.array([orjson.dumps(dict(a.bins)).decode() if a.bins else None for a in aggs], pa.string()),
        pa.array([a.above for a in aggs], pa.int32()),
    ]


def write_day(root: Path, day: date, rollup: DayRollup) -> Path:
    """The day's two files, written beside and renamed (a reader never sees half of one); days last."""
    folder = kpi_day_dir(root, day)
    folder.mkdir(parents=True, exist_ok=True)
    day_keys = sorted(rollup.days)
    hour_keys = sorted(rollup.hours)
    tables = {
        HOURS_FILE: pa.Table.from_arrays(
            [pa.array([k[0] for k in hour_keys], pa.string()), pa.array([k[1] for k in hour_keys], pa.string()),
             pa.array([k[2] for k in hour_keys], pa.int8()), *_agg_columns([rollup.hours[k] for k in hour_keys])],
            schema=HOUR_SCHEMA),
        DAYS_FILE: pa.Table.from_arrays(
            [pa.array([k[0] for k in day_keys], pa.string()), pa.array([k[1] for k in day_keys], pa.string()),
             pa.array([rollup.labels.get(k, "") for k in day_keys], pa.string()),
             *_agg_columns([rollup.days[k] for k in day_keys])],
            schema=DAY_SCHEMA),
    }
    for name, table in tables.items():
        partial = folder / f"{name}.partial"
        pq.write_table(table, partial, compression="zstd")
        os.replace(partial, folder / name)
    return folder / DAYS_FILE


# --- which days to roll up --------------------------------------------------------------------------------


def _newest_files(root: Path, feeds: set[str]) -> dict[date, int]:
    """UTC day -> the newest modification time (ns) of the feeds' observation files of that day."""
    newest: dict[date, int] = {}
    for day_dir in (Path(root) / "observations").glob("day=*"):
        try:
            day = date.fromisoformat(day_dir.name.removeprefix("day="))
        except ValueError:
            continue
        times = [path.stat().st_mtime_ns for feed in feeds
                 for path in partition_dir(Path(root), "observations", day.isoformat(), feed).glob("part-*.parquet")]
        if times:
            newest[day] = max(times)
    return newest


def _sources_changed(root: Path, day: date, zone: ZoneInfo, newest: dict[date, int]) -> bool:
    """Whether the day has no aggregates yet, or an observation file of its UTC days is newer than them."""
    done = kpi_day_dir(root, day) / DAYS_FILE
    try:
        made = done.stat().st_mtime_ns
    except FileNotFoundError:
        return True
    start, end = _utc_days(day, zone)
    last = (end - timedelta(microseconds=1)).date()
    return any(newest.get(utc_day, 0) > made for utc_day in {start.date(), last})


def observed_days(root: Path, zone: ZoneInfo) -> list[date]:
    """The local days the archive's observation partitions may hold (each UTC day touches two)."""
    found: set[date] = set()
    for folder in (Path(root) / "observations").glob("day=*"):
        try:
            utc_day = date.fromisoformat(folder.name.removeprefix("day="))
        except ValueError:
            continue
        noon = datetime(utc_day.year, utc_day.month, utc_day.day, 12, tzinfo=UTC)
        for moment in (noon - timedelta(hours=12), noon + timedelta(hours=12) - timedelta(microseconds=1)):
            found.add(moment.astimezone(zone).date())
    return sorted(found)


def compact_kpis(root: Path, catalogue: Catalogue, zone: ZoneInfo, now: datetime, *,
                 first: date | None = None, last: date | None = None) -> list[date]:
    """Roll up every finished local day (from `first` to `last` when given) whose archived observations are
    new or changed since it was last rolled up; returns the days written that hold data."""
    kpis = archived_kpis(catalogue)
    feeds = {feed for kpi in kpis if kpi.source for feed in kpi.source.feeds}
    settled = (now - SETTLE).astimezone(zone).date() - timedelta(days=1)
    last = min(last or settled, settled)
    newest = _newest_files(root, feeds)
    stale = [day for day in observed_days(root, zone)
             if (first is None or day >= first) and day <= last and _sources_changed(root, day, zone, newest)]
    written: list[date] = []
    for chunk in _runs(stale, CHUNK_DAYS):
        for day, rollup in roll_up_days(root, catalogue, chunk[0], chunk[-1], zone).items():
            write_day(root, day, rollup)  # an empty day too, so it is not read again until its files change
            if rollup.days:
                written.append(day)
    return written


def _runs(days: list[date], longest: int) -> Iterator[list[date]]:
    """Sorted days in runs of consecutive ones (at most `longest` long): one query per feed and run."""
    run: list[date] = []
    for day in days:
        if run and (day - run[-1] != timedelta(days=1) or len(run) >= longest):
            yield run
            run = []
        run.append(day)
    if run:
        yield run


def daily_compaction(root: Path, settings: Settings) -> Callable[[], list[date]]:
    """The KPI roll-up an archiver runs after each of its rounds: each finished day is rolled up once its files
    settle (and again only if they change), so reports reach the archive with no cron job to forget."""
    catalogue = load_catalogue(settings)
    zone = ZoneInfo(settings.city.timezone)
    return lambda: compact_kpis(root, catalogue, zone, utcnow())
