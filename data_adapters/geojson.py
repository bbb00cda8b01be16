"""GeoJSON reader: a FeatureCollection (or one Feature) of incidents or assets, as entities or events.

Also owns `read_geometry`, the GeoJSON geometry -> (location, geometry) rule other readers reuse: a Point
is a location; any other geometry is kept and located at a representative point inside it.

Mapping (agencies.yaml `mapping:`), all optional:
    id:          property holding the agency's id (default "id"; else the Feature's own id)
    entity_type: entity or event type in the city's terms (default "Incident")
    name:        property holding the name / headline (default: name, title, headline)
    time:        property holding the time observed / reported (default: time, timestamp, updated, date)
    as:          "entity" (default) or "event" (incidents become CAP-like events)
    severity:    property holding the severity, for events (default "severity")
    category:    property holding the event type, for events (default "category"; else entity_type)
    expires:     property holding the end of an event (default "expires")
    units:       {property: unit} for plain numeric properties that carry no unit of their own
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import shapely
import shapely.errors
import shapely.geometry

from data_adapters.contract import (
    Batch,
    Entity,
    Event,
    FeedContext,
    Observation,
    PayloadError,
    Reader,
    Severity,
    convert,
    is_personal_key,
    load_json,
    lon_lat,
    parse_time,
    read_records,
    register,
    snake_case,
    utcnow,
)

# GeoJSON geometry type -> how deep its coordinate arrays nest above a [lon, lat] position
_POSITION_DEPTH = {
    "Point": 0,
    "MultiPoint": 1,
    "LineString": 1,
    "MultiLineString": 2,
    "Polygon": 2,
    "MultiPolygon": 3,
}

MAPPING_KEYS = frozenset({"id", "entity_type", "name", "time", "as", "severity", "category", "expires", "units"})
DEFAULT_NAME_PROPERTIES = ("name", "title", "headline")
DEFAULT_TIME_PROPERTIES = ("time", "timestamp", "updated", "date")

# Severity words incident feeds use -> the CAP scale (CAP's own words, FIWARE Alert's, common ones).
SEVERITY_WORDS: dict[str, Severity] = {
    "extreme": Severity.EXTREME,
    "critical": Severity.EXTREME,
    "severe": Severity.SEVERE,
    "high": Severity.SEVERE,
    "major": Severity.SEVERE,
    "moderate": Severity.MODERATE,
    "medium": Severity.MODERATE,
    "minor": Severity.MINOR,
    "low": Severity.MINOR,
    "informational": Severity.MINOR,
    "info": Severity.MINOR,
    "unknown": Severity.UNKNOWN,
}
CAP_URGENCY = frozenset({"immediate", "expected", "future", "past", "unknown"})
CAP_CERTAINTY = frozenset({"observed", "likely", "possible", "unlikely", "unknown"})
CAP_STATUS = frozenset({"actual", "exercise", "system", "test", "draft"})

# Epoch numbers above this are milliseconds (USGS and many JS-built feeds), not seconds.
_EPOCH_MS_THRESHOLD = 1e11


@register
class GeoJsonReader(Reader):
    """Reads a GeoJSON FeatureCollection or Feature into entities (assets, sensors) or events (incidents)."""

    id = "geojson"

    def check_mapping(self, mapping: dict[str, Any]) -> None:
        unknown = sorted(set(mapping) - MAPPING_KEYS)
        if unknown:
            raise ValueError(f"unknown key(s) {', '.join(unknown)} (known: {', '.join(sorted(MAPPING_KEYS))})")
        for key in MAPPING_KEYS - {"units"}:
            if key in mapping and (not isinstance(mapping[key], str) or not mapping[key].strip()):
                raise ValueError(f"{key}: expected a property name or word, got {mapping[key]!r}")
        if mapping.get("as", "entity") not in ("entity", "event"):
            raise ValueError(f"as: expected 'entity' or 'event', got {mapping['as']!r}")
        units = mapping.get("units", {})
        if not isinstance(units, dict) or not all(isinstance(u, str) for u in units.values()):
            raise ValueError(f"units: expected {{property: unit}}, got {units!r}")

    def parse(self, payload: bytes, feed: FeedContext) -> Batch:
        document = load_json(payload)
        mode = feed.mapping.get("as", "entity")
        if mode not in ("entity", "event"):
            raise PayloadError(f"mapping.as: expected 'entity' or 'event', got {mode!r}")
        batch = Batch()

        def read(where: str, feature: Any) -> None:
            if not isinstance(feature, dict) or feature.get("type") != "Feature":
                raise PayloadError(f"{where}: expected a GeoJSON Feature object")
            if mode == "event":
                batch.events.append(_event(feature, feed, where))
                return
            entity, observations = _entity(feature, feed, where)
            if entity.observed_at is None and observations:
                names = feed.mapping.get("time") or ", ".join(DEFAULT_TIME_PROPERTIES)
                batch.note(where, f"no time property ({names}): its readings are dated when read",
                           refused=False)
            batch.entities.append(entity)
            batch.observations.extend(observations)

        return read_records(batch, _features(document), read)


def _features(document: Any) -> list[tuple[str, Any]]:
    if not isinstance(document, dict):
        raise PayloadError(f"expected a GeoJSON FeatureCollection or Feature, got {type(document).__name__}")
    kind = document.get("type")
    if kind == "Feature":
        return [("Feature", document)]
    if kind != "FeatureCollection":
        raise PayloadError(f"type: expected 'FeatureCollection' or 'Feature', got {kind!r}")
    features = document.get("features")
    if not isinstance(features, list):
        raise PayloadError(f"features: expected an array, got {type(features).__name__}")
    return [(f"features[{index}]", feature) for index, feature in enumerate(features)]


def _properties(feature: dict[str, Any], where: str) -> dict[str, Any]:
    properties = feature.get("properties")
    if properties is None:
        return {}
    if not isinstance(properties, dict):
        raise PayloadError(f"{where}.properties: expected an object or null, got {type(properties).__name__}")
    # Kept in the reader (the store scrubs everything else): a property named for a person's contact
    # ("reporter_phone", "callerEmail") has no meaning for the city, and its value may be in a form no
    # text scrub recognises, so it goes before anything reads it.
    return {key: value for key, value in properties.items() if not is_personal_key(key)}


def _source_id(feature: dict[str, Any], properties: dict[str, Any], feed: FeedContext, where: str) -> str:
    key = feed.mapping.get("id", "id")
    value = properties.get(key)
    origin = f"{where}.properties.{key}"
    if value is None or value == "":
        value, origin = feature.get("id"), f"{where}.id"
    if value is None:
        raise PayloadError(f"{where}: no '{key}' property and no Feature id")
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise PayloadError(f"{origin}: expected an id string or number, got {value!r}")
    return str(value)


def _first_text(properties: dict[str, Any], configured: str | None, defaults: tuple[str, ...]) -> str:
    for key in (configured,) if configured else defaults:
        value = properties.get(key)
        if isinstance(value, str) and value.strip():
            return value.strip()
    return ""


def _moment(
    properties: dict[str, Any], configured: str | None, defaults: tuple[str, ...], where: str
) -> tuple[str | None, datetime | None]:
    """The first time property present, as (its name, the aware UTC time); (None, None) if none is."""
    for key in (configured,) if configured else defaults:
        value = properties.get(key)
        if value is None or value == "":
            continue
        if isinstance(value, int | float) and not isinstance(value, bool) and value > _EPOCH_MS_THRESHOLD:
            value = value / 1000
        return key, utc_time(value, f"{where}.properties.{key}")
    return None, None


def _entity(feature: dict[str, Any], feed: FeedContext, where: str) -> tuple[Entity, list[Observation]]:
    properties = _properties(feature, where)
    source_id = _source_id(feature, properties, feed, where)
    location, geometry = read_geometry(feature.get("geometry"), field_name=f"{where}.geometry")
    time_key, observed = _moment(properties, feed.mapping.get("time"), DEFAULT_TIME_PROPERTIES, where)
    entity = Entity(
        id=feed.urn(source_id),
        type=str(feed.mapping.get("entity_type") or "Incident"),
        agency=feed.agency,
        sector=feed.sector,
        name=_first_text(properties, feed.mapping.get("name"), DEFAULT_NAME_PROPERTIES),
        location=location,
        geometry=geometry,
        observed_at=observed,
        feed=feed.name,
        attributes={"source_id": source_id},
    )
    # a reading with no time of its own is taken as of now, the moment it was read
    moment = observed or utcnow()
    units: dict[str, str] = feed.mapping.get("units") or {}
    skip = {feed.mapping.get("id", "id"), time_key}
    observations: list[Observation] = []
    for key, value in properties.items():
        if key in skip or key.startswith("@"):
            continue
        metric = snake_case(key)
        if not metric:
            continue
        measured = _quantity(value, units.get(key, ""), f"{where}.properties.{key}")
        if measured is not None:
            number, unit = measured
            entity.attributes[metric] = number
            observations.append(Observation(entity.id, metric, number, unit, moment))
        # descriptors never overwrite a reading or source_id that happens to share their name
        elif isinstance(value, bool | str):
            entity.attributes.setdefault(metric, value)
        elif isinstance(value, list) and value and all(isinstance(v, str | int | float) for v in value):
            entity.attributes.setdefault(metric, ", ".join(str(v) for v in value))
    return entity, observations


def _quantity(value: Any, plain_unit: str, where: str) -> tuple[float, str] | None:
    """A numeric property, plain or as {value, unitCode} (a QuantitativeValue), in our units; else None."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return convert(float(value), plain_unit)
    if isinstance(value, dict) and "value" in value and ("unitCode" in value or "unit" in value):
        number = value["value"]
        if number is None:
            return None  # the station did not measure it this time (api.weather.gov writes null)
        if isinstance(number, bool) or not isinstance(number, int | float):
            raise PayloadError(f"{where}.value: expected a number or null, got {number!r}")
        code = value.get("unitCode", value.get("unit"))
        return convert(float(number), code if isinstance(code, str) else "")
    return None


