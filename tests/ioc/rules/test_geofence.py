"""Geofence rules: reports counted per zone, events inside a zone, the zone kept on the alert."""

from __future__ import annotations

from datetime import timedelta

from ioc.config import Settings
from ioc.model import Batch, Entity, Event
from ioc.store import Store
from tests.ioc.rules.scene import (
    IN_ZONE,
    OUT_OF_ZONE,
    T0,
    alerts_of,
    engine_with,
    feed,
    rule,
)


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
    assert alert.zone == "hoa-xuan"  # kept on the alert: its map draws the zone without reading the id

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
    assert alert.zone == "nguyen-huu-tho"
