"""Personal data is dropped or scrubbed; ordinary numbers, dates and addresses are left alone."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from ioc.model import Batch, Entity, Event, Observation
from ioc.privacy import (
    REDACTED,
    is_personal_field,
    is_personal_key,
    pseudonym,
    scrub_attributes,
    scrub_batch,
    scrub_text,
)


@pytest.mark.parametrize(
    "text",
    ["gọi 0905 123 456 giúp", "+84 236 3822 123", "mail: nguyen.van.a@gmail.com", "(312) 744-5000",
     "CCCD 079123456789", "0905123456"],
)
def test_contact_details_and_ids_are_redacted(text: str) -> None:
    assert REDACTED in scrub_text(text)


@pytest.mark.parametrize(
    "text",
    ["2014-07-12T10:58:43-05:00", "PM2.5 = 63.5", "1540 W 17TH ST, CHICAGO, IL, 60608", "Kiệt 123 Lê Duẩn",
     "tuyến R16, xe 43B-012.34"],
)
def test_ordinary_text_is_kept(text: str) -> None:
    assert scrub_text(text) == text


def test_personal_fields_are_dropped_whatever_their_spelling() -> None:
    clean = scrub_attributes(
        {"first_name": "An", "Last-Name": "Nguyen", "EMAIL": "a@b.vn", "phone": "0905123456",
         "status": "open", "description": "call me at 0905 123 456"}
    )
    assert set(clean) == {"status", "description"}
    assert "0905" not in clean["description"]
    assert is_personal_field("device_id") and not is_personal_field("service_code")


def test_pseudonym_is_stable_and_not_reversible_text() -> None:
    assert pseudonym("a@b.vn") == pseudonym("a@b.vn") != pseudonym("c@d.vn")
    assert "a@b.vn" not in pseudonym("a@b.vn")


def test_agency_codes_and_ids_are_not_mistaken_for_phone_numbers() -> None:
    record = {"service_code": "4e09c863992b94b915000000", "service_request_id": "101004277312",
              "address_id": "12345678", "citizen_id": "079123456789"}
    clean = scrub_attributes(record)
    assert clean == {"service_code": "4e09c863992b94b915000000", "service_request_id": "101004277312",
                     "address_id": "12345678"}


def test_pseudonyms_survive_scrubbing() -> None:
    token = pseudonym("a25@example.com")
    assert token == "h:16e111310873945a"  # nine digits in a row inside the hex
    assert scrub_text(f"reported by {token}") == f"reported by {token}"


def test_a_field_is_personal_by_any_word_of_its_name() -> None:
    assert is_personal_key("reporterPhone") and is_personal_key("caller_email") and is_personal_key("phone")
    assert not is_personal_key("kiosk_count") and not is_personal_key("station_name")


def test_a_batch_is_scrubbed_in_place_before_it_is_stored() -> None:
    now = datetime(2024, 9, 18, 1, 0, tzinfo=UTC)
    batch = Batch(
        entities=[Entity("urn:ioc:danang:f:1", "CitizenReport", "a", "s", name="gọi 0905 123 456",
                         attributes={"phone": "0905123456", "note": "lan@example.vn", "request_id": "101004277312"})],
        observations=[Observation("urn:ioc:danang:f:1", "note", "CCCD 079123456789", "", now),
                      Observation("urn:ioc:danang:f:1", "email", "lan@example.vn", "", now),
                      Observation("urn:ioc:danang:f:1", "level", 12.5, "cm", now)],
        events=[Event("urn:ioc:danang:f:e", "Flood", "a", "s", "gọi 0905 123 456", description="lan@example.vn")],
    )
    assert scrub_batch(batch) is batch
    (entity,) = batch.entities
    assert entity.name == f"gọi {REDACTED}"
    assert entity.attributes == {"note": REDACTED, "request_id": "101004277312"}
    assert [(o.metric, o.value) for o in batch.observations] == [("note", f"CCCD {REDACTED}"), ("level", 12.5)]
    assert (batch.events[0].headline, batch.events[0].description) == (f"gọi {REDACTED}", REDACTED)