def _event(feature: dict[str, Any], feed: FeedContext, where: str) -> Event:
    properties = _properties(feature, where)
    source_id = _source_id(feature, properties, feed, where)
    location, geometry = read_geometry(feature.get("geometry"), field_name=f"{where}.geometry")
    fallback_type = str(feed.mapping.get("entity_type") or "Incident")
    category = properties.get(feed.mapping.get("category", "category"))
    headline = _first_text(properties, feed.mapping.get("name"), DEFAULT_NAME_PROPERTIES)
    description = properties.get("description")
    return Event(
        id=feed.urn(source_id),
        type=category.strip() if isinstance(category, str) and category.strip() else fallback_type,
        agency=feed.agency,
        sector=feed.sector,
        headline=headline or fallback_type,
        severity=severity_of(properties.get(feed.mapping.get("severity", "severity"))),
        urgency=_word(properties.get("urgency"), CAP_URGENCY, "unknown"),
        certainty=_word(properties.get("certainty"), CAP_CERTAINTY, "unknown"),
        description=description if isinstance(description, str) else "",
        area=geometry,
        location=location,
        onset=_moment(properties, feed.mapping.get("time"), DEFAULT_TIME_PROPERTIES, where)[1],
        expires=_moment(properties, feed.mapping.get("expires", "expires"), (), where)[1],
        status=_word(properties.get("status"), CAP_STATUS, "actual"),
        feed=feed.name,
    )


