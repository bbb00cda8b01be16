"""Relayed source events: a CAP warning with its severity, cancel, expiry, an operator's resolve, updates."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from data_adapters.base import FeedContext, get_reader
from ioc.config import Feed, Settings, Text
from ioc.model import AlertState, Batch, Event, Severity
from ioc.runner import feed_context
from ioc.store import Store
from tests.conftest import FIXTURES
from tests.ioc.rules.scene import (
    T0,
    alerts_of,
    engine_with,
    feed,
    rule,
)


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
