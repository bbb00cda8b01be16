"""The contract every reader keeps, run against every recorded payload of every registered reader.

To hold a new reader to it, add one row to CONTRACT_FIXTURES: its reader id -> glob patterns under
tests/fixtures. A reader that needs a feed mapping to read a file (a generic CSV or JSON reader) gets it in
FEED_MAPPINGS, keyed by the same pattern. The contract: the uniform model's shape, nothing personal in Redis
once a batch is written through the store, one metric and unit for PM2.5 however it is published, and
every broken payload (empty, malformed, truncated, of another schema) refused as a whole.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from data_adapters.base import FeedContext, PayloadError, get_reader, reader_ids
from ioc.model import Batch, Entity, Event, Observation
from ioc.store import Store
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


def feed_for(reader_id: str, pattern: str) -> FeedContext:
    feed = FeedContext.for_test(reader_id)
    if pattern in FEED_MAPPINGS:
        feed = FeedContext(feed.name, feed.agency, feed.sector, feed.city, mapping=FEED_MAPPINGS[pattern])
    return feed


@pytest.mark.parametrize(("reader_id", "pattern", "path"), list(contract_cases()))
def test_reader_keeps_the_contract(reader_id: str, pattern: str, path: Path) -> None:
    feed = feed_for(reader_id, pattern)
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

    json.dumps(batch.to_records(), ensure_ascii=False)


# --- nothing personal reaches Redis -------------------------------------------------------------------

# A citizen as agencies let them slip into feeds: named in fields, reachable in fields and in free text.
# (A name in free text is beyond any scrub: the name goes in fields only, as agencies' forms put it.)
PERSON_NAME = "Nguyễn Thị Mai"
PERSON_PHONE = "0905 123 456"
PERSON_EMAIL = "mai.nguyen@example.vn"
PERSON_ID_NUMBER = "079123456789"  # a CCCD
PERSONAL_VALUES = (PERSON_NAME, PERSON_PHONE, PERSON_PHONE.replace(" ", ""), PERSON_EMAIL, PERSON_ID_NUMBER)
FREE_TEXT = f"Gọi {PERSON_PHONE} hoặc {PERSON_EMAIL}, CCCD {PERSON_ID_NUMBER}"


def with_a_citizen(batch: Batch, feed: FeedContext) -> Batch:
    """The batch plus one record of each kind carrying a person in its fields and its free text."""
    entity_id, moment = feed.urn("citizen-report"), datetime.fromisoformat("2024-09-18T08:00:00+07:00")
    batch.entities.append(Entity(
        id=entity_id, type="CitizenReport", agency=feed.agency, sector=feed.sector, name=FREE_TEXT,
        attributes={"caller_name": PERSON_NAME, "phone": PERSON_PHONE, "email": PERSON_EMAIL,
                    "citizen_id": PERSON_ID_NUMBER, "note": FREE_TEXT, "reporter_note": FREE_TEXT},
        observed_at=moment,
    ))
    batch.observations.append(Observation(entity_id, "note", FREE_TEXT, "", moment))
    batch.observations.append(Observation(entity_id, "caller_name", PERSON_NAME, "", moment))
    batch.events.append(Event(
        id=feed.urn("citizen-call"), type=FREE_TEXT, agency=feed.agency, sector=feed.sector, headline=FREE_TEXT,
        description=f"{FREE_TEXT}\nliên hệ {PERSON_PHONE}", onset=moment,
    ))
    return batch


def redis_texts(client: Any) -> Iterator[str]:
    """Every key and every value of every key in Redis, whatever its type."""
    for key in client.scan_iter("*"):
        yield key
        kind = client.type(key)
        if kind == "string":
            yield client.get(key)
        elif kind == "hash":
            for field_name, value in client.hgetall(key).items():
                yield field_name
                yield value
        elif kind in ("set", "zset", "list"):
            members = {"set": client.smembers, "list": lambda k: client.lrange(k, 0, -1),
                       "zset": lambda k: client.zrange(k, 0, -1)}[kind](key)
            yield from members
        elif kind == "stream":
            for _, entry in client.xrange(key):
                for field_name, value in entry.items():
                    yield field_name
                    yield value


def personal_data_in_redis(client: Any) -> list[str]:
    found = []
    for text in redis_texts(client):
        if any(value in text for value in PERSONAL_VALUES) or EMAIL.search(text) or PHONE.search(text):
            found.append(text)
    return found


def write_through_the_store(reader_id: str, pattern: str, path: Path, fake_redis: Any) -> None:
    feed = feed_for(reader_id, pattern)
    batch = with_a_citizen(get_reader(reader_id).parse(path.read_bytes(), feed), feed)
    Store(fake_redis, "danang").write_batch(feed.name, batch)


@pytest.mark.parametrize(("reader_id", "pattern", "path"), list(contract_cases()))
def test_nothing_personal_reaches_redis(reader_id: str, pattern: str, path: Path, fake_redis: Any) -> None:
    write_through_the_store(reader_id, pattern, path, fake_redis)
    found = personal_data_in_redis(fake_redis)
    assert not found, f"personal data in Redis: {found[:3]}"


def test_the_scan_finds_what_the_store_did_not_scrub(fake_redis: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    # the guarantee is the store's one scrub call: without it the same scan must find the citizen
    monkeypatch.setattr("ioc.store.scrub_batch", lambda batch: batch)
    reader_id, pattern, path = next(iter(contract_cases())).values
    write_through_the_store(reader_id, pattern, path, fake_redis)
    found = " ".join(personal_data_in_redis(fake_redis))
    missed = [value for value in (PERSON_NAME, PERSON_PHONE, PERSON_EMAIL, PERSON_ID_NUMBER) if value not in found]
    assert not missed, f"the scan missed {missed}"


# --- one metric, one unit ------------------------------------------------------------------------------

PM25_AS_PUBLISHED = [("µg/m³", 35.0), ("mg/m³", 0.035), ("GQ", 35.0)]


def pm25_payload(reader_id: str, unit: str, value: float) -> tuple[bytes, dict[str, Any]]:
    """One PM2.5 reading in the reader's own format, with its unit written the way the format allows."""
    at = "2024-09-18T08:00:00+07:00"
    if reader_id == "sensorthings":
        thing = {"@iot.id": 1, "name": "Trạm Hòa Khánh", "Locations": [{"encodingType": "application/geo+json",
                 "location": {"type": "Point", "coordinates": [108.15, 16.07]}}],
                 "Datastreams": [{"@iot.id": 11, "name": "PM2.5", "unitOfMeasurement": {"symbol": unit},
                                  "ObservedProperty": {"name": "PM2.5", "definition": ""},
                                  "Observations": [{"phenomenonTime": at, "result": value}]}]}
        return json.dumps({"value": [thing]}).encode(), {}
    if reader_id == "ngsi-ld":
        entity = {"id": "urn:ngsi-ld:AirQualityObserved:hoa-khanh", "type": "AirQualityObserved",
                  "dateObserved": {"type": "Property", "value": at},
                  "location": {"type": "GeoProperty", "value": {"type": "Point", "coordinates": [108.15, 16.07]}},
                  "pm25": {"type": "Property", "value": value, "unitCode": unit}}
        return json.dumps(entity).encode(), {}
    if reader_id == "geojson":
        feature = {"type": "Feature", "geometry": {"type": "Point", "coordinates": [108.15, 16.07]},
                   "properties": {"id": "hoa-khanh", "time": at, "pm25": {"value": value, "unitCode": unit}}}
        return json.dumps({"type": "FeatureCollection", "features": [feature]}).encode(), {}
    mapping = {"id": "station", "entity_type": "AirQualityStation", "time": "time",
               "metrics": {"pm25": {"field": "PM2.5", "unit": unit}}}
    if reader_id == "csv":
        return f"station,time,PM2.5\nhoa-khanh,{at},{value}\n".encode(), mapping
    record = {"station": "hoa-khanh", "time": at, "PM2.5": value}
    return json.dumps([record]).encode(), mapping  # json and mqtt-json


