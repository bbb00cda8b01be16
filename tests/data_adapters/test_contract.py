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


# --- bad records -----------------------------------------------------------------------------------------
# A real recorded payload with one record spoiled as agencies were found to publish them. The rule for every
# reader: the bad record is refused (or repaired) and counted on the batch with its reason; the rest is kept.


def _json(path: str) -> Any:
    return json.loads((FIXTURES / path).read_text(encoding="utf-8"))


def _vehicle_without_latitude(path: str) -> bytes:
    from google.protobuf import json_format
    from google.transit import gtfs_realtime_pb2 as rt

    message = rt.FeedMessage()
    if path.endswith(".json"):
        json_format.Parse((FIXTURES / path).read_text(encoding="utf-8"), message)
    else:
        message.ParseFromString((FIXTURES / path).read_bytes())
    message.entity[0].vehicle.position.ClearField("latitude")
    return message.SerializePartialToString()  # what an AVL system that lost its fix sends


def _precipitation_false(path: str) -> bytes:
    entity = _json(path)
    if isinstance(entity["precipitation"], dict):
        entity["precipitation"]["value"] = False
    else:
        entity["precipitation"] = False
    return json.dumps(entity).encode()


def _without_timestamp(path: str) -> bytes:
    document = _json(path)
    del document["features"][0]["properties"]["timestamp"]
    return json.dumps(document).encode()


def _feature_off_the_globe(path: str) -> bytes:
    document = _json(path)
    document["features"][1]["geometry"] = {"type": "Point", "coordinates": [108.2, 116.05]}
    return json.dumps(document).encode()


def _request_time_in_words(path: str) -> bytes:
    requests = _json(path)
    requests[1]["requested_datetime"] = "yesterday"
    return json.dumps(requests).encode()


def _row_with_words_for_beds(path: str) -> bytes:
    lines = (FIXTURES / path).read_text(encoding="utf-8-sig").splitlines()
    cells = lines[2].split(";")
    cells[5] = "không rõ"  # total_beds
    lines[2] = ";".join(cells)
    return "\n".join(lines).encode()


def _outage_without_id(path: str) -> bytes:
    document = _json(path)
    del document["data"]["items"][0]["outage_id"]
    return json.dumps(document).encode()


def _observation_time_in_words(path: str) -> bytes:
    document = _json(path)
    observations = document["value"]
    latest = max(observations, key=lambda observation: observation["phenomenonTime"])  # the one on screen
    latest["phenomenonTime"] = "yesterday"
    return json.dumps(document).encode()


def _station_without_bike_count(path: str) -> bytes:
    document = _json(path)
    document["data"]["stations"][3]["num_bikes_available"] = "nhiều"
    return json.dumps(document).encode()


def _vehicle_with_range_in_words(path: str) -> bytes:
    document = _json(path)
    document["data"]["vehicles"][0]["current_range_meters"] = "far"
    return json.dumps(document).encode()


def _poll_of_two_alerts_one_sent_in_words(path: str) -> bytes:
    # what the cap reader's fetch assembles from a feed of linked alerts: one document of every alert
    alerts = [(FIXTURES / name).read_text(encoding="utf-8") for name in (path, "cap/oasis-spec-homeland-security.xml")]
    alerts = [re.sub(r"^\s*<\?xml[^>]*\?>", "", alert) for alert in alerts]
    alerts[0] = re.sub(r"<sent>[^<]*</sent>", "<sent>chiều nay</sent>", alerts[0], count=1)
    return ('<?xml version="1.0" encoding="UTF-8"?>\n<alerts>\n' + "\n".join(alerts) + "\n</alerts>\n").encode()


def _without_date_observed(path: str) -> bytes:
    entity = _json(path)
    del entity["dateObserved"]
    return json.dumps(entity).encode()


def _row_without_its_time(path: str) -> bytes:
    return (FIXTURES / path).read_bytes().replace(b";18/09/2024 07:45;", b";;", 1)


