"""Tests of the Open311 GeoReport v2 reader: requests and services in JSON and XML, and citizens' privacy."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ElementTree
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from data_adapters.base import FeedContext, PayloadError, get_reader
from data_adapters.open311 import Open311Reader
from ioc.model import Batch
from ioc.privacy import pseudonym
from tests.data_adapters import as_stored

FIXTURES = Path(__file__).parents[1] / "fixtures" / "open311"
FEED = FeedContext(name="citizen-requests", agency="danang-1022", sector="citizen")


def parse(payload: bytes | list[Any] | dict[str, Any], feed: FeedContext = FEED) -> Batch:
    raw = payload if isinstance(payload, bytes) else json.dumps(payload, ensure_ascii=False).encode()
    return Open311Reader().parse(raw, feed)


def fixture(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def request(**fields: Any) -> dict[str, Any]:
    """A request as the 1022 hotline's GeoReport v2 server would publish it."""
    return {
        "service_request_id": "DN-2024-000123",
        "status": "open",
        "service_name": "Ngập úng",
        "service_code": "FLOOD",
        "requested_datetime": "2024-05-01T08:15:00+07:00",
        "address": "Nguyễn Văn Linh, Hải Châu",
        "lat": 16.0604,
        "long": 108.2100,
        **fields,
    }


# --- the published samples -----------------------------------------------------------------------------


def test_chicago_requests_json() -> None:
    raw = fixture("chicago-service-requests.json")
    source = json.loads(raw)
    batch = parse(raw)
    assert len(batch.entities) == len(source) == 2
    light = batch.entities[0]
    assert light.id == "urn:ioc:danang:citizen-requests:14-01100669"
    assert light.type == "CitizenRequest"
    assert light.location == (source[0]["long"], source[0]["lat"])
    assert light.attributes["service_code"] == source[0]["service_code"]
    assert light.attributes["agency_responsible"] == "Division of Electrical Operations CDOT"
    assert light.attributes["status"] == "open"
    assert light.observed_at == datetime(2014, 7, 12, 16, 8, 21, tzinfo=UTC)  # updated 11:08:21-05:00
    status = next(obs for obs in batch.observations if obs.entity_id == light.id)
    assert (status.metric, status.value, status.unit) == ("status", "open", "")
    assert status.time == light.observed_at and status.time.tzinfo is not None


def test_spec_requests_xml() -> None:
    raw = fixture("spec-service-requests.xml")
    batch = parse(raw)
    assert len(batch.entities) == len(ElementTree.fromstring(raw).findall("request"))
    closed = batch.entities[0]
    assert closed.id.endswith(":638344")
    assert closed.attributes["status"] == "closed"
    assert closed.attributes["status_notes"] == "Duplicate request."
    assert closed.location == (-122.4651145, 37.762221815)
    assert closed.attributes["expected_datetime"] == "2010-04-15T14:37:38+00:00"
    assert "description" not in closed.attributes  # an empty element is no value
    assert [obs.value for obs in batch.observations] == ["closed", "open"]


def test_toronto_request_without_update_is_observed_when_requested() -> None:
    batch = parse(fixture("toronto-service-requests.xml"))
    pothole = batch.entities[0]
    assert pothole.id == "urn:ioc:danang:citizen-requests:101005420892"
    assert pothole.location == (-79.272306875, 43.691104288)
    assert "updated_datetime" not in pothole.attributes
    assert pothole.observed_at == datetime(2018, 7, 30, 4, 1, tzinfo=UTC)


@pytest.mark.parametrize("name", ["spec-services.json", "bloomington-services.json"])
def test_services_json_are_service_entities(name: str) -> None:
    raw = fixture(name)
    source = json.loads(raw)
    batch = parse(raw)
    assert len(batch.entities) == len(source)
    assert batch.observations == []
    first = batch.entities[0]
    assert first.type == "Open311Service"
    assert first.id == f"urn:ioc:danang:citizen-requests:service:{source[0]['service_code']}"
    assert first.name == source[0]["service_name"]
    assert first.attributes["metadata"] is source[0]["metadata"]
    assert all(entity.location is None for entity in batch.entities)


