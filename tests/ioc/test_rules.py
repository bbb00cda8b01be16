"""The rule engine against recorded series: threshold with duration and hysteresis, flapping and cool-down,
rate of change, staleness on a timer, geofence, CAP relay and cancel, escalation, and rule configuration."""

from __future__ import annotations

import shutil
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml

from data_adapters.base import FeedContext, get_reader
from ioc.config import DEFAULT_CONFIG_DIR, ConfigError, Feed, Settings, Text, load_settings
from ioc.model import AlertState, Batch, Entity, Event, Observation, Severity
from ioc.rules import RuleEngine
from ioc.runner import feed_context
from ioc.store import Store
from tests.conftest import FIXTURES

T0 = datetime(2026, 11, 27, 1, 0, tzinfo=UTC)
STATION = "urn:ioc:danang:air-stations:hk"
GAUGE = "urn:ioc:danang:flood-sensors:FL-07"
# inside the demo's Hòa Xuân flood-prone zone, and a point far from every zone (Sơn Trà peninsula)
IN_ZONE = (108.222, 16.010)
OUT_OF_ZONE = (108.27, 16.12)


def rule(kind: str, **fields: Any) -> dict[str, Any]:
    base = {"id": f"test-{kind.replace('_', '-')}", "kind": kind, "title": {"vi": "Thử", "en": "Test"},
            "sector": "emergency", "agency": "danang-civil-defence"}
    return {**base, **fields}


def engine_with(settings: Settings, store: Store, *rules: dict[str, Any], feeds: Sequence[Feed] = (),
                started: datetime = T0) -> RuleEngine:
    """An engine judging only the given rules (validated as the configuration file would be)."""
    from ioc.config import RuleFile

    parsed = RuleFile.model_validate({"rules": list(rules), "procedures": {
        "drill": {"title": {"vi": "Diễn tập", "en": "Drill"}, "steps": [{"vi": "Bước 1", "en": "Step 1"}]}}})
    changed = settings.model_copy(update={"rules": parsed.rules, "procedures": parsed.procedures,
                                          "feeds": [*settings.feeds, *feeds]})
    return RuleEngine(changed, store, started=started)


def feed(name: str, reader: str = "mqtt-json", interval: float = 60, sector: str = "emergency") -> Feed:
    return Feed(name=name, agency="danang-drainage", agency_name=Text(vi=name, en=name), sector=sector,
                reader=reader, url="http://127.0.0.1:9/unused", interval=interval)


def reading(entity_id: str, metric: str, value: float, at: datetime, *, unit: str = "cm",
            location: tuple[float, float] = (108.2119, 16.0412), name: str = "FL-07") -> Batch:
    entity = Entity(id=entity_id, type="FloodSensor", agency="danang-drainage", sector="emergency", name=name,
                    location=location, district="Hải Châu", attributes={metric: value}, observed_at=at)
    return Batch(entities=[entity], observations=[Observation(entity_id, metric, value, unit, at)])


def replay(engine: RuleEngine, store: Store, source: Feed, entity_id: str, metric: str,
           series: Sequence[float], step: timedelta, *, start: datetime = T0) -> list[tuple[int, int]]:
    """Feed a recorded series one reading per step, as the runner would: store, then evaluate."""
    outcomes = []
    for index, value in enumerate(series):
        at = start + index * step
        batch = reading(entity_id, metric, value, at)
        store.write_batch(source.name, batch, now=at)
        outcomes.append(engine.evaluate(source, batch, now=at))
    return outcomes


def alerts_of(store: Store, rule_id: str) -> list[Any]:
    return [r for r in store.alerts.records(include_resolved=True) if r.alert.rule_id == rule_id]


def actions(store: Store, alert_id: str) -> list[str]:
    return [entry["action"] for entry in store.alerts.timeline(alert_id)]


# --- threshold -----------------------------------------------------------------------------------------


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


