"""SensorThings members read field by field: kinds, ids, texts, results, places, metric names and units.

What one Thing, Datastream or Observation says, checked as it is read; `data_adapters.sensorthings` puts
the members together into stations and their latest readings.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from data_adapters.contract import (
    CENTIMETRE,
    CITY_UNITS,
    LEVEL_UNITS,
    MOLAR_MASS_G,
    PayloadError,
    conversion,
    is_personal_field,
    is_water_level,
    known_unit,
    lon_lat,
    metric_name,
    parse_time,
    squash,
    unit_symbol,
)

__all__ = ["MOLAR_MASS_G"]

# --- units -------------------------------------------------------------------------------------------

Convert = Callable[[float], float]


def _linear(factor: float, offset: float) -> Convert:
    return lambda value: value * factor + offset


SAME: Convert = _linear(1.0, 0.0)


def normalize_unit(metric: str, unit: Any) -> tuple[str, Convert]:
    """The normalized unit of a Datastream's unitOfMeasurement and how to convert its results to it.

    The symbol is tried first, then the name. Lengths become cm only for water levels: a rainfall in mm or a
    visibility in m keeps its unit. A unit we do not know is kept as the source writes it.
    """
    if not isinstance(unit, dict):
        return "", SAME
    given = [raw.strip() for raw in (unit.get("symbol"), unit.get("name")) if isinstance(raw, str) and raw.strip()]
    for raw in given:
        symbol = known_unit(raw)
        if symbol is None:
            continue
        if symbol in LEVEL_UNITS and is_water_level(metric):
            target = CENTIMETRE
        else:
            target = CITY_UNITS.get(symbol, symbol)
        step = conversion(symbol, target, metric)
        if step is not None:
            return target, _linear(*step)
    if isinstance(unit.get("symbol"), str) and unit["symbol"].strip():
        return unit_symbol(unit["symbol"]), SAME  # unknown: keep the source's symbol
    return "", SAME


# --- names -------------------------------------------------------------------------------------------

# European air-quality vocabulary (dd.eionet.europa.eu/vocabulary/aq/pollutant/<code>), used as
# ObservedProperty.definition by many public air-quality SensorThings servers.
EEA_POLLUTANTS = {"1": "so2", "5": "pm10", "6001": "pm25", "7": "o3", "8": "no2", "9": "nox", "10": "co", "38": "no"}
EEA_DEFINITION = re.compile(r"eionet\.europa\.eu/.*pollutant/(\d+)")

# What kind of station a Thing is, judged by what it measures (a feed's mapping.entity_type wins).
STATION_TYPES: list[tuple[str, frozenset[str]]] = [
    ("AirQualityStation", frozenset({"pm25", "pm10", "pm1", "no2", "so2", "o3", "co", "no", "nox", "nh3", "aqi"})),
    ("WaterLevelStation", frozenset({"water_level"})),
    ("WaterQualityStation", frozenset({"ph", "turbidity", "dissolved_oxygen", "conductivity"})),
]
WEATHER_METRICS = frozenset({"temperature", "humidity", "pressure", "wind_speed", "wind_direction", "rainfall"})


def alias_in(text: str) -> str | None:
    """A known metric named inside a longer name: 'Station 12 - PM 2.5' -> pm25 (longest phrase first)."""
    tokens = [token for token in re.split(r"[\s,;:/()\[\]|]+", text) if token]
    for size in (3, 2, 1):
        for start in range(len(tokens) - size + 1):
            metric = metric_name("".join(tokens[start : start + size]))
            if metric:
                return metric
    return None


def looks_like_words(text: str) -> bool:
    # PSNC-style names are hashes ("2e92962c...:d2511e..."): useless as metric names
    return bool(re.search(r"[A-Za-z]{3,}", text)) and not re.fullmatch(r"[0-9a-fA-F:_\-]{16,}", text)


KINDS = (
    "Things", "Locations", "Datastreams", "MultiDatastreams", "Observations",
    "FeaturesOfInterest", "Sensors", "ObservedProperties", "HistoricalLocations",
)
SELF_LINK = re.compile(r"/(" + "|".join(KINDS) + r")\(")
DATASTREAM_IN_URL = re.compile(r"(?:Multi)?Datastreams\(\s*'?([^)']+?)'?\s*\)")
GEOJSON_ENCODINGS = ("geo+json", "geojson")
# Thing.properties keys that name a person (the spec's own example has "owner": "Noah Liang")
# Kept in the reader although the store scrubs: a name ("Noah Liang") is no pattern a text scrub can find,
# so the properties that by the spec's usage name a person are dropped whole before mapping.
PERSON_PROPERTIES = frozenset({"owner", "contact", "contactperson", "contactname", "operatorname"})


@dataclass(slots=True)
class Stream:
    """What a Datastream says about its observations: the metric, its unit and how to convert to it."""

    key: str
    metric: str
    unit: str
    convert: Convert


@dataclass(slots=True)
class Value:
    time: datetime
    result: float | str | bool | dict[str, Any] | list[Any]



class Times(dict[str, datetime]):
    """Time texts read once per payload: a collection repeats a few phenomenonTimes over many observations."""

    def parse(self, value: Any, label: str, key: str) -> datetime:
        if not isinstance(value, str):
            return parse_time(value, field_name=f"{label}.{key}")  # epoch seconds, or refused
        moment = self.get(value)
        if moment is None:
            moment = self[value] = parse_time(value, field_name=f"{label}.{key}")
        return moment


# --- helpers -----------------------------------------------------------------------------------------


def kind_of(member: Any, index: int | None) -> str:
    # called once per member of a collection: the cheap tests come first, the label only with an error
    if not isinstance(member, dict):
        raise PayloadError(
            f"{_member_label(index)}: expected a SensorThings entity (an object), got a JSON {json_type(member)}"
        )
    link = member.get("@iot.selfLink")
    kinds = SELF_LINK.findall(link) if isinstance(link, str) else []
    if kinds:
        return str(kinds[-1])
    if "result" in member:
        return "Observations"
    if "unitOfMeasurements" in member:
        return "MultiDatastreams"
    relations = {key.split("@")[0] for key in member}
    if relations & {"unitOfMeasurement", "observationType", "ObservedProperty"}:
        return "Datastreams"
    if "feature" in member and "encodingType" in member:
        return "FeaturesOfInterest"
    if "location" in member and "encodingType" in member:
        return "Locations"
    if "metadata" in member and "encodingType" in member:
        return "Sensors"
    if relations & {"Locations", "Datastreams", "MultiDatastreams"} or ("properties" in member and "name" in member):
        return "Things"
    if "time" in member and relations & {"Thing", "Locations"}:
        return "HistoricalLocations"
    if "definition" in member and "name" in member:
        return "ObservedProperties"
    raise PayloadError(
        f"{_member_label(index)}: not a SensorThings entity (Thing, Location, Datastream, Observation, ...)"
    )


def _member_label(index: int | None) -> str:
    return "document" if index is None else f"value[{index}]"


def iot_id(member: dict[str, Any], label: str) -> str:
    value = member.get("@iot.id")
    if isinstance(value, bool) or not isinstance(value, str | int) or value == "":
        raise PayloadError(f"{label}.@iot.id: missing or not a string or integer ({value!r})")
    return str(value)


def text_of(source: dict[str, Any], key: str, label: str) -> str:
    value = source.get(key)
    if value is None:
        return ""
    if not isinstance(value, str):
        raise PayloadError(f"{label}.{key}: expected text, got a JSON {json_type(value)}")
    return value.strip()


def list_member(source: dict[str, Any], key: str, label: str) -> list[Any]:
    value = source.get(key)
    if value is None:
        return []
    if not isinstance(value, list):
        raise PayloadError(f"{label}.{key}: expected an array, got a JSON {json_type(value)}")
    return value


def values_of(datastream: dict[str, Any], label: str, times: Times) -> list[Value]:
    """Every expanded Observation of a Datastream, each checked: a bad one refuses the member it is expanded in."""
    values: list[Value] = []
    for index, observation in enumerate(list_member(datastream, "Observations", label)):
        obs_label = f"{label}.Observations[{index}]"
        if not isinstance(observation, dict):
            raise PayloadError(f"{obs_label}: expected an object, got a JSON {json_type(observation)}")
        value = value_of(observation, obs_label, times)
        if value is not None:
            values.append(value)
    return values


def latest_of(values: list[Value]) -> Value | None:
    # servers are asked for $orderby=phenomenonTime desc, but a server that ignores it must not fool us
    return max(values, key=lambda value: value.time) if values else None


def value_of(observation: dict[str, Any], label: str, times: Times) -> Value | None:
    if "result" not in observation:
        raise PayloadError(f"{label}.result: missing")
    when = observation.get("phenomenonTime") or observation.get("resultTime")
    time = times.parse(when, label, "phenomenonTime")
    result = observation["result"]
    if isinstance(result, dict | list):
        return Value(time, result)
    scalar = scalar_result(result)
    if isinstance(scalar, float) and not math.isfinite(scalar):
        # Python's JSON accepts NaN and Infinity; a threshold rule must never compare against them
        raise PayloadError(f"{label}.result: {result!r} is not a finite number")
    return None if scalar is None else Value(time, scalar)


def scalar_result(result: Any) -> float | str | bool | None:
    """A result as a number when it is one (also '12.5' as text), else text or truth; None for no value."""
    if result is None or isinstance(result, dict | list):
        return None
    if isinstance(result, bool):
        return result
    if isinstance(result, int | float):
        return float(result)
    if isinstance(result, str):
        try:
            return float(result)
        except ValueError:
            return result.strip()
    return None


def place_of(thing: dict[str, Any], label: str) -> tuple[tuple[float, float] | None, dict[str, Any] | None]:
    """A Thing's position: its first Location that has a GeoJSON geometry."""
    for index, location in enumerate(list_member(thing, "Locations", label)):
        location_label = f"{label}.Locations[{index}]"
        if not isinstance(location, dict):
            raise PayloadError(f"{location_label}: expected an object, got a JSON {json_type(location)}")
        point, geometry = geometry_of(location, location_label, "location")
        if point is not None:
            return point, geometry
    return None, None


