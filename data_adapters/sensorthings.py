"""OGC SensorThings API v1.0/v1.1 reader: Things, Locations, Datastreams and Observations to the uniform model.

Documents it reads (each as a single entity or a `{"value": [...]}` collection, `@iot.count` allowed):
- Things, ideally `$expand=Locations,Datastreams($expand=ObservedProperty,Observations)`: one station entity
  per Thing at its Location's GeoJSON point; each (Multi)Datastream's latest Observation gives observations.
- Locations and FeaturesOfInterest: one site entity each, at its GeoJSON geometry.
- Datastreams and MultiDatastreams: one entity each (placed by an expanded Thing's Location or observedArea).
- Observations (e.g. `Datastreams(x)/Observations`): one entity per Datastream, every scalar result an
  observation. Object-valued results (complex observations) are flattened into entity attributes.
- Sensors and ObservedProperties: one catalogue entity each, without location. HistoricalLocations say
  where a Thing was, not what it is: they are read and checked, and give nothing.

Metric names come from ObservedProperty.name, ObservedProperty.definition or Datastream.name (in that order)
via the alias table below; a feed can pin them with `mapping: {metrics: {<name or @iot.id>: <metric>}}`.
Feed mapping keys: entity_type, metrics, metric and unit (for bare Observations), datastream_id, max_pages.
"""

from __future__ import annotations

import json
import logging
import math
import re
import unicodedata
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from functools import lru_cache
from typing import Any

import httpx

from data_adapters.base import (
    FeedContext,
    PayloadError,
    Reader,
    load_json,
    lon_lat,
    parse_time,
    register,
)
from ioc.model import Batch, Entity, Observation, Scalar
from ioc.privacy import is_personal_field, scrub_text

log = logging.getLogger(__name__)

# --- metric names ------------------------------------------------------------------------------------

# Keys are squashed (lower case, accents and punctuation removed): "PM2.5", "pm2_5" and "PM 2.5" all -> "pm25".
METRIC_ALIASES: dict[str, str] = {
    "pm25": "pm25",
    "pm10": "pm10",
    "pm1": "pm1",
    "no2": "no2",
    "nitrogendioxide": "no2",
    "so2": "so2",
    "sulfurdioxide": "so2",
    "sulphurdioxide": "so2",
    "o3": "o3",
    "ozone": "o3",
    "co": "co",
    "carbonmonoxide": "co",
    "no": "no",
    "nitrogenmonoxide": "no",
    "nitricoxide": "no",
    "nox": "nox",
    "nitrogenoxides": "nox",
    "nh3": "nh3",
    "ammonia": "nh3",
    "co2": "co2",
    "carbondioxide": "co2",
    "aqi": "aqi",
    "vnaqi": "aqi",
    "airqualityindex": "aqi",
    "temperature": "temperature",
    "airtemperature": "temperature",
    "ambienttemperature": "temperature",
    "temp": "temperature",
    "nhietdo": "temperature",
    "humidity": "humidity",
    "relativehumidity": "humidity",
    "airhumidity": "humidity",
    "rh": "humidity",
    "doam": "humidity",
    "pressure": "pressure",
    "airpressure": "pressure",
    "atmosphericpressure": "pressure",
    "barometricpressure": "pressure",
    "windspeed": "wind_speed",
    "winddirection": "wind_direction",
    "rainfall": "rainfall",
    "precipitation": "rainfall",
    "luongmua": "rainfall",
    "waterlevel": "water_level",
    "mucnuoc": "water_level",
    "riverlevel": "water_level",
    "gaugeheight": "water_level",
    "ph": "ph",
    "turbidity": "turbidity",
    "dissolvedoxygen": "dissolved_oxygen",
    "conductivity": "conductivity",
    "noise": "noise",
    "soundlevel": "noise",
}

# European air-quality vocabulary (dd.eionet.europa.eu/vocabulary/aq/pollutant/<code>), used as
# ObservedProperty.definition by many public air-quality SensorThings servers.
EEA_POLLUTANTS = {"1": "so2", "5": "pm10", "6001": "pm25", "7": "o3", "8": "no2", "9": "nox", "10": "co", "38": "no"}
_EEA_DEFINITION = re.compile(r"eionet\.europa\.eu/.*pollutant/(\d+)")