def test_flapping_alerts_are_held_open_for_an_operator(fake_store: Store, settings: Settings) -> None:
    flood = feed("test-gauges")
    engine = engine_with(settings, fake_store, rule("threshold", metric="water_level", above=30,
                                                    flap_cycles=3, flap_window_minutes=60), feeds=[flood])
    replay(engine, fake_store, flood, GAUGE, "water_level", [40, 10, 40, 10, 40, 10, 40, 10],
           timedelta(minutes=2))

    records = alerts_of(fake_store, "test-threshold")
    assert len(records) == 3  # the third raise is held open: no fourth alert
    held = next(r for r in records if r.is_open)
    assert held.flapping and "flapping" in fake_store.alerts.timeline(held.id)[0]["note"]
    assert actions(fake_store, held.id) == ["raised", "condition_cleared", "condition_cleared"]
    assert held.alert.occurrences == 2  # the re-breach while held counts on the same alert
    assert sum(r.state == AlertState.RESOLVED for r in records) == 2


def test_no_new_alert_within_the_cooldown_after_a_resolve(fake_store: Store, settings: Settings) -> None:
    flood = feed("test-gauges")
    engine = engine_with(settings, fake_store, rule("threshold", metric="water_level", above=30,
                                                    cooldown_minutes=10), feeds=[flood])
    outcomes = replay(engine, fake_store, flood, GAUGE, "water_level", [40, 10, 40, 40, 40, 40, 40],
                      timedelta(minutes=3))

    # cleared at minute 3, breached again from minute 6; the cool-down ends at minute 13: raised at 15
    assert [raised for raised, _ in outcomes] == [1, 0, 0, 0, 0, 1, 0]
    assert len(alerts_of(fake_store, "test-threshold")) == 2


def test_an_operator_resolving_a_persisting_condition_sees_it_again_after_the_cooldown(
    fake_store: Store, settings: Settings
) -> None:
    flood = feed("test-gauges")
    engine = engine_with(settings, fake_store, rule("threshold", metric="water_level", above=30,
                                                    cooldown_minutes=5), feeds=[flood])
    replay(engine, fake_store, flood, GAUGE, "water_level", [40], timedelta(minutes=1))
    (first,) = alerts_of(fake_store, "test-threshold")
    fake_store.alerts.resolve(first.id, actor="operator", note="crew on site", now=T0 + timedelta(minutes=1))

    later = replay(engine, fake_store, flood, GAUGE, "water_level", [41, 42, 43], timedelta(minutes=3),
                   start=T0 + timedelta(minutes=2))
    assert [raised for raised, _ in later] == [0, 0, 1]


def test_several_runners_share_the_pending_condition(fake_store: Store, settings: Settings) -> None:
    flood = feed("test-gauges")
    spec = rule("threshold", metric="water_level", above=30, for_minutes=2)
    first, second = engine_with(settings, fake_store, spec, feeds=[flood]), engine_with(
        settings, fake_store, spec, feeds=[flood])
    replay(first, fake_store, flood, GAUGE, "water_level", [35, 36], timedelta(minutes=1))
    # a restarted or second runner picks up the breach that began two minutes ago
    outcome = replay(second, fake_store, flood, GAUGE, "water_level", [37], timedelta(minutes=1),
                     start=T0 + timedelta(minutes=2))
    assert outcome == [(1, 0)]


# --- rate of change ------------------------------------------------------------------------------------


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


# --- staleness -----------------------------------------------------------------------------------------


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


# --- geofence ------------------------------------------------------------------------------------------


def flood_report(number: int, location: tuple[float, float], status: str = "open", code: str = "NGAP") -> Entity:
    return Entity(id=f"urn:ioc:danang:citizen-requests:{number}", type="CitizenRequest", agency="danang-1022",
                  sector="citizen", name="Ngập úng đường phố", location=location,
                  attributes={"service_code": code, "status": status})


