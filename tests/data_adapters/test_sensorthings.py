"""Tests of the OGC SensorThings API reader on the published samples and on the demo city's station shape."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from data_adapters.base import FeedContext, PayloadError, get_reader
from data_adapters.sensorthings import MOLAR_MASS_G, SensorThingsReader, normalize_unit
from ioc.model import Batch

FIXTURES = Path(__file__).parents[1] / "fixtures" / "sensorthings"
FEED = FeedContext(name="air-stations", agency="danang-donre", sector="environment")


def parse(payload: bytes | dict[str, Any], feed: FeedContext = FEED) -> Batch:
    raw = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    return SensorThingsReader().parse(raw, feed)


def fixture(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def station(
    iot_id: int | str, lon: float, lat: float, datastreams: list[dict[str, Any]], **extra: Any
) -> dict[str, Any]:
    """A Thing as the demo feed's $expand=Locations,Datastreams($expand=ObservedProperty,Observations) has it."""
    return {
        "@iot.id": iot_id,
        "@iot.selfLink": f"http://sta.example/v1.1/Things({iot_id})",
        "name": f"Trạm quan trắc {iot_id}",
        "description": "Trạm quan trắc không khí tự động",
        "Locations": [
            {
                "@iot.id": iot_id,
                "name": "site",
                "encodingType": "application/geo+json",
                "location": {"type": "Point", "coordinates": [lon, lat]},
            }
        ],
        "Datastreams": datastreams,
        **extra,
    }


def datastream(
    iot_id: int, property_name: str, symbol: str, *results: tuple[str, Any], definition: str = ""
) -> dict[str, Any]:
    return {
        "@iot.id": iot_id,
        "name": f"{property_name} datastream",
        "unitOfMeasurement": {"name": symbol, "symbol": symbol, "definition": ""},
        "ObservedProperty": {"@iot.id": iot_id, "name": property_name, "definition": definition},
        "Observations": [
            {"@iot.id": f"{iot_id}-{n}", "phenomenonTime": when, "resultTime": when, "result": result}
            for n, (when, result) in enumerate(results)
        ],
    }


# --- the published samples -----------------------------------------------------------------------------


def test_spec_thing_is_a_station_without_its_owner() -> None:
    raw = fixture("ogc-18-088-thing.json")
    source = json.loads(raw)
    batch = parse(raw)
    assert len(batch.entities) == 1 and not batch.observations
    oven = batch.entities[0]
    assert oven.id == f"urn:ioc:danang:air-stations:{source['@iot.id']}"
    assert oven.name == source["name"]
    assert oven.type == "SensorStation"
    assert oven.attributes["color"] == source["properties"]["color"]
    # "owner" names a person: it never leaves the reader
    assert source["properties"]["owner"] not in json.dumps(batch.to_records())


def test_spec_location_is_placed_at_its_point() -> None:
    raw = fixture("ogc-18-088-location.json")
    batch = parse(raw)
    (site,) = batch.entities
    assert site.type == "SensorSite"
    assert site.location == tuple(json.loads(raw)["location"]["geometry"]["coordinates"])
    assert site.location == (-114.06, 51.05)
    assert site.name == "CCIT"


def test_spec_datastream_says_what_it_measures_and_covers() -> None:
    batch = parse(fixture("ogc-18-088-datastream.json"))
    (stream,) = batch.entities
    assert stream.id == "urn:ioc:danang:air-stations:1"
    assert stream.attributes["metric"] == "temperature"  # from its name "oven temperature"
    assert stream.attributes["unit"] == "°C"
    assert stream.geometry is not None and stream.geometry["type"] == "Polygon"
    assert stream.location == (100.5, 0.5)  # the centre of its observedArea
    # the end of its phenomenonTime interval is its latest observation
    assert stream.observed_at == datetime(2015, 5, 11, 15, 30, tzinfo=UTC)


def test_spec_observation_is_read_in_utc() -> None:
    batch = parse(fixture("ogc-18-088-observation.json"))
    (observation,) = batch.observations
    assert observation.value == 70.4
    assert observation.time == datetime(2014, 12, 31, 3, 59, 59, tzinfo=UTC)  # 11:59:59+08:00
    assert observation.time.tzinfo is not None
    (stream,) = batch.entities
    assert stream.attributes[observation.metric] == 70.4
    assert stream.observed_at == observation.time


