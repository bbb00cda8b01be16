"""Map layers at city scale: WebGL points, grid clusters, fixed trace slots, labels above every layer."""

from __future__ import annotations

from typing import Any

import pytest

from ioc.city_map import district_layer
from ioc.config import Settings
from ioc.live_map import (
    CLUSTER_ABOVE,
    MapPlan,
    MapState,
    build_feed_layer,
    entity_at,
    full_figure,
    grid_clusters,
    map_plan,
)


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