# What kind of station a Thing is, judged by what it measures (a feed's mapping.entity_type wins).
_STATION_TYPES: list[tuple[str, frozenset[str]]] = [
    ("AirQualityStation", frozenset({"pm25", "pm10", "pm1", "no2", "so2", "o3", "co", "no", "nox", "nh3", "aqi"})),
    ("WaterLevelStation", frozenset({"water_level"})),
    ("WaterQualityStation", frozenset({"ph", "turbidity", "dissolved_oxygen", "conductivity"})),
]
_WEATHER_METRICS = frozenset({"temperature", "humidity", "pressure", "wind_speed", "wind_direction", "rainfall"})

# --- units -------------------------------------------------------------------------------------------

Convert = Callable[[float], float]


def _scale(factor: float) -> Convert:
    return lambda value: value * factor


_SAME: Convert = _scale(1.0)

# Keys are NFKC-folded, lower case, without spaces: "µg/m³" -> "μg/m3". Symbols (UCUM and common) and names.
UNITS: dict[str, tuple[str, Convert]] = {
    **dict.fromkeys(
        ["μg/m3", "ug/m3", "μg.m-3", "ug.m-3", "μgm-3", "ugm-3", "microgrampercubicmetre", "microgrampercubicmeter"],
        ("µg/m³", _SAME),
    ),
    **dict.fromkeys(["mg/m3", "mg.m-3", "milligrampercubicmetre", "milligrampercubicmeter"], ("µg/m³", _scale(1000))),
    **dict.fromkeys(["ng/m3", "ng.m-3", "nanogrampercubicmetre", "nanogrampercubicmeter"], ("µg/m³", _scale(0.001))),
    **dict.fromkeys(["°c", "degc", "cel", "celsius", "degreecelsius", "degreescelsius"], ("°C", _SAME)),
    **dict.fromkeys(["k", "kelvin"], ("°C", lambda value: value - 273.15)),
    **dict.fromkeys(["°f", "degf", "[degf]", "fahrenheit", "degreefahrenheit"], ("°C", lambda v: (v - 32) * 5 / 9)),
    **dict.fromkeys(["%", "percent", "pct", "%rh", "[%]"], ("%", _SAME)),
    **dict.fromkeys(["km/h", "kmh", "km/hr", "kph", "km.h-1", "kilometreperhour"], ("km/h", _SAME)),
    **dict.fromkeys(["m/s", "m.s-1", "ms-1", "meterpersecond", "metrepersecond"], ("km/h", _scale(3.6))),
    **dict.fromkeys(["mph", "[mi_i]/h"], ("km/h", _scale(1.609344))),
    **dict.fromkeys(["kn", "kt", "kts", "knot", "knots", "[kn_i]"], ("km/h", _scale(1.852))),
    **dict.fromkeys(["unitless", "dimensionless", "1", "-"], ("", _SAME)),
}
# Lengths become cm only for water levels: a rainfall in mm or a visibility in m keeps its unit.
_LENGTHS: dict[str, Convert] = {
    "cm": _SAME,
    "centimetre": _SAME,
    "centimeter": _SAME,
    "m": _scale(100),
    "metre": _scale(100),
    "meter": _scale(100),
    "mm": _scale(0.1),
    "millimetre": _scale(0.1),
    "millimeter": _scale(0.1),
}
# Gas mixing ratios to mass concentration at 25 °C and 1 atm (molar volume 24.45 L), the reference of WHO
# guidelines and of QCVN 05:2023/BTNMT: µg/m³ = ppb × molar mass / 24.45.
MOLAR_MASS_G = {"no2": 46.0055, "so2": 64.066, "o3": 47.9982, "co": 28.0101, "no": 30.0061, "nh3": 17.0305}
_PPB = {"ppb": 1.0, "[ppb]": 1.0, "partsperbillion": 1.0, "ppm": 1000.0, "[ppm]": 1000.0, "partspermillion": 1000.0}


def normalize_unit(metric: str, unit: Any) -> tuple[str, Convert]:
    """The normalized unit of a Datastream's unitOfMeasurement and how to convert its results to it."""
    if not isinstance(unit, dict):
        return "", _SAME
    given = [raw.strip() for raw in (unit.get("symbol"), unit.get("name")) if isinstance(raw, str) and raw.strip()]
    for raw in given:
        key = unicodedata.normalize("NFKC", raw).lower().replace(" ", "")
        if key in UNITS:
            return UNITS[key]
        if key in _PPB and metric in MOLAR_MASS_G:
            return "µg/m³", _scale(_PPB[key] * MOLAR_MASS_G[metric] / 24.45)
        if key in _LENGTHS and _is_water_level(metric):
            return "cm", _LENGTHS[key]
    if isinstance(unit.get("symbol"), str) and unit["symbol"].strip():
        return unicodedata.normalize("NFC", unit["symbol"].strip()), _SAME  # unknown: keep the source's symbol
    return "", _SAME