def test_services_xml_are_service_entities() -> None:
    raw = fixture("sf311-services.xml")
    services = ElementTree.fromstring(raw).findall("service")
    batch = parse(raw)
    assert len(batch.entities) == len(services)
    assert batch.entities[0].id.endswith(":service:001")
    assert batch.entities[0].name == "Cans_Left_Out_24x7"
    assert batch.entities[0].attributes["group"] == "Litter Receptacles"
    assert batch.entities[0].attributes["metadata"] is False


def test_service_definition_xml() -> None:
    (definition,) = parse(fixture("spec-service-definition.xml")).entities
    assert definition.id.endswith(":service:DMV66")
    assert definition.attributes["attribute_codes"] == "WHISHETN"
    assert definition.attributes["required_attribute_codes"] == "WHISHETN"


@pytest.mark.parametrize("name", sorted(path.name for path in FIXTURES.iterdir()))
def test_every_sample_through_the_registry(name: str) -> None:
    batch = get_reader("open311").parse(fixture(name), FeedContext.for_test("open311"))
    assert batch.entities


# --- privacy -------------------------------------------------------------------------------------------

PERSONAL = {
    "first_name": "Phạm",
    "last_name": "Thị Lan",
    "email": "Lan.Nguyen@example.vn",
    "phone": "0905 123 456",
    "device_id": "a1b2c3-device-77",
    "account_id": "acct-998877",
}


def test_requester_fields_are_dropped_and_the_requester_pseudonymised() -> None:
    batch = parse([request(description="Nước ngập 40cm, gọi 0905123456 hoặc lan@example.vn", **PERSONAL)])
    # the requester's fields go in the reader (a pseudonym stands for them); the store scrubs the free text
    dumped = json.dumps(as_stored(batch).to_records(), ensure_ascii=False)
    for value in (*PERSONAL.values(), "0905123456", "lan@example.vn"):
        assert value not in dumped
    attributes = batch.entities[0].attributes
    assert attributes["requester_pseudonym"] == pseudonym("lan.nguyen@example.vn")
    assert attributes["description"].startswith("Nước ngập 40cm")


def test_one_requester_counts_once_however_they_write_their_address() -> None:
    batch = parse(
        [
            request(service_request_id="1", email="Lan.Nguyen@Example.vn"),
            request(service_request_id="2", email=" lan.nguyen@example.vn "),
            request(service_request_id="3", phone="0905 123 456"),
            request(service_request_id="4", phone="0905-123-456"),
        ]
    )
    pseudonyms = [entity.attributes["requester_pseudonym"] for entity in batch.entities]
    assert pseudonyms[0] == pseudonyms[1]
    assert pseudonyms[2] == pseudonyms[3]
    assert pseudonyms[0] != pseudonyms[2]


def test_requester_fields_in_xml_are_dropped() -> None:
    raw = (
        b"<?xml version='1.0' encoding='utf-8'?><service_requests><request>"
        b"<service_request_id>7</service_request_id><status>open</status>"
        b"<requested_datetime>2024-05-01T08:00:00+07:00</requested_datetime>"
        b"<first_name>Tran</first_name><last_name>Van Binh</last_name><email>binh@example.vn</email>"
        b"<phone>+84 236 3822 123</phone></request></service_requests>"
    )
    batch = parse(raw)
    dumped = json.dumps(batch.to_records())
    for value in ("Tran", "Van Binh", "binh@example.vn", "3822"):
        assert value not in dumped
    assert batch.entities[0].attributes["requester_pseudonym"] == pseudonym("binh@example.vn")


def test_fields_outside_the_standard_are_left_out() -> None:
    batch = parse([request(reporter_name="Lê Văn Cường", internal_note="call back Mr Cuong")])
    dumped = json.dumps(batch.to_records(), ensure_ascii=False)
    assert "Cường" not in dumped and "Cuong" not in dumped


# --- the rest of the standard --------------------------------------------------------------------------


def test_request_without_coordinates_has_no_location() -> None:
    batch = parse([request(lat=None, long=None), request(service_request_id="2", lat="", long="")])
    assert [entity.location for entity in batch.entities] == [None, None]


