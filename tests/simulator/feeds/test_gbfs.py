"""The bike-share GBFS 3.0 feed: the files the spec requires, shaped like the spec's own examples."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from simulator.city import SimCity
from simulator.feeds import FEEDS, FeedRequest

from ..conftest import MORNING

SPEC = Path(__file__).parents[2] / "fixtures" / "gbfs" / "spec-v3.0"
# members the spec's examples carry that a station-based system without these services leaves out
OPTIONAL = {"vehicle_docks_available", "rental_uris", "contact_phone", "is_charging_station", "parking_hoop",
            "parking_type", "station_opening_hours", "vehicle_docks_capacity"}


def get(city: SimCity, name: str) -> dict:
    body, content_type = FEEDS[f"/gbfs/3.0/{name}.json"](
        city, MORNING + timedelta(minutes=5), FeedRequest(base_url="http://sim.example:8061")
    )
    assert content_type.startswith("application/json")
    return json.loads(body)


def test_discovery_lists_every_file_with_absolute_urls(city: SimCity) -> None:
    discovery = get(city, "gbfs")
    assert discovery["version"] == "3.0"
    urls = {f["name"]: f["url"] for f in discovery["data"]["feeds"]}
    assert set(urls) == {"system_information", "vehicle_types", "station_information", "station_status",
                         "vehicle_status"}
    assert all(url == f"http://sim.example:8061/gbfs/3.0/{name}.json" for name, url in urls.items())
    assert all(path in FEEDS for path in (url.removeprefix("http://sim.example:8061") for url in urls.values()))


@pytest.mark.parametrize(("name", "member"), [("station_information", "stations"), ("station_status", "stations"),
                                              ("vehicle_status", "vehicles")])
def test_records_carry_what_the_spec_example_does(city: SimCity, name: str, member: str) -> None:
    example = json.loads((SPEC / f"{name}.json").read_text(encoding="utf-8"))
    expected = set(example["data"][member][0]) - OPTIONAL
    document = get(city, name)
    assert set(document) == set(example)
    datetime.fromisoformat(document["last_updated"])  # RFC 3339, as 3.0 requires
    assert document["data"][member]
    for record in document["data"][member]:
        assert expected <= set(record), expected - set(record)


def test_station_counts_add_up(city: SimCity) -> None:
    capacity = {s["station_id"]: s["capacity"] for s in get(city, "station_information")["data"]["stations"]}
    for status in get(city, "station_status")["data"]["stations"]:
        used = status["num_vehicles_available"] + status["num_vehicles_disabled"] + status["num_docks_available"]
        assert used + status["num_docks_disabled"] <= capacity[status["station_id"]]
        assert sum(t["count"] for t in status["vehicle_types_available"]) == status["num_vehicles_available"]


def test_names_are_localized_in_vietnamese_and_english(city: SimCity) -> None:
    system = get(city, "system_information")["data"]
    assert [n["language"] for n in system["name"]] == ["vi", "en"]
    assert system["timezone"] == "Asia/Ho_Chi_Minh"
