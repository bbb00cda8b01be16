"""Personal data at ingestion: which fields are dropped, how free text is scrubbed, how ids are hashed.

The guarantee lives at one place, the store's write path: `Store.write_batch` runs `scrub_batch` on every
batch, so no entity, observation or event reaches Redis with a personal field or an unscrubbed text.
Readers only drop whole fields that a standard defines as personal before they map a record.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import re
from collections.abc import Mapping
from functools import cache
from typing import TYPE_CHECKING, Any

from ioc.vocabulary import words

if TYPE_CHECKING:
    from ioc.model import Batch

# Field names that carry personal data in the standards we read (Open311 GeoReport v2 and common
# agency exports). Matched case-insensitively after removing '_' and '-'.
PERSONAL_FIELDS = frozenset(
    name.replace("_", "")
    for name in (
        "first_name",
        "last_name",
        "full_name",
        "name_of_requester",
        "requester",
        "reporter",
        "email",
        "email_address",
        "phone",
        "phone_number",
        "mobile",
        "telephone",
        "device_id",
        "account_id",
        "citizen_id",
        "national_id",
        "id_number",
        "cccd",
        "cmnd",
        "passport",
        "date_of_birth",
        "patient_name",
        "caller_name",
        "caller_phone",
    )
)

_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
# Phone numbers: Vietnamese (0905 123 456, +84 236 3822 123) and international forms. The look-arounds
# keep dates, times and decimals ("2014-07-12T10:58", "12.5") out.
_PHONE = re.compile(r"(?<![\w/:.-])(?:\+\d{1,3}[\s.-]?)?\(?\d{2,4}\)?[\s.-]?\d{3,4}[\s.-]?\d{3,4}(?![\w/:-])")
# Vietnamese citizen ID (CCCD, 12 digits) and old ID card (CMND, 9 digits).
_ID_NUMBER = re.compile(r"(?<![\w])(?:\d{12}|\d{9})(?![\w])")  # whole tokens: not inside hex or codes

# At least 8 digits anywhere: the fewest a phone or ID number has (a C-level scan, no Python loop).
_EIGHT_DIGITS = re.compile(r"(?:\D*\d){8}")

REDACTED = "[redacted]"


@cache
def is_personal_field(name: str) -> bool:
    return name.lower().replace("_", "").replace("-", "") in PERSONAL_FIELDS


@cache
def is_personal_key(key: str) -> bool:
    """A personal field by its whole name ('phone') or by any word of it ('reporter_phone', 'callerEmail')."""
    return is_personal_field(key) or any(is_personal_field(word) for word in words(key))


def scrub_text(text: str) -> str:
    """Replace e-mail addresses, phone numbers and ID numbers in free text."""
    if "@" not in text and not _EIGHT_DIGITS.match(text):
        return text  # fast path: no e-mail, and too few digits for a phone or ID number
    text = _EMAIL.sub(REDACTED, text)
    text = _ID_NUMBER.sub(REDACTED, text)
    return _PHONE.sub(_phone_or_keep, text)


def _phone_or_keep(match: re.Match[str]) -> str:
    digits = sum(ch.isdigit() for ch in match.group(0))
    # fewer than 8 digits is a house number, a time or a count, not a phone number
    return REDACTED if digits >= 8 else match.group(0)


@cache
def is_identifier_field(name: str) -> bool:
    """Codes and ids an agency assigns (service_code, request_id, address_id): not free text, never scrubbed,
    because a hex code or a long request number would otherwise look like a phone or ID number."""
    lowered = name.lower()
    return lowered.endswith(("_id", "_code", "id", "code")) and not is_personal_field(name)


def scrub_attributes(attributes: Mapping[str, Any]) -> dict[str, Any]:
    """Drop personal fields and scrub the free text of the others."""
    clean: dict[str, Any] = {}
    for key, value in attributes.items():
        if is_personal_field(key):
            continue
        clean[key] = scrub_text(value) if isinstance(value, str) and not is_identifier_field(key) else value
    return clean


def _scrub_value(name: str, value: Any) -> Any:
    return scrub_text(value) if isinstance(value, str) and not is_identifier_field(name) else value


def scrub_batch(batch: Batch) -> Batch:
    """Scrub a poll's batch in place before it is stored, and return it.

    Entity names and attributes, observation values and event texts are scrubbed; personal fields and the
    observations of a personal metric are dropped. In place, so that what the rules and the KPI listeners
    read after the write is what was stored.
    """
    for entity in batch.entities:
        entity.name = scrub_text(entity.name)
        entity.attributes = scrub_attributes(entity.attributes)
    batch.observations = [o for o in batch.observations if not is_personal_field(o.metric)]
    for observation in batch.observations:
        observation.value = _scrub_value(observation.metric, observation.value)
    for event in batch.events:
        event.headline = scrub_text(event.headline)
        event.description = scrub_text(event.description)
        event.translations = {language: {key: scrub_text(text) for key, text in texts.items()}
                              for language, texts in event.translations.items()}
        event.type = scrub_text(event.type)
    return batch


def pseudonym(value: str, *, purpose: str = "citizen") -> str:
    """Irreversible keyed hash, so repeat reports by one person can be counted without knowing who."""
    secret = os.environ.get("IOC_PSEUDONYM_KEY", "city-ioc-demo-key").encode()
    digest = hmac.new(secret, f"{purpose}:{value}".encode(), hashlib.sha256).hexdigest()
    return f"h:{digest[:16]}"
