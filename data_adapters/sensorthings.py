"""OGC SensorThings API v1.0/v1.1 reader: Things, Locations, Datastreams and Observations to the uniform model.

Documents it reads (each as a single entity or a `{"value": [...]}` collection, `@iot.count` allowed):
- Things, ideally `$expand=Locations,Datastreams($expand=ObservedProperty,Observations)`: one station entity
  per Thing at its Location's GeoJSON point; each (Multi)Datastream's latest Observation gives observations.
- Locations and FeaturesOfInterest: one site entity each, at its GeoJSON geometry.
- Datastreams and MultiDatastreams: one entity each (placed by an expanded Thing's Location or observedArea).
- Observations (e.g. `Datastreams(x)/Observations`): one entity per Datastream, every scalar result an
  observation. Object-valued results (complex observations) are flattened into entity attributes.
- Sensors and ObservedProperties: one catalogue entity each, without location. HistoricalLocations say
  where a Thing was, not what it is: they are checked and give nothing, so a collection of only them is
  refused, saying so, rather than read as an empty city.

Metric names come from ObservedProperty.name, ObservedProperty.definition or Datastream.name (in that order)
via the alias table below; a feed can pin them with `mapping: {metrics: {<name or @iot.id>: <metric>}}`.
Feed mapping keys: entity_type, metrics, metric and unit (for bare Observations), datastream_id, max_pages.
"""


from __future__ import annotations

import json
import logging
import re
from dataclasses import dataclass, field
from typing import Any

import httpx

from data_adapters.contract import (
    DEFAULT_MAX_PAGES,
    Batch,
    Entity,
    FeedContext,
    Observation,
    Paging,
    PayloadError,
    Reader,
    fetch_pages,
    load_json,
    metric_name,
    parse_time,
    parsed,
    read_records,
    register,
    snake_case,
)
from data_adapters.sensorthings_fields import (
    DATASTREAM_IN_URL,
    EEA_DEFINITION,
    EEA_POLLUTANTS,
    MOLAR_MASS_G,
    Stream,
    Times,
    Value,
    alias_in,
    geometry_of,
    iot_id,
    is_person,
    is_scalar,
    json_type,
    kind_of,
    latest_of,
    list_member,
    looks_like_words,
    normalize_unit,
    place_of,
    scalar_result,
    shape,
    station_type,
    text_of,
    value_of,
    values_of,
)

__all__ = ["MOLAR_MASS_G", "SensorThingsReader", "normalize_unit"]

log = logging.getLogger(__name__)

# SensorThings pages a collection with @iot.nextLink; the merged document keeps the first page's count
PAGING = Paging(members="value", next_link="@iot.nextLink", kept=("@iot.count",), kind="SensorThings collection")




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
        max_pages = int(feed.mapping.get("max_pages", DEFAULT_MAX_PAGES))
        return fetch_pages(client, feed.url, PAGING, load=_load, max_pages=max_pages, feed_name=feed.name)

    def parse(self, payload: bytes, feed: FeedContext) -> Batch:
        document = parsed(payload, _load)  # fetch has parsed it already, looking for a next page
        if not isinstance(document, dict):
            raise PayloadError(
                f"expected a SensorThings entity or a collection {{\"value\": [...]}}, got a JSON {json_type(document)}"
            )
        reading = _Reading(feed)
        if "value" in document:
            members = document["value"]
            if not isinstance(members, list):
                raise PayloadError(f"value: expected an array of entities, got a JSON {json_type(members)}")
            count = document.get("@iot.count")
            if count is not None and (isinstance(count, bool) or not isinstance(count, int)):
                raise PayloadError(f"@iot.count: expected an integer, got {count!r}")
            located: list[tuple[str, tuple[Any, int | None]]] = [
                (f"value[{index}]", (member, index)) for index, member in enumerate(members)
            ]
        else:
            located = [("entity", (document, None))]
        batch = read_records(reading.batch, located, lambda _where, item: reading.add(*item))
        if reading.historical and not batch.record_count:
            raise PayloadError(
                f"HistoricalLocations ({reading.historical}) say when a Thing was where, not what it is or "
                "measures: nothing to show; point the feed at Things?$expand=Locations,Datastreams"
            )
        return batch


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


