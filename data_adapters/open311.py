"""Open311 GeoReport v2 reader: citizen service requests (JSON or XML) to CitizenRequest entities.

Documents it reads, as JSON or XML:
- GET requests: each request is one `CitizenRequest` entity (mapping.entity_type overrides the type) with the
  request's public fields as attributes and one `status` observation ("open" or "closed"). A request with no
  lat/long is an entity without a location. Requester fields (first_name, last_name, email, phone, device_id,
  account_id) never leave this module: the first of e-mail, phone, account id or device id becomes
  `requester_pseudonym`, a keyed hash, so repeat reporters can be counted without knowing who they are.
- GET services and GET service definition: one `Open311Service` entity per service code, without location,
  so a screen can label request types and an integrator can see the catalogue the city publishes.
- A POST response or token lookup (a request id without a status) is a CitizenRequest without a status.
- An Open311 error response (`[{"code", "description"}]`, `<errors>`) is refused with its description, so the
  feed shows the server's error instead of an empty city.
"""

from __future__ import annotations

import re
import unicodedata
import xml.etree.ElementTree as ElementTree
from collections.abc import Callable
from typing import Any

from data_adapters.contract import (
    Batch,
    Entity,
    FeedContext,
    Observation,
    PayloadError,
    Reader,
    Scalar,
    as_float,
    load_json,
    lon_lat,
    parse_time,
    pseudonym,
    read_records,
    register,
    text_encoding,
    to_iso,
)

# The public fields of a GeoReport v2 request (the store scrubs their free text). Anything else a server
# adds is left out: an unknown field may carry a citizen's name under a name we cannot guess.
REQUEST_FIELDS = (
    "service_request_id",
    "status_notes",
    "service_name",
    "service_code",
    "description",
    "agency_responsible",
    "service_notice",
    "address",
    "address_id",
    "zipcode",
    "media_url",
)
REQUEST_TIMES = ("requested_datetime", "updated_datetime", "expected_datetime")
# The requester's identity, strongest first; the first one present is pseudonymised, all are dropped.
REQUESTER_FIELDS = ("email", "phone", "account_id", "device_id")

SERVICE_FIELDS = ("service_code", "service_name", "description", "type", "keywords", "group")

# GeoReport v2 has two statuses; servers that publish their workflow's own words are folded onto them.
CLOSED_STATUSES = frozenset(
    {
        "closed", "resolved", "completed", "complete", "done", "fixed", "archived", "rejected", "cancelled",
        "canceled", "duplicate", "da dong", "da xu ly", "hoan thanh", "da hoan thanh",
    }
)


@register
class Open311Reader(Reader):
    """Open311 GeoReport v2 (requests, services, service definitions), JSON and XML."""

    id = "open311"

    def check_mapping(self, mapping: dict[str, Any]) -> None:
        """The one mapping key this reader reads: entity_type."""
        if "entity_type" in mapping and not isinstance(mapping["entity_type"], str):
            raise ValueError(f"mapping.entity_type: expected text, got {mapping['entity_type']!r}")

    def parse(self, payload: bytes, feed: FeedContext) -> Batch:
        encoding = text_encoding(payload)  # Windows servers export UTF-16, with a byte-order mark
        if encoding == "utf-8":
            start = payload.lstrip(b"\xef\xbb\xbf \t\r\n")[:1]
        else:
            try:
                start = payload[:64].decode(encoding, errors="ignore").lstrip(" \t\r\n")[:1].encode()
            except UnicodeDecodeError:
                start = b""
        if start == b"<":
            return _from_xml(payload, feed)  # expat reads the byte-order mark and the declared encoding
        if start in (b"[", b"{"):
            if encoding != "utf-8":
                try:
                    return _from_json(load_json(payload.decode(encoding)), feed)
                except UnicodeDecodeError as exc:
                    raise PayloadError(f"not {encoding.upper()} text, as its byte-order mark says: {exc}") from None
            return _from_json(load_json(payload), feed)
        raise PayloadError("not an Open311 GeoReport v2 document: expected a JSON array or an XML document")


# --- JSON --------------------------------------------------------------------------------------------