def _is_water_level(metric: str) -> bool:
    return "level" in metric or "depth" in metric


# --- names -------------------------------------------------------------------------------------------


@lru_cache(maxsize=8192)  # names repeat across every Thing of a feed
def _fold(text: str) -> str:
    """Vietnamese and other accents off ('Nhiệt độ' -> 'Nhiet do'), so names match the alias table."""
    decomposed = unicodedata.normalize("NFKD", text.replace("đ", "d").replace("Đ", "D"))
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


@lru_cache(maxsize=8192)
def _squash(text: str) -> str:
    return re.sub(r"[^a-z0-9]", "", _fold(text).lower())


@lru_cache(maxsize=8192)
def snake(text: str) -> str:
    """lower_snake for attribute and metric names: 'individualCount' -> 'individual_count'."""
    spaced = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", _fold(text))
    return re.sub(r"[^a-z0-9]+", "_", spaced.lower()).strip("_")


def _alias_in(text: str) -> str | None:
    """A known metric named inside a longer name: 'Station 12 - PM 2.5' -> pm25 (longest phrase first)."""
    tokens = [token for token in re.split(r"[\s,;:/()\[\]|]+", text) if token]
    for size in (3, 2, 1):
        for start in range(len(tokens) - size + 1):
            metric = METRIC_ALIASES.get(_squash("".join(tokens[start : start + size])))
            if metric:
                return metric
    return None


def _looks_like_words(text: str) -> bool:
    # PSNC-style names are hashes ("2e92962c...:d2511e..."): useless as metric names
    return bool(re.search(r"[A-Za-z]{3,}", text)) and not re.fullmatch(r"[0-9a-fA-F:_\-]{16,}", text)


# --- the reader --------------------------------------------------------------------------------------

_KINDS = (
    "Things", "Locations", "Datastreams", "MultiDatastreams", "Observations",
    "FeaturesOfInterest", "Sensors", "ObservedProperties", "HistoricalLocations",
)
_SELF_LINK = re.compile(r"/(" + "|".join(_KINDS) + r")\(")
_DATASTREAM_IN_URL = re.compile(r"(?:Multi)?Datastreams\(\s*'?([^)']+?)'?\s*\)")
_GEOJSON_ENCODINGS = ("geo+json", "geojson")
# Thing.properties keys that name a person (the spec's own example has "owner": "Noah Liang")
_PERSON_PROPERTIES = frozenset({"owner", "contact", "contactperson", "contactname", "operatorname"})