def test_flooding_reports_inside_a_flood_prone_zone(fake_store: Store, settings: Settings) -> None:
    citizens = settings.feed("citizen-requests")
    engine = engine_with(settings, fake_store, rule(
        "geofence", zones="assets/zones/danang-flood-prone.geojson", targets=["entities"],
        where={"service_code": "NGAP", "status": "open"}, group_by="zone"))
    first = Batch(entities=[flood_report(1, IN_ZONE), flood_report(2, OUT_OF_ZONE),
                            flood_report(3, IN_ZONE, code="DEN-CS")])
    assert engine.evaluate(citizens, first, now=T0) == (1, 0)
    (alert,) = alerts_of(fake_store, "test-geofence")
    assert alert.alert.entity_id == "citizen-requests:zone:hoa-xuan"
    assert alert.alert.message.startswith("1 × Hòa Xuân") and alert.alert.district == "Cẩm Lệ"

    more = Batch(entities=[flood_report(1, IN_ZONE), flood_report(4, IN_ZONE)])
    assert engine.evaluate(citizens, more, now=T0 + timedelta(minutes=1)) == (0, 0)
    assert fake_store.alerts.get(alert.id).alert.message.startswith("2 × ")

    closed = Batch(entities=[flood_report(1, IN_ZONE, status="closed"), flood_report(4, IN_ZONE, "closed")])
    assert engine.evaluate(citizens, closed, now=T0 + timedelta(minutes=2)) == (0, 1)


def test_an_event_inside_a_zone_raises_per_event(fake_store: Store, settings: Settings) -> None:
    incidents = feed("test-incidents", reader="geojson", sector="transport")
    engine = engine_with(settings, fake_store, rule(
        "geofence", zones="assets/zones/danang-flood-prone.geojson", targets=["events"]), feeds=[incidents])
    inside = Event(id="urn:ioc:danang:traffic-incidents:NGAP-1", type="flooding", agency="csgt",
                   sector="transport", headline="Ngập sâu đường Nguyễn Hữu Thọ", location=(108.215, 16.035))
    outside = Event(id="urn:ioc:danang:traffic-incidents:TNGT-2", type="accident", agency="csgt",
                    sector="transport", headline="Va chạm", location=OUT_OF_ZONE)
    assert engine.evaluate(incidents, Batch(events=[inside, outside]), now=T0) == (1, 0)
    (alert,) = alerts_of(fake_store, "test-geofence")
    assert alert.alert.entity_id == inside.id and "Nguyễn Hữu Thọ" in alert.alert.message


# --- relayed source events -------------------------------------------------------------------------------


def cap_feed() -> Feed:
    return Feed(name="test-warnings", agency="danang-pctt", agency_name=Text(vi="PCTT", en="Civil defence"),
                sector="emergency", reader="cap", url="http://127.0.0.1:9/cap", interval=60)


def cap_batch(source: Feed, name: str) -> Batch:
    return get_reader("cap").parse((FIXTURES / "cap" / name).read_bytes(), feed_context(source, "danang"))


def test_a_cap_warning_is_relayed_with_its_severity_and_a_cancel_resolves_it(
    fake_store: Store, settings: Settings
) -> None:
    source = cap_feed()
    engine = engine_with(settings, fake_store, rule("relay", readers=["cap"], procedure="drill"), feeds=[source])
    before_landfall = datetime(2024, 9, 18, 3, 0, tzinfo=UTC)
    warning = cap_batch(source, "danang-typhoon-warning.xml")

    assert engine.evaluate(source, warning, now=before_landfall) == (1, 0)
    # the feed keeps publishing the same warning: one alert, one occurrence
    assert engine.evaluate(source, warning, now=before_landfall + timedelta(minutes=1)) == (0, 0)
    (alert,) = alerts_of(fake_store, "test-relay")
    assert alert.alert.severity == Severity.EXTREME and alert.alert.occurrences == 1
    assert alert.alert.title.startswith("Cảnh báo bão số 4")
    assert alert.kind == "relay" and alert.procedure == "drill"
    assert alert.expires == datetime(2024, 9, 20, 5, 0, tzinfo=UTC)

    cancel = cap_batch(source, "danang-typhoon-cancel.xml")
    assert engine.evaluate(source, cancel, now=before_landfall + timedelta(hours=2)) == (0, 1)
    resolved = fake_store.alerts.get(alert.id)
    assert resolved.state == AlertState.RESOLVED and resolved.resolved_by == "system"
    assert fake_store.alerts.timeline(alert.id)[-1]["note"].startswith("cancelled by the source")


