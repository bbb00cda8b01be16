"""NGSI-LD / FIWARE Smart Data Models reader: normalized and keyValues entities (and NGSI-v2 lookalikes).

Each attribute is read in whichever form it comes ({"type": "Property", "value", "unitCode",
"observedAt"}, a Relationship's "object", or a bare keyValues value), so one payload may mix them.
Known Smart Data Models get city metrics in normalized units; any other type keeps its numeric
properties as observations in their published unit, so an unknown model never crashes the feed.

Mapping (agencies.yaml `mapping:`), optional:
    id: attribute holding a stable id (e.g. refDevice) when the entity id changes with every observation
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from data_adapters.contract import (
    CITY_UNITS,
    Batch,
    Entity,
    Event,
    FeedContext,
    Observation,
    PayloadError,
    Reader,
    Scalar,
    Severity,
    conversion,
    is_personal_key,
    load_json,
    read_records,
    register,
    snake_case,
    unit_symbol,
    utcnow,
)
from data_adapters.geojson import read_geometry, utc_time
from data_adapters.ngsi_ld_models import (
    ALERT_SEVERITY,
    ALL_NUMERIC,
    COMMON_METRICS,
    LAMP_OUT_STATUSES,
    PREFERRED_LANGUAGES,
    SKIPPED,
    TIME_ATTRIBUTES,
    TYPE_METRICS,
    Metric,
)

# --- units ----------------------------------------------------------------------------------------------

_MIXING_RATIOS = frozenset({"ppm", "ppb"})


def in_unit(value: float, code: str, target: str, metric: str) -> tuple[float, str]:
    """A value published in unit `code` (a UN/CEFACT code or a symbol) expressed in `target` where we can;
    with no target of the model's own, in the city's unit for it; else in its own unit."""
    if not code:
        return value, target  # no unitCode: the model's documented unit
    symbol = unit_symbol(code)
    target = target or CITY_UNITS.get(symbol, "")
    if not target or symbol == target:
        return value, symbol
    step = conversion(symbol, target, metric)
    if step is None:
        return value, symbol
    factor, offset = step
    return round(value * factor + offset, 3 if symbol in _MIXING_RATIOS else 6), target


@register
class NgsiLdReader(Reader):
    """Reads NGSI-LD (normalized or keyValues) entities, one object or an array, into the uniform model."""

    id = "ngsi-ld"

    def check_mapping(self, mapping: dict[str, Any]) -> None:
        unknown = sorted(set(mapping) - {"id"})
        if unknown:
            raise ValueError(f"unknown key(s) {', '.join(unknown)} (known: id)")
        if "id" in mapping and (not isinstance(mapping["id"], str) or not mapping["id"].strip()):
            raise ValueError(f"id: expected an attribute name, got {mapping['id']!r}")

    def parse(self, payload: bytes, feed: FeedContext) -> Batch:
        document = load_json(payload)
        if isinstance(document, dict) and document.get("type") == "FeatureCollection":
            # the NGSI-LD GeoJSON representation (Accept: application/geo+json)
            features = document.get("features")
            if not isinstance(features, list):
                raise PayloadError(f"features: expected an array, got {type(features).__name__}")
            located = [(f"features[{index}]", feature) for index, feature in enumerate(features)]
        elif isinstance(document, dict):
            located = [("entity", document)]
        elif isinstance(document, list):
            located = [(f"[{index}]", raw) for index, raw in enumerate(document)]
        else:
            raise PayloadError(f"expected an NGSI entity object or an array of them, got {type(document).__name__}")
        batch = Batch()
        return read_records(batch, located, lambda where, raw: _read_entity(_from_feature(raw), feed, where, batch))


def _from_feature(raw: Any) -> Any:
    """A GeoJSON Feature of an entity (the model's attributes in `properties`) as the entity itself."""
    if not (isinstance(raw, dict) and raw.get("type") == "Feature" and isinstance(raw.get("properties"), dict)):
        return raw
    entity = {key: value for key, value in raw["properties"].items() if key != "id"}
    entity["id"] = raw.get("id", raw["properties"].get("id"))
    if "location" not in entity and raw.get("geometry") is not None:
        entity["location"] = raw["geometry"]
    return entity


# --- attribute forms ------------------------------------------------------------------------------------


@dataclass(slots=True)
class _Attribute:
    value: Any
    unit_code: str = ""
    observed_at: datetime | None = None
    ngsi_type: str = ""


def _is_wrapped(value: Any) -> bool:
    # NGSI-v2 normalized examples often leave out "type" ({"value": 132, "metadata": {...}})
    return isinstance(value, dict) and any(k in value for k in ("value", "object", "languageMap"))


def _attribute(raw: Any, where: str) -> _Attribute:
    """One attribute in normalized or keyValues form, with @value literals unwrapped."""
    if isinstance(raw, list) and raw and all(_is_wrapped(item) for item in raw):
        # a multi-attribute: several instances told apart by datasetId; the default one is without it
        raw = next((item for item in raw if "datasetId" not in item), raw[0])
    if not _is_wrapped(raw):
        return _Attribute(_literal(raw))
    ngsi_type = str(raw.get("type"))
    if "object" in raw and "value" not in raw:
        value = raw["object"]
    elif "languageMap" in raw and "value" not in raw:
        value = _language(raw["languageMap"])
    else:
        value = raw.get("value")
    metadata = raw.get("metadata") if isinstance(raw.get("metadata"), dict) else {}
    unit_code = raw.get("unitCode") or _literal(_metadata_value(metadata.get("unitCode"))) or ""
    if not isinstance(unit_code, str):
        raise PayloadError(f"{where}.unitCode: expected a string, got {unit_code!r}")
    observed_raw = (
        raw.get("observedAt")
        or _metadata_value(metadata.get("TimeInstant"))
        or _metadata_value(metadata.get("timestamp"))
    )
    observed = utc_time(_literal(observed_raw), f"{where}.observedAt") if observed_raw else None
    return _Attribute(_literal(value), unit_code, observed, ngsi_type)


def _metadata_value(item: Any) -> Any:
    return item.get("value") if isinstance(item, dict) else item


def _literal(value: Any) -> Any:
    """{"@type": "DateTime", "@value": "..."} -> "..." (JSON-LD typed literals in normalized examples)."""
    if isinstance(value, dict) and "@value" in value:
        return value["@value"]
    return value


def _language(language_map: Any) -> Any:
    if not isinstance(language_map, dict) or not language_map:
        return None
    for wanted in PREFERRED_LANGUAGES:
        for lang, text in language_map.items():
            if str(lang).lower().split("-")[0] == wanted:
                return text
    return next(iter(language_map.values()))


def _scalar(value: Any) -> Scalar | None:
    """An attribute value the entity hash can hold: scalars, lists of scalars as text, an address as text."""
    if isinstance(value, str):
        return value
    if isinstance(value, bool | int | float):
        return value
    if isinstance(value, list) and value and all(isinstance(v, str | int | float) for v in value):
        return ", ".join(str(v) for v in value)
    if isinstance(value, dict) and any(k.startswith("address") or k == "streetAddress" for k in value):
        parts = [value.get(k) for k in ("streetAddress", "addressLocality", "addressRegion", "addressCountry")]
        text = ", ".join(p for p in parts if isinstance(p, str) and p)
        return text or None
    return None


def _text(value: Any) -> str:
    if isinstance(value, list):
        value = ", ".join(str(v) for v in value if isinstance(v, str | int | float))
    return value if isinstance(value, str) else ""


def _type_name(value: Any, where: str) -> str:
    """The entity type's short name: NGSI-LD may give a list of types or an expanded IRI."""
    if isinstance(value, list) and value:
        value = value[0]
    if not isinstance(value, str) or not value.strip():
        raise PayloadError(f"{where}.type: expected an entity type string, got {value!r}")
    return value.strip().rsplit("/", 1)[-1].rsplit("#", 1)[-1]


def _location(attribute: _Attribute | None, where: str) -> tuple[tuple[float, float] | None, dict[str, Any] | None]:
    if attribute is None or attribute.value is None:
        return None, None
    value = attribute.value
    if attribute.ngsi_type == "geo:point" and isinstance(value, str):
        # NGSI-v2 geo:point is "lat, lon" text
        parts = [p.strip() for p in value.split(",")]
        try:
            lat, lon = (float(p) for p in parts)
        except ValueError:
            raise PayloadError(f"{where}.location: geo:point '{value}' is not 'lat, lon'") from None
        value = {"type": "Point", "coordinates": [lon, lat]}
    return read_geometry(value, field_name=f"{where}.location")


# --- entities -------------------------------------------------------------------------------------------


def _read_entity(raw: Any, feed: FeedContext, where: str, batch: Batch) -> None:
    if not isinstance(raw, dict):
        raise PayloadError(f"{where}: expected an NGSI entity object, got {type(raw).__name__}")
    source_id = raw.get("id")
    if not isinstance(source_id, str) or not source_id.strip():
        raise PayloadError(f"{where}.id: expected an entity id string, got {source_id!r}")
    entity_type = _type_name(raw.get("type"), where)
    # Kept in the reader although the store scrubs: an attribute named for a person's contact ("ownerEmail",
    # "contactPoint" members) is dropped whole, before its value can be copied into a description or name.
    attributes: dict[str, _Attribute] = {}
    for name, value in raw.items():
        if name in ("id", "type", "@context") or is_personal_key(name):
            continue
        try:
            attributes[name] = _attribute(value, f"{where}.{name}")
        except PayloadError as exc:  # one odd attribute: the entity is kept without it
            batch.note(f"{where}.{name}", str(exc), refused=False)
    location, geometry = _location(attributes.get("location"), where)
    own_time, observed_at = _entity_time(attributes, where)

    if entity_type == "Alert":
        batch.events.append(_alert(source_id, attributes, location, geometry, feed, where))
        return

    stable_id = source_id
    id_attribute = feed.mapping.get("id")
    if id_attribute and id_attribute in attributes and isinstance(attributes[id_attribute].value, str | int):
        stable_id = str(attributes[id_attribute].value)
    name = _text(attributes["name"].value) if "name" in attributes else ""
    entity = Entity(
        id=feed.urn(stable_id),
        type=entity_type,
        agency=feed.agency,
        sector=feed.sector,
        name=name,
        location=location,
        geometry=geometry,
        observed_at=observed_at,
        feed=feed.name,
        attributes={"source_id": source_id},
    )
    # a model with no time at all (some WasteContainer feeds) is taken as of the moment it was read, and says so
    default_time = own_time or observed_at or utcnow()
    observations_before = len(batch.observations)
    rules = TYPE_METRICS.get(entity_type)
    every_number = rules is None or entity_type in ALL_NUMERIC
    rules = {**COMMON_METRICS, **(rules or {})}

    for name, attribute in attributes.items():
        if name in SKIPPED or attribute.value is None:
            continue
        at = f"{where}.{name}"
        moment = attribute.observed_at or default_time
        rule = rules.get(name)
        if rule is not None:
            try:
                value, unit = _measure(attribute, rule, at)
            except PayloadError as exc:  # e.g. "precipitation": false where the model says a number
                batch.note(at, f"{exc}; the entity is kept without it", refused=False)
                continue
            if rule.metric not in entity.attributes:  # two spellings of one metric: the first one counts
                _observe(batch, entity, rule.metric, value, unit, moment)
        elif every_number and _is_number(attribute.value):
            metric = snake_case(name)
            value, unit = in_unit(float(attribute.value), attribute.unit_code, "", metric)
            _observe(batch, entity, metric, value, unit, moment)
        else:
            scalar = _scalar(attribute.value)
            if scalar is not None:
                # a descriptor never overwrites a reading or source_id that happens to share its name
                entity.attributes.setdefault(snake_case(name), scalar)
    if entity_type in ALL_NUMERIC and "measurand" in attributes:
        _measurands(batch, entity, attributes["measurand"], rules, default_time)
    _derive(batch, entity, entity_type, default_time)
    if own_time is None and observed_at is None and len(batch.observations) > observations_before:
        batch.note(where, f"no time ({', '.join(TIME_ATTRIBUTES)}, observedAt): its readings are dated when read",
                   refused=False)
    batch.entities.append(entity)


def _entity_time(attributes: dict[str, _Attribute], where: str) -> tuple[datetime | None, datetime | None]:
    """(the entity's own time, for readings without an observedAt; the newest time of any reading)."""
    own = None
    for name in TIME_ATTRIBUTES:
        attribute = attributes.get(name)
        if attribute is not None and attribute.value not in (None, ""):
            own = utc_time(attribute.value, f"{where}.{name}")
            break
    moments = [a.observed_at for a in attributes.values() if a.observed_at is not None]
    if own is not None:
        moments.append(own)
    return own, max(moments) if moments else None


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _measure(attribute: _Attribute, rule: Metric, where: str) -> tuple[float | str | bool, str]:
    value = attribute.value
    if rule.kind == "text":
        text = _text(value)
        if not text and value not in ("", []):
            raise PayloadError(f"{where}: expected text, got {value!r}")
        return text, ""
    if rule.kind == "flag":
        if not isinstance(value, bool):
            raise PayloadError(f"{where}: expected true/false, got {value!r}")
        return value, ""
    if not _is_number(value):
        raise PayloadError(f"{where}: expected a number, got {value!r}")
    number = float(value)
    code = attribute.unit_code
    if rule.kind == "count":
        return (int(number) if number == int(number) else number), rule.unit
    if rule.kind == "fraction":
        # the models say 0..1; a publisher that says percent (P1), or sends 76, already means %
        if code == "P1" or (not code and number > 1):
            return number, "%"
        return round(number * 100, 6), "%"
    return in_unit(number, code or rule.default_code, rule.unit, rule.metric)


def _observe(batch: Batch, entity: Entity, metric: str, value: float | str | bool, unit: str, moment: datetime) -> None:
    entity.attributes[metric] = value
    batch.observations.append(Observation(entity.id, metric, value, unit, moment))


def _measurands(
    batch: Batch, entity: Entity, attribute: _Attribute, rules: dict[str, Metric], moment: datetime
) -> None:
    """The models' extra readings, "<measurand>, <value>, <unitCode>, <description>" texts; an attribute
    of the same name wins, and a text that does not follow the pattern is description, not an error."""
    items = attribute.value if isinstance(attribute.value, list) else [attribute.value]
    for item in items:
        if not isinstance(item, str):
            continue
        parts = [part.strip() for part in item.split(",")]
        if len(parts) < 3:
            continue
        try:
            number = float(parts[1])
        except ValueError:
            continue
        rule = rules.get(parts[0]) or rules.get(parts[0].lower())
        metric = rule.metric if rule and rule.kind == "number" else snake_case(parts[0])
        if not metric or metric in entity.attributes:
            continue
        if rule and rule.kind == "number":
            value, unit = in_unit(number, parts[2] or rule.default_code, rule.unit, metric)
        else:
            value, unit = in_unit(number, parts[2], "", metric)
        _observe(batch, entity, metric, value, unit, moment)


def _derive(batch: Batch, entity: Entity, entity_type: str, moment: datetime) -> None:
    """Metrics the control room needs that a model implies but does not state."""
    attrs = entity.attributes
    if entity_type in ("OffStreetParking", "OnStreetParking") and "occupancy" not in attrs:
        total, free = attrs.get("total_spots"), attrs.get("available_spots")
        if _is_number(total) and _is_number(free) and total > 0:
            share = round((total - free) / total * 100, 2)
            _observe(batch, entity, "occupancy", share, "%", moment)
    if entity_type == "Streetlight" and isinstance(attrs.get("status"), str):
        _observe(batch, entity, "lamp_out", attrs["status"] in LAMP_OUT_STATUSES, "", moment)


# --- alerts ---------------------------------------------------------------------------------------------


def _alert(
    source_id: str,
    attributes: dict[str, _Attribute],
    location: tuple[float, float] | None,
    geometry: dict[str, Any] | None,
    feed: FeedContext,
    where: str,
) -> Event:
    def text(name: str) -> str:
        return _text(attributes[name].value) if name in attributes else ""

    def moment(*names: str) -> datetime | None:
        for name in names:
            if name in attributes and attributes[name].value not in (None, ""):
                return utc_time(attributes[name].value, f"{where}.{name}")
        return None

    category, sub_category = text("category"), text("subCategory")
    topic = sub_category or category
    severity_word = text("severity").lower()
    return Event(
        id=feed.urn(source_id),
        type=_camel(topic) if topic else "Alert",
        agency=feed.agency,
        sector=feed.sector,
        headline=text("name") or _humanize(topic) or "Alert",
        severity=ALERT_SEVERITY.get(severity_word, Severity.UNKNOWN),
        description=text("description"),
        area=geometry,
        location=location,
        onset=moment("validFrom", "dateIssued"),
        expires=moment("validTo"),
        feed=feed.name,
    )


def _camel(text: str) -> str:
    """trafficJam -> TrafficJam, 'weather warning' -> WeatherWarning."""
    return "".join(word[:1].upper() + word[1:] for word in snake_case(text).split("_"))


def _humanize(text: str) -> str:
    """trafficJam -> Traffic jam."""
    words = snake_case(text).split("_")
    return " ".join(words).capitalize() if text else ""