@register
class SensorThingsReader(Reader):
    """OGC SensorThings API v1.0/v1.1 (OGC 15-078r6, 18-088)."""

    id = "sensorthings"

    def check_mapping(self, mapping: dict[str, Any]) -> None:
        """mapping: entity_type (text), metrics ({name: metric}), metric/unit/datastream_id (text), max_pages."""
        for key in ("entity_type", "metric", "unit", "datastream_id"):
            if key in mapping and not isinstance(mapping[key], str | int):
                raise ValueError(f"mapping.{key}: expected text, got {mapping[key]!r}")
        metrics = mapping.get("metrics", {})
        if not isinstance(metrics, dict) or not all(isinstance(value, str) for value in metrics.values()):
            raise ValueError("mapping.metrics: expected a table of Datastream or ObservedProperty name -> metric")
        pages = mapping.get("max_pages", 50)
        if isinstance(pages, bool) or not isinstance(pages, int) or pages < 1:
            raise ValueError(f"mapping.max_pages: expected a whole number of pages, at least 1, got {pages!r}")

    def fetch(self, client: httpx.Client, feed: FeedContext) -> bytes:
        """GET the URL and follow @iot.nextLink (at most mapping.max_pages pages) into one collection."""
        response = client.get(feed.url)
        response.raise_for_status()
        if b'"@iot.nextLink"' not in response.content:
            return response.content  # one page: parse reads it once, not twice
        try:
            first = _load(response.content)
        except PayloadError:
            return response.content  # parse says what is wrong with it
        if not (isinstance(first, dict) and isinstance(first.get("value"), list) and first.get("@iot.nextLink")):
            return response.content
        max_pages = int(feed.mapping.get("max_pages", 50))
        members: list[Any] = list(first["value"])
        next_link: Any = first["@iot.nextLink"]
        visited = {str(response.url)}
        pages = 1
        while isinstance(next_link, str) and next_link and pages < max_pages:
            url = response.url.join(next_link)
            if str(url) in visited:
                break  # a server that links a page to itself would keep us here forever
            visited.add(str(url))
            response = client.get(url)
            response.raise_for_status()
            page = _load(response.content)
            if not isinstance(page, dict) or not isinstance(page.get("value"), list):
                raise PayloadError(f"page {pages + 1} ({url}): not a SensorThings collection (no 'value' array)")
            members.extend(page["value"])
            next_link = page.get("@iot.nextLink")
            pages += 1
        if next_link and pages >= max_pages:
            log.warning("feed %s: stopped after %d pages; raise mapping.max_pages to read them all", feed.name, pages)
        merged: dict[str, Any] = {"value": members}
        if "@iot.count" in first:
            merged["@iot.count"] = first["@iot.count"]
        return json.dumps(merged, ensure_ascii=False).encode()

    def parse(self, payload: bytes, feed: FeedContext) -> Batch:
        document = _load(payload)
        if not isinstance(document, dict):
            raise PayloadError(
                f"expected a SensorThings entity or a collection {{\"value\": [...]}}, got a JSON {_json_type(document)}"
            )
        reading = _Reading(feed)
        if "value" in document:
            members = document["value"]
            if not isinstance(members, list):
                raise PayloadError(f"value: expected an array of entities, got a JSON {_json_type(members)}")
            count = document.get("@iot.count")
            if count is not None and (isinstance(count, bool) or not isinstance(count, int)):
                raise PayloadError(f"@iot.count: expected an integer, got {count!r}")
            for index, member in enumerate(members):
                reading.add(member, index)
        else:
            reading.add(document, None)
        return reading.batch()


def _load(payload: bytes) -> Any:
    try:
        return load_json(payload)
    except PayloadError:
        # some servers (and the spec's own ObservedProperty example) put raw line breaks inside strings
        try:
            return json.loads(payload, strict=False)
        except (UnicodeDecodeError, json.JSONDecodeError):
            pass
        raise


# --- reading one document ----------------------------------------------------------------------------


@dataclass(slots=True)
class _Stream:
    """What a Datastream says about its observations: the metric, its unit and how to convert to it."""

    key: str
    metric: str
    unit: str
    convert: Convert


@dataclass(slots=True)
class _Value:
    time: datetime
    result: float | str | bool | dict[str, Any] | list[Any]


