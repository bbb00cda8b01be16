"""Tests of the csv reader on Da Nang exports (hospital beds, tourism arrivals) and broken files."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
import yaml

from data_adapters.base import FeedContext, PayloadError
from data_adapters.csv_reader import CsvReader, sniff_delimiter
from ioc.config import Settings
from tests.data_adapters import as_stored

FIXTURES = Path(__file__).parents[1] / "fixtures" / "csv"

# as the health department's feed is declared in agencies.yaml: a vi-VN Excel export (BOM, ';', decimal comma)
HOSPITAL_BEDS = yaml.safe_load(
    """
id: bed_facility_id
entity_type: Hospital
name: facility_name
lon: longitude
lat: latitude
time: updated_at
time_format: "%d/%m/%Y %H:%M"
decimal: ","
metrics:
  beds_total: {field: total_beds}
  beds_occupied: {field: occupied_beds}
  icu_beds_total: icu_beds_total
  icu_beds_occupied: icu_beds_occupied
attributes: "*"
drop: [patient_contact]
"""
)
TOURISM = yaml.safe_load(
    """
id: site_id
entity_type: TouristSite
name: site_name
lon: lon
lat: lat
time: date
metrics:
  visitors_domestic: visitors_domestic
  visitors_international: visitors_international
attributes: [ticketed]
"""
)


def feed(mapping: dict, name: str = "hospital-beds") -> FeedContext:
    return FeedContext(name=name, agency="danang-doh", sector="health", mapping=mapping)


def parse(payload: bytes, mapping: dict = HOSPITAL_BEDS):
    return CsvReader().parse(payload, feed(mapping))


def hospital_csv() -> bytes:
    return (FIXTURES / "danang-hospital-beds.csv").read_bytes()


def test_hospital_beds_export_parses() -> None:
    batch = parse(hospital_csv())
    assert len(batch.entities) == 6 and not batch.events
    first = batch.entities[0]
    assert first.id == "urn:ioc:danang:hospital-beds:BV-DN-001"
    assert first.type == "Hospital" and first.name == "Bệnh viện Đà Nẵng"
    assert first.location == (108.2161, 16.0722)  # decimal comma
    assert first.district is None  # the runner does the spatial join
    assert first.observed_at == datetime(2024, 9, 18, 0, 30, tzinfo=UTC)  # 07:30 in Da Nang
    assert first.attributes["beds_total"] == 1350.0  # "1.350": dot-grouped thousands
    assert first.attributes["status"] == "hoạt động" and first.attributes["district_code"] == "492"
    beds = [o for o in batch.observations if o.entity_id == first.id and o.metric == "beds_occupied"]
    assert [(o.value, o.unit, o.time) for o in beds] == [(1187.0, "", first.observed_at)]


def test_empty_cells_are_gaps_not_errors() -> None:
    batch = parse(hospital_csv())
    by_id = {e.id.rsplit(":", 1)[-1]: e for e in batch.entities}
    assert "icu_beds_occupied" not in by_id["BV-DN-003"].attributes
    assert "icu_beds_total" not in by_id["BV-DN-006"].attributes
    # 6 rows x 4 metrics, less the 3 empty cells
    assert len(batch.observations) == 21


def test_patient_contacts_never_reach_the_store() -> None:
    dumped = json.dumps(as_stored(parse(hospital_csv())).to_records(), ensure_ascii=False)
    for personal in ("patient_contact", "Trần Văn Hùng", "0905 123 456", "Nguyễn Thị Lan", "0935.222.333",
                     "3650 272"):
        assert personal not in dumped


def test_tourism_arrivals_keep_each_day_and_the_latest_state() -> None:
    batch = CsvReader().parse((FIXTURES / "danang-tourism-arrivals.csv").read_bytes(), feed(TOURISM, "tourism"))
    assert len(batch.entities) == 5 and len(batch.observations) == 19  # one empty cell
    bana = batch.entities[0]
    assert bana.name == "Sun World Bà Nà Hills" and bana.location == (107.988, 15.9977)
    assert bana.observed_at == datetime(2024, 9, 16, 17, 0, tzinfo=UTC)  # 17/09 00:00 in Da Nang
    assert bana.attributes == {"ticketed": "true", "visitors_domestic": 7985.0, "visitors_international": 3320.0}
    domestic = sorted(o.value for o in batch.observations if o.entity_id == bana.id and o.metric == "visitors_domestic")
    assert domestic == [7985.0, 8420.0]


def test_delimiter_is_sniffed_or_declared() -> None:
    assert sniff_delimiter("a;b;c\n1;2;3") == ";"
    assert sniff_delimiter("\ufeffa,b\n") == ","
    assert sniff_delimiter("a\tb\n") == "\t"
    assert sniff_delimiter("only\n") == ","
    mapping = {"id": "id", "entity_type": "Hospital", "metrics": {"beds_total": "beds"}, "delimiter": "|"}
    batch = parse(b"id|beds\nBV-1|120\n", mapping)
    assert batch.entities[0].attributes["beds_total"] == 120.0


def test_quoted_values_may_hold_delimiters_and_line_breaks() -> None:
    mapping = {"id": "id", "entity_type": "Hospital", "name": "name", "metrics": {"beds_total": "beds"}}
    batch = parse(b'id,name,beds\nBV-1,"Khoa A, Khoa B\ntang 2",120\nBV-2,Khoa C,80\n', mapping)
    assert [e.name for e in batch.entities] == ["Khoa A, Khoa B\ntang 2", "Khoa C"]


def test_header_only_file_is_an_empty_batch() -> None:
    batch = parse(hospital_csv().splitlines(keepends=True)[0])
    assert batch.record_count == 0 and batch.observations == []


def test_declared_encoding_is_used() -> None:
    mapping = {"id": "id", "entity_type": "Hospital", "name": "name", "encoding": "latin-1"}
    assert parse("id,name\nH1,Clinique Sainte-Thérèse\n".encode("latin-1"), mapping).entities[0].name.endswith(
        "Thérèse"
    )
    with pytest.raises(PayloadError, match="not utf-8 text"):
        parse("id,name\nH1,Thérèse\n".encode("latin-1"), {**mapping, "encoding": "utf-8"})


def _replace_cell(row: int, old: str, new: str) -> bytes:
    lines = hospital_csv().decode("utf-8-sig").split("\r\n")
    assert old in lines[row - 1]
    lines[row - 1] = lines[row - 1].replace(old, new, 1)
    return "\r\n".join(lines).encode()


@pytest.mark.parametrize(
    ("payload", "message"),
    [
        (b"", "a CSV needs a header row"),
        (b" \r\n", "a CSV needs a header row"),
        (hospital_csv()[: len(hospital_csv()) - 60], r"row 7: \d+ values for 12 columns"),  # truncated
        (hospital_csv() + 'BV-DN-007;"Bệnh viện'.encode(), "row 8"),  # truncated inside a quoted value
    ],
)
def test_broken_files_are_refused_naming_row_and_column(payload: bytes, message: str) -> None:
    with pytest.raises(PayloadError, match=message):
        parse(payload)


@pytest.mark.parametrize(
    ("payload", "where", "message", "refused"),
    [
        (_replace_cell(4, ";742;", ";bảy trăm;"), "row 4", "row 4, column occupied_beds: expected a number", True),
        (_replace_cell(2, "16,0722", "abc"), "row 2", "row 2, column latitude: expected a number", True),
        (_replace_cell(2, "16,0722", "116,0722"), "row 2", "row 2, column longitude/latitude", True),
        (_replace_cell(3, "18/09/2024 07:30", "2024-09-18T07:30"), "row 3", "row 3, column updated_at", True),
        (_replace_cell(5, "BV-DN-004", ""), "row 5", "row 5, column bed_facility_id: missing record id", True),
        # a delimiter inside an unquoted value shifts that row's cells: that row is refused, not the file
        (_replace_cell(4, "Nhi Đà Nẵng", "Nhi; Đà Nẵng"), "row 4", "row 4: 13 values for 12 columns", True),
        (_replace_cell(1, "occupied_beds", "occupied"), "row 1 (header)",
         "column 'occupied_beds': missing (mapping metrics.beds_occupied.field)", False),
    ],
)
def test_a_bad_row_is_refused_naming_row_and_column_and_the_others_read(
    payload: bytes, where: str, message: str, refused: bool
) -> None:
    batch = parse(payload)
    (problem,) = batch.problems
    assert (problem.where, problem.refused) == (where, refused) and problem.reason.startswith(message)
    assert len(batch.entities) == len(parse(hospital_csv()).entities) - int(refused)


def test_a_feed_without_mapping_says_so() -> None:
    with pytest.raises(PayloadError, match="needs a field mapping"):
        CsvReader().parse(hospital_csv(), FeedContext.for_test("csv"))


@pytest.mark.parametrize(
    ("feed_name", "fixture", "missing"),
    [("hospital-beds", "danang-hospital-beds.csv", "bed_occupancy_pct"),
     ("tourism-visitors", "danang-tourism-arrivals.csv", "updated_at")],
)
def test_an_export_missing_a_mapped_column_is_read_by_its_configured_feed(
    settings: Settings, feed_name: str, fixture: str, missing: str
) -> None:
    # the configured mapping names a column this agency's export leaves out: the rows are still read, and
    # the missing column is said once, for the header, not refused with the whole file
    configured = settings.feed(feed_name)
    context = FeedContext(name=feed_name, agency=configured.agency, sector=configured.sector,
                          mapping=configured.mapping)
    batch = CsvReader().parse((FIXTURES / fixture).read_bytes(), context)
    assert batch.entities and not batch.refused
    assert {problem.where for problem in batch.repaired} == {"row 1 (header)"}
    assert any(f"column '{missing}': missing" in problem.reason for problem in batch.repaired)


def test_an_export_without_its_id_column_is_refused_whole() -> None:
    payload = hospital_csv().replace(b"bed_facility_id", b"facility")
    with pytest.raises(PayloadError, match="bed_facility_id"):
        parse(payload)
