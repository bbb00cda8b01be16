"""Map layers at city scale: WebGL points, grid clusters, fixed trace slots, labels above every layer."""

from __future__ import annotations

import json
import math
from typing import Any

import pytest
from plotly.io.json import to_json_plotly

from ioc.city_map import SEVERITY_COLOURS, district_layer
from ioc.config import SECTOR_SYMBOLS, Settings
from ioc.live_map import (
    CLUSTER_ABOVE,
    MapPlan,
    MapState,
    apply_delta,
    area_labels,
    build_feed_layer,
    entity_at,
    figure_delta,
    full_figure,
    grid_clusters,
    legend_entries,
    map_plan,
    wire,
)
from ioc.map_view import screen_view
from ioc.model import Alert, Severity


def entities(count: int, feed: str = "air-stations") -> list[dict[str, Any]]:
    return [{"id": f"urn:ioc:danang:{feed}:{n}", "name": f"thing {n}", "lon": 108.20 + (n % 50) * 0.001,
             "lat": 16.05 + (n // 50) * 0.001, "attributes": {"pm25": n % 40}} for n in range(count)]


@pytest.fixture(scope="module")
def base(settings: Settings) -> list[dict[str, Any]]:
    return district_layer(settings.city)


def test_points_are_webgl_without_hover_text_and_ids_kept_for_on_demand_detail(settings: Settings) -> None:
    feed = settings.feeds[0]
    layer = build_feed_layer(settings, feed, 3, entities(20), "vi")

    assert layer.detail["type"] == "scattergl"
    assert "text" not in layer.detail and "hovertext" not in layer.detail
    assert layer.detail["hoverinfo"] == "none"  # hover still reaches the server, which reads the entity
    assert layer.ids[7] == "urn:ioc:danang:air-stations:7"
    assert layer.cluster["x"] == []  # twenty things need no clustering


def test_a_large_layer_clusters_by_grid_cell_and_counts_every_point(settings: Settings) -> None:
    layer = build_feed_layer(settings, settings.feeds[0], 1, entities(CLUSTER_ABOVE * 4), "vi")

    counts = layer.cluster["meta"]["counts"]
    assert sum(counts) == CLUSTER_ABOVE * 4
    assert len(counts) < CLUSTER_ABOVE  # fewer marks than points: that is the point
    assert layer.detail["meta"]["clustered"] is True


def test_grid_clusters_average_their_members() -> None:
    clusters = grid_clusters([108.2001, 108.2003, 108.3001], [16.0001, 16.0003, 16.0001], cell=0.01)

    assert clusters == [(108.2002, 16.0002, 2), (108.3001, 16.0001, 1)]


def test_trace_slots_are_fixed_so_a_screen_replaces_one_layer(settings: Settings, base: list[dict[str, Any]]) -> None:
    plan = map_plan(settings, base)
    last = plan.feeds[-1]

    assert plan.base_traces == sum(1 for trace in base if trace.get("mode") != "text")
    assert plan.detail_index(plan.feeds[0]) == plan.base_traces + 1
    assert plan.feed_at(plan.detail_index(last)) == last
    assert plan.feed_at(plan.alert_index) is None


def test_full_figure_puts_area_names_above_every_layer(settings: Settings, base: list[dict[str, Any]]) -> None:
    plan = MapPlan(base_traces=sum(1 for trace in base if trace.get("mode") != "text"), feeds=(settings.feeds[0].name,))
    layer = build_feed_layer(settings, settings.feeds[0], 1, entities(30), "vi")
    state = MapState(plan=plan, layers={layer.feed: layer}, stale_feeds=frozenset(), alerts=[], alerts_version=0,
                     lang="vi")

    figure = full_figure(settings, base, state)

    assert len(figure["data"]) == plan.alert_index + 1
    assert all(trace.get("mode") != "text" for trace in figure["data"])
    assert figure["layout"]["annotations"]  # names are annotations, drawn above the WebGL canvas
    assert figure["layout"]["showlegend"] is False  # the legend sits beside the map, off the data


def test_entity_at_finds_the_hovered_point(settings: Settings) -> None:
    layer = build_feed_layer(settings, settings.feeds[0], 1, entities(5), "vi")
    plan = MapPlan(base_traces=7, feeds=(layer.feed,))

    assert entity_at({layer.feed: layer}, plan, plan.detail_index(layer.feed), 3) == layer.ids[3]
    assert entity_at({layer.feed: layer}, plan, plan.cluster_index(layer.feed), 3) is None
    assert entity_at({layer.feed: layer}, plan, plan.detail_index(layer.feed), 99) is None


def one_feed_state(settings: Settings, base: list[dict[str, Any]], layer_entities: list[dict[str, Any]],
                   feed_index: int = 0, *, stale: bool = False, alerts: list[Any] | None = None) -> MapState:
    feed = settings.feeds[feed_index]
    plan = MapPlan(base_traces=sum(1 for trace in base if trace.get("mode") != "text"), feeds=(feed.name,))
    layer = build_feed_layer(settings, feed, 1, layer_entities, "vi")
    return MapState(plan=plan, layers={feed.name: layer}, stale_feeds=frozenset({feed.name} if stale else ()),
                    alerts=alerts or [], alerts_version=0, lang="vi")


def test_the_map_needs_no_tile_server_and_keeps_the_ground_aspect(settings: Settings,
                                                                   base: list[dict[str, Any]]) -> None:
    figure = full_figure(settings, base, one_feed_state(settings, base, entities(30)))

    assert "http" not in json.dumps(figure)  # nothing is fetched from the internet
    layout = figure["layout"]
    assert "map" not in layout and "mapbox" not in layout and "geo" not in layout
    low, high = layout["yaxis"]["range"]
    assert layout["xaxis"]["scaleanchor"] == "y"
    assert layout["xaxis"]["scaleratio"] == pytest.approx(math.cos(math.radians((low + high) / 2)), rel=1e-2)


def test_a_layer_takes_its_sector_colour_and_shape_and_skips_things_without_a_place(settings: Settings) -> None:
    feed = next(feed for feed in settings.feeds if feed.sector == "environment")
    placed = entities(3)
    nowhere = {"id": "urn:ioc:danang:air-stations:nowhere", "lon": None, "lat": None, "geometry": None,
               "attributes": {}}

    layer = build_feed_layer(settings, feed, 1, [*placed, nowhere], "en")

    sector = settings.sector("environment")
    assert layer.detail["marker"]["color"] == sector.colour
    assert layer.detail["marker"]["symbol"] == sector.symbol != "circle"
    assert len(layer.detail["x"]) == 3 and nowhere["id"] not in layer.ids
    assert layer.records == 4  # counted on the tile all the same


def test_every_sector_is_told_apart_by_shape_and_none_uses_an_alarm_colour(settings: Settings) -> None:
    sectors = settings.city.sectors

    assert len({sector.symbol for sector in sectors}) == len(sectors)
    assert len({sector.colour.lower() for sector in sectors}) == len(sectors)
    alarm_colours = {colour.lower() for colour in SEVERITY_COLOURS.values()}
    assert not alarm_colours & {sector.colour.lower() for sector in sectors}


def test_legend_shows_each_sectors_shape_in_its_colour(settings: Settings, base: list[dict[str, Any]]) -> None:
    plan = map_plan(settings, base)

    entries = legend_entries(settings, plan, frozenset(), "en")

    transport = next(entry for entry in entries if entry.sector == "environment")
    assert transport.glyph == SECTOR_SYMBOLS[settings.sector("environment").symbol]
    assert transport.colour == settings.sector("environment").colour


def test_area_names_are_escaped(settings: Settings, base: list[dict[str, Any]]) -> None:
    labels_trace = next(trace for trace in base if trace.get("mode") == "text")
    forged = [{**labels_trace, "text": ["<b>Hải Châu</b>", *labels_trace["text"][1:]]}]

    labels = area_labels(forged, (107.0, 15.0, 109.0, 17.0))

    assert labels[0]["text"] == "&lt;b&gt;Hải Châu&lt;/b&gt;"  # an area file cannot inject markup


def test_names_of_areas_outside_the_view_are_left_out(settings: Settings, base: list[dict[str, Any]]) -> None:
    figure = full_figure(settings, base, one_feed_state(settings, base, entities(3)))

    names = [label["text"] for label in figure["layout"]["annotations"]]
    assert "Hải Châu" in names
    assert "Hòa Vang" not in names  # its middle lies far west of the town's stations


def test_a_stale_feed_is_faded(settings: Settings, base: list[dict[str, Any]]) -> None:
    fresh = one_feed_state(settings, base, entities(5))
    stale = one_feed_state(settings, base, entities(5), stale=True)
    feed = fresh.plan.feeds[0]

    assert fresh.traces_of(feed)[1]["opacity"] == 1.0
    assert stale.traces_of(feed)[1]["opacity"] < 0.5
    assert stale.layer_signature(feed) != fresh.layer_signature(feed)  # a screen redraws it when it goes stale


def test_alerts_are_rings_at_their_entity_or_place_in_severity_colour(settings: Settings,
                                                                     base: list[dict[str, Any]]) -> None:
    things = entities(3)
    alerts = [Alert(id="A1", rule_id="pm25-high", entity_id=things[1]["id"], title="x", severity=Severity.SEVERE,
                    sector="environment", agency="danang-donre"),
              Alert(id="A2", rule_id="flood", entity_id="urn:elsewhere", title="y", severity=Severity.MODERATE,
                    sector="utilities", agency="danang-water", location=(108.25, 16.06)),
              Alert(id="A3", rule_id="flood", entity_id="urn:unknown", title="z", severity=Severity.MINOR,
                    sector="utilities", agency="danang-water")]
    state = one_feed_state(settings, base, things, alerts=alerts)

    figure = full_figure(settings, base, state)

    rings = figure["data"][-1]  # above every layer
    assert rings["meta"]["role"] == "alerts" and rings["marker"]["symbol"] == "circle-open"
    assert list(zip(rings["x"], rings["y"], strict=True)) == [pytest.approx((things[1]["lon"], things[1]["lat"])),
                                                              (108.25, 16.06)]
    assert rings["marker"]["color"] == [SEVERITY_COLOURS[Severity.SEVERE], SEVERITY_COLOURS[Severity.MODERATE]]
    assert rings["meta"]["ids"] == ["A1", "A2"]  # the one with no place is in the list, not on the map


def test_markers_shrink_as_the_map_fills(settings: Settings, base: list[dict[str, Any]]) -> None:
    few = one_feed_state(settings, base, entities(3))
    many = one_feed_state(settings, base, entities(3000))

    assert many.traces_of(many.plan.feeds[0], screen_view(None, 0.01))[1]["marker"]["size"] < \
        few.traces_of(few.plan.feeds[0])[1]["marker"]["size"]


def test_a_4k_wall_draws_type_and_markers_twice_as_large(settings: Settings, base: list[dict[str, Any]]) -> None:
    state = one_feed_state(settings, base, entities(CLUSTER_ABOVE * 4))
    feed = state.plan.feeds[0]

    normal = full_figure(settings, base, state)
    wall = full_figure(settings, base, state, screen_view(None, None, 2.0))

    assert wall["layout"]["annotations"][0]["font"]["size"] == 2 * normal["layout"]["annotations"][0]["font"]["size"]
    cluster_at, detail_at = state.plan.cluster_index(feed), state.plan.detail_index(feed)
    assert wall["data"][cluster_at]["marker"]["size"] == [2 * size for size in
                                                         normal["data"][cluster_at]["marker"]["size"]]
    assert wall["data"][cluster_at]["textfont"]["size"] == 2 * normal["data"][cluster_at]["textfont"]["size"]
    assert wall["data"][detail_at]["marker"]["size"] == 2 * normal["data"][detail_at]["marker"]["size"]
    assert wall["data"][-1]["marker"]["line"]["width"] == 2 * normal["data"][-1]["marker"]["line"]["width"]
    # the shared layer itself is untouched: the next 1920 px screen still gets it at its own size
    assert full_figure(settings, base, state) == normal


def test_a_clustered_layer_sends_its_points_only_once_the_screen_zooms_in(settings: Settings,
                                                                         base: list[dict[str, Any]]) -> None:
    state = one_feed_state(settings, base, entities(CLUSTER_ABOVE * 4))
    feed = state.plan.feeds[0]
    detail_at = state.plan.detail_index(feed)
    city, zoomed = screen_view(None, None), screen_view(None, 0.01)

    first = full_figure(settings, base, state, city)
    assert first["data"][detail_at]["x"] == []  # hidden at city zoom, so not sent
    held = {**state.signatures(city), "view": city.key()}

    zoom_in = figure_delta(settings, state, held, zoomed)
    assert len(zoom_in.traces[detail_at]["x"]) == CLUSTER_ABOVE * 4
    assert apply_delta(first, zoom_in) == full_figure(settings, base, state, zoomed)

    holding_all = {**held, **zoom_in.drawn, "view": zoomed.key()}
    zoom_out = figure_delta(settings, state, holding_all, city)
    assert zoom_out.traces == {} and zoom_out.visible[detail_at] is False  # the points stay, hidden


def test_a_layer_of_few_points_is_sent_whole_at_city_zoom(settings: Settings, base: list[dict[str, Any]]) -> None:
    state = one_feed_state(settings, base, entities(20))

    figure = full_figure(settings, base, state)

    assert len(figure["data"][state.plan.detail_index(state.plan.feeds[0])]["x"]) == 20


def test_a_trace_on_the_wire_encodes_to_the_same_values(settings: Settings) -> None:
    layer = build_feed_layer(settings, settings.feeds[0], 1, entities(CLUSTER_ABOVE * 2), "vi")

    for trace in (layer.detail, layer.cluster):
        sent = wire(trace)
        assert json.loads(to_json_plotly(sent)) == json.loads(to_json_plotly(trace))
        assert not isinstance(sent["x"], list)  # numbers the encoder need not walk one by one
