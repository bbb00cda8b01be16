"""The offline city map: district shapes, one layer per sector, alerts on top, and the alert list rows."""

from __future__ import annotations

import json
import math
from datetime import UTC, datetime, timedelta

import pytest

from ioc.areas import area_index
from ioc.city_map import (
    SEVERITY_COLOURS,
    alert_rows,
    city_figure,
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


def test_figure_needs_no_tiles_and_keeps_the_ground_aspect(settings: Settings) -> None:
    figure = city_figure(settings, [thing(1, "environment")], [], "vi")

    assert {trace.type for trace in figure.data} == {"scatter"}
    layout = figure.to_plotly_json()["layout"]
    assert "map" not in layout and "mapbox" not in layout and "geo" not in layout
    assert "http" not in figure.to_json()  # nothing is fetched from the internet
    low, high = figure.layout.yaxis.range
    assert figure.layout.xaxis.scaleanchor == "y"
    assert figure.layout.xaxis.scaleratio == pytest.approx(math.cos(math.radians((low + high) / 2)), rel=1e-3)


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


def test_one_layer_per_sector_coloured_from_city_config(settings: Settings) -> None:
    entities = [thing(1, "environment"), thing(2, "environment"), thing(3, "transport", feed="bus-vehicles"),
                thing(4, "transport", feed="bus-vehicles", lon=None, lat=None)]

    figure = city_figure(settings, entities, [], "en")

    layers = {trace.name: trace for trace in figure.data if trace.mode == "markers"}
    assert set(layers) == {"Environment", "Transport"}
    assert len(layers["Environment"].x) == 2
    assert len(layers["Transport"].x) == 1  # the bus without a position is not drawn
    assert layers["Environment"].marker.color == settings.sector("environment").colour
    assert layers["Transport"].marker.color == settings.sector("transport").colour


def test_hover_shows_name_type_district_values_and_local_time(settings: Settings) -> None:
    figure = city_figure(settings, [thing(1, "environment", name="<b>Trạm</b> Hải Châu")], [], "vi")

    layer = next(trace for trace in figure.data if trace.mode == "markers")
    hover = layer.text[0]
    assert "&lt;b&gt;Trạm&lt;/b&gt; Hải Châu" in hover  # agency text cannot inject markup
    assert "AirQualityObserved" in hover and "Hải Châu" in hover
    assert "pm25: 31.2" in hover
    assert local_time(NOW) in hover


def test_stale_feed_layer_says_so(settings: Settings) -> None:
    entities = [thing(1, "environment"), thing(2, "transport", feed="bus-vehicles")]

    figure = city_figure(settings, entities, [], "vi", stale_feeds=frozenset({"bus-vehicles"}))

    names = [trace.name for trace in figure.data if trace.mode == "markers"]
    assert names == [f"{settings.sector('transport').name.vi} ⚠ {t('map.stale_layer', 'vi')}",
                     settings.sector("environment").name.vi]  # city.yaml order
    faded = next(trace for trace in figure.data if trace.uid == "sector-transport")
    assert faded.marker.opacity[0] < 0.5


def test_alerts_are_drawn_at_their_entity_in_severity_colour(settings: Settings) -> None:
    entities = [thing(1, "environment")]
    alerts = [alert(), alert(id="A000002", entity_id="urn:elsewhere", severity=Severity.MODERATE,
                             location=(108.25, 16.06)), alert(id="A000003", entity_id="urn:unknown")]

    figure = city_figure(settings, entities, alerts, "en")

    layer = figure.data[-1]
    assert layer.name == t("map.alerts_layer", "en")
    assert list(zip(layer.x, layer.y, strict=True)) == [(entities[0]["lon"], entities[0]["lat"]), (108.25, 16.06)]
    assert list(layer.marker.color) == [SEVERITY_COLOURS[Severity.SEVERE], SEVERITY_COLOURS[Severity.MODERATE]]


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


def test_area_names_stay_above_the_markers_and_markers_shrink_when_many(settings: Settings) -> None:
    few = city_figure(settings, [thing(n, "environment") for n in range(3)], [alert()], "vi")
    many = city_figure(settings, [thing(n % 50, "environment") for n in range(500)], [], "vi")

    kinds = [trace.mode for trace in few.data]
    assert kinds.index("text") > kinds.index("markers")
    assert few.data[-1].uid == "alerts"  # alerts above everything
    layer = next(trace for trace in few.data if trace.uid == "sector-environment")
    crowded = next(trace for trace in many.data if trace.uid == "sector-environment")
    assert crowded.marker.size < layer.marker.size


def test_names_of_areas_outside_the_view_are_left_out(settings: Settings) -> None:
    figure = city_figure(settings, [thing(n, "environment") for n in range(3)], [], "vi")

    labels = next(trace for trace in figure.data if trace.mode == "text")
    assert "Hải Châu" in labels.text
    assert "Hòa Vang" not in labels.text  # its middle lies far west of the town's stations
    low, high = figure.layout.xaxis.range
    assert all(low < x < high for x in labels.x)
