"""The screens benchmark's pure parts: callback discovery from a recorded dependency list, request bodies,
state carried back, Dash patches and percentiles."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bench.dash_screen import (
    NotFound,
    apply_patch,
    carry_back,
    find_refresh,
    find_router,
    id_key,
    percentile,
    request_body,
    returned_values,
    split_output,
    walk_components,
)

# recorded from the running dashboard's /_dash-dependencies (control room, feeds, alerts, reports, admin)
DEPENDENCIES = json.loads((Path(__file__).parent / "fixtures" / "dash_dependencies.json").read_text())


def component(type_: str, id_: object, **props: object) -> dict:
    return {"type": type_, "namespace": "dash_core_components", "props": {"id": id_, **props}}


def control_room_page() -> dict:
    return {
        "type": "Div",
        "namespace": "dash_html_components",
        "props": {
            "children": [
                component("Interval", "control-room-tick", interval=2000),
                component("Store", "control-room-seen"),
                {
                    "type": "Section",
                    "namespace": "dash_html_components",
                    "props": {"children": [component("Graph", "control-room-map", figure={"data": []})]},
                },
            ]
        },
    }


def test_percentile_interpolates_between_closest_ranks() -> None:
    assert percentile([], 95) is None
    assert percentile([7.0], 95) == 7.0
    assert percentile([4.0, 1.0, 3.0, 2.0], 50) == 2.5
    values = [float(n) for n in range(1, 101)]
    assert percentile(values, 0) == 1.0
    assert percentile(values, 100) == 100.0
    assert percentile(values, 95) == pytest.approx(95.05)


def test_outputs_are_split_into_ids_and_properties() -> None:
    assert split_output("ioc-lang.data") == [("ioc-lang", "data")]
    assert split_output("..a.figure...b.children..") == [("a", "figure"), ("b", "children")]
    assert split_output('{"filter":["ALL"],"type":"x"}.children') == [
        ('{"filter":["ALL"],"type":"x"}', "children")
    ]
    assert id_key({"type": "x", "filter": "a"}) == '{"filter":"a","type":"x"}'


def test_the_control_rooms_refresh_is_found_on_its_page_not_the_alerts_map() -> None:
    page = walk_components(control_room_page())
    choice = find_refresh(DEPENDENCIES, page)
    assert choice.map_output == ("control-room-map", "figure")
    assert choice.interval_id == "control-room-tick"
    assert choice.others == ("alerts-map.figure",)
    assert "control-room-seen.data" in choice.describe()


def test_without_the_page_every_live_map_matches_and_the_richest_is_taken() -> None:
    choice = find_refresh(DEPENDENCIES, None)
    assert choice.map_output[1] == "figure" and choice.others == ()


def test_a_page_without_the_map_or_a_server_without_one_is_not_found() -> None:
    with pytest.raises(NotFound, match="none with its map and Interval on the page"):
        find_refresh(DEPENDENCIES, {"control-room-tick": component("Interval", "control-room-tick")})
    no_maps = [c for c in DEPENDENCIES if ".figure" not in c["output"]]
    with pytest.raises(NotFound, match="no callback has an output"):
        find_refresh(no_maps, None)
    # a map driven by a button, not an Interval, is not a live refresh
    clicked = [{"output": "city-map.figure", "inputs": [{"id": "go", "property": "n_clicks"}], "state": []}]
    with pytest.raises(NotFound):
        find_refresh(clicked, None)


def test_the_router_is_dash_pages_container_not_the_header() -> None:
    router = find_router(DEPENDENCIES)
    assert router["output"].startswith(".._pages_content.children")
    with pytest.raises(NotFound):
        find_router([c for c in DEPENDENCIES if "pathname" not in json.dumps(c["inputs"])])


def test_a_tick_sends_the_count_the_layout_values_and_the_state_returned_last() -> None:
    shell = walk_components(
        {
            "type": "Div",
            "namespace": "dash_html_components",
            "props": {"children": [component("Store", "ioc-lang", data="vi"), control_room_page()]},
        }
    )
    choice = find_refresh(DEPENDENCIES, shell)
    carried: dict = {}
    first = request_body(choice.callback, shell, overrides={("control-room-tick", "n_intervals"): 0})
    assert first["changedPropIds"] == []
    assert first["inputs"] == [
        {"id": "control-room-tick", "property": "n_intervals", "value": 0},
        {"id": "ioc-lang", "property": "data", "value": "vi"},
    ]
    assert first["state"] == [{"id": "control-room-seen", "property": "data"}]  # the Store starts empty
    assert first["outputs"][0] == {"id": "control-room-map", "property": "figure"}
    reply = {
        "multi": True,
        "response": {
            "control-room-map": {"figure": {"data": [1]}},
            "control-room-seen": {"data": {"version": 7}},
        },
    }
    carry_back(choice.callback, carried, returned_values(reply))
    assert carried == {("control-room-seen", "data"): {"version": 7}}  # the figure is not read back
    tick = request_body(
        choice.callback,
        shell,
        carried=carried,
        overrides={("control-room-tick", "n_intervals"): 3},
        changed=["control-room-tick.n_intervals"],
    )
    assert tick["state"] == [{"id": "control-room-seen", "property": "data", "value": {"version": 7}}]
    assert tick["inputs"][0]["value"] == 3 and tick["changedPropIds"] == ["control-room-tick.n_intervals"]


def test_pattern_matching_inputs_list_every_matching_component() -> None:
    callback = {
        "output": "feeds-selected.data",
        "state": [],
        "inputs": [{"id": '{"feed":["ALL"],"type":"feeds-details-button"}', "property": "n_clicks"}],
    }
    components = walk_components(
        [
            component("Button", {"type": "feeds-details-button", "feed": "air"}, n_clicks=2),
            component("Button", {"type": "feeds-details-button", "feed": "bus"}),
            component("Button", {"type": "other", "feed": "air"}, n_clicks=1),
        ]
    )
    body = request_body(callback, components)
    assert body["outputs"] == {"id": "feeds-selected", "property": "data"}
    assert sorted(body["inputs"][0], key=lambda item: item["id"]["feed"]) == [
        {"id": {"type": "feeds-details-button", "feed": "air"}, "property": "n_clicks", "value": 2},
        {"id": {"type": "feeds-details-button", "feed": "bus"}, "property": "n_clicks"},
    ]


def test_a_returned_patch_is_applied_to_the_state_it_patches() -> None:
    callback = {
        "output": "seen.data",
        "inputs": [{"id": "tick", "property": "n_intervals"}],
        "state": [{"id": "seen", "property": "data"}],
    }
    carried = {("seen", "data"): {"layers": {"air": 1}, "order": ["air"], "count": 1}}
    patch = {
        "__dash_patch_update": "__dash_patch_update",
        "operations": [
            {"operation": "Assign", "location": ["layers", "bus"], "params": {"value": 4}},
            {"operation": "Append", "location": ["order"], "params": {"value": "bus"}},
            {"operation": "Add", "location": ["count"], "params": {"value": 1}},
            {"operation": "Delete", "location": ["layers", "air"], "params": {}},
        ],
    }
    carry_back(callback, carried, {("seen", "data"): patch})
    assert carried[("seen", "data")] == {"layers": {"bus": 4}, "order": ["air", "bus"], "count": 2}
    with pytest.raises(ValueError, match="unknown Dash patch operation"):
        apply_patch({}, {"operations": [{"operation": "Teleport", "location": ["x"], "params": {}}]})