@dataclass(slots=True)
class _Reading:
    feed: FeedContext
    entities: dict[str, Entity] = field(default_factory=dict)
    observations: list[Observation] = field(default_factory=list)
    stream_cache: dict[str, list[_Stream]] = field(default_factory=dict)

    def batch(self) -> Batch:
        return Batch(entities=list(self.entities.values()), observations=self.observations)

    def add(self, member: Any, index: int | None) -> None:
        kind = _kind_of(member, index)
        label = kind if index is None else f"{kind}[{index}]"
        if kind == "Things":
            self._thing(member, label)
        elif kind in ("Locations", "FeaturesOfInterest"):
            self._site(member, label, "location" if kind == "Locations" else "feature")
        elif kind in ("Datastreams", "MultiDatastreams"):
            self._datastream(member, label, multi=kind == "MultiDatastreams")
        elif kind == "Observations":
            self._observation(member, label)
        elif kind in ("Sensors", "ObservedProperties"):
            self._catalogue(member, label, "Sensor" if kind == "Sensors" else "ObservedProperty")
        else:  # HistoricalLocations: a past whereabouts, checked but not a thing of its own
            parse_time(member.get("time"), field_name=f"{label}.time")

    # Things -> stations ----------------------------------------------------------------------------
    def _thing(self, thing: dict[str, Any], label: str) -> None:
        entity_id = self.feed.urn(_iot_id(thing, label))
        entity = self._entity(entity_id, thing, label)
        self._properties(entity, thing, label)
        entity.location, entity.geometry = _place_of(thing, label)
        metrics = self._datastreams_of(entity, thing, label)
        entity.type = self.feed.mapping.get("entity_type") or _station_type(metrics)
        self.entities[entity_id] = entity

    def _datastreams_of(self, entity: Entity, thing: dict[str, Any], label: str) -> set[str]:
        """Latest observation of each expanded (Multi)Datastream onto the Thing; returns the metrics it measures."""
        metrics: set[str] = set()
        for key, multi in (("Datastreams", False), ("MultiDatastreams", True)):
            for ds_index, datastream in enumerate(_list_member(thing, key, label)):
                ds_label = f"{label}.{key}[{ds_index}]"
                if not isinstance(datastream, dict):
                    raise PayloadError(f"{ds_label}: expected an object, got a JSON {_json_type(datastream)}")
                streams = self._streams_of(datastream, ds_label, multi=multi)
                for stream in streams:
                    if stream.metric in metrics:
                        # two Datastreams of one metric on one Thing (e.g. two PM2.5 sensors): keep both apart
                        stream.metric = f"{stream.metric}_{snake(stream.key)}"
                    metrics.add(stream.metric)
                latest = _latest(_values_of(datastream, ds_label))
                if latest:
                    self._record(entity, streams, latest)
        return metrics

    # Locations and FeaturesOfInterest -> sites -----------------------------------------------------
    def _site(self, site: dict[str, Any], label: str, shape_key: str) -> None:
        entity_id = self.feed.urn(_iot_id(site, label))
        entity = self._entity(entity_id, site, label)
        self._properties(entity, site, label)
        entity.type = self.feed.mapping.get("entity_type") or "SensorSite"
        entity.location, entity.geometry = _geometry_of(site, label, shape_key)
        self.entities[entity_id] = entity

    # Datastreams and MultiDatastreams --------------------------------------------------------------
    def _datastream(self, datastream: dict[str, Any], label: str, *, multi: bool) -> None:
        streams = self._streams_of(datastream, label, multi=multi)
        entity_id = self.feed.urn(_iot_id(datastream, label))
        entity = self._entity(entity_id, datastream, label)
        self._properties(entity, datastream, label)
        entity.type = self.feed.mapping.get("entity_type") or "SensorDatastream"
        # what the stream measures, so a Datastream without observations still says so on screen
        entity.attributes["metric"] = ",".join(stream.metric for stream in streams)
        units = ",".join(stream.unit for stream in streams)
        if units.strip(","):
            entity.attributes["unit"] = units
        thing = datastream.get("Thing")
        if isinstance(thing, dict):
            entity.location, entity.geometry = _place_of(thing, f"{label}.Thing")
        if entity.location is None and datastream.get("observedArea") is not None:
            entity.location, entity.geometry = _shape(datastream["observedArea"], f"{label}.observedArea")
        if datastream.get("phenomenonTime"):
            # a Datastream's phenomenonTime spans all its observations: its end is the latest
            entity.observed_at = parse_time(datastream["phenomenonTime"], field_name=f"{label}.phenomenonTime")
        latest = _latest(_values_of(datastream, label))
        if latest:
            self._record(entity, streams, latest)
        self.entities[entity_id] = entity

    # Observations -> the Datastream they belong to -------------------------------------------------
    def _observation(self, observation: dict[str, Any], label: str) -> None:
        name_source: dict[str, Any] = {}
        thing: dict[str, Any] | None = None
        for key, multi in (("Datastream", False), ("MultiDatastream", True)):
            if isinstance(observation.get(key), dict):
                name_source = observation[key]
                entity_key = _iot_id(name_source, f"{label}.{key}")
                streams = self._cached_streams(name_source, entity_key, f"{label}.{key}", multi=multi)
                if isinstance(name_source.get("Thing"), dict):
                    # $expand=Datastream/Thing/Locations: the observation is of a station, placed where it is
                    thing = name_source["Thing"]
                    if "@iot.id" in thing:
                        entity_key = _iot_id(thing, f"{label}.{key}.Thing")
                break
        else:
            streams = [self._feed_stream()]
            entity_key = streams[0].key
        entity_id = self.feed.urn(entity_key)
        entity = self.entities.get(entity_id)
        if entity is None:
            entity = self._entity(entity_id, thing or name_source, label)
            if thing is not None:
                entity.location, entity.geometry = _place_of(thing, f"{label}.Datastream.Thing")
            entity.type = self.feed.mapping.get("entity_type") or (
                _station_type({stream.metric for stream in streams}) if thing is not None else "SensorDatastream"
            )
            self.entities[entity_id] = entity
        value = _value_of(observation, label)
        if value is not None:
            self._record(entity, streams, value, keep_all=True)

    def _cached_streams(
        self, datastream: dict[str, Any], key: str, label: str, *, multi: bool
    ) -> list[_Stream]:
        """A collection repeats the same expanded Datastream on every observation: read it once."""
        found = self.stream_cache.get(key)
        if found is None:
            found = self.stream_cache[key] = self._streams_of(datastream, label, multi=multi)
        return found

    def _feed_stream(self) -> _Stream:
        """The Datastream a bare Observations document belongs to: named by the mapping or the feed's URL."""
        mapping = self.feed.mapping
        match = _DATASTREAM_IN_URL.search(self.feed.url)
        key = str(mapping.get("datastream_id") or (match.group(1) if match else "datastream"))
        metric = str(mapping.get("metric") or "result")
        unit, convert = normalize_unit(metric, {"symbol": mapping.get("unit")})
        return _Stream(key=key, metric=metric, unit=unit, convert=convert)

    # Sensors and ObservedProperties -> catalogue entries -------------------------------------------
    def _catalogue(self, member: dict[str, Any], label: str, entity_type: str) -> None:
        entity_id = self.feed.urn(_iot_id(member, label))
        entity = self._entity(entity_id, member, label)
        entity.type = entity_type
        self._properties(entity, member, label)
        for key in ("definition", "encodingType", "metadata"):
            if isinstance(member.get(key), str) and member[key].strip():
                entity.attributes[snake(key)] = member[key].strip()
        if entity_type == "ObservedProperty":
            entity.attributes["metric"] = self._metric_of({"ObservedProperty": member}, "", label)
        self.entities[entity_id] = entity

    # shared ----------------------------------------------------------------------------------------
    def _entity(self, entity_id: str, source: dict[str, Any], label: str) -> Entity:
        entity = Entity(
            id=entity_id,
            type="",
            agency=self.feed.agency,
            sector=self.feed.sector,
            name=_text(source, "name", label),
            feed=self.feed.name,
        )
        description = _text(source, "description", label)
        if description:
            entity.attributes["description"] = scrub_text(" ".join(description.split()))
        return entity

    def _properties(self, entity: Entity, source: dict[str, Any], label: str) -> None:
        """An entity's user-annotated `properties`, scalars only and never a person's name or contact."""
        properties = source.get("properties")
        if properties is None:
            return
        if not isinstance(properties, dict):
            raise PayloadError(f"{label}.properties: expected an object, got a JSON {_json_type(properties)}")
        for key, value in properties.items():
            if _is_scalar(value) and not _is_person(key):
                entity.attributes[snake(key)] = _clean(value)

    def _streams_of(self, datastream: dict[str, Any], label: str, *, multi: bool) -> list[_Stream]:
        key = _iot_id(datastream, label)
        if not multi:
            metric = self._metric_of(datastream, key, label)
            unit, convert = normalize_unit(metric, datastream.get("unitOfMeasurement"))
            return [_Stream(key=key, metric=metric, unit=unit, convert=convert)]
        # a MultiDatastream: one unit (and, when expanded, one ObservedProperty) per result array position
        units = _list_member(datastream, "unitOfMeasurements", label)
        properties = _list_member(datastream, "ObservedProperties", label)
        streams = []
        for position, unit_of_measurement in enumerate(units):
            observed = properties[position] if position < len(properties) else None
            part = {"ObservedProperty": observed} if isinstance(observed, dict) else {}
            metric = self._metric_of(part, f"{key}/{position}", f"{label}.ObservedProperties[{position}]")
            if metric == "value":
                metric = f"value_{position + 1}"
            unit, convert = normalize_unit(metric, unit_of_measurement)
            streams.append(_Stream(key=f"{key}_{position + 1}", metric=metric, unit=unit, convert=convert))
        return streams

    def _metric_of(self, datastream: dict[str, Any], key: str, label: str) -> str:
        observed = datastream.get("ObservedProperty")
        if observed is not None and not isinstance(observed, dict):
            raise PayloadError(f"{label}.ObservedProperty: expected an object, got a JSON {_json_type(observed)}")
        observed = observed or {}
        property_name = _text(observed, "name", f"{label}.ObservedProperty")
        definition = _text(observed, "definition", f"{label}.ObservedProperty")
        stream_name = _text(datastream, "name", label)
        pinned: dict[str, Any] = self.feed.mapping.get("metrics") or {}
        for candidate in (key, property_name, stream_name):
            if candidate and candidate in pinned:
                return str(pinned[candidate])
        eea = _EEA_DEFINITION.search(definition)
        if eea and eea.group(1) in EEA_POLLUTANTS:
            return EEA_POLLUTANTS[eea.group(1)]
        definition_tail = re.split(r"[/#]", definition.rstrip("/"))[-1] if definition else ""
        for candidate in (property_name, definition_tail, stream_name):
            if candidate and _squash(candidate) in METRIC_ALIASES:
                return METRIC_ALIASES[_squash(candidate)]
        for candidate in (property_name, stream_name):
            found = _alias_in(candidate) if candidate else None
            if found:
                return found
        for candidate in (property_name, stream_name):
            if candidate and _looks_like_words(candidate) and snake(candidate):
                return snake(candidate)
        return "value"

    def _record(self, entity: Entity, streams: list[_Stream], value: _Value, *, keep_all: bool = False) -> None:
        """A result onto its entity: array results of a MultiDatastream go one position per stream."""
        if isinstance(value.result, list):
            for stream, member in zip(streams, value.result, strict=False):
                scalar = _scalar_result(member)
                if scalar is not None:
                    self._record_one(entity, stream, _Value(value.time, scalar), keep_all=keep_all)
        elif streams:
            self._record_one(entity, streams[0], value, keep_all=keep_all)

    def _record_one(self, entity: Entity, stream: _Stream, value: _Value, *, keep_all: bool) -> None:
        """Latest value onto the entity's attributes; scalar results become observations too."""
        newer = entity.observed_at is None or value.time >= entity.observed_at
        # a Thing's Datastreams each hand over their latest value; a collection is read in any time order
        is_latest = newer or not keep_all
        if isinstance(value.result, dict):
            if is_latest:
                for key, member in value.result.items():
                    if _is_scalar(member) and not _is_person(key):
                        entity.attributes[f"{stream.metric}_{snake(key)}"] = _clean(member)
        elif not isinstance(value.result, list):
            result = value.result
            if isinstance(result, float):
                result = round(stream.convert(result), 6)
            self.observations.append(Observation(entity.id, stream.metric, result, stream.unit, value.time))
            if is_latest or stream.metric not in entity.attributes:
                entity.attributes[stream.metric] = result
        if newer:
            entity.observed_at = value.time


