"""Tests of the GeoJSON reader: an api.weather.gov observation, Da Nang's boundaries and incident collections."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
import shapely.geometry

from data_adapters.base import FeedContext, PayloadError, get_reader
from data_adapters.geojson import GeoJsonReader, read_geometry
from ioc.model import Batch, Severity
from ioc.vocabulary import convert as convert_unit
from ioc.vocabulary import snake_case
from tests.data_adapters import as_stored

FIXTURES = Path(__file__).parents[1] / "fixtures" / "geojson"
NWS = FIXTURES / "nws-observation-KBHM.json"
DISTRICTS = FIXTURES / "danang-districts.geojson"
HOANG_SA = FIXTURES / "danang-hoang-sa.geojson"
INCIDENTS = FIXTURES / "danang-traffic-incidents.geojson"
ALL_FILES = sorted(FIXTURES.iterdir())


def feed(**mapping: object) -> FeedContext:
    return FeedContext(name="incidents", agency="danang-csgt", sector="transport", mapping=dict(mapping))


def parse(payload: bytes | dict, context: FeedContext | None = None) -> Batch:
    raw = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    return GeoJsonReader().parse(raw, context or feed())


def reading(batch: Batch, metric: str):
    return next(o for o in batch.observations if o.metric == metric)


@pytest.mark.parametrize("path", ALL_FILES, ids=lambda p: p.name)
def test_every_sample_parses_as_ioc_adapters_test_does(path: Path) -> None:
    context = FeedContext.for_test("geojson")
    batch = get_reader("geojson").parse(path.read_bytes(), context)
    document = json.loads(path.read_bytes())
    assert len(batch.entities) == len(document["features"])
    for entity in batch.entities:
        assert entity.id.startswith("urn:ioc:danang:test-geojson:")
        assert entity.type == "Incident"
        assert entity.location is not None
        assert entity.observed_at is None or entity.observed_at.utcoffset().total_seconds() == 0
    for obs in batch.observations:
        assert obs.time.utcoffset().total_seconds() == 0
    json.dumps(batch.to_records())


# --- api.weather.gov observation ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def weather() -> Batch:
    context = FeedContext(
        name="weather",
        agency="danang-hydromet",
        sector="environment",
        mapping={"id": "station", "entity_type": "WeatherStation"},
    )
    return parse(NWS.read_bytes(), context)


def test_weather_station_is_located_and_named_by_the_mapped_id(weather: Batch) -> None:
    (station,) = weather.entities
    assert station.id == "urn:ioc:danang:weather:https://api.weather.gov/stations/KBHM"
    assert station.type == "WeatherStation"
    assert station.location == (-86.75, 33.57)
    assert station.geometry is None
    assert station.observed_at == datetime(2024, 2, 20, 15, 53, tzinfo=UTC)
    assert station.attributes["text_description"] == "Mostly Clear"


def test_weather_quantities_become_observations_in_city_units(weather: Batch) -> None:
    temperature = reading(weather, "temperature")
    assert (temperature.value, temperature.unit) == (13.9, "°C")
    assert temperature.time == datetime(2024, 2, 20, 15, 53, tzinfo=UTC)
    assert (reading(weather, "wind_speed").value, reading(weather, "wind_speed").unit) == (0.0, "km/h")
    humidity = reading(weather, "relative_humidity")
    assert humidity.unit == "%" and humidity.value == pytest.approx(25.431914614748)
    pressure = reading(weather, "barometric_pressure")
    assert (pressure.value, pressure.unit) == (1026.1, "hPa")
    assert reading(weather, "wind_direction").unit == "°"
    (station,) = weather.entities
    assert station.attributes["temperature"] == 13.9


def test_weather_nulls_are_not_readings(weather: Batch) -> None:
    metrics = {o.metric for o in weather.observations}
    assert "wind_gust" not in metrics and "heat_index" not in metrics
    assert "station" not in metrics  # the mapped id is not a reading


def test_without_a_mapping_the_feature_id_is_the_id() -> None:
    batch = parse(NWS.read_bytes())
    (entity,) = batch.entities
    assert entity.attributes["source_id"] == "https://api.weather.gov/stations/KBHM/observations/2024-02-20T15:53:00+00:00"


# --- Da Nang boundaries: polygons ---------------------------------------------------------------------------


def test_district_polygons_keep_their_geometry_and_a_point_inside() -> None:
    batch = parse(DISTRICTS.read_bytes(), feed(entity_type="AdministrativeArea"))
    assert len(batch.entities) == 7
    districts = {e.attributes["source_id"]: e for e in batch.entities}
    hai_chau = districts["492"]
    assert hai_chau.id == "urn:ioc:danang:incidents:492"
    assert hai_chau.name == "Quận Hải Châu"
    assert hai_chau.type == "AdministrativeArea"
    assert hai_chau.attributes["name_ascii"] == "Hai Chau"
    for district in batch.entities:
        assert district.geometry is not None and district.geometry["type"] == "MultiPolygon"
        assert shapely.geometry.shape(district.geometry).contains(shapely.geometry.Point(district.location))
    assert batch.observations == []


def test_hoang_sa_is_offshore() -> None:
    (district,) = parse(HOANG_SA.read_bytes()).entities
    assert district.name == "Huyện Hoàng Sa"
    assert district.location[0] > 111  # the Paracel Islands, far east of the mainland city


# --- incidents ----------------------------------------------------------------------------------------------


def test_incidents_as_events_on_the_cap_scale() -> None:
    batch = parse(INCIDENTS.read_bytes(), feed(id="incident_id", time="reported_at", **{"as": "event"}))
    assert batch.entities == [] and batch.observations == []
    events = {e.id: e for e in batch.events}
    crash = events["urn:ioc:danang:incidents:TNGT-2024-0412"]
    assert crash.type == "accident"
    assert crash.headline == "Va chạm giao thông đầu cầu Rồng"
    assert crash.severity is Severity.SEVERE
    assert crash.location == (108.2272, 16.0612) and crash.area is None
    assert crash.onset == datetime(2024, 9, 14, 0, 42, tzinfo=UTC)  # 07:42+07:00
    assert crash.expires == datetime(2024, 9, 14, 2, 0, tzinfo=UTC)
    flood = events["urn:ioc:danang:incidents:NGAP-2024-0088"]
    assert flood.severity is Severity.MODERATE
    assert flood.area["type"] == "LineString"
    closure = events["urn:ioc:danang:incidents:PHONG-TOA-0007"]
    assert closure.severity is Severity.MINOR
    assert closure.onset == datetime.fromtimestamp(1726277400, UTC)
    assert shapely.geometry.shape(closure.area).contains(shapely.geometry.Point(closure.location))


def test_incidents_drop_the_reporter() -> None:
    for mode in ("entity", "event"):
        batch = parse(INCIDENTS.read_bytes(), feed(id="incident_id", **{"as": mode}))
        text = json.dumps(as_stored(batch).to_records(), ensure_ascii=False)
        assert "Nguyễn Văn An" not in text
        assert "0905123456" not in text and "0905 123 456" not in text
        assert "reporter" not in text


def test_incidents_as_entities_with_numeric_properties_as_readings() -> None:
    batch = parse(INCIDENTS.read_bytes(), feed(id="incident_id", time="reported_at", units={"water_depth_cm": "cm"}))
    assert [e.attributes["source_id"] for e in batch.entities] == ["TNGT-2024-0412", "NGAP-2024-0088", "PHONG-TOA-0007"]
    depth = reading(batch, "water_depth_cm")
    assert (depth.value, depth.unit) == (35.0, "cm")
    assert depth.time == datetime(2024, 9, 14, 1, 5, tzinfo=UTC)
    assert reading(batch, "lanes_closed").value == 2.0
    assert batch.entities[0].attributes["category"] == "accident"


def test_a_single_feature_is_read_too() -> None:
    feature = json.loads(INCIDENTS.read_bytes())["features"][0]
    (event,) = parse(feature, feed(id="incident_id", **{"as": "event"})).events
    assert event.headline == "Va chạm giao thông đầu cầu Rồng"


def test_epoch_milliseconds_are_read_as_milliseconds() -> None:
    quake = {
        "type": "Feature",
        "id": "us7000abcd",
        "geometry": {"type": "Point", "coordinates": [108.1, 15.9, 10.0]},
        "properties": {"mag": 4.1, "time": 1726277400123, "title": "M 4.1 - Quảng Nam"},
    }
    batch = parse(quake)
    (entity,) = batch.entities
    assert entity.observed_at == datetime(2024, 9, 14, 1, 30, 0, 123000, tzinfo=UTC)
    assert entity.name == "M 4.1 - Quảng Nam"
    assert "time" not in {o.metric for o in batch.observations}


def test_null_geometry_is_an_unlocated_entity() -> None:
    batch = parse({"type": "FeatureCollection", "features": [{"type": "Feature", "id": 5, "geometry": None, "properties": None}]})
    (entity,) = batch.entities
    assert entity.location is None and entity.geometry is None
    assert entity.id == "urn:ioc:danang:incidents:5"


# --- helpers -------------------------------------------------------------------------------------------------


def test_read_geometry_rules() -> None:
    assert read_geometry({"type": "Point", "coordinates": [108.2, 16.0]}, field_name="g") == ((108.2, 16.0), None)
    location, geometry = read_geometry(
        {"type": "MultiPoint", "coordinates": [[108.2, 16.0], [108.3, 16.1]]}, field_name="g"
    )
    assert geometry["type"] == "MultiPoint" and location in ((108.2, 16.0), (108.3, 16.1))
    assert read_geometry(None, field_name="g") == (None, None)


def test_convert_unit_and_snake_case() -> None:
    assert convert_unit(10.0, "wmoUnit:m_s-1") == (36.0, "km/h")
    assert convert_unit(50.0, "http://codes.wmo.int/common/unit/degF") == (10.0, "°C")
    assert convert_unit(3.0, "wmoUnit:furlong") == (3.0, "furlong")
    assert snake_case("barometricPressure") == "barometric_pressure"
    assert snake_case("stationID") == "station_id"


# --- refused payloads ---------------------------------------------------------------------------------------


def test_empty_collection_is_an_empty_batch() -> None:
    batch = parse({"type": "FeatureCollection", "features": []})
    assert batch.entities == [] and batch.events == [] and batch.observations == []


def collection(*features: dict) -> dict:
    return {"type": "FeatureCollection", "features": list(features)}


def point_feature(coordinates: object, **properties: object) -> dict:
    return {"type": "Feature", "geometry": {"type": "Point", "coordinates": coordinates}, "properties": {"id": "x", **properties}}


@pytest.mark.parametrize(
    ("document", "where"),
    [
        ([1, 2], "expected a GeoJSON FeatureCollection or Feature"),
        ({"type": "Topology", "objects": {}}, "type: expected 'FeatureCollection' or 'Feature'"),
        ({"type": "FeatureCollection", "features": 5}, "features: expected an array"),
        (collection({"type": "Point", "coordinates": [1, 2]}), r"features\[0\]: expected a GeoJSON Feature"),
        (collection(point_feature(["108.2", "16.0"])), r"features\[0\]\.geometry\.coordinates: expected numbers"),
        (collection(point_feature([108.2, 96.0])), "not a WGS84"),
        (collection(point_feature(108.2)), r"features\[0\]\.geometry\.coordinates: expected a \[lon, lat\]"),
        (
            collection({"type": "Feature", "geometry": {"type": "Polygon", "coordinates": [[108.2, 16.0]]}, "properties": {"id": 1}}),
            r"coordinates\[0\]\[0\]: expected a \[lon, lat\]",
        ),
        (
            collection({"type": "Feature", "geometry": {"type": "Circle", "radius": 3}, "properties": {"id": 1}}),
            "not a GeoJSON geometry type",
        ),
        (collection({"type": "Feature", "geometry": None, "properties": [1]}), r"features\[0\]\.properties"),
        (collection({"type": "Feature", "geometry": None, "properties": {}}), r"features\[0\]: no 'id' property"),
        (collection({"type": "Feature", "geometry": None, "properties": {"id": {"a": 1}}}), r"properties\.id"),
        (collection(point_feature([108.2, 16.0], time="sáng nay")), r"properties\.time"),
        (
            collection(point_feature([108.2, 16.0], temperature={"unitCode": "wmoUnit:degC", "value": "hot"})),
            r"properties\.temperature\.value",
        ),
    ],
)
def test_wrong_documents_are_refused_with_the_member_named(document: object, where: str) -> None:
    with pytest.raises(PayloadError, match=where):
        parse(json.dumps(document).encode())


def test_one_bad_feature_is_refused_and_the_others_kept() -> None:
    document = json.loads(DISTRICTS.read_bytes())
    document["features"][4]["geometry"]["coordinates"][0][0][3] = [108.2, "16.0"]
    batch = parse(document)
    assert len(batch.entities) == len(document["features"]) - 1
    (problem,) = batch.problems
    assert problem.refused and problem.where == "features[4]" and "features[4].geometry" in problem.reason


def test_check_mapping() -> None:
    reader = GeoJsonReader()
    reader.check_mapping({"id": "incident_id", "as": "event", "units": {"depth": "cm"}})
    with pytest.raises(ValueError, match="as"):
        reader.check_mapping({"as": "alert"})
    with pytest.raises(ValueError, match="unknown key"):
        reader.check_mapping({"idd": "incident_id"})
    with pytest.raises(ValueError, match="units"):
        reader.check_mapping({"units": ["cm"]})


def test_units_of_plain_numbers_are_normalized_too() -> None:
    sensor = point_feature([108.2475, 16.0544], wind=5.0, level=12)
    batch = parse(collection(sensor), feed(units={"wind": "m/s", "level": "cm"}))
    assert (reading(batch, "wind").value, reading(batch, "wind").unit) == (18.0, "km/h")
    assert (reading(batch, "level").value, reading(batch, "level").unit) == (12.0, "cm")
