"""GTFS-Realtime reader: a FeedMessage's vehicle positions, trip updates and service alerts to the uniform model.

A FeedMessage is accepted as binary protobuf (what agencies serve), as its proto3-JSON rendering (first
non-space byte '{') and as protobuf text format (the spec's .asciipb examples, '#' comments allowed).
- VehiclePosition -> an entity (mapping.entity_type, default "TransitVehicle") at its position, with route,
  trip, status, occupancy, bearing and speed (GTFS-RT m/s -> km/h) and a `speed_kmh` observation.
- TripUpdate -> a "TripUpdate" entity (no location) with its delay in seconds and a `delay_s` observation.
- Alert -> a "TransitServiceAlert" Event with a headline in Vietnamese or English when the agency offers one.
Vehicle labels and licence plates are kept: they name a bus, not a person.
"""

from __future__ import annotations

import json
import math
import re
from datetime import UTC, datetime
from typing import Any

from google.protobuf import json_format, text_format
from google.protobuf.message import DecodeError
from google.transit import gtfs_realtime_pb2 as rt

from data_adapters.contract import (
    KMH,
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
    lon_lat,
    read_records,
    register,
)

# GTFS-RT severity_level to the CAP scale: a transit disruption is at most "severe" (CAP keeps "extreme"
# for extraordinary threats to life, which a timetable alert does not describe).
SEVERITY = {
    rt.Alert.INFO: Severity.MINOR,
    rt.Alert.WARNING: Severity.MODERATE,
    rt.Alert.SEVERE: Severity.SEVERE,
    rt.Alert.UNKNOWN_SEVERITY: Severity.UNKNOWN,
}
# Headline and description language, most wanted first (the city's language, then English).
LANGUAGES = ("vi", "en")


def _ms_to_kmh() -> tuple[float, float]:
    step = conversion("m/s", KMH)
    if step is None:  # pragma: no cover - the vocabulary defines it
        raise ImportError("the vocabulary has no m/s -> km/h conversion")
    return step


# GTFS-RT speeds are m/s; the city shows km/h (factor and offset, looked up once, not per vehicle)
MS_TO_KMH = _ms_to_kmh()
# float32 coordinates carry noise past the 6th decimal (0.1 m): 37.3704605 would read 37.37046051025391
COORDINATE_DECIMALS = 6

_TEXT_FORMAT_START = re.compile(r"\s*(header|entity)\s*[{:]")


@register
class GtfsRealtimeReader(Reader):
    """GTFS-Realtime v1/v2 FeedMessage (VehiclePositions, TripUpdates, Alerts)."""

    id = "gtfs-rt"

    def check_mapping(self, mapping: dict[str, Any]) -> None:
        """The one mapping key this reader reads: entity_type."""
        if "entity_type" in mapping and not isinstance(mapping["entity_type"], str):
            raise ValueError(f"mapping.entity_type: expected text, got {mapping['entity_type']!r}")

    def parse(self, payload: bytes, feed: FeedContext) -> Batch:
        message = decode_feed_message(payload)
        moments = _Moments()
        header_time = moments.of(message.header, "timestamp")
        vehicle_type = feed.mapping.get("entity_type") or "TransitVehicle"
        entities: dict[str, Entity] = {}
        batch = Batch()

        def read(where: str, item: tuple[int, Any]) -> None:
            index, feed_entity = item
            if feed_entity.is_deleted:
                return  # a DIFFERENTIAL feed removing something: nothing to show
            # every part is read before any is added, so a refused FeedEntity leaves nothing behind
            vehicle = trip = alert = None
            if feed_entity.HasField("vehicle"):
                vehicle = _vehicle(feed_entity, index, header_time, feed, vehicle_type, moments)
            if feed_entity.HasField("trip_update"):
                trip = _trip_update(feed_entity, header_time, feed, entities, moments)
            if feed_entity.HasField("alert"):
                alert = _alert(feed_entity, feed)
            for read_part in (vehicle, trip):
                if read_part is not None:
                    _add(entities, batch, *read_part)
            if alert is not None:
                batch.events.append(alert)

        records = ((f"entity[{index}]", (index, feed_entity)) for index, feed_entity in enumerate(message.entity))
        return read_records(batch, records, read)


