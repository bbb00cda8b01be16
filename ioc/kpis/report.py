"""The KPI report of a period: every KPI's value against its target, change, trend, forecast and what drives it.

`compute_report` is the one computation behind the /reports page, its CSV/XLSX/PDF exports and `ioc report`,
read from the rollups only (never from raw observations), so a 90-day report of every district and KPI
takes a few Redis round trips. `cached_report` keys it by (period, filters, rollup version): new data
changes the version, so a cached report is never older than the data.

What a report holds is `ioc.kpis.results`: plain values only, so a Redis-backed cache can keep it.
"""

from __future__ import annotations

import contextlib
import threading
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any, Protocol
from zoneinfo import ZoneInfo

import redis

from ioc.areas import area_index
from ioc.config import Settings
from ioc.kpis.aggregates import CITY, Agg, district_scope, value_of
from ioc.kpis.alarm_section import alarm_section, with_alarm_section
from ioc.kpis.archive_reader import archive_folder, kpi_reader
from ioc.kpis.catalogue import DATA_AGGREGATES, PERCENT_AGGREGATES, Catalogue, Kpi, load_catalogue
from ioc.kpis.forecast import Forecast, forecast
from ioc.kpis.periods import Period, day_start
from ioc.kpis.results import KpiInfo, KpiResult, Report, ScopeValue, Status, TrendPoint, status_of
from ioc.kpis.rollup_reader import RollupReader
from ioc.kpis.rollups import expected_per_day, expected_per_hour
from ioc.model import utcnow
from ioc.store import Store

# groups (routes, offices, agencies...) with fewer records than this in the period are not named as drivers
MIN_GROUP_RECORDS = 5
HISTORY_DAYS = 56  # daily history read for the forecast


# --- elapsed time ------------------------------------------------------------------------------------------


def _covered_days(period: Period, now: datetime, zone: ZoneInfo, running: Iterable[date] | None = None) -> float:
    """Days of the period that have happened and (when `running` is given) the KPI's feeds delivered on:
    what a per-day target scales by, so a month with a week of data is held to a week's target."""
    days = period.days if running is None else [d for d in period.days if d in set(running)]
    return sum(_day_share(day, now, zone) for day in days)


def _elapsed_hours(day: date, now: datetime, zone: ZoneInfo) -> int:
    """Hours of a day that have begun (the running hour included)."""
    local_now = now.astimezone(zone)
    if day < local_now.date():
        return 24
    if day > local_now.date():
        return 0
    return local_now.hour + 1


def _day_share(day: date, now: datetime, zone: ZoneInfo) -> float:
    """How much of a day has passed: 1 for a past day, the elapsed share for today."""
    local_now = now.astimezone(zone)
    if day < local_now.date():
        return 1.0
    if day > local_now.date():
        return 0.0
    return (local_now - day_start(day, zone)).total_seconds() / 86400


# --- record KPIs ---------------------------------------------------------------------------------------------


def _period_agg(days: Mapping[date, Agg], period: Period) -> Agg:
    return Agg.merged(agg for day, agg in days.items() if period.contains(day))


def _value(kpi: Kpi, agg: Agg, polled: bool) -> float | None:
    value = value_of(kpi, agg)
    if value is None and kpi.additive and polled:
        return 0.0  # the feed delivered and nothing happened: zero incidents, not "no data"
    return value


@dataclass(slots=True)
class _Reads:
    """Everything one report reads from Redis, fetched up front in a few pipelines."""

    days: dict[tuple[str, str], dict[date, Agg]]
    hours: dict[tuple[str, str], dict[int, Agg]]
    scopes: dict[str, dict[str, str]]
    polls: dict[str, dict[date, int]]
    polls_by_hour: dict[str, dict[int, int]]
    fresh: dict[str, set[tuple[date, int]]]
    version: int


def _read(
    reader: RollupReader, settings: Settings, kpis: list[Kpi], period: Period, scope: str, first: date
) -> _Reads:
    record_kpis = [k for k in kpis if not k.is_data_kpi]
    scopes = reader.scopes([k.id for k in record_kpis])
    districts = [district_scope(name) for name in area_index(settings.city).names]
    wanted: list[tuple[Kpi, str]] = []
    for kpi in record_kpis:
        groups = [s for s in scopes.get(kpi.id, {}) if s.startswith("group:")]
        wanted.extend((kpi, s) for s in dict.fromkeys([CITY, *districts, *groups]))
    days = reader.days(wanted, first, period.end)
    hours = reader.hours([(k, scope) for k in record_kpis], period.start) if period.kind == "day" else {}
    feeds = [f.name for f in settings.feeds if f.enabled]
    agencies = sorted({f.agency for f in settings.feeds if f.enabled})
    return _Reads(
        days=days,
        hours=hours,
        scopes=scopes,
        polls=reader.polls(feeds, first, period.end),
        polls_by_hour=reader.polls_by_hour(feeds, period.start) if period.kind == "day" else {},
        fresh=reader.fresh_hours(agencies, first, period.end),
        version=reader.version(),
    )


