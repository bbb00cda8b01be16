"""Rate-of-change rules over the observation streams: a rise within a window, a falling rule."""

from __future__ import annotations

from datetime import timedelta

from ioc.config import Settings
from ioc.store import Store
from tests.ioc.rules.scene import (
    GAUGE,
    T0,
    alerts_of,
    engine_with,
    feed,
    replay,
    rule,
)


def test_a_flood_sensor_rising_20_cm_in_30_minutes(fake_store: Store, settings: Settings) -> None:
    flood = feed("test-gauges")
    engine = engine_with(settings, fake_store, rule("rate_of_change", metric="water_level", rise=20,
                                                    within_minutes=30, clear_at=5), feeds=[flood])
    # five-minute readings of a rain event: slow, then a steep rise, then a plateau
    series = [8, 9, 10, 12, 15, 20, 27, 34, 34, 34, 34, 34, 34, 34, 34]
    outcomes = replay(engine, fake_store, flood, GAUGE, "water_level", series, timedelta(minutes=5))

    raised_at = [i for i, (raised, _) in enumerate(outcomes) if raised]
    cleared_at = [i for i, (_, cleared) in enumerate(outcomes) if cleared]
    # the window includes the reading exactly 30 minutes old: at index 6 it is 27 - 8 = 19, at 7 34 - 9 = 25
    assert raised_at == [7]
    # the rise leaves the 30-minute window once the plateau is 30 minutes old
    assert cleared_at == [13]
    (alert,) = alerts_of(fake_store, "test-rate-of-change")
    assert fake_store.alerts.timeline(alert.id)[0]["note"] == "water_level +25 cm / 30 min → 34 cm"


def test_a_falling_rule_ignores_rises(fake_store: Store, settings: Settings) -> None:
    pressure = feed("test-pressure")
    engine = engine_with(settings, fake_store, rule("rate_of_change", metric="pressure", fall=1.5,
                                                    within_minutes=10), feeds=[pressure])
    up = replay(engine, fake_store, pressure, GAUGE, "pressure", [2.0, 3.0, 4.0, 4.5], timedelta(minutes=2))
    down = replay(engine, fake_store, pressure, GAUGE, "pressure", [3.5, 2.5], timedelta(minutes=2),
                  start=T0 + timedelta(minutes=8))
    assert [r for r, _ in up] == [0, 0, 0, 0] and [r for r, _ in down] == [0, 1]
