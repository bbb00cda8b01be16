"""Tests of the NGSI-LD reader on the FIWARE Smart Data Models examples and a Da Nang mix of models."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
import shapely.geometry

from data_adapters.base import FeedContext, PayloadError, get_reader
from data_adapters.ngsi_ld import NgsiLdReader, in_unit
from ioc.model import Batch, Severity
from tests.data_adapters import as_stored

SDM = Path(__file__).parents[1] / "fixtures" / "fiware-sdm"
ALL_FILES = sorted(p for p in SDM.rglob("*") if p.suffix in (".json", ".jsonld"))
MIXED = SDM / "danang-mixed-entities.jsonld"
FEED = FeedContext(name="smart-city", agency="danang-dict", sector="environment")


def parse(payload: bytes | dict | list, feed: FeedContext = FEED) -> Batch:
    raw = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    return NgsiLdReader().parse(raw, feed)


def sample(model: str, form: str) -> Batch:
    name = "example-normalized.jsonld" if form == "normalized" else "example.json"
    return parse((SDM / model / name).read_bytes())


def reading(batch: Batch, metric: str, entity_id: str | None = None):
    return next(o for o in batch.observations if o.metric == metric and entity_id in (None, o.entity_id))


def is_utc(moment: datetime | None) -> bool:
    return moment is not None and moment.utcoffset() is not None and moment.utcoffset().total_seconds() == 0


@pytest.mark.parametrize("path", ALL_FILES, ids=lambda p: str(p.relative_to(SDM)))
def test_every_sample_parses_as_ioc_adapters_test_does(path: Path) -> None:
    feed = FeedContext.for_test("ngsi-ld")
    batch = get_reader("ngsi-ld").parse(path.read_bytes(), feed)
    document = json.loads(path.read_bytes())
    sources = [document] if isinstance(document, dict) else document
    assert batch.record_count == len(sources)
    produced = {e.id for e in batch.entities} | {ev.id for ev in batch.events}
    assert produced == {feed.urn(s["id"]) for s in sources}
    for entity in batch.entities:
        assert entity.attributes["source_id"] in {s["id"] for s in sources}
        assert entity.observed_at is None or is_utc(entity.observed_at)
        assert entity.district is None
    for obs in batch.observations:
        assert is_utc(obs.time)
        entity = next(e for e in batch.entities if e.id == obs.entity_id)
        assert entity.attributes[obs.metric] == obs.value
    json.dumps(batch.to_records())


@pytest.mark.parametrize("form", ["normalized", "keyValues"])
def test_air_quality_pollutants_are_in_micrograms(form: str) -> None:
    batch = sample("AirQualityObserved", form)
    (station,) = batch.entities
    assert station.type == "AirQualityObserved"
    assert station.location == (-3.712247222222222, 40.423852777777775)
    assert station.observed_at == datetime(2016, 3, 15, 11, 0, tzinfo=UTC)
    so2 = reading(batch, "so2")
    assert (so2.value, so2.unit) == (11.0, "µg/m³")
    assert so2.time == datetime(2016, 3, 15, 11, 0, tzinfo=UTC)
    humidity = reading(batch, "relative_humidity")
    assert (humidity.value, humidity.unit) == (54.0, "%")
    assert (reading(batch, "temperature").value, reading(batch, "temperature").unit) == (12.2, "°C")
    assert reading(batch, "wind_speed").unit == "km/h"


def test_normalized_unit_codes_are_converted() -> None:
    batch = sample("AirQualityObserved", "normalized")
    co = reading(batch, "co")  # published 500 with unitCode GP (mg/m³)
    assert (co.value, co.unit) == (500000.0, "µg/m³")
    assert reading(batch, "no2").value == 69.0
    (station,) = batch.entities
    assert station.id == FEED.urn("urn:ngsi-ld:AirQualityObserved:Madrid-AmbientObserved-28079004-2016-03-15T11:00:00")
    assert station.attributes["address"] == "Plaza de España, Madrid, ES"


@pytest.mark.parametrize("form", ["normalized", "keyValues"])
def test_traffic_flow_on_a_road_segment(form: str) -> None:
    batch = sample("TrafficFlowObserved", form)
    (segment,) = batch.entities
    assert segment.geometry is not None and segment.geometry["type"] == "LineString"
    assert segment.geometry["coordinates"][0] == [-4.73735395519672, 41.6538181849672]
    line = shapely.geometry.shape(segment.geometry)
    assert line.distance(shapely.geometry.Point(segment.location)) < 1e-9
    assert (reading(batch, "intensity").value, reading(batch, "intensity").unit) == (197.0, "veh/h")
    assert (reading(batch, "average_speed").value, reading(batch, "average_speed").unit) == (52.6, "km/h")
    assert (reading(batch, "occupancy").value, reading(batch, "occupancy").unit) == (76.0, "%")
    assert segment.attributes["lane_id"] == 1


@pytest.mark.parametrize("form", ["normalized", "keyValues"])
def test_off_street_parking_spots(form: str) -> None:
    batch = sample("OffStreetParking", form)
    (car_park,) = batch.entities
    assert car_park.name == "Parque de estacionamento Trindade"
    assert car_park.location == (-8.60961198807, 41.150691773)
    available = reading(batch, "available_spots")
    assert (available.value, available.unit) == (132, "count")
    assert reading(batch, "total_spots").value == 414
    assert reading(batch, "occupancy").value == 68.0
    if form == "normalized":
        # observedAt on the attribute is the time of that reading
        assert available.time == datetime(2018, 9, 21, 12, 0, tzinfo=UTC)
    else:
        assert available.time == datetime(2021, 3, 11, 15, 51, 2, tzinfo=UTC)  # observationDateTime


@pytest.mark.parametrize("form", ["normalized", "keyValues"])
def test_parking_spot_status(form: str) -> None:
    batch = sample("ParkingSpot", form)
    (spot,) = batch.entities
    assert spot.name == "A-13"
    assert (reading(batch, "status").value, spot.attributes["status"]) == ("free", "free")
    assert spot.location == (-3.80356167695194, 43.46296641666926)


@pytest.mark.parametrize("form", ["normalized", "keyValues"])
def test_streetlight_state_and_lamp_flag(form: str) -> None:
    batch = sample("Streetlight", form)
    (lamp,) = batch.entities
    assert reading(batch, "power_state").value == "off"
    assert reading(batch, "status").value == "ok"
    assert reading(batch, "lamp_out").value is False
    assert lamp.observed_at == datetime(2021, 1, 11, 10, 21, 2, tzinfo=UTC)  # 15:51:02+05:30


@pytest.mark.parametrize("form", ["normalized", "keyValues"])
def test_water_quality(form: str) -> None:
    batch = sample("WaterQualityObserved", form)
    assert (reading(batch, "ph").value, reading(batch, "ph").unit) == (7.4, "pH")
    assert (reading(batch, "temperature").value, reading(batch, "temperature").unit) == (24.4, "°C")
    assert reading(batch, "conductivity").value == 0.005
    assert reading(batch, "sulphate").value == 143.3  # every measurand of the model is kept
    assert reading(batch, "ph").time == datetime(2017, 1, 31, 6, 45, tzinfo=UTC)


@pytest.mark.parametrize(("form", "level_cm"), [("normalized", 198.0), ("keyValues", 98.0)])
def test_flood_monitoring_water_level_in_cm(form: str, level_cm: float) -> None:
    batch = sample("FloodMonitoring", form)
    level = reading(batch, "water_level")
    assert (level.value, level.unit) == (level_cm, "cm")
    assert level.time == datetime(2020, 9, 16, 8, 0, tzinfo=UTC)  # 13:30+05:30
    assert reading(batch, "flood_level_status").value == "Normal"


@pytest.mark.parametrize("form", ["normalized", "keyValues"])
def test_waste_container_without_a_reading_still_is_an_asset(form: str) -> None:
    batch = sample("WasteContainer", form)
    (bin_,) = batch.entities
    assert bin_.type == "WasteContainer"
    assert bin_.location == (-8.768460000000001, 42.60214472222222)
    assert bin_.attributes["bin_capacity"] == 43


@pytest.mark.parametrize("form", ["normalized", "keyValues"])
def test_alert_becomes_an_event_on_the_cap_scale(form: str) -> None:
    batch = sample("Alert", form)
    assert batch.entities == []
    (event,) = batch.events
    assert event.type == "TrafficJam"
    assert event.severity is Severity.SEVERE  # FIWARE "high"
    assert event.description == "The road is completely blocked for 3kms"
    assert event.location == (-3.712247222222222, 40.423852777777775)
    assert event.onset == datetime(2017, 1, 2, 9, 25, 55, tzinfo=UTC)
    assert event.expires == datetime(2017, 1, 2, 10, 25, 55, tzinfo=UTC)
    assert "account.lab.fiware.org" not in json.dumps(batch.to_records())


# --- the Da Nang mix: every form and unit code in one array -----------------------------------------------


@pytest.fixture(scope="module")
def mixed() -> Batch:
    return parse(MIXED.read_bytes())


def test_mixed_array_gives_one_record_per_entity(mixed: Batch) -> None:
    assert [e.type for e in mixed.entities] == [
        "AirQualityObserved",
        "TrafficFlowObserved",
        "WasteContainer",
        "Streetlight",
        "NoiseLevelObserved",
    ]
    assert len(mixed.events) == 1


def test_ppm_and_ppb_become_micrograms_with_the_molar_mass(mixed: Batch) -> None:
    no2 = reading(mixed, "no2")
    assert no2.unit == "µg/m³" and no2.value == pytest.approx(21.0 * 46.0055 / 24.45, abs=1e-3)
    co = reading(mixed, "co")
    assert co.unit == "µg/m³" and co.value == pytest.approx(0.8 * 1000 * 28.010 / 24.45, abs=1e-3)
    assert (reading(mixed, "o3").value, reading(mixed, "o3").unit) == (50.0, "µg/m³")
    # no molar mass for an index: kept in the unit it was published in
    assert (reading(mixed, "benzene_index").value, reading(mixed, "benzene_index").unit) == (3.0, "ppb")


def test_speed_in_metres_per_second_becomes_km_h_at_its_own_time(mixed: Batch) -> None:
    speed = reading(mixed, "average_speed")
    assert (speed.value, speed.unit) == (19.8, "km/h")
    assert speed.time == datetime(2024, 9, 14, 1, 4, 30, tzinfo=UTC)
    assert reading(mixed, "intensity").time == datetime(2024, 9, 14, 1, 5, tzinfo=UTC)
    assert reading(mixed, "congested").value is True
    flow = next(e for e in mixed.entities if e.type == "TrafficFlowObserved")
    assert flow.observed_at == datetime(2024, 9, 14, 1, 5, tzinfo=UTC)


def test_filling_level_fraction_becomes_percent(mixed: Batch) -> None:
    level = reading(mixed, "filling_level")
    assert (level.value, level.unit) == (87.0, "%")
    assert level.time == datetime(2024, 9, 14, 0, 30, tzinfo=UTC)  # dateLastReported


def test_defective_lamp_is_a_lamp_out(mixed: Batch) -> None:
    lamp = next(e for e in mixed.entities if e.type == "Streetlight")
    assert lamp.attributes["lamp_out"] is True
    assert reading(mixed, "lamp_out", lamp.id).value is True


def test_unknown_model_keeps_numbers_with_their_unit_code(mixed: Batch) -> None:
    noise = next(e for e in mixed.entities if e.type == "NoiseLevelObserved")
    laeq = reading(mixed, "l_aeq", noise.id)
    assert (laeq.value, laeq.unit) == (67.8, "dB")
    assert noise.attributes["sonometer_class"] == "1"


def test_alert_polygon_is_its_area(mixed: Batch) -> None:
    (event,) = mixed.events
    assert event.severity is Severity.EXTREME  # FIWARE "critical"
    assert event.type == "Flood"
    assert event.area is not None and event.area["type"] == "Polygon"
    assert shapely.geometry.shape(event.area).contains(shapely.geometry.Point(event.location))
    assert event.onset == datetime(2024, 9, 14, 0, 15, tzinfo=UTC)  # validFrom


def test_no_personal_value_reaches_the_store(mixed: Batch) -> None:
    text = json.dumps(as_stored(mixed).to_records(), ensure_ascii=False)
    assert "to-truong@example.vn" not in text
    assert "owner_email" not in text
    assert "0236 3822 123" not in text


def test_relationship_can_be_the_stable_id() -> None:
    feed = FeedContext(name="air", agency="danang-donre", sector="environment", mapping={"id": "refDevice"})
    batch = parse(MIXED.read_bytes(), feed)
    station = next(e for e in batch.entities if e.type == "AirQualityObserved")
    assert station.id == feed.urn("urn:ngsi-ld:Device:aq-hoa-khanh")
    assert station.attributes["source_id"] == "urn:ngsi-ld:AirQualityObserved:danang-hoa-khanh-2024-09-14T08:00"


def test_ngsi_v2_normalized_attributes_and_multi_attributes() -> None:
    entity = {
        "id": "tram-quan-trac-1",
        "type": "WaterQualityObserved",
        "dateObserved": {"type": "DateTime", "value": "2024-09-14T07:00:00+07:00"},
        "location": {"type": "geo:point", "value": "16.0471, 108.2068"},
        "O2": {"type": "Number", "value": 6.2, "metadata": {"unitCode": {"type": "Text", "value": "M1"}}},
        "temperature": [
            {"type": "Property", "value": 84.2, "unitCode": "FAH", "datasetId": "urn:probe:2"},
            {"type": "Property", "value": 29.0, "unitCode": "CEL"},
        ],
        "name": {"type": "LanguageProperty", "languageMap": {"en": "Han River", "vi": "Sông Hàn"}},
    }
    batch = parse(entity)
    (station,) = batch.entities
    assert station.location == (108.2068, 16.0471)
    assert station.name == "Sông Hàn"
    assert (reading(batch, "dissolved_oxygen").value, reading(batch, "dissolved_oxygen").unit) == (6.2, "mg/L")
    assert (reading(batch, "temperature").value, reading(batch, "temperature").unit) == (29.0, "°C")
    assert station.observed_at == datetime(2024, 9, 14, 0, 0, tzinfo=UTC)


def test_in_unit_converts_what_it_knows_and_keeps_the_rest() -> None:
    assert in_unit(86.0, "FAH", "°C", "temperature") == (30.0, "°C")
    assert in_unit(1.5, "MTR", "cm", "water_level") == (150.0, "cm")
    assert in_unit(12.0, "", "µg/m³", "pm25") == (12.0, "µg/m³")
    assert in_unit(4.0, "XYZ", "", "mystery") == (4.0, "XYZ")


# --- refused payloads ---------------------------------------------------------------------------------------


def test_empty_array_is_an_empty_batch() -> None:
    batch = parse([])
    assert batch.entities == [] and batch.observations == [] and batch.events == []


POINT = {"type": "Point", "coordinates": [108.22, 16.06]}


@pytest.mark.parametrize(
    ("document", "where"),
    [
        (42, "expected an NGSI entity object"),
        ({"type": "ParkingSpot", "location": POINT}, r"entity\.id"),
        ({"id": "a", "type": 5}, r"entity\.type"),
        ({"id": "a", "type": "ParkingSpot", "location": "Hải Châu"}, r"entity\.location: expected a GeoJSON geometry"),
        (
            {"id": "a", "type": "ParkingSpot", "location": {"type": "Point", "coordinates": ["108.22", "16.06"]}},
            r"location\.coordinates: expected numbers",
        ),
        (
            {"id": "a", "type": "ParkingSpot", "location": {"type": "GeoProperty", "value": {"type": "Circle"}}},
            "not a GeoJSON geometry type",
        ),
        ({"id": "a", "type": "TrafficFlowObserved", "dateObserved": "last Tuesday"}, r"entity\.dateObserved"),
    ],
)
def test_wrong_documents_are_refused_with_the_attribute_named(document: object, where: str) -> None:
    with pytest.raises(PayloadError, match=where):
        parse(json.dumps(document).encode())


@pytest.mark.parametrize(
    ("document", "where", "reason", "kept"),
    [
        ([{"id": "a", "type": "ParkingSpot"}, 7], "[1]", "[1]: expected an NGSI entity object", 1),
        ({"id": "a", "type": "OffStreetParking", "location": POINT, "availableSpotNumber": "12"},
         "entity.availableSpotNumber", "entity.availableSpotNumber: expected a number", 1),
        ({"id": "a", "type": "TrafficFlowObserved", "congested": {"type": "Property", "value": "yes"}},
         "entity.congested", "entity.congested: expected true/false", 1),
        ([{"id": "a", "type": "Streetlight", "status": {"broken": True}}], "[0].status", "[0].status: expected text", 1),
    ],
)
def test_an_odd_entity_or_attribute_is_named_and_the_rest_kept(
    document: object, where: str, reason: str, kept: int
) -> None:
    batch = parse(json.dumps(document).encode())
    (problem,) = batch.problems
    assert problem.where == where and problem.reason.startswith(reason)
    assert batch.record_count == kept


def test_an_odd_attribute_keeps_its_entity_and_its_other_readings() -> None:
    entities = json.loads(MIXED.read_bytes())
    entities[2]["fillingLevel"] = "đầy"
    batch = parse(entities)
    assert len(batch.entities) == len(parse(json.loads(MIXED.read_bytes())).entities)
    (problem,) = batch.repaired
    assert problem.where == "[2].fillingLevel" and "expected a number" in problem.reason
    container = next(e for e in batch.entities if e.attributes["source_id"] == entities[2]["id"])
    assert "filling_level" not in container.attributes


def test_unknown_model_with_odd_values_never_crashes() -> None:
    entity = {
        "id": "urn:ngsi-ld:Thing:1",
        "type": ["https://example.org/ontology#Thing", "Other"],
        "nested": {"type": "Property", "value": {"deep": [1, {"x": 2}]}},
        "flag": True,
        "nothing": None,
        "list": [1, 2, "ba"],
        "count": {"type": "Property", "value": 3},
    }
    batch = parse(entity)
    (thing,) = batch.entities
    assert thing.type == "Thing"
    assert thing.attributes["flag"] is True
    assert thing.attributes["list"] == "1, 2, ba"
    assert "nested" not in thing.attributes
    assert reading(batch, "count").value == 3.0


def test_check_mapping() -> None:
    NgsiLdReader().check_mapping({"id": "refDevice"})
    with pytest.raises(ValueError, match="unknown key"):
        NgsiLdReader().check_mapping({"records": "$"})
    with pytest.raises(ValueError, match="id"):
        NgsiLdReader().check_mapping({"id": 3})


def test_geojson_representation_of_entities() -> None:
    feature = {
        "id": "urn:ngsi-ld:WaterQualityObserved:han-river-1",
        "type": "Feature",
        "geometry": {"type": "Point", "coordinates": [108.2275, 16.0619]},
        "properties": {"type": "WaterQualityObserved", "dateObserved": "2024-09-14T01:00:00Z", "pH": 7.1},
    }
    collection = {"type": "FeatureCollection", "features": [feature]}
    for document in (feature, collection):
        batch = parse(document)
        (station,) = batch.entities
        assert station.id == FEED.urn("urn:ngsi-ld:WaterQualityObserved:han-river-1")
        assert station.type == "WaterQualityObserved"
        assert station.location == (108.2275, 16.0619)
        assert reading(batch, "ph").value == 7.1
    with pytest.raises(PayloadError, match=r"features\[0\]\.type"):
        parse({"type": "FeatureCollection", "features": [{"type": "Feature", "id": "x", "properties": {}}]})


def test_ngsi_v2_attributes_without_a_type_member() -> None:
    car_park = {
        "id": "bai-do-xe-bach-dang",
        "type": "OffStreetParking",
        "name": {"value": "Bãi đỗ xe Bạch Đằng"},
        "availableSpotNumber": {"value": 40, "metadata": {"timestamp": {"type": "DateTime", "value": "2024-09-14T01:00:00Z"}}},
        "totalSpotNumber": {"value": 160},
        "percentageOccupancy": {"type": "number", "value": 75.0},
        "category": {"value": ["public", "feeCharged"]},
        "refDevice": {"type": "Relationship", "value": ["device-1", "device-2"]},
        "location": {"type": "geo:json", "value": {"type": "Point", "coordinates": [108.2245, 16.0705]}},
        "dateModified": {"type": "DateTime", "value": "2024-09-14T01:02:00.00Z"},
    }
    batch = parse(car_park)
    (lot,) = batch.entities
    assert lot.name == "Bãi đỗ xe Bạch Đằng"
    assert lot.attributes["category"] == "public, feeCharged"
    assert lot.attributes["ref_device"] == "device-1, device-2"
    available = reading(batch, "available_spots")
    assert available.value == 40 and available.time == datetime(2024, 9, 14, 1, 0, tzinfo=UTC)
    assert [o.value for o in batch.observations if o.metric == "occupancy"] == [75.0]
    assert reading(batch, "total_spots").time == datetime(2024, 9, 14, 1, 2, tzinfo=UTC)