# --- helpers -----------------------------------------------------------------------------------------


def _kind_of(member: Any, index: int | None) -> str:
    label = "document" if index is None else f"value[{index}]"
    if not isinstance(member, dict):
        raise PayloadError(f"{label}: expected a SensorThings entity (an object), got a JSON {_json_type(member)}")
    link = member.get("@iot.selfLink")
    kinds = _SELF_LINK.findall(link) if isinstance(link, str) else []
    if kinds:
        return str(kinds[-1])
    relations = {key.split("@")[0] for key in member}
    if "result" in member:
        return "Observations"
    if "unitOfMeasurements" in member:
        return "MultiDatastreams"
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
    raise PayloadError(f"{label}: not a SensorThings entity (Thing, Location, Datastream, Observation, ...)")


def _iot_id(member: dict[str, Any], label: str) -> str:
    value = member.get("@iot.id")
    if isinstance(value, bool) or not isinstance(value, str | int) or value == "":
        raise PayloadError(f"{label}.@iot.id: missing or not a string or integer ({value!r})")
    return str(value)


def _text(source: dict[str, Any], key: str, label: str) -> str:
    value = source.get(key)
    if value is None:
        return ""
    if not isinstance(value, str):
        raise PayloadError(f"{label}.{key}: expected text, got a JSON {_json_type(value)}")
    return value.strip()


