"""The report computation: values, targets, status, change, drivers, trends, data KPIs and the cache."""

from __future__ import annotations

import threading
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from ioc.config import Settings
from ioc.kpis.catalogue import Catalogue
from ioc.kpis.periods import parse_period
from ioc.kpis.report import cached_report, compute_report
from ioc.kpis.results import Report, league_table, status_of
from ioc.kpis.rollups import KpiRollups
from ioc.model import Batch
from ioc.store import Store
from tests.ioc.kpis.conftest import pm25, station

# the report is read at noon on Sunday 22 November 2026, city time
NOW = datetime(2026, 11, 22, 5, 0, tzinfo=UTC)


def local(day: int, hour: int, minute: int = 30) -> datetime:
    """A moment on the city's clock in November 2026."""
    return datetime(2026, 11, day, hour, minute, tzinfo=UTC) - timedelta(hours=7)


def readings(rollups: KpiRollups, settings: Settings, day: int, hour: int, values: dict[int, float],
             polls: int = 1) -> None:
    districts = {1: "Hải Châu", 2: "Liên Chiểu", 3: "Sơn Trà"}
    batch = Batch(entities=[station(n, districts[n]) for n in values],
                  observations=[pm25(n, v, local(day, hour)) for n, v in values.items()])
    rollups.ingest(settings.feed("air-stations"), batch, now=local(day, hour), polls=polls)


@pytest.mark.parametrize(
    ("better", "value", "expected"),
    [("lower", 25, "met"), ("lower", 27.5, "near"), ("lower", 27.6, "missed"), ("higher", 22.5, "near"),
     ("higher", 22.4, "missed"), ("higher", 30, "met"), ("lower", None, "no_data")],
)
def test_status(better: str, value: float | None, expected: str) -> None:
    assert status_of(better, value, 25, 2.5) == expected


def test_a_day_against_the_day_before(rollups: KpiRollups, fake_store: Store, settings: Settings,
                                      catalogue: Catalogue) -> None:
    readings(rollups, settings, 19, 8, {1: 24, 2: 28})  # the 19th: mean 26
    readings(rollups, settings, 20, 8, {1: 20, 2: 40})
    readings(rollups, settings, 20, 17, {1: 20, 2: 40})  # the 20th: mean 30, Hải Châu 20, Liên Chiểu 40

    report = compute_report(fake_store, settings, parse_period("2026-11-20"), catalogue=catalogue, now=NOW)

    result = report.result("pm25-mean")
    assert (result.value, result.previous, result.target) == (30, 26, 25)
    assert result.status == "missed" and result.change == 4 and result.change_is_good is False
    assert [d.label for d in result.drivers] == ["Liên Chiểu"]
    assert [(d.label, d.value, d.status) for d in result.districts[:2]] == [
        ("Liên Chiểu", 40, "missed"), ("Hải Châu", 20, "met")]
    assert [p.value for p in result.trend][7:10] == [None, 30, None]  # hour by hour, gaps stay gaps
    assert len(result.trend) == 24 and result.trend_unit == "hour"
    assert [d.label for d in league_table(report, "pm25-mean")][:2] == ["Hải Châu", "Liên Chiểu"]


def test_a_district_report_reads_that_district(rollups: KpiRollups, fake_store: Store, settings: Settings,
                                               catalogue: Catalogue) -> None:
    readings(rollups, settings, 20, 8, {1: 20, 2: 40})

    report = compute_report(fake_store, settings, parse_period("2026-11-20"), district="Hải Châu",
                            catalogue=catalogue, now=NOW)

    assert report.result("pm25-mean").value == 20 and report.result("pm25-mean").status == "met"
    assert report.result("integration-rate").city_wide_only
    with pytest.raises(ValueError, match="not an area"):
        compute_report(fake_store, settings, parse_period("2026-11-20"), district="Hội An", catalogue=catalogue)


def test_additive_targets_scale_with_the_days_the_feed_delivered(
    rollups: KpiRollups, fake_store: Store, settings: Settings, catalogue: Catalogue
) -> None:
    readings(rollups, settings, 19, 8, {1: 70, 2: 60})  # an hour above 50
    readings(rollups, settings, 20, 8, {1: 70, 2: 60})
    readings(rollups, settings, 20, 9, {1: 70, 2: 40})  # and another

    report = compute_report(fake_store, settings, parse_period("2026-W47"), catalogue=catalogue, now=NOW)

    hours = report.result("pm25-hours")
    assert hours.value == 3
    assert hours.target == 2 * 2  # two days with data in the week, two hours a day
    assert hours.status == "met"
    # the day-by-day trend stops before today, which is still running
    assert [p.start.date() for p in hours.trend] == [date(2026, 11, d) for d in range(16, 22)]


def test_a_kpi_without_its_feed_has_no_data(fake_store: Store, settings: Settings, catalogue: Catalogue) -> None:
    report = compute_report(fake_store, settings, parse_period("2026-11"), catalogue=catalogue, now=NOW)

    result = report.result("not-yet-connected")
    assert (result.status, result.connected, result.missing_feeds) == ("no_data", False, ("a-feed-nobody-configured",))
    assert report.counts()["no_data"] == len(report.results)  # nothing has been polled either


