"""The air stations' SensorThings API v1.1 Things feed: expanded shape, latest values, standard paging."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

import pytest

from ioc.areas import area_index
from ioc.config import Settings
from simulator.city import SimCity
from simulator.feeds import BadFeedRequest, FeedRequest
from simulator.feeds.sensorthings import DEFAULT_TOP, render

from ..conftest import MORNING

SPEC = Path(__file__).parents[2] / "fixtures" / "sensorthings"
NOW = MORNING + timedelta(minutes=5, seconds=30)
EXPAND = "Locations,Datastreams($expand=ObservedProperty,Observations($orderby=phenomenonTime desc;$top=1))"


def page(city: SimCity, args: dict[str, str], base_url: str = "http://127.0.0.1:8061") -> dict:
    body, content_type = render(city, NOW, FeedRequest(args, base_url=base_url))
    assert content_type.startswith("application/json")
    return json.loads(body)


def follow(city: SimCity, link: str) -> dict:
    """What a client following @iot.nextLink gets."""
    parts = urlsplit(link)
    assert parts.path == "/sensorthings/v1.1/Things"
    return page(city, dict(parse_qsl(parts.query)), base_url=f"{parts.scheme}://{parts.netloc}")


def all_things(city: SimCity) -> list[dict]:
    return page(city, {"$top": "100"})["value"]


def spec_keys(name: str, optional: set[str] = frozenset()) -> set[str]:
    return set(json.loads((SPEC / f"ogc-18-088-{name}.json").read_text())) - optional


def test_things_have_the_properties_of_the_standard(city: SimCity) -> None:
    for thing in all_things(city):
        assert spec_keys("thing") <= set(thing)
        [location] = thing["Locations"]
        assert spec_keys("location") <= set(location)
        for datastream in thing["Datastreams"]:
            # observedArea, phenomenonTime and resultTime of a Datastream are optional in 18-088
            assert spec_keys("datastream", {"observedArea", "phenomenonTime", "resultTime"}) <= set(
                datastream
            )
            [observation] = datastream["Observations"]
            assert spec_keys("observation") <= set(observation)


def test_each_station_has_a_geojson_location_and_five_datastreams(settings: Settings, city: SimCity) -> None:
    things = all_things(city)
    assert len(things) == len(city.stations)
    points = []
    for thing in things:
        [location] = thing["Locations"]
        assert location["encodingType"] == "application/geo+json"
        assert location["location"]["type"] == "Point"
        points.append(tuple(location["location"]["coordinates"]))
        names = [d["ObservedProperty"]["name"] for d in thing["Datastreams"]]
        assert names == ["PM2.5", "PM10", "NO2", "Temperature", "Relative humidity"]
        symbols = [d["unitOfMeasurement"]["symbol"] for d in thing["Datastreams"]]
        assert symbols == ["µg/m³", "µg/m³", "µg/m³", "°C", "%"]
        for datastream in thing["Datastreams"]:
            assert set(datastream["unitOfMeasurement"]) == {"name", "symbol", "definition"}
            assert datastream["ObservedProperty"]["definition"].startswith("http")
    assert None not in area_index(settings.city).assign(points)


def test_the_latest_observation_is_the_current_minute(city: SimCity) -> None:
    for thing in all_things(city):
        for datastream in thing["Datastreams"]:
            [observation] = datastream["Observations"]
            observed = datetime.fromisoformat(observation["phenomenonTime"].replace("Z", "+00:00"))
            assert NOW - timedelta(minutes=1) < observed <= NOW
            assert isinstance(observation["result"], float)


def test_the_industrial_station_publishes_pm25_above_50(city: SimCity) -> None:
    pm25 = {thing["name"]: thing["Datastreams"][0]["Observations"][0]["result"] for thing in all_things(city)}
    assert pm25["Trạm quan trắc KCN Hòa Khánh"] > 50
    assert sum(value > 50 for value in pm25.values()) < len(pm25) / 2


def test_default_page_is_ten_with_an_absolute_next_link(city: SimCity) -> None:
    first = page(city, {"$expand": EXPAND}, base_url="http://sim.example:9000/")
    assert len(first["value"]) == DEFAULT_TOP
    link = first["@iot.nextLink"]
    assert link.startswith("http://sim.example:9000/sensorthings/v1.1/Things?")
    query = dict(parse_qsl(urlsplit(link).query))
    assert query["$expand"] == EXPAND
    assert (query["$top"], query["$skip"]) == ("10", "10")
    assert "@iot.count" not in first


@pytest.mark.parametrize("top", [None, "1", "3", "5", "14", "100"])
def test_following_next_links_visits_every_station_once(city: SimCity, top: str | None) -> None:
    args = {"$expand": EXPAND, "$count": "true"}
    if top:
        args["$top"] = top
    document = page(city, args)
    seen = [t["@iot.id"] for t in document["value"]]
    pages = 1
    while "@iot.nextLink" in document:
        document = follow(city, document["@iot.nextLink"])
        seen.extend(t["@iot.id"] for t in document["value"])
        pages += 1
        assert pages <= len(city.stations) + 1
    assert sorted(seen) == sorted(s.id for s in city.stations)
    assert len(seen) == len(set(seen))


def test_count_is_given_when_asked(city: SimCity) -> None:
    document = page(city, {"$count": "true", "$top": "2", "$skip": "4"})
    assert document["@iot.count"] == len(city.stations)
    assert [t["@iot.id"] for t in document["value"]] == [5, 6]


def test_top_zero_gives_the_count_without_paging(city: SimCity) -> None:
    document = page(city, {"$count": "true", "$top": "0"})
    assert document == {"@iot.count": len(city.stations), "value": []}


def test_skip_past_the_end_is_an_empty_last_page(city: SimCity) -> None:
    document = page(city, {"$skip": "500"})
    assert document == {"value": []}


@pytest.mark.parametrize("args", [{"$top": "ten"}, {"$skip": "-1"}, {"$count": "maybe"}])
def test_bad_options_are_refused(city: SimCity, args: dict[str, str]) -> None:
    with pytest.raises(BadFeedRequest) as refused:
        render(city, NOW, FeedRequest(args))
    error = json.loads(refused.value.body)
    assert error["code"] == 400 and error["message"]