def _list_member(source: dict[str, Any], key: str, label: str) -> list[Any]:
    value = source.get(key)
    if value is None:
        return []
    if not isinstance(value, list):
        raise PayloadError(f"{label}.{key}: expected an array, got a JSON {_json_type(value)}")
    return value


def _values_of(datastream: dict[str, Any], label: str) -> list[_Value]:
    """Every expanded Observation of a Datastream, each checked: one bad record refuses the payload."""
    values: list[_Value] = []
    for index, observation in enumerate(_list_member(datastream, "Observations", label)):
        obs_label = f"{label}.Observations[{index}]"
        if not isinstance(observation, dict):
            raise PayloadError(f"{obs_label}: expected an object, got a JSON {_json_type(observation)}")
        value = _value_of(observation, obs_label)
        if value is not None:
            values.append(value)
    return values


def _latest(values: list[_Value]) -> _Value | None:
    # servers are asked for $orderby=phenomenonTime desc, but a server that ignores it must not fool us
    return max(values, key=lambda value: value.time) if values else None


def _value_of(observation: dict[str, Any], label: str) -> _Value | None:
    if "result" not in observation:
        raise PayloadError(f"{label}.result: missing")
    when = observation.get("phenomenonTime") or observation.get("resultTime")
    time = parse_time(when, field_name=f"{label}.phenomenonTime")
    result = observation["result"]
    if isinstance(result, dict | list):
        return _Value(time, result)
    scalar = _scalar_result(result)
    if isinstance(scalar, float) and not math.isfinite(scalar):
        # Python's JSON accepts NaN and Infinity; a threshold rule must never compare against them
        raise PayloadError(f"{label}.result: {result!r} is not a finite number")
    return None if scalar is None else _Value(time, scalar)


