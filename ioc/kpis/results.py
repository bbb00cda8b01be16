"""What a KPI report holds: each KPI's result against its target, its areas and groups, and the statuses.

Plain values only (no configuration objects), so a Redis-backed cache can keep a report; computed by
`ioc.kpis.report.compute_report`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

from ioc.alerts.metrics import AlarmMetrics
from ioc.config import Text
from ioc.kpis.catalogue import Kpi
from ioc.kpis.forecast import Forecast
from ioc.kpis.periods import Period

# "share": an area's or group's part of a total (counts, sums, hours): ranked, not judged against the city's target
Status = Literal["met", "near", "missed", "no_data", "share"]
STATUSES: tuple[Status, ...] = ("missed", "near", "met", "no_data")
DRIVERS_SHOWN = 3


@dataclass(frozen=True, slots=True)
class KpiInfo:
    """What a report shows of a KPI's definition (plain values, so a report can be cached and pickled)."""

    id: str
    name: Text
    description: Text | None
    sector: str
    agency: str
    agency_name: Text | None
    unit: str
    aggregate: str
    better: str
    decimals: int
    additive: bool
    feeds: tuple[str, ...]

    @classmethod
    def of(cls, kpi: Kpi) -> KpiInfo:
        return cls(
            id=kpi.id, name=kpi.name, description=kpi.description, sector=kpi.sector, agency=kpi.agency,
            agency_name=kpi.agency_name, unit=kpi.display_unit, aggregate=kpi.aggregate, better=kpi.better, decimals=kpi.decimals,
            additive=kpi.additive, feeds=tuple(kpi.source.feeds) if kpi.source else (),
        )


@dataclass(frozen=True, slots=True)
class ScopeValue:
    """A KPI's value in one district or group over the period."""

    scope: str
    label: str
    value: float | None
    status: Status
    records: int = 0


@dataclass(frozen=True, slots=True)
class TrendPoint:
    start: datetime  # the hour or local day the point stands for
    value: float | None


@dataclass(slots=True)
class KpiResult:
    kpi: KpiInfo
    connected: bool
    value: float | None
    previous: float | None
    target: float
    near_band: float
    status: Status
    records: int
    trend: list[TrendPoint]
    trend_target: float
    trend_unit: Literal["hour", "day"]
    forecast: Forecast
    districts: list[ScopeValue] = field(default_factory=list)
    groups: list[ScopeValue] = field(default_factory=list)
    # True for the data KPIs, which have no district: a district filter shows the city's value
    city_wide_only: bool = False
    missing_feeds: tuple[str, ...] = ()

    @property
    def change(self) -> float | None:
        if self.value is None or self.previous is None:
            return None
        return self.value - self.previous

    @property
    def change_is_good(self) -> bool | None:
        change = self.change
        if change is None or abs(change) < 1e-9:
            return None
        return (change > 0) == (self.kpi.better == "higher")

    @property
    def drivers(self) -> list[ScopeValue]:
        """What drives a miss: the districts and groups that miss (or are nearest to missing), worst first; for
        a total (counts, sums, hours), the largest parts of it."""
        if self.status not in ("missed", "near"):
            return []
        driving = ("missed", "near", "share")
        worst = [s for s in self.districts if s.status in driving and s.value][:DRIVERS_SHOWN]
        worst += [s for s in self.groups if s.status in driving and s.value][:DRIVERS_SHOWN]
        return worst


@dataclass(slots=True)
class Report:
    period: Period
    previous_period: Period
    next_period: Period
    district: str | None
    sector: str | None
    generated_at: datetime
    rollup_version: int
    districts: list[str]
    results: list[KpiResult]
    # KPI id -> {source: days of the period it answered}: "rollups" (Redis) or "archive" (ioc.kpis.archive_reader)
    sources: dict[str, dict[str, int]] = field(default_factory=dict)
    alarm_system: AlarmMetrics | None = None  # the alarm system's own measures over the period

    def counts(self) -> dict[Status, int]:
        counted: dict[Status, int] = dict.fromkeys(STATUSES, 0)
        for result in self.results:
            counted[result.status] += 1
        return counted

    def archive_days(self) -> int:
        """The most days of the period any KPI had from the history archive (0: all from Redis rollups)."""
        return max((sources.get("archive", 0) for sources in self.sources.values()), default=0)

    def result(self, kpi_id: str) -> KpiResult:
        for result in self.results:
            if result.kpi.id == kpi_id:
                return result
        raise KeyError(kpi_id)

    def sectors(self) -> list[str]:
        return list(dict.fromkeys(r.kpi.sector for r in self.results))


def status_of(better: str, value: float | None, target: float, band: float) -> Status:
    if value is None:
        return "no_data"
    if better == "higher":
        if value >= target:
            return "met"
        return "near" if value >= target - band else "missed"
    if value <= target:
        return "met"
    return "near" if value <= target + band else "missed"


def league_table(report: Report, kpi_id: str) -> list[ScopeValue]:
    """Districts ranked best first for a KPI (the page's league table)."""
    result = report.result(kpi_id)
    ranked = list(reversed([d for d in result.districts if d.value is not None]))
    return ranked + [d for d in result.districts if d.value is None]
