"""Tests of the field-mapping model, value readers and record conversion shared by the csv and json readers."""

from __future__ import annotations

import json
import re
import shutil
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import yaml

from data_adapters.base import FeedContext, PayloadError
from data_adapters.mapping import (
    MISSING,
    FieldMapping,
    MappedRecords,
    check_mapping,
    resolve,
    to_number,
    to_time,
)
from ioc.config import ConfigError, load_settings
from ioc.model import Severity
from tests.data_adapters import as_stored

HO_CHI_MINH = ZoneInfo("Asia/Ho_Chi_Minh")
CONFIG = Path(__file__).parents[2] / "config" / "danang"

# the example of the reader conventions, as an integrator would write it in agencies.yaml
EXAMPLE = yaml.safe_load(
    """
records: "data.items"
id: bed_facility_id
entity_type: Hospital
name: facility_name
lon: longitude
lat: latitude
time: updated_at
timezone: Asia/Ho_Chi_Minh
metrics:
  beds_total: {field: total_beds, unit: ""}
  beds_occupied: {field: occupied_beds, unit: ""}
attributes: [district_code, status]
drop: [patient_name]
as: entity
"""
)


def test_the_documented_example_is_a_valid_mapping() -> None:
    mapping = check_mapping(EXAMPLE)
    assert mapping.as_ == "entity" and mapping.records == "data.items"
    assert mapping.metrics["beds_total"].field == "total_beds"
    assert mapping.attributes == {"district_code": "district_code", "status": "status"}


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"id": None}, "id: Input should be a valid string"),
        ({"metrics": {"beds_total": {"unit": ""}}}, "metrics.beds_total.field: Field required"),
        ({"metrics": {"Beds Total": "total_beds"}}, "not lower_snake_case"),
        ({"metric": {}}, "metric: Extra inputs are not permitted"),
        ({"timezone": "Asia/Da_Nang"}, "timezone: 'Asia/Da_Nang' is not an IANA time zone"),
        ({"lat": None}, "give both 'lon' and 'lat'"),
        ({"attributes": ["caller_phone"]}, "attributes.caller_phone: 'caller_phone' is personal data"),
        ({"name": "patient_name"}, "name: 'patient_name' is also listed in drop"),
        ({"as": "event"}, "metrics: an event has no measured values"),
        ({"as": "incident"}, "as: Input should be 'entity' or 'event'"),
        ({"entity_type": "hospital"}, "entity_type: String should match pattern"),
        ({"decimal": ";"}, "decimal: Input should be '.' or ','"),
    ],
)
def test_mapping_errors_name_the_field(change: dict, message: str) -> None:
    spec = {key: value for key, value in {**EXAMPLE, **change}.items() if value is not None or key == "id"}
    with pytest.raises(ValueError, match=re.escape(message)):
        check_mapping(spec)


def test_metric_shorthand_and_attribute_renames() -> None:
    mapping = FieldMapping.model_validate(
        {"id": "ma", "entity_type": "Dossier", "metrics": {"days_overdue": "so_ngay"},
         "attributes": {"area": "don_vi.ten_quan"}}
    )
    assert mapping.metrics["days_overdue"].field == "so_ngay" and mapping.metrics["days_overdue"].scale == 1.0
    assert mapping.attributes == {"area": "don_vi.ten_quan"}


def test_resolve_follows_dots_and_list_indexes() -> None:
    report = {"group": [{"code": {"coding": [{"code": "Beds"}]}, "population": [{"count": 20}]}], "pm2.5": 7}
    assert resolve(report, "group.0.code.coding.0.code") == "Beds"
    assert resolve(report, "group.-1.population.0.count") == 20
    assert resolve(report, "pm2.5") == 7  # a literal key with a dot is a column name, not a path
    assert resolve(report, "group.3.code") is MISSING
    assert resolve(report, "group.code") is MISSING
    assert resolve(report, "group.0.population.0.count.value") is MISSING


