"""Staleness rules on the timer: a silent feed, a feed that never answered, silent sensors."""

from __future__ import annotations

from datetime import timedelta

from ioc.config import Settings
from ioc.model import Batch
from ioc.store import Store
from tests.ioc.rules.scene import (
    GAUGE,
    T0,
    alerts_of,
    engine_with,
    feed,
    reading,
    rule,
)


def test_a_silent_feed_is_caught_on_the_timer_and_cleared_by_its_next_batch(
    fake_store: Store, settings: Settings
) -> None:
    quiet = feed("test-gauges", interval=60)  # stale_factor 3: silent after 180 s
    engine = engine_with(settings, fake_store, rule("staleness", feed="test-gauges"), feeds=[quiet])
    fake_store.record_success(quiet.name, records=5, latency_ms=20, interval=60, stale_factor=3, now=T0)

    assert engine.tick(T0 + timedelta(seconds=170)).raised == 0
    assert engine.tick(T0 + timedelta(seconds=190)).raised == 1
    assert engine.tick(T0 + timedelta(seconds=250)).raised == 0  # still the same open alert
    (alert,) = alerts_of(fake_store, "test-staleness")
    assert alert.alert.entity_id == "feed:test-gauges" and alert.is_open

    back = T0 + timedelta(seconds=260)
    batch = reading(GAUGE, "water_level", 5, back)
    fake_store.write_batch(quiet.name, batch, now=back)
    fake_store.record_success(quiet.name, records=1, latency_ms=20, interval=60, stale_factor=3, now=back)
    assert engine.evaluate(quiet, batch, now=back) == (0, 1)


def test_a_feed_that_never_answered_gets_time_to_answer_once(fake_store: Store, settings: Settings) -> None:
    never = feed("test-gauges", interval=60)
    engine = engine_with(settings, fake_store, rule("staleness", feed="test-gauges", factor=2), feeds=[never])
    assert engine.tick(T0 + timedelta(seconds=100)).raised == 0
    assert engine.tick(T0 + timedelta(seconds=130)).raised == 1


def test_silent_sensors_are_named_but_not_when_the_whole_feed_is_down(
    fake_store: Store, settings: Settings
) -> None:
    sensors = feed("test-gauges", interval=60)
    engine = engine_with(settings, fake_store, rule("staleness", target="sensor", feed="test-gauges",
                                                    expected_interval=300, factor=2), feeds=[sensors])
    now = T0 + timedelta(hours=1)
    fresh = reading(GAUGE, "water_level", 5, now - timedelta(minutes=2))
    silent = reading("urn:ioc:danang:flood-sensors:FL-02", "water_level", 4, now - timedelta(minutes=25),
                     name="FL-02")
    both = Batch(entities=fresh.entities + silent.entities)
    fake_store.write_batch(sensors.name, both, now=now)
    fake_store.record_success(sensors.name, records=2, latency_ms=20, interval=60, stale_factor=3, now=now)

    assert engine.tick(now + timedelta(seconds=5)).raised == 1
    (alert,) = alerts_of(fake_store, "test-staleness")
    assert alert.alert.entity_id == "urn:ioc:danang:flood-sensors:FL-02"

    # an hour on with no poll at all: the feed is down, so no alert per sensor is added
    assert engine.tick(now + timedelta(hours=1)).raised == 0
