"""Tests of the json reader on Da Nang agency APIs, the FHIR SANER bed report and broken payloads."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
import yaml

from data_adapters.base import FeedContext, PayloadError
from data_adapters.json_reader import JsonReader
from ioc.model import Severity
from tests.data_adapters import as_stored

FIXTURES = Path(__file__).parents[1] / "fixtures"
SANER = FIXTURES / "health-fhir-saner" / "MeasureReport-ExampleNJ-20200404-CDCPatientImpactAndHospitalCapacity.json"

POWER_OUTAGES = yaml.safe_load(
    """
records: data.items
as: event
id: outage_id
entity_type: PowerOutage
headline: area_name
description: reason
lon: position.lon
lat: position.lat
onset: start_time
expires: end_time
severity: kind
severity_values: {planned: minor, unplanned: moderate}
status: state
status_values: {restored: cancelled}
attributes: [district, customers_affected]
"""
)
AMBULANCE_DISPATCH = yaml.safe_load(
    """
as: event
id: dispatch_id
event_type: incident_type
headline: address
description: notes
point: location.coordinates
time: received_at
severity: priority
severity_values: {"1": severe, "2": moderate, "3": minor}
status: state
status_values: {completed: cancelled}
attributes: [ambulance]
"""
)
DOSSIERS = yaml.safe_load(
    """
records: results
id: ma_ho_so
entity_type: PublicServiceDossier
name: thu_tuc
time: cap_nhat
metrics:
  days_overdue: so_ngay_tre_han
  processing_days: so_ngay_xu_ly
