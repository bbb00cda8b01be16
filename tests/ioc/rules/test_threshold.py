"""Threshold rules against recorded series: the minimum duration, hysteresis, the latest value in the band."""

from __future__ import annotations

from datetime import timedelta

from ioc.config import Settings
from ioc.model import AlertState
from ioc.store import Store
from tests.ioc.rules.scene import (
    GAUGE,
    STATION,
    T0,
    actions,
    alerts_of,
    engine_with,
    feed,
    reading,
    replay,
    rule,
)


def test_threshold_waits_for_the_minimum_duration_and_holds_in_the_hysteresis_band(
    fake_store: Store, settings: Settings
) -> None:
    flood = feed("test-gauges")
    engine = engine_with(settings, fake_store, rule("threshold", metric="water_level", above=30, clear_at=15,
                                                    for_minutes=2), feeds=[flood])
    # a one-minute splash, a dip into the band (resets the clock), three minutes above, the band, the clear
    series = [10, 35, 20, 33, 36, 38, 25, 18, 12]
    outcomes = replay(engine, fake_store, flood, GAUGE, "water_level", series, timedelta(minutes=1))

    assert [raised for raised, _ in outcomes] == [0, 0, 0, 0, 0, 1, 0, 0, 0]
    assert [cleared for _, cleared in outcomes] == [0, 0, 0, 0, 0, 0, 0, 0, 1]
    (alert,) = alerts_of(fake_store, "test-threshold")
    assert alert.state == AlertState.RESOLVED and alert.alert.occurrences == 1
    assert alert.alert.raised_at == T0 + timedelta(minutes=5)
    timeline = fake_store.alerts.timeline(alert.id)
    assert [e["action"] for e in timeline] == ["raised", "resolved"]
    assert timeline[1]["note"] == "condition cleared: water_level = 12 cm"


def test_hysteresis_keeps_one_alert_where_a_bare_limit_flaps(fake_store: Store, settings: Settings) -> None:
    station_feed = settings.feed("air-stations")
    hovering = [49, 52, 48, 53, 47, 51, 46, 52, 38]
    bare = engine_with(settings, fake_store, rule("threshold", id="bare", metric="pm25", above=50))
    held = engine_with(settings, fake_store, rule("threshold", id="held", metric="pm25", above=50, clear_at=40))
    for index, value in enumerate(hovering):
        at = T0 + index * timedelta(minutes=1)
        batch = reading(STATION, "pm25", value, at, unit="µg/m³")
        fake_store.write_batch(station_feed.name, batch, now=at)
        bare.evaluate(station_feed, batch, now=at)
        held.evaluate(station_feed, batch, now=at)

    assert len(alerts_of(fake_store, "bare")) == 4
    (only,) = alerts_of(fake_store, "held")
    assert only.state == AlertState.RESOLVED
    assert actions(fake_store, only.id) == ["raised", "resolved"]
    assert fake_store.alerts.timeline(only.id)[-1]["note"] == "condition cleared: pm25 = 38 µg/m³"


def test_an_open_alert_shows_the_latest_value_inside_the_band(fake_store: Store, settings: Settings) -> None:
    station_feed = settings.feed("air-stations")
    engine = engine_with(settings, fake_store, rule("threshold", metric="pm25", above=50, clear_at=40))
    replay(engine, fake_store, station_feed, STATION, "pm25", [60, 45], timedelta(minutes=1))

    (alert,) = alerts_of(fake_store, "test-threshold")
    assert alert.is_open and alert.alert.value == 45.0
    assert alert.alert.message == "pm25 = 45 cm < 50 cm"
