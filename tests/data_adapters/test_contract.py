"""The contract every reader keeps, run against every recorded payload of every registered reader.

To hold a new reader to it, add one row to CONTRACT_FIXTURES: its reader id -> glob patterns under
tests/fixtures. A reader that needs a feed mapping to read a file (a generic CSV or JSON reader) gets it in
FEED_MAPPINGS, keyed by the same pattern.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from data_adapters.base import FeedContext, get_reader, reader_ids
from ioc.model import Batch
from tests.data_adapters import test_csv_reader as csv_mappings
from tests.data_adapters import test_json_reader as json_mappings

FIXTURES = Path(__file__).parents[1] / "fixtures"

# reader id -> fixture glob patterns (relative to tests/fixtures)
CONTRACT_FIXTURES: dict[str, list[str]] = {
    "sensorthings": ["sensorthings/*.json"],
    "open311": ["open311/*.json", "open311/*.xml"],
    "gtfs-rt": ["gtfs-rt/*.pb", "gtfs-rt/*.pb.json", "gtfs-rt/*.asciipb"],
    "gbfs": ["gbfs/*/*.json"],
    "ngsi-ld": ["fiware-sdm/*/*.json", "fiware-sdm/*/*.jsonld", "fiware-sdm/*.jsonld"],
    "geojson": ["geojson/*.json", "geojson/*.geojson"],
    "cap": ["cap/*.xml"],
    "csv": ["csv/danang-hospital-beds.csv", "csv/danang-tourism-arrivals.csv"],
    "json": ["json/danang-power-outages.json", "json/danang-ambulance-dispatch.json",
             "json/danang-public-service-dossiers.json", "health-fhir-saner/*.json"],
    "mqtt-json": ["mqtt-json/*.json"],
}

# fixture glob pattern -> the feed mapping its reader needs to read it (most standards need none)
FEED_MAPPINGS: dict[str, dict[str, Any]] = {
    "csv/danang-hospital-beds.csv": csv_mappings.HOSPITAL_BEDS,
    "csv/danang-tourism-arrivals.csv": csv_mappings.TOURISM,
    "json/danang-power-outages.json": json_mappings.POWER_OUTAGES,
    "json/danang-ambulance-dispatch.json": json_mappings.AMBULANCE_DISPATCH,
    "json/danang-public-service-dossiers.json": json_mappings.DOSSIERS,
    "health-fhir-saner/*.json": json_mappings.SANER_GROUPS,
    "mqtt-json/*.json": {
        "id": "sensor_id", "lon": "lon", "lat": "lat", "time": "ts", "entity_type": "FloodSensor",
        "metrics": {"water_level_cm": {"field": "water_level_cm", "unit": "cm"},
                    "battery_pct": {"field": "battery_pct", "unit": "%"}},
    },
}

# Personal data the records must never carry. Written here, apart from ioc.privacy, so that the contract
# does not trust the code it checks. Phone forms: Vietnamese (0905 123 456, 0905123456, +84 236 3822 123,
# (0236) 3822 123) and North American (312-744-5000); bare digit runs are ids and times, not phones.
EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
PHONE = re.compile(
    r"(?<![\w.:/+-])(?:"
    r"\+\d{1,3}[\s.-]?\(?\d{1,4}\)?(?:[\s.-]?\d{2,4}){2,4}"
    r"|\(\d{2,4}\)[\s.-]?\d{3,4}[\s.-]?\d{3,4}"
    r"|0\d{2,3}[\s.-]\d{3,4}[\s.-]\d{3,4}"
    r"|0[35789]\d{8}"
    r"|\d{3}[.-]\d{3}[.-]\d{4}"
    r")(?![\w/-])"
)


def contract_table() -> dict[str, list[str]]:
    """CONTRACT_FIXTURES, plus tests/fixtures/<reader id>/* for readers without a row (what
    `ioc adapters new` writes), so a new reader is held to the contract the moment it exists."""
    table = dict(CONTRACT_FIXTURES)
    for reader_id in reader_ids():
        if reader_id not in table and (FIXTURES / reader_id).is_dir():
            table[reader_id] = [f"{reader_id}/*"]
    return table


def contract_cases() -> Iterator[Any]:
    for reader_id, patterns in contract_table().items():
        for pattern in patterns:
            for path in sorted(FIXTURES.glob(pattern)):
                name = path.relative_to(FIXTURES).as_posix()
                yield pytest.param(reader_id, pattern, path, id=f"{reader_id}:{name}")


def strings_in(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for key, member in value.items():
            yield str(key)
            yield from strings_in(member)
    elif isinstance(value, list | tuple):
        for member in value:
            yield from strings_in(member)


def aware(moment: datetime | None) -> bool:
    return moment is None or moment.utcoffset() is not None


def in_wgs84(location: tuple[float, float] | None) -> bool:
    return location is None or (-180 <= location[0] <= 180 and -90 <= location[1] <= 90)


@pytest.mark.parametrize(("reader_id", "pattern", "path"), list(contract_cases()))
def test_reader_keeps_the_contract(reader_id: str, pattern: str, path: Path) -> None:
    feed = FeedContext.for_test(reader_id)
    if pattern in FEED_MAPPINGS:
        feed = FeedContext(feed.name, feed.agency, feed.sector, feed.city, mapping=FEED_MAPPINGS[pattern])
    batch = get_reader(reader_id).parse(path.read_bytes(), feed)

    assert isinstance(batch, Batch)
    entity_ids = [entity.id for entity in batch.entities]
    assert all(entity_id.startswith("urn:ioc:") for entity_id in entity_ids)
    assert all(event.id.startswith("urn:ioc:") for event in batch.events)
    assert len(set(entity_ids)) == len(entity_ids), "an entity id repeats: the store would merge two things"
    assert all(in_wgs84(entity.location) for entity in batch.entities)
    assert all(in_wgs84(event.location) for event in batch.events)
    assert all(aware(entity.observed_at) for entity in batch.entities)
    assert all(aware(event.onset) and aware(event.expires) for event in batch.events)
    by_id = {entity.id: entity for entity in batch.entities}
    for observation in batch.observations:
        assert observation.time.utcoffset() is not None, f"{observation.metric}: naive time"
        # the convention the screens rely on: the latest value of every metric is on its entity
        assert observation.entity_id in by_id, f"observation of an entity not in the batch: {observation.entity_id}"
        assert observation.metric in by_id[observation.entity_id].attributes

    records = batch.to_records()
    json.dumps(records, ensure_ascii=False)
    for text in strings_in(records):
        assert not EMAIL.search(text), f"an e-mail address in the records: {text!r}"
        assert not PHONE.search(text), f"a phone number in the records: {text!r}"


def test_every_pattern_matches_a_fixture() -> None:
    empty = [pattern for patterns in CONTRACT_FIXTURES.values() for pattern in patterns if not any(FIXTURES.glob(pattern))]
    assert not empty, f"contract patterns that match no fixture: {empty}"


def test_every_registered_reader_is_held_to_the_contract() -> None:
    # ids starting with "test-" are doubles that other tests register for themselves
    production = {r for r in reader_ids() if not r.startswith("test-")}
    missing = sorted(production - set(contract_table()))
    assert not missing, f"readers with no row in CONTRACT_FIXTURES: {missing}"


@pytest.mark.parametrize(
    ("text", "personal"),
    [
        ("Gọi 0905 123 456 để báo", True),
        ("0905123456", True),
        ("+84 236 3822 123", True),
        ("(0236) 3822 123", True),
        ("call 312-744-5000", True),
        ("lan.nguyen@example.vn", True),
        ("2014-07-12T10:58:43-05:00", False),
        ("101005420892", False),
        ("1699405559", False),
        ("urn:ioc:danang:test-open311:14-01100669", False),
        ("43B-012.34", False),
        ("-87.66475146237676", False),
    ],
)
def test_the_contract_knows_personal_data_when_it_sees_it(text: str, personal: bool) -> None:
    assert bool(EMAIL.search(text) or PHONE.search(text)) is personal