def test_zero_zero_means_no_location() -> None:
    assert parse([request(lat=0, long=0)]).entities[0].location is None


@pytest.mark.parametrize(
    ("status", "normalized"),
    [("open", "open"), ("Closed", "closed"), ("in_progress", "open"), ("Đã xử lý", "closed")],
)
def test_statuses_fold_onto_open_and_closed(status: str, normalized: str) -> None:
    batch = parse([request(status=status)])
    assert batch.entities[0].attributes["status"] == normalized
    assert batch.observations[0].value == normalized
    if status.lower() != normalized:
        assert batch.entities[0].attributes["status_detail"] == status
    else:
        assert "status_detail" not in batch.entities[0].attributes


def test_mapping_sets_the_entity_type() -> None:
    feed = FeedContext(name="f", agency="a", sector="citizen", mapping={"entity_type": "CitizenFeedback"})
    assert parse([request()], feed).entities[0].type == "CitizenFeedback"


def test_request_known_only_by_token() -> None:
    batch = parse([{"token": "12345", "status": "open", "requested_datetime": "2024-05-01T08:00:00Z"}])
    assert batch.entities[0].id == "urn:ioc:danang:citizen-requests:token-12345"


def test_post_response_and_token_lookup_name_a_request_without_status() -> None:
    raw = (
        "<?xml version='1.0' encoding='utf-8'?><service_requests>"
        "<request><service_request_id>2024-0042</service_request_id>"
        "<service_notice>Sẽ xử lý trong 24 giờ</service_notice><account_id/></request>"
        "<request><service_request_id>2024-0043</service_request_id><token>t-777</token></request>"
        "</service_requests>"
    ).encode()
    batch = parse(raw)
    assert [entity.id.rsplit(":", 1)[1] for entity in batch.entities] == ["2024-0042", "2024-0043"]
    assert "status" not in batch.entities[0].attributes
    assert batch.entities[0].attributes["service_notice"] == "Sẽ xử lý trong 24 giờ"
    assert batch.observations == []


# --- refused and empty payloads ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("payload", "message"),
    [
        ([request(lat="north", long=108.2)], r"service_requests\[0\]\.lat: expected a number"),
        ([request(lat=16.06, long=250)], r"service_requests\[0\]\.lat/long"),
        ([request(service_request_id={"id": 1})], r"service_request_id: expected text"),
        ([request(requested_datetime="yesterday")], "requested_datetime"),
        ([request(), "a request"], r"\[1\]: expected an object"),
        ([{"status": "open"}], r"service_request_id: missing"),
        ({"total": 3}, "got a JSON object"),
        ([{"code": 403, "description": "Invalid api_key received"}], "Open311 error 403: Invalid api_key"),
        ([{"service_name": "no code"}], r"\[0\]: neither a service request"),
    ],
)
def test_wrong_json_is_refused(payload: Any, message: str) -> None:
    with pytest.raises(PayloadError, match=message):
        parse(payload)


@pytest.mark.parametrize(
    ("payload", "message"),
    [
        (b"42", "not an Open311"),
        (b"", "not an Open311"),
        (b"<html><body>Service unavailable</body></html>", "XML root <html>"),
        (b"<?xml version='1.0'?><error>Invalid api_key received</error>", "Open311 error: Invalid api_key"),
        (b"<errors><error><code>404</code><description>No such service</description></error></errors>",
         "Open311 error 404: No such service"),
        (b"<service_requests><request><service_request_id>1</service_request_id><status>open</status>"
         b"<lat>16.0</lat><long>east</long></request></service_requests>", r"\.long: expected a number"),
    ],
)
def test_wrong_documents_are_refused(payload: bytes, message: str) -> None:
    with pytest.raises(PayloadError, match=message):
        parse(payload)


@pytest.mark.parametrize("payload", [b"[]", b"  [ ]\n", b"<?xml version='1.0'?><service_requests/>", b"<services></services>"])
def test_empty_documents_are_empty_batches(payload: bytes) -> None:
    batch = parse(payload)
    assert batch.entities == [] and batch.observations == []
