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

from data_adapters.base import FeedContext, PayloadError, Reader, load_json, register
from data_adapters.geojson import is_personal_key, read_geometry, snake_case, utc_time
from ioc.model import Batch, Entity, Event, Observation, Scalar, Severity, utcnow
from ioc.privacy import scrub_text

# --- units ----------------------------------------------------------------------------------------------

# UN/CEFACT common codes (NGSI-LD unitCode) -> symbol
UNIT_SYMBOLS: dict[str, str] = {
    "GQ": "µg/m³",
    "GP": "mg/m³",
    "59": "ppm",
    "61": "ppb",
    "CEL": "°C",
    "FAH": "°F",
    "KEL": "K",
    "P1": "%",
    "C62": "",
    "MTR": "m",
    "CMT": "cm",
    "MMT": "mm",
    "KMT": "km",
    "KMH": "km/h",
    "MTS": "m/s",
    "HM": "mph",
    "KNT": "kn",
    "DD": "°",
    "A97": "hPa",
    "PAL": "Pa",
    "MBR": "mbar",
    "KWH": "kWh",
    "WTT": "W",
    "KWT": "kW",
    "AMP": "A",
    "VLT": "V",
    "LUX": "lx",
    "M1": "mg/L",
    "H79": "NTU",
    "D10": "S/m",
    "SEC": "s",
    "MIN": "min",
    "HUR": "h",
    "E32": "veh/h",
    "2N": "dB",
}

# (source code, our unit) -> (factor, offset)
CONVERSIONS: dict[tuple[str, str], tuple[float, float]] = {
    ("GP", "µg/m³"): (1000.0, 0.0),
    ("FAH", "°C"): (5 / 9, -32 * 5 / 9),
    ("KEL", "°C"): (1.0, -273.15),
    ("MTS", "km/h"): (3.6, 0.0),
    ("HM", "km/h"): (1.609344, 0.0),
    ("KNT", "km/h"): (1.852, 0.0),
    ("MTR", "cm"): (100.0, 0.0),
    ("MMT", "cm"): (0.1, 0.0),
    ("PAL", "hPa"): (0.01, 0.0),
    ("MBR", "hPa"): (1.0, 0.0),
}
# What a bare code is normalized to when the model gives no target of its own (unknown types).
NORMALIZED: dict[str, str] = {
    "GP": "µg/m³",
    "59": "µg/m³",
    "61": "µg/m³",
    "FAH": "°C",
    "KEL": "°C",
    "MTS": "km/h",
    "HM": "km/h",
    "KNT": "km/h",
}
# Molar masses (g/mol) for ppm/ppb -> µg/m³ at 25 °C and 1 atm (molar volume 24.45 L).
MOLAR_MASS: dict[str, float] = {
    "no2": 46.0055,
    "nox": 46.0055,  # NOx is reported as NO2 equivalent
    "no": 30.006,
    "so2": 64.066,
    "co": 28.010,
    "o3": 47.997,
    "nh3": 17.031,
    "h2s": 34.08,
    "sh2": 34.08,
    "c6h6": 78.11,
    "benzene": 78.11,
}
MOLAR_VOLUME_L = 24.45


def in_unit(value: float, code: str, target: str, metric: str) -> tuple[float, str]:
    """A value published in unit `code` expressed in `target` where we can; else in its own unit."""
    if not code:
        return value, target  # no unitCode: the model's documented unit
    symbol = UNIT_SYMBOLS.get(code, code)
    target = target or NORMALIZED.get(code, "")
    if not target or symbol == target:
        return value, symbol
    if (code, target) in CONVERSIONS:
        factor, offset = CONVERSIONS[(code, target)]
        return round(value * factor + offset, 6), target
    if target == "µg/m³" and code in ("59", "61") and metric in MOLAR_MASS:
        ppb = value * 1000 if code == "59" else value
        return round(ppb * MOLAR_MASS[metric] / MOLAR_VOLUME_L, 3), target
    return value, symbol


# --- what each Smart Data Model means -------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Metric:
    """How one attribute of a model becomes an observation."""

    metric: str
    kind: str = "number"  # number | count | fraction (0..1 in the model, % here) | text | flag
    unit: str = ""  # our unit; "" keeps the published unit
    default_code: str = ""  # the unit the model implies when the source gives no unitCode


def _pollutant(metric: str) -> Metric:
    # the Smart Data Models examples publish pollutants in µg/m³ (unitCode GQ); keyValues carry no code
    return Metric(metric, "number", "µg/m³", "GQ")


# Weather-like attributes that any model may carry.
COMMON_METRICS: dict[str, Metric] = {
    "temperature": Metric("temperature", "number", "°C", "CEL"),
    "relativeHumidity": Metric("relative_humidity", "fraction", "%"),
    "windSpeed": Metric("wind_speed", "number", "km/h", "MTS"),
    "windDirection": Metric("wind_direction", "number", "°", "DD"),
    "precipitation": Metric("precipitation", "number", "mm", "MMT"),
    "atmosphericPressure": Metric("atmospheric_pressure", "number", "hPa", "A97"),
}

_PARKING = {
    "availableSpotNumber": Metric("available_spots", "count", "count"),
    "totalSpotNumber": Metric("total_spots", "count", "count"),
    "occupiedSpotNumber": Metric("occupied_spots", "count", "count"),
    "occupancy": Metric("occupancy", "fraction", "%"),
    "percentageOccupancy": Metric("occupancy", "number", "%"),  # older examples, already in percent
    "status": Metric("status", "text"),
}