attributes: {status: trang_thai, office: co_quan, area: don_vi.ten_quan, note: ghi_chu}
"""
)

# a FHIR SANER MeasureReport: one entity per group, the report's own date and subject from the document root
SANER_GROUPS = {
    "records": "group", "id": "code.coding.0.code", "entity_type": "HospitalCapacity",
    "name": "$.subject.display", "time": "$.date", "timezone": "America/New_York",
    "metrics": {"capacity_total": "population.0.count", "capacity_inpatient": "population.1.count"},
}


def parse(payload: bytes, mapping: dict, name: str = "agency-api"):
    return JsonReader().parse(payload, FeedContext(name=name, agency="danang", sector="utilities", mapping=mapping))


def fixture(name: str) -> bytes:
    return (FIXTURES / "json" / name).read_bytes()


def test_power_outages_are_events() -> None:
    batch = parse(fixture("danang-power-outages.json"), POWER_OUTAGES, "power-outages")
    assert len(batch.events) == 3 and not batch.entities
    planned, active, restored = batch.events
    assert planned.id == "urn:ioc:danang:power-outages:PCDN-2024-0918-014"
    assert planned.type == "PowerOutage" and planned.headline == "Một phần phường Hòa Minh"
    assert planned.location == (108.1693, 16.0642)
    assert planned.onset == datetime(2024, 9, 18, 6, 0, tzinfo=UTC)
    assert planned.expires == datetime(2024, 9, 18, 10, 0, tzinfo=UTC)
    assert (planned.severity, active.severity) == (Severity.MINOR, Severity.MODERATE)
    assert active.expires is None  # "end_time": null: no end announced yet
    assert (planned.status, active.status, restored.status) == ("scheduled", "active", "cancelled")
    assert "customers_affected: 1240" in planned.description and "Bảo dưỡng" in planned.description


def test_ambulance_dispatch_drops_the_caller() -> None:
    batch = parse(fixture("danang-ambulance-dispatch.json"), AMBULANCE_DISPATCH, "ambulance-115")
    assert len(batch.events) == 3
    first = batch.events[0]
    assert first.id == "urn:ioc:danang:ambulance-115:115-240918-0042"
    assert first.type == "Tai nạn giao thông" and first.severity == Severity.SEVERE
    assert first.location == (108.2098, 16.0605)
    assert first.onset == datetime(2024, 9, 18, 0, 43, tzinfo=UTC)  # epoch milliseconds
    assert batch.events[2].status == "cancelled"
    dumped = json.dumps(as_stored(batch).to_records(), ensure_ascii=False)
    for personal in ("Phạm Quốc Bảo", "0913 456 789", "Võ Thị Hạnh", "3811 405", "0935 777 222"):
        assert personal not in dumped


def test_ambulance_dispatch_all_fields_still_drops_the_caller() -> None:
    batch = parse(fixture("danang-ambulance-dispatch.json"), {**AMBULANCE_DISPATCH, "attributes": "*"})
    dumped = json.dumps(as_stored(batch).to_records(), ensure_ascii=False)
    assert "DN-115-03" in dumped
    assert "Phạm Quốc Bảo" not in dumped and "0913 456 789" not in dumped


def test_public_service_dossiers_read_nested_fields_and_drop_the_applicant() -> None:
    batch = parse(fixture("danang-public-service-dossiers.json"), DOSSIERS, "dossiers")
    assert len(batch.entities) == 4
    overdue = batch.entities[2]
    assert overdue.id == "urn:ioc:danang:dossiers:000.00.24.H17-240829-0088"
    assert overdue.location is None
    assert overdue.attributes["area"] == "Hòa Vang" and overdue.attributes["status"] == "qua_han"
    assert overdue.attributes["days_overdue"] == 6.0
    assert overdue.observed_at == datetime(2024, 9, 18, 0, 30, tzinfo=UTC)  # naive time = Da Nang time
    assert "days_overdue" not in batch.entities[3].attributes  # null: a gap
    assert len(batch.observations) == 7
    dumped = json.dumps(as_stored(batch).to_records(), ensure_ascii=False)
    for personal in ("Đặng Minh Khoa", "0905 888 123", "048090001234", "Ngô Văn Sơn", "048201003456"):
        assert personal not in dumped


def test_fhir_saner_measure_report_groups() -> None:
    batch = parse(SANER.read_bytes(), SANER_GROUPS, "nj-capacity")
    assert [e.id.rsplit(":", 1)[-1] for e in batch.entities] == ["Beds", "Ventilators", "Encounters"]
    beds = batch.entities[0]
    assert beds.name == "State of New Jersey"
    assert beds.attributes == {"capacity_total": 20000.0, "capacity_inpatient": 15000.0}
    assert beds.observed_at == datetime(2020, 4, 4, 4, 0, tzinfo=UTC)
    # the ventilator group has a "numVentUse" population without a count: a gap
    assert batch.entities[1].attributes == {"capacity_total": 2250.0}


def test_fhir_saner_populations_of_one_group() -> None:
    mapping = {"records": "group.0.population", "id": "code.coding.0.code", "entity_type": "BedCount",
               "time": "$.period.end", "timezone": "UTC", "metrics": {"beds": "count"}}
    batch = parse(SANER.read_bytes(), mapping)
    counts = {e.id.rsplit(":", 1)[-1]: e.attributes.get("beds") for e in batch.entities}
    assert counts == {"numTotBeds": 20000.0, "numbeds": 15000.0, "numBedsOcc": None, "numICUBeds": 2500.0,
                      "numICUBedsOcc": None}
    assert {o.time for o in batch.observations} == {datetime(2020, 4, 4, tzinfo=UTC)}


@pytest.mark.parametrize("payload", [b"[]", b'{"data": {"items": []}}'])
def test_well_formed_empty_documents_are_empty_batches(payload: bytes) -> None:
    mapping = {**POWER_OUTAGES, "records": "data.items" if payload.startswith(b"{") else ""}
    assert parse(payload, mapping).record_count == 0


@pytest.mark.parametrize(
    ("payload", "mapping_change", "message"),
    [
        (fixture("danang-power-outages.json")[:500], {}, "not valid JSON"),  # truncated
        (b"", {}, "not valid JSON"),
        (b'{"status": "ok"}', {}, r"data\.items: not in the document"),
        (b'{"data": {"items": 5}}', {}, r"data\.items: expected a list of records, got a number"),
        (b'[{"outage_id": "A"}]', {}, r"data\.items: not in the document"),
        (b'{"data": {"items": [{"outage_id": "A", "position": {"lon": "abc", "lat": 16.0}}]}}', {},
         r"data\.items\[0\]\.position\.lon: expected a number, got 'abc'"),
        (b'{"data": {"items": [{"outage_id": "A", "position": {"lon": 108.2}}]}}', {},
         r"data\.items\[0\]\.position\.lat: one coordinate"),
        (b'{"data": {"items": [{"outage_id": {"code": 1}}]}}', {}, r"data\.items\[0\]\.outage_id: missing record id"),
        ('{"data": {"items": [{"outage_id": "A", "start_time": "sáng nay"}]}}'.encode(), {},
         r"data\.items\[0\]\.start_time: 'sáng nay' is not a time"),
        (b'{"data": {"items": [{"outage_id": "A", "kind": "storm"}]}}', {}, "is not one of planned, unplanned"),
        (b'{"results": [{"ma_ho_so": "X", "so_ngay_xu_ly": "six"}]}', DOSSIERS,
         r"results\[0\]\.so_ngay_xu_ly: expected a number"),
        (b'[{"dispatch_id": "1", "location": {"coordinates": "108.2"}}]', AMBULANCE_DISPATCH,
         r"\[0\]\.location\.coordinates: expected a \[lon, lat\] pair"),
    ],
)
def test_broken_payloads_are_refused(payload: bytes, mapping_change: dict, message: str) -> None:
    mapping = mapping_change or POWER_OUTAGES
    with pytest.raises(PayloadError, match=message):
        parse(payload, mapping)


def test_a_record_that_is_no_object_is_refused_and_the_others_read() -> None:
    batch = parse(b'{"data": {"items": [{"outage_id": "A"}, "B"]}}', POWER_OUTAGES)
    assert [event.id.rsplit(":", 1)[-1] for event in batch.events] == ["A"]
    (problem,) = batch.refused
    assert problem.where == "data.items[1]" and problem.reason == "data.items[1]: expected an object, got a string"


def test_a_feed_without_mapping_says_so() -> None:
    with pytest.raises(PayloadError, match="needs a field mapping"):
        JsonReader().parse(b"[]", FeedContext.for_test("json"))
