"""The alert's small map: the zone of a geofence alert from its own zone field, a relayed warning's area,
the ring at the alert, and a view framed around them."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from ioc.alert_map import MAP_HEIGHT, MAP_SPAN_DEGREES, alert_map, alert_zone, empty_map
from ioc.alerts import AlertRecord
from ioc.city_map import district_layer
from ioc.config import Settings, load_settings
from ioc.i18n import t
from ioc.model import Alert, Severity
from ioc.rules import load_zones

T0 = datetime(2026, 11, 27, 1, 0, tzinfo=UTC)
ZONES = "assets/zones/danang-flood-prone.geojson"
WARNING_AREA = {"type": "Polygon", "coordinates": [[[107.9, 15.9], [108.4, 15.9], [108.4, 16.2], [107.9, 16.2],
                                                    [107.9, 15.9]]]}


def record(rule_id: str, entity_id: str, *, zone: str = "", area: dict[str, Any] | None = None,
           location: tuple[float, float] | None = (108.222, 16.010)) -> AlertRecord:
    alert = Alert(id="A000001", rule_id=rule_id, entity_id=entity_id, title="Bão số 4", severity=Severity.SEVERE,
                  sector="emergency", agency="danang-drainage", raised_at=T0, updated_at=T0, location=location)
    return AlertRecord(alert=alert, zone=zone, area=area, kind="geofence" if zone else "relay")


@pytest.fixture(scope="module")
def base(settings_once: Settings) -> list[dict[str, Any]]:
    return district_layer(settings_once.city)


@pytest.fixture(scope="module")
def settings_once() -> Settings:
    return load_settings()


def named(figure: Any, name: str) -> list[Any]:
    return [trace for trace in figure.data if trace.name == name]


def test_a_geofence_alert_draws_its_zone_from_its_own_field(settings_once: Settings,
                                                           base: list[dict[str, Any]]) -> None:
    found = record("flood-reports-in-low-zone", "citizen-requests:somewhere", zone="hoa-xuan")
    zone = alert_zone(found, settings_once)
    assert zone is not None and zone.id == "hoa-xuan"

    figure = alert_map(found, settings_once, base, "en")
    (outline,) = named(figure, t("alerts.map.zone", "en"))
    assert outline.fill == "toself"
    minx, miny, maxx, maxy = zone.geometry.bounds
    x_range, y_range = figure.layout.xaxis.range, figure.layout.yaxis.range
    assert x_range[0] <= minx and maxx <= x_range[1] and y_range[0] <= miny and maxy <= y_range[1]
    assert figure.layout.height == MAP_HEIGHT


def test_the_zone_is_not_read_out_of_the_alert_id(settings_once: Settings, base: list[dict[str, Any]]) -> None:
    old_style = record("flood-reports-in-low-zone", "citizen-requests:zone:hoa-xuan")
    assert alert_zone(old_style, settings_once) is None
    assert not named(alert_map(old_style, settings_once, base, "en"), t("alerts.map.zone", "en"))
    # a zone id its rule's file does not hold, or a rule without zones, draws no zone either
    assert alert_zone(record("flood-reports-in-low-zone", "x", zone="atlantis"), settings_once) is None
    assert alert_zone(record("pm25-high", "x", zone="hoa-xuan"), settings_once) is None
    assert {z.id for z in load_zones(ZONES)} >= {"hoa-xuan"}


def test_a_relayed_warning_shows_its_area_and_a_wide_view_without_names(settings_once: Settings,
                                                                        base: list[dict[str, Any]]) -> None:
    warning = record("cap-warning", "urn:ioc:danang:cap-warnings:W1", area=WARNING_AREA, location=None)
    figure = alert_map(warning, settings_once, base, "vi")
    (area,) = named(figure, "Bão số 4")
    assert area.fill == "toself"
    x_range = figure.layout.xaxis.range
    assert x_range[1] - x_range[0] >= 0.5  # the whole area, wider than the usual span
    assert not [trace for trace in figure.data if trace.mode == "text"]  # names would pile up


def test_a_plain_alert_is_a_ring_in_a_small_view_with_nearby_names(settings_once: Settings,
                                                                    base: list[dict[str, Any]]) -> None:
    figure = alert_map(record("pm25-high", "urn:ioc:danang:air-stations:hk", location=(108.2, 16.05)),
                       settings_once, base, "vi")
    rings = [trace for trace in figure.data if trace.mode == "markers"]
    assert [list(trace.x) for trace in rings] == [[108.2], [108.2]]
    x_range = figure.layout.xaxis.range
    assert x_range == pytest.approx((108.2 - MAP_SPAN_DEGREES, 108.2 + MAP_SPAN_DEGREES))
    (labels,) = [trace for trace in figure.data if trace.mode == "text"]
    assert all(abs(x - 108.2) < MAP_SPAN_DEGREES for x in labels.x)


def test_nothing_to_place_leaves_the_city_and_an_empty_map_is_the_background(
        settings_once: Settings, base: list[dict[str, Any]]) -> None:
    figure = alert_map(record("pm25-high", "x", location=None), settings_once, base, "vi")
    assert figure.layout.xaxis.range is None and all(trace.mode != "markers" for trace in figure.data)
    assert empty_map()["data"] == [] and empty_map()["layout"]["height"] == MAP_HEIGHT