TYPE_METRICS: dict[str, dict[str, Metric]] = {
    "TrafficFlowObserved": {
        # kept as published: the model defines it as vehicles counted over dateObservedFrom..To, and the
        # city's detectors count over an hour
        "intensity": Metric("intensity", "number", "veh/h"),
        "averageVehicleSpeed": Metric("average_speed", "number", "km/h", "KMH"),
        "occupancy": Metric("occupancy", "fraction", "%"),
        "congested": Metric("congested", "flag"),
    },
    "OffStreetParking": _PARKING,
    "OnStreetParking": _PARKING,
    "ParkingSpot": {"status": Metric("status", "text")},
    "WasteContainer": {
        "fillingLevel": Metric("filling_level", "fraction", "%"),
        "status": Metric("status", "text"),
    },
    "Streetlight": {
        "powerState": Metric("power_state", "text"),
        "status": Metric("status", "text"),
        "illuminanceLevel": Metric("illuminance_level", "fraction", "%"),
        "powerConsumption": Metric("power_consumption", "number"),
    },
    "WaterQualityObserved": {
        "pH": Metric("ph", "number", "pH"),
        "turbidity": Metric("turbidity", "number", "NTU"),
        "tur": Metric("turbidity", "number", "NTU"),
        "O2": Metric("dissolved_oxygen", "number", "mg/L"),
        "dissolvedOxygen": Metric("dissolved_oxygen", "number", "mg/L"),
        "conductivity": Metric("conductivity", "number", "S/m"),
    },
    "AirQualityObserved": {
        name: _pollutant(metric)
        for name, metric in {
            "pm1": "pm1",
            "pm25": "pm25",
            "pm10": "pm10",
            "no": "no",
            "no2": "no2",
            "nox": "nox",
            "so2": "so2",
            "co": "co",
            "o3": "o3",
            "nh3": "nh3",
            "sh2": "h2s",
            "h2s": "h2s",
            "c6h6": "c6h6",
        }.items()
    }
    | {"airQualityIndex": Metric("air_quality_index"), "airQualityLevel": Metric("air_quality_level", "text")},
    "FloodMonitoring": {
        "currentLevel": Metric("water_level", "number", "cm", "MTR"),
        "alertLevel": Metric("alert_level", "number", "cm", "MTR"),
        "dangerLevel": Metric("danger_level", "number", "cm", "MTR"),
        "referenceLevel": Metric("reference_level", "number", "cm", "MTR"),
        "measuredDistance": Metric("measured_distance", "number", "cm", "MTR"),
        "floodLevelStatus": Metric("flood_level_status", "text"),
    },
}
# Models whose every numeric attribute is a measurand (the rest of a known model's numbers are
# descriptors: lane ids, bin capacities, pole heights). Unknown models are treated this way too.
ALL_NUMERIC = frozenset({"AirQualityObserved", "WaterQualityObserved"})

# A lamp that does not light: the Streetlight statuses that need a maintenance crew.
LAMP_OUT_STATUSES = frozenset({"defectiveLamp", "brokenLantern"})

# The entity's own time, most specific first; a reading's own observedAt wins over it for that reading.
TIME_ATTRIBUTES = (
    "dateObserved",
    "observationDateTime",
    "dateModified",
    "dateLastReported",
    "dateIssued",
    "modifiedAt",
)
_SKIPPED = frozenset({"id", "type", "@context", "location", *TIME_ATTRIBUTES})

# FIWARE Alert severity -> CAP scale
ALERT_SEVERITY: dict[str, Severity] = {
    "critical": Severity.EXTREME,
    "high": Severity.SEVERE,
    "medium": Severity.MODERATE,
    "low": Severity.MINOR,
    "informational": Severity.MINOR,
    "extreme": Severity.EXTREME,
    "severe": Severity.SEVERE,
    "moderate": Severity.MODERATE,
    "minor": Severity.MINOR,
}

PREFERRED_LANGUAGES = ("vi", "en")


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
        for where, raw in located:
            _read_entity(_from_feature(raw), feed, where, batch)
        return batch


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
        return scrub_text(value)
    if isinstance(value, bool | int | float):
        return value
    if isinstance(value, list) and value and all(isinstance(v, str | int | float) for v in value):
        return scrub_text(", ".join(str(v) for v in value))
    if isinstance(value, dict) and any(k.startswith("address") or k == "streetAddress" for k in value):
        parts = [value.get(k) for k in ("streetAddress", "addressLocality", "addressRegion", "addressCountry")]
        text = ", ".join(p for p in parts if isinstance(p, str) and p)
        return scrub_text(text) if text else None
    return None


def _text(value: Any) -> str:
    if isinstance(value, list):
        value = ", ".join(str(v) for v in value if isinstance(v, str | int | float))
    return scrub_text(value) if isinstance(value, str) else ""


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
    attributes = {
        name: _attribute(value, f"{where}.{name}")
        for name, value in raw.items()
        if name not in ("id", "type", "@context") and not is_personal_key(name)
    }
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
    # a model with no time at all (some WasteContainer feeds) is taken as of the moment it was read
    default_time = own_time or observed_at or utcnow()
    rules = TYPE_METRICS.get(entity_type)
    every_number = rules is None or entity_type in ALL_NUMERIC
    rules = {**COMMON_METRICS, **(rules or {})}

    for name, attribute in attributes.items():
        if name in _SKIPPED or attribute.value is None:
            continue
        at = f"{where}.{name}"
        moment = attribute.observed_at or default_time
        rule = rules.get(name)
        if rule is not None:
            value, unit = _measure(attribute, rule, at)
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