def _from_json(document: Any, feed: FeedContext) -> Batch:
    if isinstance(document, dict):
        for key in ("service_requests", "requests"):
            if isinstance(document.get(key), list):
                return _requests(document[key], feed)
        if isinstance(document.get("services"), list):
            return _services(document["services"], feed)
        if "service_code" in document and isinstance(document.get("attributes"), list):
            return Batch(entities=[_service_definition(document, feed)])
        raise PayloadError("expected an Open311 array of service requests or services, got a JSON object")
    if not isinstance(document, list):
        raise PayloadError(f"expected an Open311 array of service requests or services, got {document!r:.40}")
    for index, item in enumerate(document):
        if not isinstance(item, dict):
            raise PayloadError(f"[{index}]: expected an object, got {item!r:.40}")
    if not document:
        return Batch()
    first = document[0]
    if "code" in first and "description" in first and "service_code" not in first:
        raise PayloadError(f"Open311 error {first.get('code')}: {first.get('description')}")
    if any(key in first for key in ("service_request_id", "token", "status", "requested_datetime")):
        return _requests(document, feed)
    if "service_code" in first:
        return _services(document, feed)
    raise PayloadError("[0]: neither a service request (service_request_id) nor a service (service_code)")


# --- XML ---------------------------------------------------------------------------------------------


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _record(element: ElementTree.Element) -> dict[str, Any]:
    """An XML record's leaf elements as a dict of text (an empty element is no value)."""
    record: dict[str, Any] = {}
    for child in element:
        if len(child) == 0:
            text = (child.text or "").strip()
            record[_local(child.tag)] = text or None
    return record


def _from_xml(payload: bytes, feed: FeedContext) -> Batch:
    try:
        # expat refuses entity-expansion bombs and ElementTree never fetches external entities
        root = ElementTree.fromstring(payload)
    except ElementTree.ParseError as exc:
        raise PayloadError(f"not well-formed XML: {exc}") from None
    kind = _local(root.tag)
    if kind == "service_requests":
        return _requests([_record(child) for child in root if _local(child.tag) == "request"], feed)
    if kind == "services":
        return _services([_record(child) for child in root if _local(child.tag) == "service"], feed)
    if kind == "service_definition":
        definition: dict[str, Any] = _record(root)
        definition["attributes"] = [_record(child) for child in root if _local(child.tag) == "attribute"]
        return Batch(entities=[_service_definition(definition, feed)])
    if kind == "errors":
        error = _record(root[0]) if len(root) else {}
        raise PayloadError(f"Open311 error {error.get('code')}: {error.get('description')}")
    if kind == "error":
        raise PayloadError(f"Open311 error: {(root.text or '').strip()}")
    raise PayloadError(f"XML root <{kind}> is not an Open311 GeoReport v2 document")


def _each_object(batch: Batch, items: list[Any], name: str, read: Callable[[str, dict[str, Any]], None]) -> Batch:
    """`read(label, item)` for each item (`services[3]`): one that is no object, or that `read` refuses, is
    counted on the batch with its reason and the others are read."""

    def checked(label: str, item: Any) -> None:
        if not isinstance(item, dict):
            raise PayloadError(f"{label}: expected an object, got {item!r:.40}")
        read(label, item)

    return read_records(batch, ((f"{name}[{index}]", item) for index, item in enumerate(items)), checked)


# --- service requests --------------------------------------------------------------------------------


def _requests(items: list[Any], feed: FeedContext) -> Batch:
    batch = Batch()

    def read(label: str, item: dict[str, Any]) -> None:
        entity, observation = _request(item, label, feed)
        batch.entities.append(entity)
        if observation is not None:
            batch.observations.append(observation)

    return _each_object(batch, items, "service_requests", read)


def _request(item: dict[str, Any], label: str, feed: FeedContext) -> tuple[Entity, Observation | None]:
    request_id = _scalar_text(item, "service_request_id", label)
    token = _scalar_text(item, "token", label)
    if not request_id and not token:
        raise PayloadError(f"{label}.service_request_id: missing")
    # GET requests always state a status; a POST response or a token lookup names the request only
    raw_status = _scalar_text(item, "status", label)
    status = ("closed" if _fold(raw_status) in CLOSED_STATUSES else "open") if raw_status else ""

    attributes: dict[str, Scalar] = {"status": status} if status else {}
    if raw_status and raw_status.lower() != status:
        attributes["status_detail"] = raw_status
    for name in REQUEST_FIELDS:
        value = _scalar_text(item, name, label)
        if value:
            attributes[name] = value
    times = {name: parse_time(item[name], field_name=f"{label}.{name}") for name in REQUEST_TIMES if _present(item, name)}
    attributes.update({name: to_iso(moment) for name, moment in times.items()})
    requester = next((_scalar_text(item, name, label) for name in REQUESTER_FIELDS if _present(item, name)), "")
    if requester:
        # not "requester": ioc.privacy lists that name as personal, so the store would drop the count's key
        attributes["requester_pseudonym"] = pseudonym(_same_person(requester))

    entity = Entity(
        id=feed.urn(request_id or f"token-{token}"),
        type=feed.mapping.get("entity_type") or "CitizenRequest",
        agency=feed.agency,
        sector=feed.sector,
        name=str(attributes.get("service_name") or attributes.get("service_code") or ""),
        location=_location(item, label),
        attributes=attributes,
        observed_at=times.get("updated_datetime") or times.get("requested_datetime"),
        feed=feed.name,
    )
    observation = None
    if status and entity.observed_at is not None:
        observation = Observation(entity.id, "status", status, "", entity.observed_at)
    return entity, observation