def test_a_relayed_warning_resolves_when_it_expires(fake_store: Store, settings: Settings) -> None:
    source = cap_feed()
    engine = engine_with(settings, fake_store, rule("relay", readers=["cap"]), feeds=[source])
    engine.evaluate(source, cap_batch(source, "danang-typhoon-warning.xml"), now=datetime(2024, 9, 18, tzinfo=UTC))

    assert engine.tick(datetime(2024, 9, 20, 4, 59, tzinfo=UTC)).cleared == 0
    assert engine.tick(datetime(2024, 9, 20, 5, 1, tzinfo=UTC)).cleared == 1


def test_a_relayed_warning_an_operator_resolved_stays_resolved_until_the_source_updates_it(
    fake_store: Store, settings: Settings
) -> None:
    source = cap_feed()
    engine = engine_with(settings, fake_store, rule("relay", readers=["cap"]), feeds=[source])
    day = datetime(2024, 9, 18, tzinfo=UTC)
    warning = cap_batch(source, "danang-typhoon-warning.xml")
    engine.evaluate(source, warning, now=day)
    (first,) = alerts_of(fake_store, "test-relay")
    fake_store.alerts.resolve(first.id, actor="lan", note="đã triển khai phương án", now=day + timedelta(minutes=5))

    assert engine.evaluate(source, warning, now=day + timedelta(minutes=6)) == (0, 0)
    warning.events[0].severity = Severity.SEVERE  # the source issues an update
    warning.events[0].headline = "Bão số 4 suy yếu"
    assert engine.evaluate(source, warning, now=day + timedelta(minutes=7)) == (1, 0)


def test_a_warning_the_feed_no_longer_lists_is_over(fake_store: Store, settings: Settings) -> None:
    source = cap_feed()
    engine = engine_with(settings, fake_store, rule("relay", readers=["cap"]), feeds=[source])
    day = datetime(2024, 9, 18, tzinfo=UTC)
    engine.evaluate(source, cap_batch(source, "danang-typhoon-warning.xml"), now=day)
    assert engine.evaluate(source, Batch(), now=day + timedelta(hours=1)) == (0, 1)
    (alert,) = alerts_of(fake_store, "test-relay")
    assert fake_store.alerts.timeline(alert.id)[-1]["note"] == "no longer published by the source"


def test_exercises_minor_events_and_other_readers_are_not_relayed(fake_store: Store, settings: Settings) -> None:
    source = cap_feed()
    engine = engine_with(settings, fake_store, rule("relay", readers=["cap"], min_severity="moderate"),
                         feeds=[source])
    context = FeedContext(name=source.name, agency="danang-pctt", sector="emergency")
    drill = Event(id=context.urn("drill"), type="Typhoon", agency="danang-pctt", sector="emergency",
                  headline="Diễn tập", severity=Severity.EXTREME, status="exercise")
    minor = Event(id=context.urn("minor"), type="Rain", agency="danang-pctt", sector="emergency",
                  headline="Mưa nhỏ", severity=Severity.MINOR)
    assert engine.evaluate(source, Batch(events=[drill, minor]), now=T0) == (0, 0)
    other = feed("incidents", reader="geojson")
    real = Event(id="urn:ioc:danang:incidents:1", type="Fire", agency="114", sector="emergency",
                 headline="Cháy", severity=Severity.SEVERE)
    assert engine.evaluate(other, Batch(events=[real]), now=T0) == (0, 0)


def test_an_update_that_raises_the_severity_counts_and_raises_the_alert(
    fake_store: Store, settings: Settings
) -> None:
    source = cap_feed()
    engine = engine_with(settings, fake_store, rule("relay", readers=["cap"]), feeds=[source])
    event = Event(id="urn:ioc:danang:test-warnings:W1", type="Flood", agency="danang-pctt",
                  sector="emergency", headline="Lũ trên sông Cẩm Lệ", severity=Severity.MODERATE)
    engine.evaluate(source, Batch(events=[event]), now=T0)
    event.severity = Severity.SEVERE
    engine.evaluate(source, Batch(events=[event]), now=T0 + timedelta(minutes=5))

    (alert,) = alerts_of(fake_store, "test-relay")
    assert alert.alert.severity == Severity.SEVERE and alert.alert.occurrences == 2


