"""Field mappings of agencies with no standard: the record -> model conversion.

An agency that publishes a CSV export or a bespoke JSON API is declared in agencies.yaml with a
`mapping:` (its model is `data_adapters.mapping_model`) that says which field is the id, the name, the
position, the time and the measured values. The csv and json readers only turn their payload into records
(plain dicts) and hand them to `MappedRecords`, so both readers convert a record in exactly the same way.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from data_adapters.contract import (
    CENTIMETRE,
    LEVEL_UNITS,
    Batch,
    Entity,
    Event,
    FeedContext,
    Observation,
    PayloadError,
    Scalar,
    Severity,
    convert,
    is_personal_field,
    lon_lat,
    unit_symbol,
    utcnow,
)
from data_adapters.mapping_model import (
    ALL_FIELDS,
    ROOT_PREFIX,
    FieldMapping,
    MetricField,
    check_mapping,
    describe_errors,
    load_mapping,
)

__all__ = [
    "ALL_FIELDS", "MISSING", "ROOT_PREFIX", "FieldMapping", "MappedRecords", "MetricField", "check_mapping",
    "describe_errors", "load_mapping", "resolve", "to_number", "to_time",
]

_GROUPED_THOUSANDS = re.compile(r"^-?\d{1,3}(\.\d{3})+(,\d+)?$")
_NUMBERS_IN_TEXT = re.compile(r"-?\d+(?:\.\d+)?")
MISSING = object()  # a path that leads nowhere (None is a value JSON can hold)


# --- reading values ---------------------------------------------------------------------------------------


def resolve(record: Any, path: str) -> Any:
    """The value at a dotted path ('a.b', 'a.0.b' for list items); MISSING when it is not there."""
    # a literal key wins, so CSV columns such as "pm2.5" are not taken for nested paths
    if isinstance(record, Mapping) and path in record:
        return record[path]
    node = record
    for part in path.split("."):
        if isinstance(node, Mapping):
            if part not in node:
                return MISSING
            node = node[part]
        elif isinstance(node, list) and (part.isdigit() or (part.startswith("-") and part[1:].isdigit())):
            index = int(part)
            if not -len(node) <= index < len(node):
                return MISSING
            node = node[index]
        else:
            return MISSING
    return node


def is_blank(value: Any) -> bool:
    return value is MISSING or value is None or (isinstance(value, str) and not value.strip())


def to_number(value: Any, where: str, decimal: str = ".") -> float:
    """A number from JSON or CSV text; a decimal comma and dot-grouped thousands when decimal is ','."""
    if isinstance(value, bool):
        raise PayloadError(f"{where}: expected a number, got a boolean")
    if isinstance(value, int | float):
        number = float(value)
    elif isinstance(value, str):
        text = value.strip().replace("\u00a0", "").replace(" ", "")
        if decimal == ",":
            if _GROUPED_THOUSANDS.match(text):
                text = text.replace(".", "")
            text = text.replace(",", ".")
        try:
            number = float(text)
        except ValueError:
            raise PayloadError(f"{where}: expected a number, got {value!r}") from None
    else:
        raise PayloadError(f"{where}: expected a number, got {type(value).__name__}")
    if not math.isfinite(number):
        raise PayloadError(f"{where}: expected a finite number, got {value!r}")
    return number


def to_time(value: Any, where: str, *, time_format: str | None, timezone: ZoneInfo) -> datetime:
    """ISO 8601, epoch seconds (or milliseconds), or the mapping's strptime format; naive times are local."""
    moment: datetime | None = None
    if isinstance(value, int | float) and not isinstance(value, bool) or (
        isinstance(value, str) and value.strip().isdigit() and not time_format
    ):
        seconds = float(value)
        # epoch milliseconds are what JavaScript back ends emit; no city reports times after the year 5138
        if seconds > 1e11:
            seconds /= 1000
        return datetime.fromtimestamp(seconds, UTC)
    if isinstance(value, str):
        text = value.strip()
        try:
            if time_format:
                moment = datetime.strptime(text, time_format)
            else:
                moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
        except ValueError:
            pass
    if moment is None:
        expected = f"'{time_format}'" if time_format else "ISO 8601 or epoch seconds"
        raise PayloadError(f"{where}: {value!r} is not a time ({expected})")
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone)
    return moment.astimezone(UTC)


def _scalar(value: Any) -> Scalar:
    if value is None or isinstance(value, str | bool | int | float):
        return value
    return json.dumps(value, ensure_ascii=False)  # nested data kept readable, as one text attribute


def _local_id(value: Any) -> str:
    if isinstance(value, float) and value.is_integer():
        value = int(value)  # JSON exports write ids 12 as 12.0
    return str(value).strip()


# --- records -> model -------------------------------------------------------------------------------------