def test_psnc_datastream_with_a_hash_for_a_name() -> None:
    raw = fixture("psnc-datastream.json")
    (stream,) = parse(raw).entities
    assert stream.id == f"urn:ioc:danang:air-stations:{json.loads(raw)['@iot.id']}"
    assert stream.type == "SensorDatastream"
    assert stream.attributes["metric"] == "value"  # a hash name and no ObservedProperty: no better name
    assert "unit" not in stream.attributes  # "Unitless"


def test_psnc_object_results_become_attributes_of_the_latest() -> None:
    raw = fixture("psnc-datastream-observations.json")
    source = json.loads(raw)
    batch = parse(raw)
    (stream,) = batch.entities
    assert batch.observations == []  # every result is an object: nothing scalar to chart
    latest = max(source["value"], key=lambda obs: obs["phenomenonTime"])
    assert stream.attributes["result_scientific_name"] == latest["result"]["scientificName"]
    assert stream.attributes["result_individual_count"] == latest["result"]["individualCount"]
    assert stream.observed_at == datetime(2024, 3, 30, 11, 35, tzinfo=UTC)


def test_datastream_named_in_the_feed_url_names_the_entity() -> None:
    feed = FeedContext(
        name="jellyfish", agency="psnc", sector="environment",
        url="https://sta.example/v1.0/Datastreams('abc123')/Observations",
    )
    (stream,) = parse(fixture("psnc-datastream-observations.json"), feed).entities
    assert stream.id == "urn:ioc:danang:jellyfish:abc123"


@pytest.mark.parametrize("name", sorted(path.name for path in FIXTURES.glob("*.json")))
def test_every_sample_through_the_registry(name: str) -> None:
    batch = get_reader("sensorthings").parse(fixture(name), FeedContext.for_test("sensorthings"))
    assert batch.entities
    assert all(entity.id.startswith("urn:ioc:danang:test-sensorthings:") for entity in batch.entities)


# --- the demo city's shape -----------------------------------------------------------------------------


def demo_collection() -> dict[str, Any]:
    return {
        "@iot.count": 2,
        "value": [
            station(
                12, 108.2208, 16.0678,
                [
                    # the server was asked for the latest first, but the reader must not rely on it
                    datastream(
                        121, "PM2.5", "µg/m³",
                        ("2024-05-01T00:00:00Z", 31.0), ("2024-05-01T01:00:00Z", 58.5),
                    ),
                    datastream(122, "PM10", "ug/m3", ("2024-05-01T01:00:00Z", 80)),
                    datastream(123, "Nitrogen dioxide", "ppb", ("2024-05-01T01:00:00Z", 20)),
                    datastream(124, "Carbon monoxide", "mg/m3", ("2024-05-01T01:00:00Z", 1.2)),
                    datastream(125, "Nhiệt độ", "°C", ("2024-05-01T01:00:00+07:00", 29.5)),
                    datastream(126, "Relative humidity", "%", ("2024-05-01T01:00:00Z", 81)),
                ],
            ),
            station(13, 108.1500, 16.0700, []),
        ],
    }


def test_demo_stations_are_air_quality_stations_with_latest_values() -> None:
    batch = parse(demo_collection())
    hai_chau = next(entity for entity in batch.entities if entity.id == "urn:ioc:danang:air-stations:12")
    assert hai_chau.type == "AirQualityStation"
    assert hai_chau.location == (108.2208, 16.0678)
    assert hai_chau.name == "Trạm quan trắc 12"
    assert hai_chau.attributes["pm25"] == 58.5
    assert hai_chau.observed_at == datetime(2024, 5, 1, 1, 0, tzinfo=UTC)
    by_metric = {obs.metric: obs for obs in batch.observations}
    assert set(by_metric) == {"pm25", "pm10", "no2", "co", "temperature", "humidity"}
    assert (by_metric["pm25"].value, by_metric["pm25"].unit) == (58.5, "µg/m³")
    assert (by_metric["pm10"].value, by_metric["pm10"].unit) == (80.0, "µg/m³")
    assert by_metric["no2"].unit == "µg/m³"
    assert by_metric["no2"].value == pytest.approx(20 * MOLAR_MASS_G["no2"] / 24.45)
    assert (by_metric["co"].value, by_metric["co"].unit) == (pytest.approx(1200.0), "µg/m³")
    assert by_metric["temperature"].time == datetime(2024, 4, 30, 18, 0, tzinfo=UTC)
    assert by_metric["humidity"].unit == "%"
    for obs in batch.observations:
        assert hai_chau.attributes[obs.metric] == obs.value
        assert obs.time.utcoffset() is not None