def _service_without_code(path: str) -> bytes:
    services = _json(path)
    del services[2]["service_code"]
    return json.dumps(services).encode()


# (reader, fixture, spoil, refused, words the reason must hold); `refused` False: kept, and the part left out said
BAD_RECORDS = {
    "ngsi-ld-v2-boolean-precipitation": (
        "ngsi-ld", "fiware-sdm/AirQualityObserved/example.json", _precipitation_false, False, "precipitation"),
    "ngsi-ld-normalized-boolean-precipitation": (
        "ngsi-ld", "fiware-sdm/AirQualityObserved/example-normalized.jsonld", _precipitation_false, False,
        "precipitation"),
    "ngsi-ld-entity-without-time": (
        "ngsi-ld", "fiware-sdm/AirQualityObserved/example.json", _without_date_observed, False, "no time"),
    "csv-row-without-its-time": (
        "csv", "csv/danang-hospital-beds.csv", _row_without_its_time, False, "updated_at"),
    "gtfs-rt-vehicle-without-latitude": (
        "gtfs-rt", "gtfs-rt/caltrain-vehicle-positions.pb", _vehicle_without_latitude, True, "latitude"),
    "gtfs-rt-json-vehicle-without-latitude": (
        "gtfs-rt", "gtfs-rt/caltrain-vehicle-positions.pb.json", _vehicle_without_latitude, True, "latitude"),
    "geojson-feature-without-timestamp": (
        "geojson", "geojson/nws-observation-KBHM.json", _without_timestamp, False, "time"),
    "geojson-feature-off-the-globe": (
        "geojson", "geojson/danang-districts.geojson", _feature_off_the_globe, True, "WGS84"),
    "open311-request-time-in-words": (
        "open311", "open311/chicago-service-requests.json", _request_time_in_words, True, "requested_datetime"),
    "open311-service-without-code": (
        "open311", "open311/bloomington-services.json", _service_without_code, True, "service_code"),
    "csv-row-with-words-for-a-number": (
        "csv", "csv/danang-hospital-beds.csv", _row_with_words_for_beds, True, "total_beds"),
    "json-record-without-id": (
        "json", "json/danang-power-outages.json", _outage_without_id, True, "outage_id"),
    "cap-alert-sent-in-words": (
        "cap", "cap/oasis-spec-thunderstorm.xml", _poll_of_two_alerts_one_sent_in_words, True, "sent"),
    "gbfs-station-with-words-for-bikes": (
        "gbfs", "gbfs/oslo-bysykkel-v2.2/station_status.json", _station_without_bike_count, True,
        "num_bikes_available"),
    "gbfs-vehicle-with-words-for-range": (
        "gbfs", "gbfs/spec-v3.0/vehicle_status.json", _vehicle_with_range_in_words, True, "current_range_meters"),
    "sensorthings-observation-time-in-words": (
        "sensorthings", "sensorthings/psnc-datastream-observations.json", _observation_time_in_words, True,
        "phenomenonTime"),
}


def parse_fixture(reader_id: str, path: str, payload: bytes) -> Batch:
    pattern = next(p for p in contract_table()[reader_id] if Path(path).match(p) or p == path)
    return get_reader(reader_id).parse(payload, feed_for(reader_id, pattern))


@pytest.mark.parametrize("case", sorted(BAD_RECORDS))
def test_one_bad_record_never_loses_its_batch(case: str) -> None:
    reader_id, path, spoil, refused, reason_words = BAD_RECORDS[case]
    whole = parse_fixture(reader_id, path, (FIXTURES / path).read_bytes())
    assert not whole.problems, f"the recorded payload itself has problems: {whole.problems}"

    batch = parse_fixture(reader_id, path, spoil(path))

    (problem,) = batch.problems
    assert problem.refused is refused
    assert problem.where.strip() and reason_words in problem.reason
    if refused:  # the record is gone (a reading refused alone leaves its station), the others are kept
        assert 0 < batch.record_count <= whole.record_count
        assert batch.to_records() != whole.to_records()
    else:
        assert batch.record_count == whole.record_count
    assert len(batch.refused) == int(refused) and len(batch.repaired) == int(not refused)