def _location(item: dict[str, Any], label: str) -> tuple[float, float] | None:
    if not (_present(item, "lat") and _present(item, "long")):
        return None
    lon = as_float(item["long"], field_name=f"{label}.long")
    lat = as_float(item["lat"], field_name=f"{label}.lat")
    if lon == 0 and lat == 0:
        return None  # servers write 0,0 for "no location"; it is not a place in any city
    return lon_lat(lon, lat, field_name=f"{label}.lat/long")


def _fold(text: str) -> str:
    """'Đã xử lý' -> 'da xu ly', 'in_progress' -> 'in progress': status words compared without accents."""
    decomposed = unicodedata.normalize("NFKD", text.replace("đ", "d").replace("Đ", "D"))
    plain = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return " ".join(plain.lower().replace("_", " ").split())


def _same_person(value: str) -> str:
    """One form per e-mail or phone, so 'A@x.vn' and 'a@x.vn', '0905 123 456' and '0905123456' count once."""
    if "@" in value:
        return value.strip().lower()
    digits = re.sub(r"\D", "", value)
    return digits or value.strip()


# --- services ----------------------------------------------------------------------------------------


def _services(items: list[Any], feed: FeedContext) -> Batch:
    batch = Batch()

    def read(label: str, item: dict[str, Any]) -> None:
        code = _scalar_text(item, "service_code", label)
        if not code:
            raise PayloadError(f"{label}.service_code: missing")
        attributes: dict[str, Scalar] = {}
        for name in SERVICE_FIELDS:
            value = _scalar_text(item, name, label)
            if value:
                attributes[name] = value
        if _present(item, "metadata"):
            attributes["metadata"] = _boolean(item["metadata"], f"{label}.metadata")
        batch.entities.append(_service_entity(code, attributes, feed))

    return _each_object(batch, items, "services", read)


def _service_definition(definition: dict[str, Any], feed: FeedContext) -> Entity:
    code = _scalar_text(definition, "service_code", "service_definition")
    if not code:
        raise PayloadError("service_definition.service_code: missing")
    questions = []
    required = []
    for index, attribute in enumerate(definition.get("attributes") or []):
        label = f"service_definition.attributes[{index}]"
        if not isinstance(attribute, dict):
            raise PayloadError(f"{label}: expected an object, got {attribute!r:.40}")
        question = _scalar_text(attribute, "code", label)
        if not question:
            raise PayloadError(f"{label}.code: missing")
        questions.append(question)
        if _present(attribute, "required") and _boolean(attribute["required"], f"{label}.required"):
            required.append(question)
    attributes: dict[str, Scalar] = {
        "service_code": code,
        "attribute_count": len(questions),
        "attribute_codes": ",".join(questions),
        "required_attribute_codes": ",".join(required),
    }
    return _service_entity(code, attributes, feed)


def _service_entity(code: str, attributes: dict[str, Scalar], feed: FeedContext) -> Entity:
    return Entity(
        # 'service:' keeps a service code apart from a request id in the same feed namespace
        id=feed.urn(f"service:{code}"),
        type="Open311Service",
        agency=feed.agency,
        sector=feed.sector,
        name=str(attributes.get("service_name") or code),
        attributes=attributes,
        feed=feed.name,
    )


# --- values ------------------------------------------------------------------------------------------


def _present(item: dict[str, Any], name: str) -> bool:
    value = item.get(name)
    return value is not None and not (isinstance(value, str) and not value.strip())


def _scalar_text(item: dict[str, Any], name: str, label: str) -> str:
    """A field as text; numbers are accepted (JSON servers differ), objects and arrays are not."""
    value = item.get(name)
    if value is None:
        return ""
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise PayloadError(f"{label}.{name}: expected text, got {value!r:.40}")
    return str(value).strip()


def _boolean(value: Any, label: str) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in ("true", "false"):
        return value.strip().lower() == "true"
    raise PayloadError(f"{label}: expected true or false, got {value!r:.40}")