def test_station_without_datastreams_is_still_placed() -> None:
    batch = parse(demo_collection())
    empty = next(entity for entity in batch.entities if entity.id.endswith(":13"))
    assert empty.type == "SensorStation"
    assert empty.location == (108.15, 16.07)


def test_mapping_sets_the_entity_type_and_pins_metric_names() -> None:
    feed = FeedContext(
        name="air-stations", agency="danang-donre", sector="environment",
        mapping={"entity_type": "AirQualityStation", "metrics": {"Bụi lơ lửng tổng số": "tsp"}},
    )
    document = {"value": [station(1, 108.2, 16.0, [datastream(9, "Bụi lơ lửng tổng số", "µg/m³", ("2024-05-01T01:00:00Z", 140))])]}
    batch = parse(document, feed)
    assert batch.entities[0].type == "AirQualityStation"
    assert [obs.metric for obs in batch.observations] == ["tsp"]


def test_eea_pollutant_definitions_name_the_metric() -> None:
    stream = datastream(
        1, "Feinstaub", "ug.m-3", ("2024-05-01T01:00:00Z", 12),
        definition="http://dd.eionet.europa.eu/vocabulary/aq/pollutant/6001",
    )
    batch = parse({"value": [station(1, 108.2, 16.0, [stream])]})
    assert [(obs.metric, obs.unit) for obs in batch.observations] == [("pm25", "µg/m³")]


def test_two_datastreams_of_one_metric_on_one_thing_stay_apart() -> None:
    streams = [
        datastream(1, "PM2.5", "µg/m³", ("2024-05-01T01:00:00Z", 20)),
        datastream(2, "PM2.5", "µg/m³", ("2024-05-01T01:00:00Z", 24)),
    ]
    batch = parse({"value": [station(1, 108.2, 16.0, streams)]})
    assert sorted(obs.metric for obs in batch.observations) == ["pm25", "pm25_2"]
    assert batch.entities[0].attributes["pm25_2"] == 24


def test_observations_of_a_datastream_are_all_kept() -> None:
    observations = [
        {"@iot.id": n, "phenomenonTime": f"2024-05-01T0{n}:00:00Z", "result": float(n)} for n in (3, 1, 2)
    ]
    batch = parse({"@iot.count": 3, "value": observations})
    assert sorted(obs.value for obs in batch.observations) == [1.0, 2.0, 3.0]
    assert batch.entities[0].attributes["result"] == 3.0


@pytest.mark.parametrize(
    ("metric", "unit", "value", "expected_unit", "expected"),
    [
        ("water_level", {"symbol": "m"}, 1.25, "cm", 125.0),
        ("water_level", {"symbol": "mm"}, 50.0, "cm", 5.0),
        ("rainfall", {"symbol": "mm"}, 50.0, "mm", 50.0),
        ("temperature", {"symbol": "K"}, 300.15, "°C", 27.0),
        ("temperature", {"name": "degree Celsius"}, 21.0, "°C", 21.0),
        ("wind_speed", {"symbol": "m/s"}, 10.0, "km/h", 36.0),
        ("o3", {"symbol": "ppm"}, 0.05, "µg/m³", 0.05 * 1000 * MOLAR_MASS_G["o3"] / 24.45),
        ("voc", {"symbol": "ppb"}, 7.0, "ppb", 7.0),
        ("pressure", {"symbol": "hPa"}, 1008.0, "hPa", 1008.0),
    ],
)
def test_units_are_normalized(
    metric: str, unit: dict[str, str], value: float, expected_unit: str, expected: float
) -> None:
    normalized, convert = normalize_unit(metric, unit)
    assert normalized == expected_unit
    assert convert(value) == pytest.approx(expected)


# --- the other entity types of the standard ------------------------------------------------------------


def test_feature_of_interest_is_a_site() -> None:
    feature = {
        "@iot.id": 7,
        "@iot.selfLink": "http://sta.example/v1.1/FeaturesOfInterest(7)",
        "name": "Cửa sông Hàn",
        "description": "Điểm quan trắc nước mặt",
        "encodingType": "application/vnd.geo+json",
        "feature": {"type": "Feature", "geometry": {"type": "Point", "coordinates": [108.2262, 16.0890]}},
    }
    (site,) = parse(feature).entities
    assert (site.type, site.location, site.name) == ("SensorSite", (108.2262, 16.089), "Cửa sông Hàn")


