"""What out of service and maintenance do to the rules: no alarm for what they cover (breaches set aside, no
pending clock started), alarms again from the readings after; and the state kind (a device's named state)."""

from __future__ import annotations

from datetime import timedelta

from ioc.alerts.service import Service
from ioc.config import Settings
from ioc.model import Batch, Entity
from ioc.store import Store
from tests.ioc.rules.scene import GAUGE, T0, actions, alerts_of, engine_with, feed, replay, rule

STEP = timedelta(minutes=1)


def test_an_entity_out_of_service_raises_nothing_until_it_is_back(store: Store, settings: Settings) -> None:
    gauges = feed("flood-sensors")
    engine = engine_with(settings, store, rule("threshold", metric="water_level", above=30), feeds=[gauges])
    service = Service(store.redis, store.keys, engine.settings)
    service.take_out("entity", GAUGE, actor="lan", reason="sensor cleaned", now=T0)

    replay(engine, store, gauges, GAUGE, "water_level", [40, 45, 50], STEP)

    assert alerts_of(store, "test-threshold") == []
    assert engine.suppressed == 3
    service.put_back("entity", GAUGE, actor="lan", now=T0 + 3 * STEP)
    replay(engine, store, gauges, GAUGE, "water_level", [50], STEP, start=T0 + 3 * STEP)
    raised = alerts_of(store, "test-threshold")
    assert len(raised) == 1 and actions(store, raised[0].id) == ["raised"]


def test_no_pending_clock_runs_while_out_of_service(store: Store, settings: Settings) -> None:
    gauges = feed("flood-sensors")
    engine = engine_with(settings, store, rule("threshold", metric="water_level", above=30, for_minutes=5),
                         feeds=[gauges])
    service = Service(store.redis, store.keys, engine.settings)
    service.take_out("feed", "flood-sensors", actor="lan", reason="rewiring", until=T0 + 10 * STEP, now=T0)

    replay(engine, store, gauges, GAUGE, "water_level", [40] * 10, STEP)  # ten minutes past the limit, silenced
    # back in service by itself at T0 + 10 min: the 5 minutes count from its first reading after
    replay(engine, store, gauges, GAUGE, "water_level", [40] * 5, STEP, start=T0 + 10 * STEP)
    assert alerts_of(store, "test-threshold") == []
    replay(engine, store, gauges, GAUGE, "water_level", [40], STEP, start=T0 + 15 * STEP)
    assert len(alerts_of(store, "test-threshold")) == 1


def test_a_maintenance_window_over_an_area_silences_that_area_only(store: Store, settings: Settings) -> None:
    gauges = feed("flood-sensors")
    engine = engine_with(settings, store, rule("threshold", metric="water_level", above=30), feeds=[gauges])
    Service(store.redis, store.keys, engine.settings).declare_window(
        areas=["Hải Châu"], start=T0, end=T0 + timedelta(hours=1), reason="drain works", actor="minh", now=T0)

    replay(engine, store, gauges, GAUGE, "water_level", [40, 40], STEP)  # the scene's gauge is in Hải Châu
    assert alerts_of(store, "test-threshold") == []

    elsewhere = "urn:ioc:danang:flood-sensors:FL-01"
    batch = Batch(entities=[Entity(id=elsewhere, type="FloodSensor", agency="danang-drainage",
                                   sector="emergency", name="FL-01", location=(108.25, 16.01), district="Ngũ Hành Sơn",
                                   attributes={"water_level": 40.0}, observed_at=T0)])
    store.write_batch(gauges.name, batch, now=T0)
    engine.evaluate(gauges, batch, now=T0)
    assert [r.alert.entity_id for r in alerts_of(store, "test-threshold")] == [elsewhere]


def test_a_state_rule_raises_on_a_named_state_and_clears_on_another(store: Store, settings: Settings) -> None:
    cameras = feed("traffic-cameras", reader="json", sector="safety")
    engine = engine_with(settings, store, rule("state", metric="status", values=["offline"]), feeds=[cameras])
    camera = "urn:ioc:danang:traffic-cameras:CAM-001"

    def report(status: str, at: int) -> None:
        moment = T0 + at * STEP
        batch = Batch(entities=[Entity(id=camera, type="TrafficCamera", agency="danang-ioc", sector="safety",
                                       name="Camera Lê Duẩn", location=(108.21, 16.07), district="Hải Châu",
                                       attributes={"status": status}, observed_at=moment)])
        store.write_batch(cameras.name, batch, now=moment)
        engine.evaluate(cameras, batch, now=moment)

    report("online", 0)
    assert alerts_of(store, "test-state") == []
    report("offline", 1)
    raised = alerts_of(store, "test-state")
    assert len(raised) == 1 and raised[0].alert.message == "status = offline" and raised[0].is_open
    report("online", 2)
    assert not alerts_of(store, "test-state")[0].is_open