def _polled_days(reads: _Reads, kpi: Kpi) -> set[date]:
    feeds = kpi.source.feeds if kpi.source else []
    return {day for feed in feeds for day in reads.polls.get(feed, {})}


def _polled(reads: _Reads, kpi: Kpi, period: Period) -> bool:
    return any(period.contains(day) for day in _polled_days(reads, kpi))


def _record_result(
    kpi: Kpi, catalogue: Catalogue, reads: _Reads, context: _Context,
) -> KpiResult:
    period, previous, scope = context.period, context.previous, context.scope
    days = reads.days.get((kpi.id, scope), {})
    agg = _period_agg(days, period)
    value = _value(kpi, agg, _polled(reads, kpi, period))
    previous_value = _value(kpi, _period_agg(days, previous), _polled(reads, kpi, previous))
    covered = _covered_days(period, context.now, context.zone, _polled_days(reads, kpi)) or context.elapsed
    target, band = kpi.target_for(covered), kpi.near_band(covered)

    if period.kind == "day":
        hours = reads.hours.get((kpi.id, scope), {})
        start = day_start(period.start, context.zone)
        trend = [TrendPoint(start + timedelta(hours=h), value_of(kpi, hours[h]) if h in hours else None)
                 for h in range(_elapsed_hours(period.start, context.now, context.zone))]
        trend_target = kpi.target / 24 if kpi.additive else kpi.target
    else:
        # the day still running is left out of a day-by-day chart: a few hours of it are not a day
        trend = [TrendPoint(day_start(day, context.zone), value_of(kpi, days[day]) if day in days else None)
                 for day in period.days if day < context.today]
        trend_target = kpi.target

    daily = {day: v for day, agg in days.items() if (v := value_of(kpi, agg)) is not None}
    outlook = _forecast(kpi, daily, context)

    districts: list[ScopeValue] = []
    for name in context.districts:
        district_days = reads.days.get((kpi.id, district_scope(name)), {})
        district_agg = _period_agg(district_days, period)
        district_value = value_of(kpi, district_agg)
        districts.append(ScopeValue(district_scope(name), name, district_value,
                                    _part_status(kpi, district_value, target, band), district_agg.n))
    groups: list[ScopeValue] = []
    for group, label in reads.scopes.get(kpi.id, {}).items():
        if not group.startswith("group:"):
            continue
        group_agg = _period_agg(reads.days.get((kpi.id, group), {}), period)
        if group_agg.n < MIN_GROUP_RECORDS:
            continue
        group_value = value_of(kpi, group_agg)
        groups.append(ScopeValue(group, label, group_value, _part_status(kpi, group_value, target, band),
                                 group_agg.n))
    return KpiResult(
        kpi=KpiInfo.of(kpi),
        connected=catalogue.connected(kpi),
        value=value,
        previous=previous_value,
        target=target,
        near_band=band,
        status=status_of(kpi.better, value, target, band),
        records=agg.n,
        trend=trend,
        trend_target=trend_target,
        trend_unit="hour" if period.kind == "day" else "day",
        forecast=outlook,
        districts=_worst_first(districts, kpi.better),
        groups=_worst_first(groups, kpi.better),
        missing_feeds=tuple(f for f in (kpi.source.feeds if kpi.source else ()) if f in catalogue.missing_feeds),
    )


def _part_status(kpi: Kpi, value: float | None, target: float, band: float) -> Status:
    """An area's or group's status: judged against the target, except its part of an additive total, which
    has no target of its own (the city's target is for the whole city)."""
    if kpi.additive and value is not None:
        return "share"
    return status_of(kpi.better, value, target, band)


def _worst_first(values: list[ScopeValue], better: str) -> list[ScopeValue]:
    known = [v for v in values if v.value is not None]
    unknown = [v for v in values if v.value is None]
    known.sort(key=lambda v: (v.value, v.label), reverse=better == "lower")
    return known + sorted(unknown, key=lambda v: v.label)


def _forecast(kpi: Kpi, daily: Mapping[date, float], context: _Context) -> Forecast:
    # today is still running: its partial value would drag a forecast down, so history ends yesterday
    return forecast(
        daily,
        context.next.days,
        additive=kpi.additive,
        last_known=min(context.period.end, context.today - timedelta(days=1)),
        bounds=(0.0, 100.0 if kpi.aggregate in PERCENT_AGGREGATES else None),
    )


