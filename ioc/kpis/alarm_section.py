"""The KPI report's alarm-system section: the alarm system's own measures (ioc.alerts.metrics) over the report's
period, from its first local midnight to the end of its last day or now, of the report's district and sector."""

from __future__ import annotations

import dataclasses
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from ioc.alerts.metrics import AlarmMetrics, alarm_metrics
from ioc.config import Settings
from ioc.kpis.periods import Period, day_start
from ioc.kpis.results import Report
from ioc.model import utcnow
from ioc.store import Store


def period_window(period: Period, zone: ZoneInfo, now: datetime) -> tuple[datetime, datetime] | None:
    """[start, end) of the period in time, cut at now; None for a period that has not begun."""
    start = day_start(period.start, zone)
    end = min(day_start(period.end + timedelta(days=1), zone), now)
    return (start, end) if end > start else None


def alarm_section(
    store: Store,
    settings: Settings,
    period: Period,
    *,
    district: str | None = None,
    sector: str | None = None,
    now: datetime | None = None,
) -> AlarmMetrics | None:
    window = period_window(period, ZoneInfo(settings.city.timezone), now or utcnow())
    if window is None:
        return None
    return alarm_metrics(
        store.redis,
        store.keys,
        settings.alarm_system,
        start=window[0],
        end=window[1],
        district=district,
        sector=sector,
    )


def with_alarm_section(
    report: Report, store: Store, settings: Settings, now: datetime | None = None
) -> Report:
    """The report (a cached one, left as it is) with its alarm section measured now."""
    section = alarm_section(
        store, settings, report.period, district=report.district, sector=report.sector, now=now
    )
    return report if section == report.alarm_system else dataclasses.replace(report, alarm_system=section)