def test_sensors_and_observed_properties_are_catalogue_entries() -> None:
    sensor = {"@iot.id": "s1", "name": "PMS5003", "description": "Laser particle counter",
              "encodingType": "application/pdf", "metadata": "http://sta.example/pms5003.pdf"}
    (entry,) = parse({"value": [sensor]}).entities
    assert (entry.type, entry.location, entry.attributes["metadata"]) == ("Sensor", None, sensor["metadata"])
    # raw line breaks inside a string, as the spec's own ObservedProperty example has them
    raw = b'{"@iot.id": 3, "name": "Relative humidity", "definition": "http://example.org/rh",\n' \
          b' "description": "Water vapour in air,\n   as a share of saturation"}'
    (observed,) = parse(raw).entities
    assert observed.type == "ObservedProperty"
    assert observed.attributes["metric"] == "humidity"
    assert observed.attributes["description"] == "Water vapour in air, as a share of saturation"


def test_historical_locations_alone_are_refused_saying_what_they_are() -> None:
    document = {"value": [
        {"@iot.id": 1, "Thing@iot.navigationLink": "HistoricalLocations(1)/Thing", "time": "2024-05-01T08:00:00+07:00"},
    ]}
    with pytest.raises(PayloadError, match=r"HistoricalLocations \(1\) say when a Thing was where"):
        parse(document)


def test_multi_datastream_results_go_one_metric_per_position() -> None:
    multi = {
        "@iot.id": 40,
        "@iot.selfLink": "http://sta.example/v1.1/MultiDatastreams(40)",
        "name": "Trạm khí tượng Sơn Trà",
        "unitOfMeasurements": [{"symbol": "°C"}, {"symbol": "%"}, {"symbol": "m/s"}],
        "ObservedProperties": [{"name": "Air temperature"}, {"name": "Relative humidity"}, {"name": "Wind speed"}],
        "Observations": [{"phenomenonTime": "2024-05-01T01:00:00Z", "result": [30.5, 74, 5]}],
    }
    batch = parse(multi)
    (stream,) = batch.entities
    assert stream.attributes["metric"] == "temperature,humidity,wind_speed"
    values = {obs.metric: (obs.value, obs.unit) for obs in batch.observations}
    assert values == {"temperature": (30.5, "°C"), "humidity": (74.0, "%"), "wind_speed": (18.0, "km/h")}
    assert stream.attributes["wind_speed"] == 18.0


def test_thing_with_a_multi_datastream_is_a_weather_station() -> None:
    multi = {
        "@iot.id": 41, "name": "met",
        "unitOfMeasurements": [{"symbol": "°C"}, {"symbol": "%"}],
        "ObservedProperties": [{"name": "Temperature"}, {"name": "Humidity"}],
        "Observations": [{"phenomenonTime": "2024-05-01T01:00:00Z", "result": [29.0, 80]}],
    }
    batch = parse({"value": [station(5, 108.25, 16.1, [], MultiDatastreams=[multi])]})
    assert batch.entities[0].type == "WeatherStation"
    assert batch.entities[0].attributes["humidity"] == 80.0


# --- paging --------------------------------------------------------------------------------------------


def paged_transport(pages: dict[str, dict[str, Any]], visits: list[str]) -> httpx.MockTransport:
    def handler(request: httpx.Request) -> httpx.Response:
        visits.append(str(request.url))
        return httpx.Response(200, json=pages[request.url.params.get("$skip", "0")])

    return httpx.MockTransport(handler)


def three_pages() -> dict[str, dict[str, Any]]:
    stations = [station(n, 108.2, 16.0 + n / 100, []) for n in range(5)]
    return {
        "0": {"@iot.count": 5, "value": stations[:2], "@iot.nextLink": "http://sta.example/v1.1/Things?$skip=2"},
        # a relative link, as some servers write them
        "2": {"value": stations[2:4], "@iot.nextLink": "Things?$skip=4"},
        "4": {"value": stations[4:]},
    }