Locate = Callable[[str], str]


class MappedRecords:
    """Accumulates records under one mapping into its Batch; a reader feeds it through `read_records`, so a
    wrong record is refused and counted, and the others are read."""

    def __init__(self, mapping: FieldMapping, feed: FeedContext, *, root: Any = MISSING) -> None:
        self.mapping = mapping
        self.feed = feed
        self.root = root
        self.timezone = ZoneInfo(mapping.timezone)
        self.read_at = utcnow()  # the time of records whose mapping names no time field
        self._batch = Batch()
        self._entities: dict[str, Entity] = {}  # by id, the same objects as in the batch
        self._events: dict[str, Event] = {}
        if root is MISSING:
            for label, path in mapping.field_paths():
                if path.startswith(ROOT_PREFIX):
                    raise PayloadError(f"mapping {label}: '{path}' reads a JSON document; a CSV has none")
        self._mapped = {path for _, path in mapping.field_paths()}
        self._dropped = {path.lower() for path in mapping.drop}

    def columns(self) -> list[tuple[str, str]]:
        """The (mapping key, column) pairs a CSV header must hold."""
        return [(label, path) for label, path in self.mapping.field_paths() if not path.startswith(ROOT_PREFIX)]

    def _get(self, record: Mapping[str, Any], path: str | None) -> Any:
        if path is None:
            return MISSING
        if path.startswith(ROOT_PREFIX):
            return resolve(self.root, path.removeprefix(ROOT_PREFIX))
        return resolve(record, path)

    def _where(self, locate: Locate, path: str) -> str:
        return path if path.startswith(ROOT_PREFIX) else locate(path)

    def _text(self, record: Mapping[str, Any], path: str | None) -> str:
        value = self._get(record, path)
        return "" if is_blank(value) else str(_scalar(value)).strip()

    def _time(self, record: Mapping[str, Any], path: str | None, locate: Locate) -> datetime | None:
        value = self._get(record, path)
        if is_blank(value):
            return None
        assert path is not None
        return to_time(value, self._where(locate, path), time_format=self.mapping.time_format,
                       timezone=self.timezone)

    def _location(self, record: Mapping[str, Any], locate: Locate) -> tuple[float, float] | None:
        m = self.mapping
        if m.lon and m.lat:
            lon, lat = self._get(record, m.lon), self._get(record, m.lat)
            if is_blank(lon) and is_blank(lat):
                return None  # an export row with no position yet: the entity is kept, off the map
            if is_blank(lon) or is_blank(lat):
                missing = m.lon if is_blank(lon) else m.lat
                raise PayloadError(f"{self._where(locate, missing)}: one coordinate given without the other")
            x = to_number(lon, self._where(locate, m.lon), m.decimal)
            y = to_number(lat, self._where(locate, m.lat), m.decimal)
            return lon_lat(x, y, field_name=self._where(locate, f"{m.lon}/{m.lat}"))
        if m.point:
            value = self._get(record, m.point)
            if is_blank(value):
                return None
            where = self._where(locate, m.point)
            if isinstance(value, list | tuple) and len(value) in (2, 3):
                return lon_lat(to_number(value[0], where), to_number(value[1], where), field_name=where)
            if isinstance(value, str):
                numbers = _NUMBERS_IN_TEXT.findall(value)
                if len(numbers) in (2, 3):  # "108.2,16.05", "108.2 16.05" or WKT "POINT (108.2 16.05)"
                    return lon_lat(numbers[0], numbers[1], field_name=where)
            raise PayloadError(f"{where}: expected a [lon, lat] pair, got {value!r}")
        return None

    def _attributes(self, record: Mapping[str, Any]) -> dict[str, Scalar]:
        m = self.mapping
        attributes: dict[str, Scalar] = {}
        if m.attributes == ALL_FIELDS:
            for key, value in record.items():
                if key in self._mapped or key.lower() in self._dropped or isinstance(value, dict | list):
                    continue
                if not is_blank(value):
                    attributes[key] = _scalar(value.strip() if isinstance(value, str) else value)
        else:
            for name, path in m.attributes.items():
                value = self._get(record, path)
                if not is_blank(value):
                    attributes[name] = _scalar(value.strip() if isinstance(value, str) else value)
        # Kept in the reader: an event folds its attributes into one description text, where the store
        # could no longer tell a caller's name from the rest, so a personal field goes before mapping.
        return {key: value for key, value in attributes.items() if not is_personal_field(key)}

    def add(self, record: Mapping[str, Any], locate: Locate) -> None:
        """Convert one record; `locate(field)` names where a field of this record is, for errors."""
        m = self.mapping
        raw_id = self._get(record, m.id)
        if is_blank(raw_id) or isinstance(raw_id, dict | list | bool):
            raise PayloadError(f"{self._where(locate, m.id)}: missing record id")
        local_id = _local_id(raw_id)
        if m.as_ == "event":
            self._add_event(record, locate, local_id)
        else:
            self._add_entity(record, locate, local_id)

    def _add_entity(self, record: Mapping[str, Any], locate: Locate, local_id: str) -> None:
        m = self.mapping
        entity_id = self.feed.urn(local_id)
        location = self._location(record, locate)
        time = self._time(record, m.time, locate)
        attributes = self._attributes(record)
        observed = time or self.read_at
        # a mapped time left blank in this record (a column missing from the header is said once, for it)
        undated = time is None and m.time is not None and self._get(record, m.time) is not MISSING
        values: dict[str, float] = {}
        observations: list[Observation] = []  # added once the whole record is read
        for metric, spec in m.metrics.items():
            raw = self._get(record, spec.field)
            if is_blank(raw):
                continue  # real exports have gaps: no value this time, not an error
            value = to_number(raw, self._where(locate, spec.field), m.decimal) * spec.scale
            # a level in m or mm is stored in cm; no molar mass here: a gas in ppb is the mapping's `scale`
            to = CENTIMETRE if unit_symbol(spec.unit) in LEVEL_UNITS else None
            value, unit = convert(value, spec.unit, to=to, digits=9)
            values[metric] = round(value, 9)  # no float noise such as 0.30000000000000004
            observations.append(Observation(entity_id, metric, values[metric], unit, observed))
        self._batch.observations.extend(observations)
        if undated and observations:
            where = self._where(locate, m.time)
            self._batch.note(where, f"{where}: no time: its readings are dated when read", refused=False)

        entity = self._entities.get(entity_id)
        if entity is None:
            entity = self._entities[entity_id] = Entity(
                id=entity_id,
                type=m.entity_type,
                agency=self.feed.agency,
                sector=self.feed.sector,
                # a sensor fleet often publishes no name: the agency's own id is what people call it
                name=self._text(record, m.name) or local_id,
                location=location,
                attributes={**attributes, **values},
                observed_at=time,
            )
            self._batch.entities.append(entity)
            return
        # the same id again (an export with one row per day): its latest row describes it now
        if entity.observed_at is None or time is None or time >= entity.observed_at:
            entity.name = self._text(record, m.name) or entity.name
            entity.location = location or entity.location
            entity.attributes.update({**attributes, **values})
            entity.observed_at = time or entity.observed_at
        else:
            for metric, value in values.items():
                entity.attributes.setdefault(metric, value)

    def _add_event(self, record: Mapping[str, Any], locate: Locate, local_id: str) -> None:
        m = self.mapping
        event_type = self._text(record, m.event_type) or m.entity_type
        details = self._attributes(record)
        description = "\n".join(
            part for part in [self._text(record, m.description), *(f"{k}: {v}" for k, v in details.items())] if part
        )
        onset = self._time(record, m.onset, locate) or self._time(record, m.time, locate)
        expires = self._time(record, m.expires, locate)
        event = Event(
            id=self.feed.urn(local_id),
            type=event_type,
            agency=self.feed.agency,
            sector=self.feed.sector,
            headline=self._text(record, m.headline) or f"{event_type} {local_id}",
            severity=self._severity(record, locate),
            urgency=self._text(record, m.urgency).lower() or "unknown",
            certainty=self._text(record, m.certainty).lower() or "unknown",
            description=description,
            location=self._location(record, locate),
            onset=onset,
            expires=expires,
            status=self._status(record),
        )
        # an id listed twice: the later record is the newer state, in the earlier one's place
        previous = self._events.get(event.id)
        if previous is None:
            self._batch.events.append(event)
        else:
            self._batch.events[self._batch.events.index(previous)] = event
        self._events[event.id] = event

    def _severity(self, record: Mapping[str, Any], locate: Locate) -> Severity:
        m = self.mapping
        raw = self._get(record, m.severity)
        if is_blank(raw):
            return Severity.UNKNOWN
        text = str(_local_id(raw))
        if m.severity_values:
            for key, severity in m.severity_values.items():
                if key.lower() == text.lower():
                    return severity
            assert m.severity is not None
            known = ", ".join(m.severity_values)
            raise PayloadError(f"{self._where(locate, m.severity)}: '{text}' is not one of {known}")
        try:
            return Severity(text.lower())
        except ValueError:
            return Severity.UNKNOWN

    def _status(self, record: Mapping[str, Any]) -> str:
        text = self._text(record, self.mapping.status)
        if not text:
            return "actual"
        for key, status in self.mapping.status_values.items():
            if key.lower() == text.lower():
                return status
        return text.lower()

    def batch(self) -> Batch:
        """The batch so far, with the problems of the records refused or repaired."""
        return self._batch
