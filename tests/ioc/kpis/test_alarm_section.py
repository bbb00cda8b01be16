"""The KPI report's alarm-system section on the real redis-server: the period's alarms, filters, and a cached
report that still shows alarms raised after it was cached."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from ioc.config import Settings
from ioc.kpis.alarm_section import period_window
from ioc.kpis.periods import parse_period
from ioc.kpis.report import cached_report, compute_report
from ioc.model import Alert, Severity
from ioc.store import Store
from tests.ioc.kpis.conftest import write_catalogue

NOW = datetime(2026, 11, 22, 5, 0, tzinfo=UTC)  # Sunday noon in Da Nang: week 47 is running
WEEK = parse_period("2026-W47")  # Monday 16 to Sunday 22 November, local days


def raise_at(
    store: Store,
    at: datetime,
    entity: str,
    *,
    district: str = "Liên Chiểu",
    severity: Severity = Severity.MODERATE,
    resolve_after: timedelta | None = None,
) -> str:
    alert, new = store.alerts.raise_alert(
        Alert(
            id="",
            rule_id="pm25-high",
            entity_id=entity,
            title="PM2.5",
            severity=severity,
            sector="environment",
            agency="danang-donre",
            district=district,
            raised_at=at,
            updated_at=at,
        )
    )
    assert new
    if resolve_after is not None:
        store.alerts.resolve(alert.id, actor="system", note="cleared", now=at + resolve_after)
    return alert.id


def test_the_period_runs_from_its_first_local_midnight_to_now() -> None:
    from zoneinfo import ZoneInfo

    start, end = period_window(WEEK, ZoneInfo("Asia/Ho_Chi_Minh"), NOW)
    assert (start, end) == (datetime(2026, 11, 15, 17, 0, tzinfo=UTC), NOW)
    assert period_window(parse_period("2026-11-23"), ZoneInfo("Asia/Ho_Chi_Minh"), NOW) is None


def test_the_report_measures_the_periods_alarms(store: Store, settings: Settings, tmp_path: Path) -> None:
    catalogue = write_catalogue(tmp_path, settings)
    flood_at = datetime(2026, 11, 18, 3, 0, tzinfo=UTC)
    for n in range(25):  # 25 in one 10-minute interval over 2 positions: 12.5 each, a flood
        raise_at(
            store, flood_at + timedelta(seconds=20 * n), f"station-{n}", resolve_after=timedelta(hours=1)
        )
    for k in range(3):  # one station raised three times within 40 s
        raise_at(
            store,
            flood_at + timedelta(hours=5, seconds=20 * k),
            "station-chatter",
            resolve_after=timedelta(seconds=10),
        )
    raise_at(store, datetime(2026, 11, 10, tzinfo=UTC), "station-forgotten")  # before the week, still open
    raise_at(
        store,
        datetime(2026, 11, 21, 12, tzinfo=UTC),
        "sensor-1",
        district="Hải Châu",
        severity=Severity.EXTREME,
    )
    raise_at(store, datetime(2026, 11, 14, tzinfo=UTC), "before", resolve_after=timedelta(hours=1))

    section = compute_report(store, settings, WEEK, catalogue=catalogue, now=NOW).alarm_system

    assert section is not None
    assert (section.start, section.end, section.positions) == (datetime(2026, 11, 15, 17, tzinfo=UTC), NOW, 2)
    assert section.total == 29
    assert section.intervals == -(-(NOW - section.start).total_seconds() // 600)
    assert (section.peak_rate, section.flood_intervals) == (12.5, 1)
    assert [(c.entity_id, c.most_in_span) for c in section.chattering] == [("station-chatter", 3)]
    assert [s.entity_id for s in section.stale] == ["station-forgotten"]
    assert section.priorities == {"low": 28, "high": 1}

    in_hai_chau = compute_report(store, settings, WEEK, catalogue=catalogue, now=NOW, district="Hải Châu")
    assert in_hai_chau.alarm_system is not None and in_hai_chau.alarm_system.total == 1


def test_a_cached_report_shows_alarms_raised_since(
    store: Store, settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    catalogue = write_catalogue(tmp_path, settings)
    monkeypatch.setattr("ioc.kpis.report.load_catalogue", lambda _settings: catalogue)

    class Cache(dict):
        def set(self, key: str, value: Any, timeout: int | None = None) -> None:
            self[key] = value

    cache = Cache()
    raise_at(store, NOW - timedelta(hours=2), "station-1")
    first = cached_report(store, settings, WEEK, cache=cache, now=NOW)
    raise_at(store, NOW - timedelta(hours=1), "station-2")
    later = cached_report(store, settings, WEEK, cache=cache, now=NOW)

    assert (first.alarm_system.total, later.alarm_system.total) == (1, 2)
    assert later.results == first.results  # the KPIs came from the cache
    assert next(iter(cache.values())).alarm_system.total == 1  # the cached report is left as it was