@pytest.mark.parametrize(("unit", "value"), PM25_AS_PUBLISHED)
@pytest.mark.parametrize("reader_id", ["sensorthings", "ngsi-ld", "geojson", "csv", "json", "mqtt-json"])
def test_pm25_is_one_metric_in_one_unit_however_it_is_published(reader_id: str, unit: str, value: float) -> None:
    payload, mapping = pm25_payload(reader_id, unit, value)
    feed = FeedContext.for_test(reader_id)
    feed = FeedContext(feed.name, feed.agency, feed.sector, feed.city, mapping=mapping)
    batch = get_reader(reader_id).parse(payload, feed)
    (reading,) = [o for o in batch.observations if o.metric == "pm25"]
    assert (reading.value, reading.unit) == (pytest.approx(35.0), "µg/m³")
    assert batch.entities[0].attributes["pm25"] == pytest.approx(35.0)


# --- broken payloads -------------------------------------------------------------------------------------


def first_fixture(reader_id: str) -> tuple[str, Path]:
    for pattern in contract_table()[reader_id]:
        for path in sorted(FIXTURES.glob(pattern)):
            return pattern, path
    raise AssertionError(f"{reader_id}: no recorded payload")


BROKEN = {
    "empty": b"",
    "blank": b"  \n\t\n",
    "malformed": b"\x00\xff{[<garbage",
    "html_error_page": b"<html><body>502 Bad Gateway</body></html>",
    "schema_drift_object": b'{"unexpected": [1, 2, 3], "version": "9.9"}',
    "schema_drift_array": b'[{"foo": 1}, {"foo": 2}]',
    "schema_drift_xml": b'<?xml version="1.0"?><unexpected><item>1</item></unexpected>',
}


class TestEveryReaderRefusesBrokenPayloads:
    """The failure cases every reader shares, run for every registered reader: a broken payload is refused
    as a whole with a PayloadError that says why (so the runner keeps it and marks the feed), never
    half-read and never another exception."""

    @staticmethod
    def refuses(reader_id: str, pattern: str, payload: bytes) -> None:
        with pytest.raises(PayloadError) as refused:
            get_reader(reader_id).parse(payload, feed_for(reader_id, pattern))
        assert str(refused.value).strip(), "a refusal must say why"

    @pytest.mark.parametrize("case", sorted(BROKEN))
    @pytest.mark.parametrize("reader_id", sorted(contract_table()))
    def test_broken_payload(self, reader_id: str, case: str) -> None:
        pattern, _ = first_fixture(reader_id)
        self.refuses(reader_id, pattern, BROKEN[case])

    @pytest.mark.parametrize(("reader_id", "pattern", "path"), list(contract_cases()))
    def test_truncated_payload(self, reader_id: str, pattern: str, path: Path) -> None:
        payload = path.read_bytes()
        for share in (2, 3):  # cut inside a record, wherever the reader's format puts them
            self.refuses(reader_id, pattern, payload[: len(payload) // share])


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
