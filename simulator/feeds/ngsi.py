"""What the simulated NGSI-LD context brokers share: normalized attributes, keyValues, and the query API.

Each agency that publishes FIWARE Smart Data Models runs its own broker; the simulator serves each at
`/<agency>/ngsi-ld/v1/entities`, answering GET the way Orion-LD does: `type` (entities of another type:
an empty array), `options=keyValues` (values without their Property wrappers), `limit` (default 20, at
most 1000) and `offset`. Errors are NGSI-LD ProblemDetails with HTTP 400.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from simulator.feeds.common import BadFeedRequest, FeedRequest, json_bytes, utc_iso

LD_JSON = "application/ld+json"
CORE_CONTEXT = "https://uri.etsi.org/ngsi-ld/v1/ngsi-ld-core-context.jsonld"
DEFAULT_LIMIT = 20
MAX_LIMIT = 1000
BAD_REQUEST = "https://uri.etsi.org/ngsi-ld/errors/BadRequestData"

Entity = dict[str, Any]


def prop(value: Any, *, unit_code: str | None = None, observed_at: datetime | None = None) -> dict[str, Any]:
    """A normalized Property, with its UN/CEFACT unit code and observation time when it has them."""
    attribute: dict[str, Any] = {"type": "Property", "value": value}
    if unit_code:
        attribute["unitCode"] = unit_code
    if observed_at is not None:
        attribute["observedAt"] = utc_iso(observed_at)
    return attribute


def when(moment: datetime) -> dict[str, Any]:
    """A DateTime Property, as the Smart Data Models' normalized examples write it."""
    return {"type": "Property", "value": {"@type": "DateTime", "@value": utc_iso(moment)}}


def point(lon: float, lat: float) -> dict[str, Any]:
    return {"type": "GeoProperty", "value": {"type": "Point", "coordinates": [lon, lat]}}


def relationship(target: str) -> dict[str, Any]:
    return {"type": "Relationship", "object": target}


def address(street: str, district: str) -> dict[str, Any]:
    unit = "Huyện" if district == "Hòa Vang" else "Quận"
    return prop(
        {
            "streetAddress": street,
            "addressLocality": f"{unit} {district}",
            "addressRegion": "Thành phố Đà Nẵng",
            "addressCountry": "VN",
        }
    )


def key_values(entity: Entity) -> Entity:
    """The keyValues rendering of a normalized entity: every attribute reduced to its value."""
    simplified: Entity = {}
    for name, attribute in entity.items():
        if name in ("id", "type", "@context") or not isinstance(attribute, dict):
            simplified[name] = attribute
        elif attribute.get("type") == "Relationship":
            simplified[name] = attribute["object"]
        else:
            value = attribute.get("value")
            if isinstance(value, dict) and "@value" in value:
                value = value["@value"]
            simplified[name] = value
    return simplified


def render_entities(entities: list[Entity], entity_type: str, context: str, request: FeedRequest) -> tuple[bytes, str]:
    """GET /ngsi-ld/v1/entities over one broker's entities (all of `entity_type`), with `context` linked."""
    limit = _count(request, "limit", DEFAULT_LIMIT)
    if not 0 < limit <= MAX_LIMIT:
        raise _bad(f"limit must be between 1 and {MAX_LIMIT}, not {limit}")
    offset = _count(request, "offset", 0)
    wanted_types = {t.strip().rsplit("/", 1)[-1] for t in request.get("type", "").split(",") if t.strip()}
    if wanted_types and entity_type not in wanted_types:
        entities = []
    options = {o.strip() for o in request.get("options", "").split(",") if o.strip()}
    if unknown := options - {"keyValues", "sysAttrs", "count"}:
        raise _bad(f"options: unknown option '{sorted(unknown)[0]}'")
    page = entities[offset : offset + limit]
    with_context = [{**entity, "@context": [context, CORE_CONTEXT]} for entity in page]
    if "keyValues" in options:
        with_context = [key_values(entity) for entity in with_context]
    return json_bytes(with_context), LD_JSON


def _count(request: FeedRequest, name: str, default: int) -> int:
    text = request.get(name, "").strip()
    if not text:
        return default
    if not text.isdigit():
        raise _bad(f"{name} must be a non-negative integer, not '{text}'")
    return int(text)


def _bad(message: str) -> BadFeedRequest:
    problem = {"type": BAD_REQUEST, "title": "Bad Request Data", "detail": message}
    return BadFeedRequest(message, json_bytes(problem), "application/json")