# --- the IOC's own data KPIs ---------------------------------------------------------------------------------


def _data_result(kpi: Kpi, settings: Settings, reads: _Reads, context: _Context) -> KpiResult:
    """integration_rate and feed_delivery, from the feeds' poll counts and the agencies' fresh hours."""
    feeds = [f for f in settings.feeds if f.enabled]
    agencies = sorted({f.agency for f in feeds})
    agency_names = {f.agency: f.agency_name.get(context.lang) for f in feeds}
    running = {day for per_feed in reads.polls.values() for day in per_feed} | {
        day for hours in reads.fresh.values() for day, _ in hours
    }
    fresh_by_day: dict[str, dict[date, list[int]]] = {}
    for agency, pairs in reads.fresh.items():
        per_day: dict[date, list[int]] = defaultdict(list)
        for day, hour in pairs:
            per_day[day].append(hour)
        fresh_by_day[agency] = per_day

    def hours_of(day: date) -> int:
        return _elapsed_hours(day, context.now, context.zone) if day in running else 0

    def day_parts(day: date, members: Iterable[str]) -> tuple[float, float]:
        """(achieved, possible) on a day, for the whole city or one agency."""
        chosen = list(members)
        if kpi.aggregate == "integration_rate":
            hours = hours_of(day)
            got = sum(1 for agency in chosen for h in fresh_by_day.get(agency, {}).get(day, ()) if h < hours)
            return float(got), float(hours * len(chosen))
        share = _day_share(day, context.now, context.zone) if day in running else 0.0
        got_polls = sum(reads.polls.get(f.name, {}).get(day, 0) for f in feeds if f.agency in chosen)
        due = sum(expected_per_day(f) * share for f in feeds if f.agency in chosen)
        return float(min(got_polls, due)), due

    def over(period: Period, members: Iterable[str]) -> float | None:
        chosen = list(members)
        got = due = 0.0
        for day in period.days:
            if day > context.today:
                break
            achieved, possible = day_parts(day, chosen)
            got, due = got + achieved, due + possible
        return 100.0 * got / due if due else None

    value = over(context.period, agencies)
    previous_value = over(context.previous, agencies)
    target, band = kpi.target, kpi.near_band(1)
    if context.period.kind == "day":
        day = context.period.start
        start = day_start(day, context.zone)
        trend = []
        for hour in range(_elapsed_hours(day, context.now, context.zone)):
            if kpi.aggregate == "integration_rate":
                fresh = sum(1 for a in agencies if (day, hour) in reads.fresh.get(a, ()))
                point = 100.0 * fresh / len(agencies) if agencies and day in running else None
            else:
                polls = {f.name: reads.polls_by_hour.get(f.name, {}).get(hour, 0) for f in feeds}
                due = sum(expected_per_hour(f) for f in feeds)
                got = sum(min(polls[f.name], expected_per_hour(f)) for f in feeds)
                point = 100.0 * got / due if due and day in running else None
            trend.append(TrendPoint(start + timedelta(hours=hour), point))
    else:
        trend = []
        for day in context.period.days:
            if day >= context.today:
                break
            achieved, possible = day_parts(day, agencies)
            trend.append(TrendPoint(day_start(day, context.zone), 100.0 * achieved / possible if possible else None))
    history_start = context.first
    daily: dict[date, float] = {}
    day = history_start
    while day <= min(context.period.end, context.today):
        achieved, possible = day_parts(day, agencies)
        if possible:
            daily[day] = 100.0 * achieved / possible
        day += timedelta(days=1)
    groups = []
    for agency in agencies:
        agency_value = over(context.period, [agency])
        groups.append(ScopeValue(f"agency:{agency}", agency_names.get(agency, agency), agency_value,
                                 status_of(kpi.better, agency_value, target, band)))
    return KpiResult(
        kpi=KpiInfo.of(kpi),
        connected=True,
        value=value,
        previous=previous_value,
        target=target,
        near_band=band,
        status=status_of(kpi.better, value, target, band),
        records=sum(count for per_day in reads.polls.values() for day, count in per_day.items()
                    if context.period.contains(day)),
        trend=trend,
        trend_target=target,
        trend_unit="hour" if context.period.kind == "day" else "day",
        forecast=_forecast(kpi, daily, context),
        groups=_worst_first(groups, kpi.better),
        city_wide_only=True,
    )


# --- the report ----------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Context:
    period: Period
    previous: Period
    next: Period
    first: date
    scope: str
    districts: list[str]
    now: datetime
    today: date
    zone: ZoneInfo
    elapsed: float
    lang: str