def _scalar_result(result: Any) -> float | str | bool | None:
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
            return scrub_text(result.strip())
    return None


def _place_of(thing: dict[str, Any], label: str) -> tuple[tuple[float, float] | None, dict[str, Any] | None]:
    """A Thing's position: its first Location that has a GeoJSON geometry."""
    for index, location in enumerate(_list_member(thing, "Locations", label)):
        location_label = f"{label}.Locations[{index}]"
        if not isinstance(location, dict):
            raise PayloadError(f"{location_label}: expected an object, got a JSON {_json_type(location)}")
        point, geometry = _geometry_of(location, location_label, "location")
        if point is not None:
            return point, geometry
    return None, None


def _geometry_of(
    site: dict[str, Any], label: str, shape_key: str
) -> tuple[tuple[float, float] | None, dict[str, Any] | None]:
    encoding = site.get("encodingType")
    if isinstance(encoding, str) and not any(kind in encoding.lower() for kind in _GEOJSON_ENCODINGS):
        return None, None  # e.g. an address as text: nothing to place on a map
    if shape_key not in site:
        raise PayloadError(f"{label}.{shape_key}: missing")
    return _shape(site[shape_key], f"{label}.{shape_key}")


def _shape(value: Any, label: str) -> tuple[tuple[float, float] | None, dict[str, Any] | None]:
    """(point, geometry) of a GeoJSON geometry or Feature; a shape is placed at its bounding-box centre."""
    if not isinstance(value, dict):
        raise PayloadError(f"{label}: expected a GeoJSON Point or geometry, got a JSON {_json_type(value)}")
    if value.get("type") == "Feature":
        return _shape(value.get("geometry"), f"{label}.geometry")
    kind = value.get("type")
    coordinates = value.get("coordinates")
    if kind == "Point":
        if not isinstance(coordinates, list) or len(coordinates) < 2:
            raise PayloadError(f"{label}.coordinates: expected [longitude, latitude]")
        return lon_lat(coordinates[0], coordinates[1], field_name=label), None
    if kind in ("MultiPoint", "LineString", "MultiLineString", "Polygon", "MultiPolygon"):
        points = list(_positions(coordinates, label))
        if not points:
            return None, None
        lons, lats = [point[0] for point in points], [point[1] for point in points]
        centre = ((min(lons) + max(lons)) / 2, (min(lats) + max(lats)) / 2)
        return centre, {"type": kind, "coordinates": coordinates}
    raise PayloadError(f"{label}: expected a GeoJSON Point or geometry, got type {kind!r}")


def _positions(coordinates: Any, label: str) -> Iterator[tuple[float, float]]:
    if isinstance(coordinates, list) and coordinates and not isinstance(coordinates[0], list):
        if len(coordinates) < 2:
            raise PayloadError(f"{label}.coordinates: a position needs a longitude and a latitude")
        yield lon_lat(coordinates[0], coordinates[1], field_name=label)
    elif isinstance(coordinates, list):
        for part in coordinates:
            yield from _positions(part, label)
    else:
        raise PayloadError(f"{label}.coordinates: expected an array, got a JSON {_json_type(coordinates)}")


def _station_type(metrics: set[str]) -> str:
    for station_type, indicators in _STATION_TYPES:
        if metrics & indicators:
            return station_type
    if metrics and metrics <= _WEATHER_METRICS:
        return "WeatherStation"
    return "SensorStation"


def _is_person(key: str) -> bool:
    return is_personal_field(key) or _squash(key) in _PERSON_PROPERTIES


def _is_scalar(value: Any) -> bool:
    return value is None or isinstance(value, str | int | float | bool)


def _clean(value: Any) -> Scalar:
    return scrub_text(value) if isinstance(value, str) else value


def _json_type(value: Any) -> str:
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