def decode_feed_message(payload: bytes) -> rt.FeedMessage:
    """Binary, proto3-JSON or text-format bytes to a FeedMessage; PayloadError if they are none of these."""
    message = rt.FeedMessage()
    stripped = payload.removeprefix(b"\xef\xbb\xbf").lstrip()  # a UTF-8 byte-order mark from some exporters
    if stripped[:1] == b"{":
        try:
            json_format.Parse(stripped.decode("utf-8"), message, ignore_unknown_fields=True)
        except (UnicodeDecodeError, json_format.ParseError) as exc:
            # a binary message whose header length happens to be 123 also starts with '{' after a newline
            message = _binary_or_none(payload)
            if message is None:
                raise PayloadError(f"not a GTFS-Realtime FeedMessage: JSON: {exc}") from None
        if not message.HasField("header"):
            raise PayloadError(f"not a GTFS-Realtime FeedMessage: a JSON object without 'header' ({_members(stripped)})")
    elif (text := _text_format(payload)) is not None:
        try:
            # agency extensions (e.g. [transit_realtime.nyct_trip_descriptor]) are not ours to know
            text_format.Parse(text, message, allow_unknown_extension=True, allow_unknown_field=True)
        except text_format.ParseError as exc:
            raise PayloadError(f"not a GTFS-Realtime FeedMessage: text format: {exc}") from None
    else:
        try:
            message.ParseFromString(payload)
        except DecodeError as exc:
            raise PayloadError(f"not a GTFS-Realtime FeedMessage: {_looks_like(stripped) or exc}") from None
    # Only the header is insisted on: it is what tells a FeedMessage from bytes that merely decode (an
    # empty body decodes to an empty message). Agencies that leave out other required fields, such as
    # gtfs_realtime_version, still publish real positions worth showing.
    if not message.HasField("header"):
        raise PayloadError("not a GTFS-Realtime FeedMessage: no header")
    return message


def _members(document: bytes) -> str:
    """The top-level members of a JSON object, to say what was sent instead of a FeedMessage."""
    try:
        members = list(json.loads(document))
    except (ValueError, TypeError):
        return "not valid JSON"
    return "it has " + ", ".join(members[:8]) if members else "it is empty"


def _looks_like(payload: bytes) -> str:
    """What a payload that is no protobuf seems to be, for the refusal ("Wire format was corrupt" says nothing)."""
    start = payload[:1]
    if start == b"[":
        return "it is a JSON array (a FeedMessage in JSON is an object with a header and entities)"
    if start == b"<":
        root = re.match(rb"(?:<\?[^>]*\?>|<!--.*?-->|\s)*<([\w:.-]+)", payload[:2048], re.DOTALL)
        name = root.group(1).decode("ascii", "replace") if root else "?"
        return f"it is XML or HTML (root <{name}>), not the binary protobuf GTFS-Realtime feeds are served as"
    return ""


def _binary_or_none(payload: bytes) -> rt.FeedMessage | None:
    message = rt.FeedMessage()
    try:
        message.ParseFromString(payload)
    except DecodeError:
        return None
    return message if message.HasField("header") else None


def _text_format(payload: bytes) -> str | None:
    """The text without its '#' comment lines if it is protobuf text format, else None (binary or other)."""
    try:
        text = payload.decode("utf-8")
    except UnicodeDecodeError:
        return None
    # blank the comment lines rather than drop them, so parse errors still give the right line number
    text = "\n".join("" if line.lstrip().startswith("#") else line for line in text.splitlines())
    return text if _TEXT_FORMAT_START.match(text) else None


# --- vehicles ----------------------------------------------------------------------------------------