def compute_report(
    store: Store,
    settings: Settings,
    period: Period,
    *,
    district: str | None = None,
    sector: str | None = None,
    catalogue: Catalogue | None = None,
    now: datetime | None = None,
    lang: str = "vi",
) -> Report:
    """The report of a period for the city (or one district) and every sector (or one)."""
    catalogue = catalogue or load_catalogue(settings)
    now = now or utcnow()
    zone = ZoneInfo(settings.city.timezone)
    districts = list(area_index(settings.city).names)
    if district and district not in districts:
        raise ValueError(f"'{district}' is not an area of {settings.city.boundaries} ({', '.join(districts)})")
    kpis = [k for k in catalogue.kpis if not sector or k.sector == sector]
    if sector and not kpis:
        raise ValueError(f"no KPI of sector '{sector}' (sectors: {', '.join(catalogue.sectors())})")
    previous = period.previous()
    first = min(previous.start, period.end - timedelta(days=HISTORY_DAYS - 1))
    context = _Context(
        period=period, previous=previous, next=period.next(), first=first,
        scope=district_scope(district) if district else CITY, districts=districts, now=now,
        today=now.astimezone(zone).date(), zone=zone, elapsed=max(_covered_days(period, now, zone), 1 / 24),
        lang=lang,
    )
    # Redis rollups, and the history archive's KPI aggregates for the days Redis no longer (or never) held
    reader = kpi_reader(store, zone, archive_folder(settings), first, period.end)
    reads = _read(reader, settings, kpis, period, context.scope, first)
    results = [
        _data_result(kpi, settings, reads, context) if kpi.aggregate in DATA_AGGREGATES
        else _record_result(kpi, catalogue, reads, context)
        for kpi in kpis
    ]
    return Report(
        period=period, previous_period=previous, next_period=context.next, district=district, sector=sector,
        generated_at=now, rollup_version=reads.version, districts=districts, results=results,
        sources=reader.sources(period),
        alarm_system=alarm_section(store, settings, period, district=district, sector=sector, now=now),
    )


class ReportCache(Protocol):
    def get(self, key: str) -> Any: ...
    def set(self, key: str, value: Any, timeout: int | None = None) -> Any: ...


CACHE_SECONDS = 3600
_locks: dict[str, threading.Lock] = {}
_locks_guard = threading.Lock()
# bumped when Report's fields (or the module its classes are pickled from) change, so a shared cache never
# hands a new server an old shape; 5: the classes moved to ioc.kpis.results; 6: Report.sources;
# 7: Report.alarm_system
REPORT_SCHEMA = 7


def report_cache_key(store: Store, settings: Settings, catalogue: Catalogue, period: Period,
                     district: str | None, sector: str | None, lang: str, now: datetime) -> str:
    """(period, filters, rollup version): new data bumps the version; the hour keeps targets of a running
    period in step with the clock."""
    version = int(store.redis.get(store.keys.kpi_rollup_version()) or 0)
    hour = now.strftime("%Y%m%d%H")
    return (f"kpi-report:s{REPORT_SCHEMA}:{settings.city.id}:{period.label}:{district or '*'}:{sector or '*'}:{lang}:"
            f"v{version}:{catalogue.fingerprint}:{hour}")


def cached_report(
    store: Store,
    settings: Settings,
    period: Period,
    *,
    cache: ReportCache | None,
    district: str | None = None,
    sector: str | None = None,
    lang: str = "vi",
    now: datetime | None = None,
    compute: Callable[..., Report] = compute_report,
) -> Report:
    """compute_report through a cache keyed by (period, filters, rollup version)."""
    catalogue = load_catalogue(settings)
    now = now or utcnow()
    if cache is None:
        return compute(store, settings, period, district=district, sector=sector, catalogue=catalogue,
                       now=now, lang=lang)
    key = report_cache_key(store, settings, catalogue, period, district, sector, lang, now)
    # the page asks for one report from two callbacks at once: the second waits for the first's result
    with _locks_guard:
        lock = _locks.setdefault(key, threading.Lock())
    try:
        with lock:
            try:
                found = cache.get(key)
            except redis.RedisError:
                found = None  # a cache outage costs time, not the report
            if found is not None:
                # the alarm section is measured afresh: alerts change without moving the rollup version
                return with_alarm_section(found, store, settings, now)
            report = compute(store, settings, period, district=district, sector=sector, catalogue=catalogue,
                             now=now, lang=lang)
            with contextlib.suppress(redis.RedisError):
                cache.set(key, report, timeout=CACHE_SECONDS)
            return report
    finally:
        with _locks_guard:
            _locks.pop(key, None)