# --- escalation ----------------------------------------------------------------------------------------


def test_unacknowledged_alerts_escalate_one_step_per_period(fake_store: Store, settings: Settings) -> None:
    flood = feed("test-gauges")
    engine = engine_with(settings, fake_store, rule("threshold", metric="water_level", above=30,
                                                    severity="moderate", escalate_after_minutes=5),
                         feeds=[flood])
    replay(engine, fake_store, flood, GAUGE, "water_level", [40], timedelta(minutes=1))
    (alert,) = alerts_of(fake_store, "test-threshold")
    raised = alert.alert.raised_at

    assert engine.tick(raised + timedelta(minutes=4)).escalated == 0
    assert engine.tick(raised + timedelta(minutes=5)).escalated == 1
    assert engine.tick(raised + timedelta(minutes=6)).escalated == 0
    assert engine.tick(raised + timedelta(minutes=10)).escalated == 1
    record = fake_store.alerts.get(alert.id)
    assert record.alert.severity == Severity.EXTREME and record.escalations == 2
    entries = [e for e in fake_store.alerts.timeline(alert.id) if e["action"] == "escalated"]
    assert [(e["severity_from"], e["severity_to"]) for e in entries] == [("moderate", "severe"),
                                                                          ("severe", "extreme")]

    fake_store.alerts.acknowledge(alert.id, actor="operator", now=raised + timedelta(minutes=11))
    assert engine.tick(raised + timedelta(minutes=30)).escalated == 0


# --- configuration -------------------------------------------------------------------------------------


@pytest.fixture
def city_dir(tmp_path: Path) -> Path:
    target = tmp_path / "city"
    shutil.copytree(DEFAULT_CONFIG_DIR, target)
    return target


def _edit_rules(city: Path, change: Any) -> None:
    path = city / "rules.yaml"
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    change(data)
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")


def test_the_demo_rules_cover_every_kind(settings: Settings) -> None:
    assert {r.kind for r in settings.rules} == {"threshold", "rate_of_change", "staleness", "geofence", "relay"}
    assert all(r.procedure is None or r.procedure in settings.procedures for r in settings.rules)


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (lambda d: d["rules"][0].update(clear_at=60), r"rules\[0\] \(pm25-high\): threshold: .*clear_at \(60\)"),
        (lambda d: d["rules"][0].update(kind="psychic"), r"rules\[0\] \(pm25-high\): .*'psychic'"),
        (lambda d: d["rules"][0].update(procedure="nope"), r"rules\[0\] \(pm25-high\): procedure: 'nope'"),
        (lambda d: d["rules"][2].update(within_minutes=0),
         r"rules\[2\] \(flood-rising\): rate_of_change\.within_minutes"),
        (lambda d: d["rules"][3].update(zones="assets/zones/missing.geojson"),
         r"rules\[3\] \(flood-reports-in-low-zone\): geofence\.zones: .*zones file not found"),
        (lambda d: d["rules"][4].update(readers=["carrier-pigeon"]),
         r"rules\[4\] \(cap-warning\): readers: unknown reader 'carrier-pigeon'"),
        (lambda d: d["rules"][4].update(severity="apocalyptic"), r"rules\[4\] \(cap-warning\): relay\.severity"),
        (lambda d: d["rules"].append(dict(d["rules"][0])), "rule id 'pm25-high' is declared twice"),
    ],
)
def test_rule_errors_name_file_entry_and_field(city_dir: Path, change: Any, expected: str) -> None:
    _edit_rules(city_dir, change)
    with pytest.raises(ConfigError, match="rules.yaml: " + expected if "declared" not in expected else expected):
        load_settings(city_dir)