def test_a_payload_of_nothing_but_bad_records_is_refused_whole() -> None:
    from google.transit import gtfs_realtime_pb2 as rt

    message = rt.FeedMessage()
    message.ParseFromString((FIXTURES / "gtfs-rt/caltrain-vehicle-positions.pb").read_bytes())
    for feed_entity in message.entity:
        feed_entity.vehicle.position.ClearField("latitude")
    # nothing left to trust: refused whole (so the runner keeps it), the first record's reason given
    with pytest.raises(PayloadError, match=r"every record .*latitude"):
        get_reader("gtfs-rt").parse(message.SerializePartialToString(), FeedContext.for_test("gtfs-rt"))


def _utf16(path: str, bom: bool = True) -> bytes:
    text = (FIXTURES / path).read_text(encoding="utf-8")
    return text.encode("utf-16" if bom else "utf-16-le")


def _historical_locations(_: str) -> bytes:
    # the spec's own example of a HistoricalLocations entity set (origin in tests/fixtures/SOURCES.md)
    return (FIXTURES / "sensorthings/entity-sets/ogc-18-088-historical-locations.json").read_bytes()


# (reader, fixture it starts from, change, words the refusal must hold): payloads refused whole, saying why
REFUSED_WHOLE = {
    "gtfs-rt-given-json-array": (
        "gtfs-rt", "gtfs-rt/caltrain-vehicle-positions.pb.json",
        lambda path: b"[" + (FIXTURES / path).read_bytes() + b"]", "JSON"),
    "gtfs-rt-given-another-json-object": (
        "gtfs-rt", "gbfs/spec-v3.0/station_status.json", lambda path: (FIXTURES / path).read_bytes(),
        "a JSON object without 'header'"),
    "gtfs-rt-given-json-with-a-byte-order-mark": (
        "gtfs-rt", "gbfs/spec-v3.0/station_status.json", lambda path: b"\xef\xbb\xbf" + (FIXTURES / path).read_bytes(),
        "a JSON object without 'header'"),
    "gtfs-rt-given-xml": ("gtfs-rt", "open311/spec-service-requests.xml", lambda path: (FIXTURES / path).read_bytes(),
                          "XML"),
    "open311-utf16-without-bom": (
        "open311", "open311/chicago-service-requests.json", lambda path: _utf16(path, bom=False), "UTF-16"),
    "sensorthings-historical-locations": (
        "sensorthings", "sensorthings/ogc-18-088-thing.json", _historical_locations, "HistoricalLocations"),
}


@pytest.mark.parametrize("case", sorted(REFUSED_WHOLE))
def test_a_payload_refused_whole_says_what_it_is(case: str) -> None:
    reader_id, path, change, words = REFUSED_WHOLE[case]
    with pytest.raises(PayloadError) as refused:
        get_reader(reader_id).parse(change(path), FeedContext.for_test(reader_id))
    assert words in str(refused.value)
    assert "Wire format was corrupt" not in str(refused.value)


@pytest.mark.parametrize("path", ["open311/chicago-service-requests.json", "open311/spec-service-requests.xml"])
def test_open311_reads_utf16_with_a_byte_order_mark(path: str) -> None:
    feed = FeedContext.for_test("open311")
    as_utf8 = get_reader("open311").parse((FIXTURES / path).read_bytes(), feed)
    text = (FIXTURES / path).read_text(encoding="utf-8").replace('encoding="utf-8"', 'encoding="utf-16"')
    as_utf16 = get_reader("open311").parse(text.encode("utf-16"), feed)
    assert as_utf16.to_records() == as_utf8.to_records() and as_utf16.record_count