@dataclass(slots=True)
class _Source:
    """What every Observation of one Datastream shares: its streams and the entity (station) they go to."""

    streams: list[Stream]
    entity_id: str
    datastream: dict[str, Any]
    thing: dict[str, Any] | None


@dataclass(slots=True)
class _Reading:
    feed: FeedContext
    batch: Batch = field(default_factory=Batch)
    entities: dict[str, Entity] = field(default_factory=dict)  # by id, the same objects as in the batch
    historical: int = 0  # HistoricalLocations read (they give no entity)
    sources: dict[tuple[str, Any], _Source] = field(default_factory=dict)  # by (relation, Datastream @iot.id)
    times: Times = field(default_factory=Times)

    def add(self, member: Any, index: int | None) -> None:
        """One member into the batch; one it refuses leaves nothing behind (its observations are taken back)."""
        observations, entities = len(self.batch.observations), len(self.batch.entities)
        try:
            self._add(member, index)
        except PayloadError:
            del self.batch.observations[observations:]
            for entity in self.batch.entities[entities:]:  # e.g. the station of an Observation refused
                del self.entities[entity.id]
            del self.batch.entities[entities:]
            raise

    def _keep(self, entity: Entity) -> None:
        previous = self.entities.get(entity.id)
        if previous is None:
            self.batch.entities.append(entity)
        elif previous is not entity:  # the same @iot.id twice: the later one, in the earlier one's place
            self.batch.entities[self.batch.entities.index(previous)] = entity
        self.entities[entity.id] = entity

    def _add(self, member: Any, index: int | None) -> None:
        kind = kind_of(member, index)
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
            self.historical += 1

    # Things -> stations ----------------------------------------------------------------------------
    def _thing(self, thing: dict[str, Any], label: str) -> None:
        entity_id = self.feed.urn(iot_id(thing, label))
        entity = self._entity(entity_id, thing, label)
        self._properties(entity, thing, label)
        entity.location, entity.geometry = place_of(thing, label)
        metrics = self._datastreams_of(entity, thing, label)
        entity.type = self.feed.mapping.get("entity_type") or station_type(metrics)
        self._keep(entity)

    def _datastreams_of(self, entity: Entity, thing: dict[str, Any], label: str) -> set[str]:
        """Latest observation of each expanded (Multi)Datastream onto the Thing; returns the metrics it measures."""
        metrics: set[str] = set()
        for key, multi in (("Datastreams", False), ("MultiDatastreams", True)):
            for ds_index, datastream in enumerate(list_member(thing, key, label)):
                ds_label = f"{label}.{key}[{ds_index}]"
                if not isinstance(datastream, dict):
                    raise PayloadError(f"{ds_label}: expected an object, got a JSON {json_type(datastream)}")
                streams = self._streams_of(datastream, ds_label, multi=multi)
                for stream in streams:
                    if stream.metric in metrics:
                        # two Datastreams of one metric on one Thing (e.g. two PM2.5 sensors): keep both apart
                        stream.metric = f"{stream.metric}_{snake_case(stream.key)}"
                    metrics.add(stream.metric)
                latest = latest_of(values_of(datastream, ds_label, self.times))
                if latest:
                    self._record(entity, streams, latest)
        return metrics

    # Locations and FeaturesOfInterest -> sites -----------------------------------------------------
    def _site(self, site: dict[str, Any], label: str, shape_key: str) -> None:
        entity_id = self.feed.urn(iot_id(site, label))
        entity = self._entity(entity_id, site, label)
        self._properties(entity, site, label)
        entity.type = self.feed.mapping.get("entity_type") or "SensorSite"
        entity.location, entity.geometry = geometry_of(site, label, shape_key)
        self._keep(entity)

    # Datastreams and MultiDatastreams --------------------------------------------------------------
    def _datastream(self, datastream: dict[str, Any], label: str, *, multi: bool) -> None:
        streams = self._streams_of(datastream, label, multi=multi)
        entity_id = self.feed.urn(iot_id(datastream, label))
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
            entity.location, entity.geometry = place_of(thing, f"{label}.Thing")
        if entity.location is None and datastream.get("observedArea") is not None:
            entity.location, entity.geometry = shape(datastream["observedArea"], f"{label}.observedArea")
        if datastream.get("phenomenonTime"):
            # a Datastream's phenomenonTime spans all its observations: its end is the latest
            entity.observed_at = parse_time(datastream["phenomenonTime"], field_name=f"{label}.phenomenonTime")
        latest = latest_of(values_of(datastream, label, self.times))
        if latest:
            self._record(entity, streams, latest)
        self._keep(entity)

    # Observations -> the Datastream they belong to -------------------------------------------------
    def _observation(self, observation: dict[str, Any], label: str) -> None:
        source = self._source_of(observation, label)
        entity = self.entities.get(source.entity_id)
        if entity is None:
            thing = source.thing
            entity = self._entity(source.entity_id, thing or source.datastream, label)
            if thing is not None:
                entity.location, entity.geometry = place_of(thing, f"{label}.Datastream.Thing")
            entity.type = self.feed.mapping.get("entity_type") or (
                station_type({stream.metric for stream in source.streams}) if thing is not None
                else "SensorDatastream"
            )
            self._keep(entity)
        value = value_of(observation, label, self.times)
        if value is not None:
            self._record(entity, source.streams, value, keep_all=True)

    def _source_of(self, observation: dict[str, Any], label: str) -> _Source:
        """The Datastream an observation belongs to. A collection repeats the same expanded Datastream (and
        its Thing) on every observation: each is read once, by its @iot.id, and then looked up."""
        for key, multi in (("Datastream", False), ("MultiDatastream", True)):
            datastream = observation.get(key)
            if not isinstance(datastream, dict):
                continue
            raw_id = datastream.get("@iot.id")
            # exact types only: True == 1 must not find Datastream 1 (iot_id refuses a boolean id)
            source = self.sources.get((key, raw_id)) if type(raw_id) in (str, int) else None
            if source is None:
                source = self._read_source(datastream, f"{label}.{key}", multi=multi)
                self.sources[key, raw_id] = source
            return source
        source = self.sources.get(("", None))
        if source is None:
            stream = self._feed_stream()
            source = self.sources["", None] = _Source([stream], self.feed.urn(stream.key), {}, None)
        return source

    def _read_source(self, datastream: dict[str, Any], label: str, *, multi: bool) -> _Source:
        entity_key = iot_id(datastream, label)
        streams = self._streams_of(datastream, label, multi=multi)
        thing = datastream.get("Thing")
        if not isinstance(thing, dict):
            thing = None
        elif "@iot.id" in thing:
            # $expand=Datastream/Thing/Locations: the observation is of a station, placed where it is
            entity_key = iot_id(thing, f"{label}.Thing")
        return _Source(streams, self.feed.urn(entity_key), datastream, thing)

    def _feed_stream(self) -> Stream:
        """The Datastream a bare Observations document belongs to: named by the mapping or the feed's URL."""
        mapping = self.feed.mapping
        match = DATASTREAM_IN_URL.search(self.feed.url)
        key = str(mapping.get("datastream_id") or (match.group(1) if match else "datastream"))
        metric = str(mapping.get("metric") or "result")
        unit, convert = normalize_unit(metric, {"symbol": mapping.get("unit")})
        return Stream(key=key, metric=metric, unit=unit, convert=convert)

    # Sensors and ObservedProperties -> catalogue entries -------------------------------------------
    def _catalogue(self, member: dict[str, Any], label: str, entity_type: str) -> None:
        entity_id = self.feed.urn(iot_id(member, label))
        entity = self._entity(entity_id, member, label)
        entity.type = entity_type
        self._properties(entity, member, label)
        for key in ("definition", "encodingType", "metadata"):
            if isinstance(member.get(key), str) and member[key].strip():
                entity.attributes[snake_case(key)] = member[key].strip()
        if entity_type == "ObservedProperty":
            entity.attributes["metric"] = self._metric_of({"ObservedProperty": member}, "", label)
        self._keep(entity)

    # shared ----------------------------------------------------------------------------------------
    def _entity(self, entity_id: str, source: dict[str, Any], label: str) -> Entity:
        entity = Entity(
            id=entity_id,
            type="",
            agency=self.feed.agency,
            sector=self.feed.sector,
            name=text_of(source, "name", label),
            feed=self.feed.name,
        )
        description = text_of(source, "description", label)
        if description:
            entity.attributes["description"] = " ".join(description.split())
        return entity

    def _properties(self, entity: Entity, source: dict[str, Any], label: str) -> None:
        """An entity's user-annotated `properties`, scalars only and never a person's name or contact."""
        properties = source.get("properties")
        if properties is None:
            return
        if not isinstance(properties, dict):
            raise PayloadError(f"{label}.properties: expected an object, got a JSON {json_type(properties)}")
        for key, value in properties.items():
            if is_scalar(value) and not is_person(key):
                entity.attributes[snake_case(key)] = value

    def _streams_of(self, datastream: dict[str, Any], label: str, *, multi: bool) -> list[Stream]:
        key = iot_id(datastream, label)
        if not multi:
            metric = self._metric_of(datastream, key, label)
            unit, convert = normalize_unit(metric, datastream.get("unitOfMeasurement"))
            return [Stream(key=key, metric=metric, unit=unit, convert=convert)]
        # a MultiDatastream: one unit (and, when expanded, one ObservedProperty) per result array position
        units = list_member(datastream, "unitOfMeasurements", label)
        properties = list_member(datastream, "ObservedProperties", label)
        streams = []
        for position, unit_of_measurement in enumerate(units):
            observed = properties[position] if position < len(properties) else None
            part = {"ObservedProperty": observed} if isinstance(observed, dict) else {}
            metric = self._metric_of(part, f"{key}/{position}", f"{label}.ObservedProperties[{position}]")
            if metric == "value":
                metric = f"value_{position + 1}"
            unit, convert = normalize_unit(metric, unit_of_measurement)
            streams.append(Stream(key=f"{key}_{position + 1}", metric=metric, unit=unit, convert=convert))
        return streams

    def _metric_of(self, datastream: dict[str, Any], key: str, label: str) -> str:
        observed = datastream.get("ObservedProperty")
        if observed is not None and not isinstance(observed, dict):
            raise PayloadError(f"{label}.ObservedProperty: expected an object, got a JSON {json_type(observed)}")
        observed = observed or {}
        property_name = text_of(observed, "name", f"{label}.ObservedProperty")
        definition = text_of(observed, "definition", f"{label}.ObservedProperty")
        stream_name = text_of(datastream, "name", label)
        pinned: dict[str, Any] = self.feed.mapping.get("metrics") or {}
        for candidate in (key, property_name, stream_name):
            if candidate and candidate in pinned:
                return str(pinned[candidate])
        eea = EEA_DEFINITION.search(definition)
        if eea and eea.group(1) in EEA_POLLUTANTS:
            return EEA_POLLUTANTS[eea.group(1)]
        definition_tail = re.split(r"[/#]", definition.rstrip("/"))[-1] if definition else ""
        for candidate in (property_name, definition_tail, stream_name):
            if candidate and metric_name(candidate):
                return str(metric_name(candidate))
        for candidate in (property_name, stream_name):
            found = alias_in(candidate) if candidate else None
            if found:
                return found
        for candidate in (property_name, stream_name):
            if candidate and looks_like_words(candidate) and snake_case(candidate):
                return snake_case(candidate)
        return "value"

    def _record(self, entity: Entity, streams: list[Stream], value: Value, *, keep_all: bool = False) -> None:
        """A result onto its entity: array results of a MultiDatastream go one position per stream."""
        if isinstance(value.result, list):
            for stream, member in zip(streams, value.result, strict=False):
                scalar = scalar_result(member)
                if scalar is not None:
                    self._record_one(entity, stream, Value(value.time, scalar), keep_all=keep_all)
        elif streams:
            self._record_one(entity, streams[0], value, keep_all=keep_all)

    def _record_one(self, entity: Entity, stream: Stream, value: Value, *, keep_all: bool) -> None:
        """Latest value onto the entity's attributes; scalar results become observations too."""
        newer = entity.observed_at is None or value.time >= entity.observed_at
        # a Thing's Datastreams each hand over their latest value; a collection is read in any time order
        is_latest = newer or not keep_all
        if isinstance(value.result, dict):
            if is_latest:
                for key, member in value.result.items():
                    if is_scalar(member) and not is_person(key):
                        entity.attributes[f"{stream.metric}_{snake_case(key)}"] = member
        elif not isinstance(value.result, list):
            result = value.result
            if isinstance(result, float):
                result = round(stream.convert(result), 6)
            self.batch.observations.append(Observation(entity.id, stream.metric, result, stream.unit, value.time))
            if is_latest or stream.metric not in entity.attributes:
                entity.attributes[stream.metric] = result
        if newer:
            entity.observed_at = value.time