def test_data_kpis_from_polls(fake_store: Store, settings: Settings, catalogue: Catalogue) -> None:
    two = settings.model_copy(update={"feeds": [settings.feed("air-stations"), settings.feed("citizen-requests")]})
    rollups = KpiRollups(fake_store, two, catalogue)
    air, citizens = two.feed("air-stations"), two.feed("citizen-requests")
    for hour in range(24):
        rollups.record_polls(air, local(20, hour), round(3600 / air.interval))
        if hour < 12:  # the hotline's feed was down in the afternoon and evening
            rollups.record_polls(citizens, local(20, hour), round(3600 / citizens.interval))

    report = compute_report(fake_store, two, parse_period("2026-11-20"), catalogue=catalogue, now=NOW)

    integration, delivery = report.result("integration-rate"), report.result("feed-delivery")
    assert integration.value == pytest.approx(100 * (24 + 12) / (2 * 24))
    # air stations poll every 10 s (360 an hour), the hotline every 15 s (240 an hour)
    assert delivery.value == pytest.approx(100 * (360 * 24 + 240 * 12) / (360 * 24 + 240 * 24))
    assert [(g.label, g.value) for g in delivery.groups] == [("Tổng đài 1022", 50), (
        "Sở Tài nguyên và Môi trường", 100)]
    assert integration.status == "missed" and [p.value for p in integration.trend][11:13] == [100, 50]


def test_the_cache_serves_a_report_until_the_data_changes(
    rollups: KpiRollups, fake_store: Store, settings: Settings, catalogue: Catalogue,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr("ioc.kpis.report.load_catalogue", lambda _settings: catalogue)
    readings(rollups, settings, 20, 8, {1: 20})
    computed: list[Report] = []

    def compute(*args: Any, **kwargs: Any) -> Report:
        computed.append(compute_report(*args, **kwargs))
        return computed[-1]

    class Cache(dict):
        def set(self, key: str, value: Any, timeout: int | None = None) -> None:
            self[key] = value

    cache = Cache()
    period = parse_period("2026-11-20")
    first = cached_report(fake_store, settings, period, cache=cache, now=NOW, compute=compute)
    again = cached_report(fake_store, settings, period, cache=cache, now=NOW, compute=compute)
    other = cached_report(fake_store, settings, period, cache=cache, now=NOW, compute=compute, district="Hải Châu")
    readings(rollups, settings, 20, 9, {1: 40})
    fresh = cached_report(fake_store, settings, period, cache=cache, now=NOW, compute=compute)

    assert again is first and len(computed) == 3
    assert other is not first
    assert (first.result("pm25-mean").value, fresh.result("pm25-mean").value) == (20, 30)


def test_two_callbacks_asking_at_once_compute_the_report_once(
    rollups: KpiRollups, fake_store: Store, settings: Settings, catalogue: Catalogue,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr("ioc.kpis.report.load_catalogue", lambda _settings: catalogue)
    readings(rollups, settings, 20, 8, {1: 20})
    started, release = threading.Event(), threading.Event()
    calls: list[int] = []

    def slow(*args: Any, **kwargs: Any) -> Report:
        calls.append(1)
        started.set()
        release.wait(10)
        return compute_report(*args, **kwargs)

    class Cache(dict):
        def set(self, key: str, value: Any, timeout: int | None = None) -> None:
            self[key] = value

    cache = Cache()
    period = parse_period("2026-11-20")
    results: list[Report] = []
    ask = lambda: results.append(cached_report(fake_store, settings, period, cache=cache, now=NOW, compute=slow))  # noqa: E731
    first = threading.Thread(target=ask)
    first.start()
    started.wait(10)
    second = threading.Thread(target=ask)
    second.start()
    release.set()
    first.join(10)
    second.join(10)

    assert len(calls) == 1 and len(results) == 2 and results[0] is results[1]


def test_a_total_is_driven_by_its_largest_parts(rollups: KpiRollups, fake_store: Store, settings: Settings,
                                                catalogue: Catalogue) -> None:
    for hour in (7, 8, 9, 10):
        readings(rollups, settings, 20, hour, {1: 30, 2: 80, 3: 90})  # city mean 66.7; Hải Châu clean

    result = compute_report(fake_store, settings, parse_period("2026-11-20"), catalogue=catalogue,
                            now=NOW).result("pm25-hours")

    assert (result.value, result.target, result.status) == (4, 2, "missed")
    # an area's hours are its part of the city's, not judged against the city's target
    parts = {d.label: (d.value, d.status) for d in result.districts if d.value is not None}
    assert parts == {"Liên Chiểu": (4, "share"), "Sơn Trà": (4, "share"), "Hải Châu": (0, "share")}
    assert {d.label for d in result.drivers} == {"Liên Chiểu", "Sơn Trà"}