def test_fetch_follows_next_links_into_one_collection() -> None:
    visits: list[str] = []
    feed = FeedContext(name="air-stations", agency="a", sector="environment", url="http://sta.example/v1.1/Things")
    with httpx.Client(transport=paged_transport(three_pages(), visits)) as client:
        payload = SensorThingsReader().fetch(client, feed)
    assert len(visits) == 3
    document = json.loads(payload)
    assert "@iot.nextLink" not in document
    assert document["@iot.count"] == 5
    batch = SensorThingsReader().parse(payload, feed)
    assert sorted(entity.id.rsplit(":", 1)[1] for entity in batch.entities) == ["0", "1", "2", "3", "4"]


def test_fetch_reads_at_most_max_pages() -> None:
    visits: list[str] = []
    feed = FeedContext(
        name="air-stations", agency="a", sector="environment", url="http://sta.example/v1.1/Things",
        mapping={"max_pages": 2},
    )
    with httpx.Client(transport=paged_transport(three_pages(), visits)) as client:
        payload = SensorThingsReader().fetch(client, feed)
    assert len(visits) == 2
    assert len(json.loads(payload)["value"]) == 4


def test_fetch_stops_when_a_page_links_to_itself() -> None:
    visits: list[str] = []
    looping = {"0": {"value": [station(1, 108.2, 16.0, [])], "@iot.nextLink": "http://sta.example/v1.1/Things"}}
    feed = FeedContext(name="air-stations", agency="a", sector="environment", url="http://sta.example/v1.1/Things")
    with httpx.Client(transport=paged_transport(looping, visits)) as client:
        payload = SensorThingsReader().fetch(client, feed)
    assert len(visits) == 1
    assert len(json.loads(payload)["value"]) == 1


def test_fetch_refuses_a_page_that_is_not_a_collection() -> None:
    pages = three_pages()
    pages["2"] = {"error": "database down"}
    feed = FeedContext(name="air-stations", agency="a", sector="environment", url="http://sta.example/v1.1/Things")
    with httpx.Client(transport=paged_transport(pages, [])) as client, pytest.raises(PayloadError, match="page 2"):
        SensorThingsReader().fetch(client, feed)


def test_check_mapping_names_the_bad_field() -> None:
    reader = SensorThingsReader()
    reader.check_mapping({"entity_type": "AirQualityStation", "max_pages": 10, "metrics": {"Bụi PM2.5": "pm25"}})
    with pytest.raises(ValueError, match="max_pages"):
        reader.check_mapping({"max_pages": 0})
    with pytest.raises(ValueError, match="metrics"):
        reader.check_mapping({"metrics": ["pm25"]})


# --- refused and empty payloads ------------------------------------------------------------------------


def refused_alone(document: dict[str, Any], index: int, reason: str) -> Batch:
    """The batch of `document`, checked to hold every member but `index`, refused with `reason`."""
    batch = parse(document)
    (problem,) = batch.problems
    assert (problem.where, problem.refused) == (f"value[{index}]", True)
    assert re.match(reason, problem.reason), problem.reason
    kept = [member["@iot.id"] for n, member in enumerate(document["value"]) if n != index]
    assert [entity.id.rsplit(":", 1)[1] for entity in batch.entities] == [str(thing) for thing in kept]
    assert all(o.entity_id in {e.id for e in batch.entities} for o in batch.observations)
    return batch


def test_string_coordinate_refuses_its_thing_with_its_path() -> None:
    document = demo_collection()
    document["value"][1]["Locations"][0]["location"]["coordinates"] = ["108.15", "north"]
    refused_alone(document, 1, r"Things\[1\]\.Locations\[0\]\.location")


def test_location_that_is_not_geojson_refuses_its_thing() -> None:
    document = demo_collection()
    document["value"][0]["Locations"][0]["location"] = "16.0678,108.2208"
    refused_alone(document, 0, r"Things\[0\]\.Locations\[0\]\.location: expected a GeoJSON")


@pytest.mark.parametrize(
    ("document", "message"),
    [
        (42, "got a JSON number"),
        ([{"@iot.id": 1}], "got a JSON array"),
        ({"value": 5}, "value: expected an array"),
        ({"value": ["Thing 1"]}, r"value\[0\]: expected a SensorThings entity"),
        ({"@iot.count": "many", "value": []}, "@iot.count"),
        ({"value": [{"@iot.id": 1, "colour": "red"}]}, r"value\[0\]: not a SensorThings entity"),
        ({"value": [{"@iot.id": 1, "@iot.selfLink": "http://x/v1.1/HistoricalLocations(1)"}]}, r"\.time"),
        ({"value": [{"@iot.id": 1, "phenomenonTime": "yesterday", "result": 3}]}, "phenomenonTime"),
        ({"result": 1}, "phenomenonTime"),
        ({"phenomenonTime": "2024-05-01T01:00:00Z", "result": float("nan")}, "not a finite number"),
        ({"phenomenonTime": "2024-05-01T01:00:00Z", "result": "Infinity"}, "not a finite number"),
    ],
)
def test_wrong_documents_are_refused(document: Any, message: str) -> None:
    with pytest.raises(PayloadError, match=message):
        parse(json.dumps(document).encode())


