"""Tests of the GBFS reader on the real Oslo 2.2 feed and the 2.3 / 3.0 specification examples."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest

from data_adapters.base import FeedContext, PayloadError, get_reader
from data_adapters.gbfs import GbfsReader, discovery_feeds
from ioc.model import Batch
from tests.data_adapters import as_stored

GBFS = Path(__file__).parents[1] / "fixtures" / "gbfs"
ALL_FILES = sorted(GBFS.rglob("*.json"))
FEED = FeedContext(name="bike-share", agency="danang-bike", sector="transport", url="https://gbfs.example.vn/gbfs.json")


def parse(payload: bytes | dict, feed: FeedContext = FEED) -> Batch:
    raw = json.dumps(payload).encode() if isinstance(payload, dict) else payload
    return GbfsReader().parse(raw, feed)


def by_id(batch: Batch) -> dict[str, object]:
    return {e.attributes.get("vehicle_id", e.attributes.get("station_id")): e for e in batch.entities}


def observation(batch: Batch, entity_id: str, metric: str):
    return next(o for o in batch.observations if o.entity_id == entity_id and o.metric == metric)


@pytest.mark.parametrize("path", ALL_FILES, ids=lambda p: str(p.relative_to(GBFS)))
def test_every_sample_parses_as_ioc_adapters_test_does(path: Path) -> None:
    batch = get_reader("gbfs").parse(path.read_bytes(), FeedContext.for_test("gbfs"))
    assert batch.entities
    for entity in batch.entities:
        assert entity.id.startswith("urn:ioc:danang:test-gbfs:")
        assert entity.observed_at is not None and entity.observed_at.utcoffset().total_seconds() == 0
        assert entity.district is None
    for obs in batch.observations:
        assert obs.time.tzinfo is not None
        assert obs.entity_id in {e.id for e in batch.entities}
    json.dumps(batch.to_records())  # the CLI prints this


def test_oslo_station_information_gives_located_stations() -> None:
    batch = parse((GBFS / "oslo-bysykkel-v2.2" / "station_information.json").read_bytes())
    assert len(batch.entities) == 260
    assert batch.observations == []
    station = by_id(batch)["2351"]
    assert station.id == FEED.urn("2351")
    assert station.type == "BikeStation"
    assert station.name == "Sogn Studentby"
    assert station.location == (10.727852791011173, 59.95208441268443)
    assert station.attributes["capacity"] == 18
    assert station.agency == "danang-bike" and station.sector == "transport"
    assert station.observed_at == datetime.fromtimestamp(1666548064, UTC)


def test_oslo_station_status_reads_zero_one_integers_as_booleans() -> None:
    batch = parse((GBFS / "oslo-bysykkel-v2.2" / "station_status.json").read_bytes())
    assert len(batch.entities) == 260
    station = by_id(batch)["2351"]
    bikes = observation(batch, station.id, "bikes_available")
    assert (bikes.value, bikes.unit) == (10, "count")
    assert bikes.time == datetime(2022, 10, 23, 20, 3, 27, tzinfo=UTC)  # last_updated 1666555407
    assert observation(batch, station.id, "docks_available").value == 8
    renting = observation(batch, station.id, "is_renting")
    assert renting.value is True
    assert station.attributes["bikes_available"] == 10
    assert station.attributes["is_installed"] is True
    empty = by_id(batch)["2347"]
    assert observation(batch, empty.id, "bikes_available").value == 0


def test_merged_document_joins_information_and_status_per_station() -> None:
    merged = {
        "station_information": json.loads((GBFS / "oslo-bysykkel-v2.2" / "station_information.json").read_bytes()),
        "station_status": json.loads((GBFS / "oslo-bysykkel-v2.2" / "station_status.json").read_bytes()),
    }
    batch = parse(merged)
    assert len(batch.entities) == 260
    station = by_id(batch)["2350"]
    assert station.name == "Blindern T-Bane"
    assert station.location == (10.716856460117071, 59.94022899411701)
    assert station.attributes["bikes_available"] == 20
    assert station.attributes["docks_available"] == 5
    assert station.attributes["capacity"] == 25


def test_v3_station_information_has_a_localized_name() -> None:
    batch = parse((GBFS / "spec-v3.0" / "station_information.json").read_bytes())
    (station,) = batch.entities
    assert station.name == "Parking garage A"
    assert station.location == (45.678901, 12.345678)
    assert station.observed_at == datetime(2023, 7, 17, 11, 34, 13, tzinfo=UTC)
    # the station's contact phone is left out of the model
    assert "+33109874321" not in json.dumps(batch.to_records())


def test_v3_station_status_uses_num_vehicles_available() -> None:
    batch = parse((GBFS / "spec-v3.0" / "station_status.json").read_bytes())
    stations = by_id(batch)
    assert set(stations) >= {"station1", "station2"}
    assert observation(batch, stations["station1"].id, "bikes_available").value == 1
    assert observation(batch, stations["station1"].id, "docks_available").value == 3
    assert observation(batch, stations["station2"].id, "bikes_available").value == 6
    assert observation(batch, stations["station1"].id, "bikes_available").time == datetime(
        2023, 7, 17, 11, 34, 13, tzinfo=UTC
    )


def test_v3_vehicle_status_places_free_vehicles_only() -> None:
    batch = parse((GBFS / "spec-v3.0" / "vehicle_status.json").read_bytes())
    vehicles = by_id(batch)
    free = vehicles["973a5c94-c288-4a2b-afa6-de8aeb6ae2e5"]
    assert free.type == "BikeShareVehicle"
    assert free.location == (56.789012, 12.345678)
    assert free.attributes["vehicle_type_id"] == "abc123"
    assert free.attributes["is_reserved"] is False
    docked = vehicles["987fd100-b822-4347-86a4-b3eef8ca8b53"]
    assert docked.location is None
    assert docked.attributes["station_id"] == "86"
    range_m = observation(batch, docked.id, "current_range_meters")
    assert (range_m.value, range_m.unit) == (6543.0, "m")


def test_v23_free_bike_status_reads_bike_ids() -> None:
    batch = parse((GBFS / "spec-v2.3" / "free_bike_status.json").read_bytes())
    assert len(batch.entities) == 2
    bike = by_id(batch)["973a5c94-c288-4a2b-afa6-de8aeb6ae2e5"]
    assert bike.id == FEED.urn("973a5c94-c288-4a2b-afa6-de8aeb6ae2e5")
    assert bike.location == (56.78, 12.34)
    assert bike.observed_at == datetime.fromtimestamp(1640887163, UTC)


@pytest.mark.parametrize("version", ["spec-v2.3", "spec-v3.0"])
def test_system_information_keeps_no_contact_details(version: str) -> None:
    batch = parse((GBFS / version / "system_information.json").read_bytes())
    (system,) = batch.entities
    assert system.type == "BikeShareSystem"
    assert system.name == "Example Bike Rental"
    assert system.attributes["operator"] == "Example Sharing, Inc"
    text = json.dumps(as_stored(batch).to_records())
    assert "customerservice@example.com" not in text
    assert "555" not in text


def test_localized_names_prefer_vietnamese_then_english() -> None:
    document = {
        "last_updated": "2024-09-14T08:00:00+07:00",
        "data": {
            "stations": [
                {
                    "station_id": "cau-rong",
                    "name": [{"text": "Dragon Bridge", "language": "en"}, {"text": "Cầu Rồng", "language": "vi"}],
                    "lat": 16.0612,
                    "lon": 108.2272,
                },
                {
                    "station_id": "my-khe",
                    "name": [{"text": "Plage My Khe", "language": "fr"}, {"text": "My Khe Beach", "language": "en"}],
                    "lat": 16.0544,
                    "lon": 108.2478,
                },
            ]
        },
    }
    stations = by_id(parse(document))
    assert stations["cau-rong"].name == "Cầu Rồng"
    assert stations["my-khe"].name == "My Khe Beach"
    assert stations["cau-rong"].observed_at == datetime(2024, 9, 14, 1, 0, tzinfo=UTC)


def test_reserved_vehicle_is_kept_off_the_map_and_docked_one_takes_the_station_position() -> None:
    merged = {
        "station_information": {
            "last_updated": 1726275600,
            "data": {"stations": [{"station_id": "s1", "name": "Chợ Hàn", "lat": 16.0683, "lon": 108.2238}]},
        },
        "free_bike_status": {
            "last_updated": 1726275600,
            "data": {
                "bikes": [
                    {"bike_id": "b1", "lat": 16.06, "lon": 108.22, "is_reserved": True, "is_disabled": False},
                    {"bike_id": "b2", "station_id": "s1", "is_reserved": False, "is_disabled": False},
                    {"bike_id": "b3", "lat": 16.07, "lon": 108.23, "is_reserved": 0, "is_disabled": 1},
                ]
            },
        },
    }
    vehicles = by_id(parse(merged))
    assert vehicles["b1"].location is None
    assert vehicles["b2"].location == (108.2238, 16.0683)
    assert vehicles["b3"].location is None and vehicles["b3"].attributes["is_disabled"] is True


def test_well_formed_empty_files_are_empty_batches() -> None:
    for data in ({"stations": []}, {"vehicles": []}, {"bikes": []}):
        batch = parse({"last_updated": 1726275600, "ttl": 60, "data": data})
        assert batch.entities == [] and batch.observations == []


@pytest.mark.parametrize(
    ("document", "where"),
    [
        ([1, 2, 3], "GBFS JSON object"),
        ({"foo": 1}, "no 'data' member"),
        ({"last_updated": 1726275600, "data": 5}, "data: expected an object"),
        ({"last_updated": 1726275600, "data": {"stations": "many"}}, r"data\.stations: expected an array"),
        ({"last_updated": 1726275600, "data": {"stations": [5]}}, r"data\.stations\[0\]"),
        ({"data": {"stations": []}}, "last_updated"),
        ({"last_updated": "yesterday", "data": {"stations": []}}, "last_updated"),
        ({"last_updated": 1726275600, "data": {"bicycles": []}}, "none of 'stations'"),
        (
            {"last_updated": 1726275600, "data": {"stations": [{"station_id": "s", "name": "A", "lat": "16.06", "lon": 108.2}]}},
            r"stations\[0\]\.lat: expected a number",
        ),
        (
            {"last_updated": 1726275600, "data": {"stations": [{"station_id": "s", "name": "A", "lat": 96.0, "lon": 108.2}]}},
            "not a WGS84",
        ),
        (
            {"last_updated": 1726275600, "data": {"stations": [{"station_id": "s", "name": {"vi": "A"}, "lat": 16.0, "lon": 108.2}]}},
            r"stations\[0\]\.name",
        ),
        (
            {"last_updated": 1726275600, "data": {"stations": [{"station_id": "s", "num_bikes_available": "10", "is_renting": True}]}},
            r"num_bikes_available: expected a number",
        ),
        (
            {"last_updated": 1726275600, "data": {"stations": [{"station_id": "s", "num_bikes_available": -1, "is_renting": True}]}},
            "count",
        ),
        (
            {"last_updated": 1726275600, "data": {"stations": [{"station_id": "s", "num_bikes_available": 3, "is_renting": "yes"}]}},
            r"is_renting: expected true/false",
        ),
        (
            {"last_updated": 1726275600, "data": {"stations": [{"station_id": "s", "num_docks_available": 3, "is_renting": 1}]}},
            "num_bikes_available",
        ),
        (
            {"last_updated": 1726275600, "data": {"stations": [{"num_bikes_available": 3, "is_renting": 1}]}},
            r"station_id: expected an id",
        ),
        (
            {"last_updated": 1726275600, "data": {"bikes": [{"bike_id": "b", "lat": 16.0, "lon": 108.2, "is_reserved": "no"}]}},
            r"is_reserved",
        ),
        ({"station_information": 7}, r"station_information: expected a GBFS file object"),
    ],
)
def test_wrong_documents_are_refused_with_the_member_named(document: object, where: str) -> None:
    with pytest.raises(PayloadError, match=where):
        GbfsReader().parse(json.dumps(document).encode(), FEED)


def test_one_bad_station_status_refuses_that_station_with_its_information() -> None:
    merged = {
        "station_information": json.loads((GBFS / "oslo-bysykkel-v2.2" / "station_information.json").read_bytes()),
        "station_status": json.loads((GBFS / "oslo-bysykkel-v2.2" / "station_status.json").read_bytes()),
    }
    bad = merged["station_status"]["data"]["stations"][100]
    bad["num_docks_available"] = "eight"
    batch = parse(merged)
    (problem,) = batch.problems
    assert problem.refused and problem.where == "station_status.data.stations[100]"
    assert "station_status.data.stations[100].num_docks_available" in problem.reason
    # the station is left out whole (its information file said nothing wrong), the 259 others are kept
    assert len(batch.entities) == 259 and bad["station_id"] not in by_id(batch)
    assert not [o for o in batch.observations if o.entity_id.endswith(f":{bad['station_id']}")]


def test_a_file_of_nothing_but_bad_stations_is_refused_whole() -> None:
    document = json.loads((GBFS / "oslo-bysykkel-v2.2" / "station_status.json").read_bytes())
    for station in document["data"]["stations"]:
        station["num_docks_available"] = "eight"
    with pytest.raises(PayloadError, match=r"every record refused \(260\).*stations\[0\]\.num_docks_available"):
        parse(document)


# --- auto-discovery --------------------------------------------------------------------------------------

DISCOVERY_V2 = {
    "last_updated": 1666555407,
    "ttl": 10,
    "version": "2.2",
    "data": {
        "en": {
            "feeds": [
                {"name": "station_information", "url": "https://gbfs.example.vn/en/station_information.json"},
                {"name": "station_status", "url": "https://gbfs.example.vn/en/station_status.json"},
            ]
        },
        "vi": {
            "feeds": [
                {"name": "system_information", "url": "https://gbfs.example.vn/vi/system_information.json"},
                {"name": "station_information", "url": "https://gbfs.example.vn/vi/station_information.json"},
                {"name": "station_status", "url": "https://gbfs.example.vn/vi/station_status.json"},
            ]
        },
    },
}

DISCOVERY_V3 = {
    "last_updated": "2023-07-17T13:34:13+02:00",
    "ttl": 0,
    "version": "3.0",
    "data": {
        "feeds": [
            {"name": "station_information", "url": "station_information.json"},
            {"name": "station_status", "url": "station_status.json"},
            {"name": "vehicle_status", "url": "vehicle_status.json"},
        ]
    },
}


def serve(files: dict[str, bytes], requested: list[str]) -> httpx.Client:
    def handler(request: httpx.Request) -> httpx.Response:
        requested.append(request.url.path)
        body = files.get(request.url.path)
        return httpx.Response(200, content=body) if body is not None else httpx.Response(404)

    return httpx.Client(transport=httpx.MockTransport(handler))


def test_discovery_feeds_reads_both_layouts() -> None:
    assert discovery_feeds(DISCOVERY_V2)["station_status"] == "https://gbfs.example.vn/vi/station_status.json"
    assert discovery_feeds(DISCOVERY_V3)["vehicle_status"] == "vehicle_status.json"
    assert discovery_feeds(json.loads((GBFS / "spec-v3.0" / "station_status.json").read_bytes())) is None


def test_fetch_follows_a_v2_discovery_file_in_vietnamese() -> None:
    oslo = GBFS / "oslo-bysykkel-v2.2"
    requested: list[str] = []
    client = serve(
        {
            "/gbfs.json": json.dumps(DISCOVERY_V2).encode(),
            "/vi/station_information.json": (oslo / "station_information.json").read_bytes(),
            "/vi/station_status.json": (oslo / "station_status.json").read_bytes(),
        },
        requested,
    )
    reader = GbfsReader()
    payload = reader.fetch(client, FEED)
    assert requested == ["/gbfs.json", "/vi/station_information.json", "/vi/station_status.json"]
    batch = reader.parse(payload, FEED)
    station = by_id(batch)["2351"]
    assert station.name == "Sogn Studentby"
    assert station.attributes["bikes_available"] == 10


def test_fetch_follows_a_v3_discovery_file_with_relative_urls() -> None:
    v3 = GBFS / "spec-v3.0"
    requested: list[str] = []
    feed = FeedContext(name="bike-share", agency="danang-bike", sector="transport", url="https://gbfs.example.vn/v3/gbfs.json")
    client = serve(
        {
            "/v3/gbfs.json": json.dumps(DISCOVERY_V3).encode(),
            "/v3/station_information.json": (v3 / "station_information.json").read_bytes(),
            "/v3/station_status.json": (v3 / "station_status.json").read_bytes(),
            "/v3/vehicle_status.json": (v3 / "vehicle_status.json").read_bytes(),
        },
        requested,
    )
    reader = GbfsReader()
    batch = reader.parse(reader.fetch(client, feed), feed)
    kinds = {e.type for e in batch.entities}
    assert kinds == {"BikeStation", "BikeShareVehicle"}
    assert by_id(batch)["pga"].name == "Parking garage A"
    assert by_id(batch)["station1"].attributes["bikes_available"] == 1


def test_fetch_of_a_single_file_returns_it_unchanged() -> None:
    body = (GBFS / "spec-v3.0" / "station_status.json").read_bytes()
    feed = FeedContext(name="bike-share", agency="a", sector="transport", url="https://gbfs.example.vn/station_status.json")
    assert GbfsReader().fetch(serve({"/station_status.json": body}, []), feed) == body


def test_fetch_raises_when_a_listed_file_is_missing() -> None:
    client = serve({"/gbfs.json": json.dumps(DISCOVERY_V2).encode()}, [])
    with pytest.raises(httpx.HTTPStatusError):
        GbfsReader().fetch(client, FEED)


@pytest.mark.parametrize(
    "document",
    [
        DISCOVERY_V2,
        DISCOVERY_V3,
        {"last_updated": 1726275600, "ttl": 0, "version": "2.3", "data": {"vehicle_types": []}},
        {"last_updated": "2023-07-17T13:34:13+02:00", "ttl": 0, "version": "3.0", "data": {"plans": []}},
    ],
    ids=["gbfs.json-2.x", "gbfs.json-3.0", "vehicle_types", "system_pricing_plans"],
)
def test_gbfs_files_with_nothing_for_the_map_are_empty_batches(document: dict) -> None:
    batch = parse(document)
    assert batch.entities == [] and batch.observations == []


def test_check_mapping_refuses_keys_it_does_not_use() -> None:
    GbfsReader().check_mapping({})
    with pytest.raises(ValueError, match="no mapping"):
        GbfsReader().check_mapping({"id": "station_id"})
