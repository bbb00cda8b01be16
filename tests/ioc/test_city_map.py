"""The city as every map draws it: district shapes and their labels, where an entity sits, the view, the alert rows."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from ioc.areas import area_index
from ioc.city_map import (
    SEVERITY_COLOURS,
    alert_rows,
    district_layer,
    entity_point,
    focus_bounds,
)
from ioc.config import Settings
from ioc.i18n import age_text, local_time, t
from ioc.model import Alert, Severity, to_iso

NOW = datetime(2025, 3, 14, 3, 30, tzinfo=UTC)
HAI_CHAU = (108.2208, 16.0471)


def thing(number: int, sector: str, feed: str = "air-stations", **extra: object) -> dict[str, object]:
    return {
        "id": f"urn:ioc:danang:{feed}:{number}",
        "type": "AirQualityObserved",
        "sector": sector,
        "feed": feed,
        "name": f"Station {number}",
        "lon": HAI_CHAU[0] + number * 0.001,
        "lat": HAI_CHAU[1],
        "geometry": None,
        "district": "Hải Châu",
        "attributes": {"pm25": 31.25, "status": "ok"},
        "observed_at": to_iso(NOW),
        **extra,
    }


def alert(**extra: object) -> Alert:
    values: dict[str, object] = {
        "id": "A000001", "rule_id": "pm25-high", "entity_id": "urn:ioc:danang:air-stations:1",
        "title": "stored title", "severity": Severity.SEVERE, "sector": "environment", "agency": "danang-donre",
        "district": "Hải Châu", "value": 68.4, "raised_at": NOW - timedelta(minutes=4),
    }
    values.update(extra)
    return Alert(**values)  # type: ignore[arg-type]


def test_district_layer_draws_every_area_filled_and_named(settings: Settings) -> None:
    names = area_index(settings.city).names

    traces = district_layer(settings.city)

    shapes = [trace for trace in traces if trace.get("fill") == "toself"]
    assert [trace["name"] for trace in shapes] == names
    labels = [trace for trace in traces if trace.get("mode") == "text"]
    assert len(labels) == 1 and labels[0]["text"] == names
    json.dumps(traces)  # the cache keeps it as plain data


def test_labels_sit_inside_their_area(settings: Settings) -> None:
    labels = next(trace for trace in district_layer(settings.city) if trace.get("mode") == "text")
    index = area_index(settings.city)

    placed = index.assign(list(zip(labels["x"], labels["y"], strict=True)))

    assert placed == labels["text"]


def test_view_covers_the_entities_on_a_coarse_grid_inside_the_city(settings: Settings) -> None:
    city_bounds = area_index(settings.city).bounds()
    near = [(108.2208, 16.0471), (108.2301, 16.0512)]

    minx, miny, maxx, maxy = focus_bounds(settings.city, near)

    assert minx < 108.2208 and maxx > 108.2301 and miny < 16.0471 and maxy > 16.0512
    assert maxx - minx < (city_bounds[2] - city_bounds[0]) / 3
    # a bus moving 100 m does not move the view
    assert focus_bounds(settings.city, [(108.2218, 16.0478), near[1]]) == (minx, miny, maxx, maxy)
    assert focus_bounds(settings.city, []) == city_bounds
    assert focus_bounds(settings.city, [(106.7, 10.8)]) == city_bounds  # outside the city: whole city
    far = focus_bounds(settings.city, [(city_bounds[0] + 0.001, city_bounds[1] + 0.001), near[0]])
    assert far[:2] == city_bounds[:2]


def test_entity_point_falls_back_to_a_point_inside_its_geometry() -> None:
    square = {"type": "Polygon", "coordinates": [[[108.2, 16.0], [108.3, 16.0], [108.3, 16.1], [108.2, 16.1],
                                                   [108.2, 16.0]]]}

    x, y = entity_point({"lon": None, "lat": None, "geometry": square})

    assert 108.2 < x < 108.3 and 16.0 < y < 16.1
    assert entity_point({"lon": None, "lat": None, "geometry": None}) is None


def test_alert_rows_use_the_rule_title_in_the_interface_language(settings: Settings) -> None:
    rule = next(r for r in settings.rules if r.id == "pm25-high")
    alerts = [alert(), alert(id="A000002", rule_id="not-configured", title="Ngập 40 cm", severity=Severity.MINOR,
                             district=None, value=None, occurrences=3)]

    rows = alert_rows(alerts, settings, "en", NOW)

    assert rows[0].title == rule.title.en
    assert rows[0].severity_text == t("control_room.severity.severe", "en")
    assert rows[0].colour == SEVERITY_COLOURS[Severity.SEVERE]
    assert rows[0].age_text == age_text(240, "en")
    assert rows[0].value_text == "pm25 68.4"
    assert rows[0].raised_text == local_time(NOW - timedelta(minutes=4), "%H:%M")
    assert rows[1].title == "Ngập 40 cm"
    assert rows[1].district == t("map.outside", "en") and rows[1].value_text == ""
    assert rows[1].occurrences == 3