def test_one_bad_observation_refuses_its_thing_and_leaves_none_of_its_readings() -> None:
    document = demo_collection()
    del document["value"][0]["Datastreams"][2]["Observations"][0]["result"]
    refused_alone(document, 0, r"Things\[0\]\.Datastreams\[2\]\.Observations\[0\]\.result")


@pytest.mark.parametrize("document", [{"value": []}, {"@iot.count": 0, "value": []}])
def test_empty_collection_is_an_empty_batch(document: dict[str, Any]) -> None:
    batch = parse(document)
    assert batch.entities == [] and batch.observations == [] and batch.events == []


def test_observations_with_their_station_expanded_are_placed_at_the_station() -> None:
    from data_adapters.base import FeedContext, get_reader

    payload = (FIXTURES / "observations-expanded-thing.json").read_bytes()
    batch = get_reader("sensorthings").parse(payload, FeedContext(name="air", agency="a", sector="environment"))
    assert len(batch.entities) == 3 and len(batch.observations) == 6
    assert all(e.location is not None for e in batch.entities)
    assert {e.type for e in batch.entities} == {"AirQualityStation"}
    assert batch.entities[0].name.startswith("Da Nang air quality station")
    assert {(o.metric, o.unit) for o in batch.observations} == {("pm25", "µg/m³")}


@pytest.mark.parametrize("pages", ["one page", "three pages"])
def test_a_fetched_collection_is_parsed_once(pages: str, monkeypatch: pytest.MonkeyPatch) -> None:
    # fetch parses each page to look for a next one; parse reads that document instead of the bytes again
    import data_adapters.sensorthings as sensorthings
    from data_adapters.base import load_json

    loads: list[int] = []

    def counting_load(payload: bytes | str) -> Any:
        loads.append(len(payload))
        return load_json(payload)

    monkeypatch.setattr(sensorthings, "load_json", counting_load)
    served = three_pages()
    if pages == "one page":
        served = {"0": {"value": [station(n, 108.2, 16.0 + n / 100, []) for n in range(5)]}}
    feed = FeedContext(name="air-stations", agency="a", sector="environment", url="http://sta.example/v1.1/Things")
    with httpx.Client(transport=paged_transport(served, [])) as client:
        reader = SensorThingsReader()
        batch = reader.parse(reader.fetch(client, feed), feed)
    assert len(loads) == len(served)
    assert sorted(entity.id.rsplit(":", 1)[1] for entity in batch.entities) == ["0", "1", "2", "3", "4"]


def _observation_of(datastream_id: Any, thing_id: int, value: float) -> dict[str, Any]:
    thing = station(thing_id, 108.2, 16.0, [])
    return {"@iot.id": f"{datastream_id}-{value}", "phenomenonTime": "2026-11-27T01:00:00Z", "result": value,
            "Datastream": {"@iot.id": datastream_id, "name": "PM2.5", "unitOfMeasurement": {"symbol": "µg/m³"},
                           "Thing": {"@iot.id": thing_id, "Locations": thing["Locations"]}}}


def test_observations_of_one_datastream_go_to_its_thing_and_a_boolean_id_is_still_refused() -> None:
    # a collection's Datastreams are read once each and then looked up by @iot.id; a lookup must not let
    # through an id the reader refuses (true equals 1 in Python)
    batch = parse({"value": [_observation_of(1, 7, 10.0), _observation_of(2, 8, 20.0), _observation_of(1, 7, 30.0)]})
    assert [(o.entity_id.rsplit(":", 1)[1], o.value) for o in batch.observations] == [("7", 10.0), ("8", 20.0),
                                                                                     ("7", 30.0)]
    batch = parse({"value": [_observation_of(1, 7, 10.0), _observation_of(True, 7, 30.0)]})
    assert [o.value for o in batch.observations] == [10.0]
    (problem,) = batch.refused
    assert problem.where == "value[1]" and "@iot.id" in problem.reason