def _vehicle(
    feed_entity: Any, index: int, header_time: datetime | None, feed: FeedContext, entity_type: str,
    moments: _Moments,
) -> tuple[Entity, list[Observation]]:
    # A fleet feed is thousands of these per poll: each field is read once, optional ones only when present,
    # and error labels are built only when a value is refused.
    report = feed_entity.vehicle
    descriptor = report.vehicle
    # the vehicle's own id is stable across polls; the FeedEntity id need not be
    local_id = descriptor.id or feed_entity.id
    attributes: dict[str, Scalar] = {"vehicle_id": local_id}
    if report.HasField("trip"):
        attributes.update(_trip_attributes(report.trip))
    label, plate = descriptor.label, descriptor.license_plate
    if label:
        attributes["label"] = label
    if plate:
        attributes["license_plate"] = plate
    if report.HasField("current_status"):
        attributes["current_status"] = _enum_name(rt.VehiclePosition.VehicleStopStatus, report.current_status)
    if report.stop_id:
        attributes["stop_id"] = report.stop_id
    if report.HasField("current_stop_sequence"):
        attributes["current_stop_sequence"] = report.current_stop_sequence
    if report.HasField("occupancy_status"):
        attributes["occupancy"] = _enum_name(rt.VehiclePosition.OccupancyStatus, report.occupancy_status)
    if report.HasField("occupancy_percentage"):
        attributes["occupancy_percentage"] = report.occupancy_percentage
    if report.HasField("congestion_level"):
        attributes["congestion_level"] = _enum_name(rt.VehiclePosition.CongestionLevel, report.congestion_level)

    location = None
    observations: list[Observation] = []
    entity_id = feed.urn(local_id)
    time = moments.of(report, "timestamp") or header_time
    if report.HasField("position"):
        location, bearing, speed = _position(report.position, index)
        if bearing is not None:
            attributes["bearing"] = round(bearing, 1)
        if speed is not None:
            factor, offset = MS_TO_KMH  # the spec says m/s
            speed = round(round(speed * factor + offset, 9), 1)
            # 'speed' for screens that show the vehicle, 'speed_kmh' as the observed metric's latest value
            attributes["speed"] = attributes["speed_kmh"] = speed
            if time is not None:
                observations.append(Observation(entity_id, "speed_kmh", speed, KMH, time))

    entity = Entity(
        id=entity_id,
        type=entity_type,
        agency=feed.agency,
        sector=feed.sector,
        name=label or plate or local_id,
        location=location,
        attributes=attributes,
        observed_at=time,
        feed=feed.name,
    )
    return entity, observations


def _position(position: Any, index: int) -> tuple[tuple[float, float] | None, float | None, float | None]:
    """(lon, lat), or None for no fix, and the bearing and speed when given; PayloadError for what is no number."""
    if not (position.HasField("latitude") and position.HasField("longitude")):
        # proto2 would default the missing one to 0.0, a place in the sea rather than no place
        missing = "latitude" if not position.HasField("latitude") else "longitude"
        raise PayloadError(f"entity[{index}].vehicle.position: no {missing} (required with a position)")
    longitude, latitude = position.longitude, position.latitude
    location = None
    if longitude != 0 or latitude != 0:  # 0, 0 is "no fix" as many AVL systems write it, not a place a bus can be
        location = lon_lat(
            round(longitude, COORDINATE_DECIMALS), round(latitude, COORDINATE_DECIMALS),
            field_name=f"entity[{index}].vehicle.position",
        )
    bearing = position.bearing if position.HasField("bearing") else None
    speed = position.speed if position.HasField("speed") else None
    for name, value in (("bearing", bearing), ("speed", speed)):
        if value is not None and not math.isfinite(value):
            raise PayloadError(f"entity[{index}].vehicle.position.{name}: {value} is not a number")
    return location, bearing, speed


# --- trip updates ------------------------------------------------------------------------------------


def _trip_update(
    feed_entity: Any, header_time: datetime | None, feed: FeedContext, seen: dict[str, Entity], moments: _Moments
) -> tuple[Entity, list[Observation]]:
    update = feed_entity.trip_update
    trip_key = update.trip.trip_id or feed_entity.id
    entity_id = feed.urn(f"trip:{trip_key}")
    if entity_id in seen:
        # frequency-based trips repeat a trip_id with another start_time; FeedEntity ids are unique
        entity_id = feed.urn(f"trip:{trip_key}:{feed_entity.id}")
    attributes: dict[str, Scalar] = _trip_attributes(update.trip)
    if update.HasField("vehicle"):
        if update.vehicle.id:
            attributes["vehicle_id"] = update.vehicle.id
        if update.vehicle.label:
            attributes["vehicle_label"] = update.vehicle.label
    attributes["stop_time_updates"] = len(update.stop_time_update)
    if update.stop_time_update and update.stop_time_update[0].stop_id:
        attributes["next_stop_id"] = update.stop_time_update[0].stop_id
    delay = _delay_of(update)
    time = moments.of(update, "timestamp") or header_time
    observations: list[Observation] = []
    if delay is not None:
        attributes["delay_s"] = delay
        if time is not None:
            observations.append(Observation(entity_id, "delay_s", delay, "s", time))
    entity = Entity(
        id=entity_id,
        type="TripUpdate",
        agency=feed.agency,
        sector=feed.sector,
        name=update.trip.trip_id or update.trip.route_id or feed_entity.id,
        attributes=attributes,
        observed_at=time,
        feed=feed.name,
    )
    return entity, observations