@pytest.mark.parametrize(
    ("value", "decimal", "expected"),
    [(12, ".", 12.0), ("12.5", ".", 12.5), (" 7 ", ".", 7.0), ("16,0722", ",", 16.0722),
     ("1.350", ",", 1350.0), ("1.234.567,5", ",", 1234567.5), ("12.5", ",", 12.5), ("-3,25", ",", -3.25)],
)
def test_numbers_in_either_decimal_convention(value: object, decimal: str, expected: float) -> None:
    assert to_number(value, "row 2, column x", decimal) == expected


@pytest.mark.parametrize("value", ["12,5", "abc", True, "NaN", [1], {"v": 1}, "1,234"])
def test_what_is_not_a_number_is_refused_with_its_place(value: object) -> None:
    with pytest.raises(PayloadError, match="row 2, column x"):
        to_number(value, "row 2, column x", ".")


def test_times_become_aware_utc() -> None:
    def read(value: object, fmt: str | None = None) -> datetime:
        return to_time(value, "updated_at", time_format=fmt, timezone=HO_CHI_MINH)

    assert read("2024-09-18T07:30:00+07:00") == datetime(2024, 9, 18, 0, 30, tzinfo=UTC)
    assert read("2024-09-18T00:30:00Z") == datetime(2024, 9, 18, 0, 30, tzinfo=UTC)
    assert read("2024-09-18 07:30:00") == datetime(2024, 9, 18, 0, 30, tzinfo=UTC)  # naive = city time
    assert read("18/09/2024 07:30", "%d/%m/%Y %H:%M") == datetime(2024, 9, 18, 0, 30, tzinfo=UTC)
    assert read(1726619400) == datetime(2024, 9, 18, 0, 30, tzinfo=UTC)
    assert read("1726619400") == datetime(2024, 9, 18, 0, 30, tzinfo=UTC)
    assert read(1726619400000) == datetime(2024, 9, 18, 0, 30, tzinfo=UTC)  # epoch milliseconds
    for bad in ("hôm qua", "2024-13-01", True):
        with pytest.raises(PayloadError, match="updated_at"):
            read(bad)
    with pytest.raises(PayloadError, match="'%d/%m/%Y %H:%M'"):
        read("2024-09-18 07:30", "%d/%m/%Y %H:%M")


FEED = FeedContext(name="air-export", agency="danang-donre", sector="environment")


def convert(mapping: dict, *records: dict):
    converter = MappedRecords(FieldMapping.model_validate(mapping), FEED)
    for index, record in enumerate(records):
        converter.add(record, lambda field, i=index: f"records[{i}].{field}")
    return converter.batch()


def test_units_are_normalized_and_scaled() -> None:
    mapping = {
        "id": "station", "entity_type": "AirQualityStation", "time": "t",
        "metrics": {"co": {"field": "co", "unit": "mg/m3"}, "wind_speed": {"field": "wind", "unit": "m/s"},
                    "water_level": {"field": "level", "unit": "m"}, "humidity": {"field": "rh", "unit": "",
                                                                                   "scale": 100}},
    }
    batch = convert(mapping, {"station": "HC-01", "t": "2024-09-18T07:00:00+07:00", "co": 1.2, "wind": "5",
                              "level": 1.35, "rh": 0.81})
    observed = {(o.metric, o.value, o.unit) for o in batch.observations}
    assert observed == {("co", 1200.0, "µg/m³"), ("wind_speed", 18.0, "km/h"), ("water_level", 135.0, "cm"),
                        ("humidity", 81.0, "")}
    assert batch.entities[0].attributes["co"] == 1200.0