def severity_of(value: Any) -> Severity:
    """A published severity word on the CAP scale; anything unrecognised is 'unknown', never a guess."""
    if isinstance(value, str):
        return SEVERITY_WORDS.get(value.strip().lower(), Severity.UNKNOWN)
    return Severity.UNKNOWN


def _word(value: Any, allowed: frozenset[str], default: str) -> str:
    if isinstance(value, str) and value.strip().lower() in allowed:
        return value.strip().lower()
    return default


# --- shared helpers -----------------------------------------------------------------------------------

def utc_time(value: Any, where: str) -> datetime:
    """ISO 8601 text or epoch seconds as an aware UTC datetime (offsets such as +07:00 are converted)."""
    if isinstance(value, bool):
        raise PayloadError(f"{where}: expected a time, got {value!r}")
    return parse_time(value, field_name=where).astimezone(UTC)


def read_geometry(value: Any, *, field_name: str) -> tuple[tuple[float, float] | None, dict[str, Any] | None]:
    """A GeoJSON geometry as (location, geometry): a Point is only a location; anything else is kept as
    geometry and located at a representative point (inside a polygon, on a line). None stays None."""
    if value is None:
        return None, None
    if not isinstance(value, dict):
        raise PayloadError(f"{field_name}: expected a GeoJSON geometry object, got {type(value).__name__}")
    kind = value.get("type")
    if kind == "GeometryCollection":
        members = value.get("geometries")
        if not isinstance(members, list):
            raise PayloadError(f"{field_name}.geometries: expected an array")
        for index, member in enumerate(members):
            read_geometry(member, field_name=f"{field_name}.geometries[{index}]")
        clean: dict[str, Any] = {"type": kind, "geometries": members}
    elif kind in _POSITION_DEPTH:
        coordinates = value.get("coordinates")
        _check_coordinates(coordinates, _POSITION_DEPTH[kind], f"{field_name}.coordinates")
        if kind == "Point":
            return lon_lat(coordinates[0], coordinates[1], field_name=f"{field_name}.coordinates"), None
        clean = {"type": kind, "coordinates": coordinates}
    else:
        raise PayloadError(f"{field_name}.type: {kind!r} is not a GeoJSON geometry type")
    try:
        shape = shapely.geometry.shape(clean)
        if shape.is_empty:
            return None, None
        point = shape.representative_point()
    except (ValueError, TypeError, IndexError, shapely.errors.ShapelyError) as exc:
        raise PayloadError(f"{field_name}: not a valid {kind}: {exc}") from None
    return lon_lat(point.x, point.y, field_name=field_name), clean


def _check_coordinates(value: Any, depth: int, where: str) -> None:
    """Every position is [lon, lat(, alt)] of JSON numbers within WGS84 bounds, nested `depth` deep."""
    if depth == 0:
        if not isinstance(value, list) or len(value) < 2:
            raise PayloadError(f"{where}: expected a [lon, lat] position, got {value!r}")
        if any(isinstance(n, bool) or not isinstance(n, int | float) for n in value):
            raise PayloadError(f"{where}: expected numbers in a [lon, lat] position, got {value!r}")
        lon_lat(value[0], value[1], field_name=where)
        return
    if not isinstance(value, list):
        raise PayloadError(f"{where}: expected an array of coordinates, got {type(value).__name__}")
    for index, item in enumerate(value):
        _check_coordinates(item, depth - 1, f"{where}[{index}]")