def _delay_of(update: Any) -> int | None:
    """The first delay the update states: its first stop time update's, else the trip's own."""
    for stop_time in update.stop_time_update:
        for event_name in ("arrival", "departure"):
            if stop_time.HasField(event_name) and getattr(stop_time, event_name).HasField("delay"):
                return int(getattr(stop_time, event_name).delay)
    if update.HasField("delay"):
        return int(update.delay)
    return None


def _trip_attributes(trip: Any) -> dict[str, Scalar]:
    attributes: dict[str, Scalar] = {}
    for name in ("trip_id", "route_id", "start_date", "start_time"):
        if getattr(trip, name):
            attributes[name] = getattr(trip, name)
    if trip.HasField("direction_id"):
        attributes["direction_id"] = trip.direction_id
    if trip.HasField("schedule_relationship"):
        attributes["schedule_relationship"] = _enum_name(
            rt.TripDescriptor.ScheduleRelationship, trip.schedule_relationship
        )
    return attributes


# --- alerts ------------------------------------------------------------------------------------------


def _alert(feed_entity: Any, feed: FeedContext) -> Event:
    alert = feed_entity.alert
    headline = _translated(alert.header_text) if alert.HasField("header_text") else ""
    if not headline and alert.HasField("effect"):
        headline = _enum_name(rt.Alert.Effect, alert.effect).replace("_", " ").capitalize()
    description = _translated(alert.description_text) if alert.HasField("description_text") else ""
    starts = [period.start for period in alert.active_period if period.start]
    ends = [period.end for period in alert.active_period]
    return Event(
        id=feed.urn(feed_entity.id),
        type="TransitServiceAlert",
        agency=feed.agency,
        sector=feed.sector,
        headline=headline or "Service alert",
        severity=SEVERITY.get(alert.severity_level, Severity.UNKNOWN)
        if alert.HasField("severity_level")
        else Severity.UNKNOWN,
        description=description,
        onset=_epoch(min(starts), "alert.active_period.start") if starts else None,
        # a period without an end is open-ended, and so is the alert
        expires=_epoch(max(ends), "alert.active_period.end") if ends and all(ends) else None,
        feed=feed.name,
    )


def _translated(translated_string: Any) -> str:
    """The text in the first wanted language ('vi-VN' counts as 'vi'), else untagged, else the first given."""
    translations = [(t.language.lower(), t.text.strip()) for t in translated_string.translation if t.text.strip()]
    for wanted in LANGUAGES:
        for language, text in translations:
            if language == wanted or language.startswith(f"{wanted}-"):
                return text
    untagged = [text for language, text in translations if not language]
    return untagged[0] if untagged else (translations[0][1] if translations else "")


# --- shared ------------------------------------------------------------------------------------------


def _add(entities: dict[str, Entity], batch: Batch, entity: Entity, observations: list[Observation]) -> None:
    previous = entities.get(entity.id)
    # a vehicle reported twice in one message: the newer report wins, and only its observations are kept
    if previous is not None and previous.observed_at and entity.observed_at and previous.observed_at > entity.observed_at:
        return
    if previous is not None:
        batch.observations = [obs for obs in batch.observations if obs.entity_id != entity.id]
        batch.entities[batch.entities.index(previous)] = entity  # rare: the search only on a repeat
    else:
        batch.entities.append(entity)
    entities[entity.id] = entity
    batch.observations.extend(observations)


class _Moments(dict[int, datetime]):
    """POSIX seconds -> UTC time, each converted once per message: a fleet's reports share a few timestamps."""

    def of(self, message: Any, field_name: str) -> datetime | None:
        """The message's time field; None when absent or 0 (both mean "not stated" in GTFS-RT)."""
        seconds = getattr(message, field_name)
        if not seconds:
            return None
        moment = self.get(seconds)
        if moment is None:
            moment = self[seconds] = _epoch(seconds, f"{message.DESCRIPTOR.name}.{field_name}")
        return moment


def _epoch(seconds: int, label: str) -> datetime:
    try:
        return datetime.fromtimestamp(seconds, UTC)
    except (OverflowError, OSError, ValueError):
        raise PayloadError(f"{label}: {seconds} is not a POSIX time in seconds") from None


def _enum_name(enum: Any, number: int) -> str:
    try:
        return enum.Name(number).lower()
    except ValueError:
        return str(number)  # a value from a newer spec version than our bindings