def test_repeated_ids_keep_every_observation_and_the_latest_state() -> None:
    mapping = {"id": "site", "entity_type": "TouristSite", "time": "day", "metrics": {"visitors": "n"},
               "attributes": ["open"]}
    batch = convert(
        mapping,
        {"site": "BANA", "day": "2024-09-17", "n": 7985, "open": "yes"},
        {"site": "BANA", "day": "2024-09-16", "n": 8420, "open": "no"},
    )
    (entity,) = batch.entities
    assert entity.attributes == {"visitors": 7985.0, "open": "yes"}
    assert entity.observed_at == datetime(2024, 9, 16, 17, 0, tzinfo=UTC)
    assert sorted(o.value for o in batch.observations) == [7985.0, 8420.0]


def test_event_mapping_reads_severity_and_status_values() -> None:
    mapping = {"as": "event", "id": "id", "entity_type": "PowerOutage", "severity": "kind",
               "severity_values": {"planned": "minor", "unplanned": "moderate"}, "status": "state",
               "status_values": {"restored": "cancelled"}, "onset": "from", "headline": "area"}
    batch = convert(mapping, {"id": 7, "kind": "Unplanned", "state": "restored", "from": "2024-09-18 06:42",
                              "area": "An Hải Bắc"})
    (event,) = batch.events
    assert (event.id, event.severity, event.status) == (FEED.urn("7"), Severity.MODERATE, "cancelled")
    assert event.onset == datetime(2024, 9, 17, 23, 42, tzinfo=UTC)
    with pytest.raises(PayloadError, match=r"records\[0\]\.kind: 'storm' is not one of planned, unplanned"):
        convert(mapping, {"id": 8, "kind": "storm"})


def test_a_record_without_id_is_refused() -> None:
    with pytest.raises(PayloadError, match=r"records\[1\]\.station: missing record id"):
        convert({"id": "station", "entity_type": "AirQualityStation"}, {"station": "A"}, {"station": " "})


def test_all_fields_copy_skips_personal_and_dropped_ones() -> None:
    mapping = {"id": "id", "entity_type": "Hospital", "attributes": "*", "drop": ["patient_contact"]}
    batch = convert(mapping, {"id": "BV-1", "status": "open", "patient_contact": "Lan 0905 123 456",
                              "phone": "0236 3821 118", "note": "gọi 0935 222 333"})
    dumped = json.dumps(as_stored(batch).to_records(), ensure_ascii=False)
    assert batch.entities[0].attributes["status"] == "open"
    for personal in ("0905 123 456", "3821 118", "0935 222 333", "patient_contact"):
        assert personal not in dumped


def _config_dir(tmp_path: Path, mapping: dict) -> Path:
    shutil.copy(CONFIG / "city.yaml", tmp_path / "city.yaml")
    (tmp_path / "rules.yaml").write_text("rules: []\n", encoding="utf-8")
    feed = {
        "name": "hospital-beds", "agency": "danang-doh", "agency_name": {"vi": "Sở Y tế", "en": "Health"},
        "sector": "health", "reader": "csv", "url": "http://127.0.0.1:8061/health/beds.csv", "interval": 60,
        "mapping": mapping,
    }
    (tmp_path / "agencies.yaml").write_text(yaml.safe_dump({"feeds": [feed]}, allow_unicode=True), "utf-8")
    return tmp_path


def test_configuration_load_checks_the_mapping(tmp_path: Path) -> None:
    bad = {**EXAMPLE, "records": "", "metrics": {"beds_total": {"unit": ""}}}
    with pytest.raises(ConfigError, match=r"feeds\[0\] \(hospital-beds\): mapping: metrics\.beds_total\.field"):
        load_settings(_config_dir(tmp_path, bad))


def test_configuration_load_refuses_records_for_a_csv(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="records: a CSV has one record per row"):
        load_settings(_config_dir(tmp_path, EXAMPLE))


def test_configuration_load_accepts_a_good_mapping(tmp_path: Path) -> None:
    settings = load_settings(_config_dir(tmp_path, {**EXAMPLE, "records": ""}))
    assert settings.feed("hospital-beds").mapping["id"] == "bed_facility_id"