def geometry_of(
    site: dict[str, Any], label: str, shape_key: str
) -> tuple[tuple[float, float] | None, dict[str, Any] | None]:
    encoding = site.get("encodingType")
    if isinstance(encoding, str) and not any(kind in encoding.lower() for kind in GEOJSON_ENCODINGS):
        return None, None  # e.g. an address as text: nothing to place on a map
    if shape_key not in site:
        raise PayloadError(f"{label}.{shape_key}: missing")
    return shape(site[shape_key], f"{label}.{shape_key}")


def shape(value: Any, label: str) -> tuple[tuple[float, float] | None, dict[str, Any] | None]:
    """(point, geometry) of a GeoJSON geometry or Feature; a shape is placed at its bounding-box centre."""
    if not isinstance(value, dict):
        raise PayloadError(f"{label}: expected a GeoJSON Point or geometry, got a JSON {json_type(value)}")
    if value.get("type") == "Feature":
        return shape(value.get("geometry"), f"{label}.geometry")
    kind = value.get("type")
    coordinates = value.get("coordinates")
    if kind == "Point":
        if not isinstance(coordinates, list) or len(coordinates) < 2:
            raise PayloadError(f"{label}.coordinates: expected [longitude, latitude]")
        return lon_lat(coordinates[0], coordinates[1], field_name=label), None
    if kind in ("MultiPoint", "LineString", "MultiLineString", "Polygon", "MultiPolygon"):
        points = list(positions(coordinates, label))
        if not points:
            return None, None
        lons, lats = [point[0] for point in points], [point[1] for point in points]
        centre = ((min(lons) + max(lons)) / 2, (min(lats) + max(lats)) / 2)
        return centre, {"type": kind, "coordinates": coordinates}
    raise PayloadError(f"{label}: expected a GeoJSON Point or geometry, got type {kind!r}")


def positions(coordinates: Any, label: str) -> Iterator[tuple[float, float]]:
    if isinstance(coordinates, list) and coordinates and not isinstance(coordinates[0], list):
        if len(coordinates) < 2:
            raise PayloadError(f"{label}.coordinates: a position needs a longitude and a latitude")
        yield lon_lat(coordinates[0], coordinates[1], field_name=label)
    elif isinstance(coordinates, list):
        for part in coordinates:
            yield from positions(part, label)
    else:
        raise PayloadError(f"{label}.coordinates: expected an array, got a JSON {json_type(coordinates)}")


def station_type(metrics: set[str]) -> str:
    for station_type, indicators in STATION_TYPES:
        if metrics & indicators:
            return station_type
    if metrics and metrics <= WEATHER_METRICS:
        return "WeatherStation"
    return "SensorStation"


def is_person(key: str) -> bool:
    return is_personal_field(key) or squash(key) in PERSON_PROPERTIES


def is_scalar(value: Any) -> bool:
    return value is None or isinstance(value, str | int | float | bool)


def json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    return "object"
