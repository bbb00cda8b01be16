"""The declared field mapping of an agency with no standard: its model, its checks and its error messages.

What agencies.yaml says under `mapping:` (which field is the id, the name, the position, the time and the
measured values), validated once when configuration loads; `data_adapters.mapping` converts records with it.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from data_adapters.contract import FeedContext, PayloadError, Severity, is_personal_field

ROOT_PREFIX = "$."  # a path that reads the whole JSON document, not the record (e.g. a report's date)
ALL_FIELDS = "*"
_METRIC_NAME = r"^[a-z][a-z0-9_]*$"


class MetricField(BaseModel):
    """Where one measured value is in a record, its unit and an optional factor (e.g. 0.001 for per-mille)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    field: str = Field(min_length=1)
    unit: str = ""
    scale: float = 1.0


class FieldMapping(BaseModel):
    """The `mapping:` of a csv or json feed in agencies.yaml."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    records: str = Field(default="", description="json: dotted path to the list of records ('' = top level)")
    id: str = Field(min_length=1)
    entity_type: str = Field(default="", pattern=r"^([A-Z][A-Za-z0-9]*)?$")
    name: str | None = None
    lon: str | None = None
    lat: str | None = None
    point: str | None = Field(default=None, description="a [lon, lat] pair, 'lon,lat' text or WKT POINT")
    time: str | None = None
    time_format: str | None = None
    timezone: str = "Asia/Ho_Chi_Minh"
    metrics: dict[str, MetricField] = Field(default_factory=dict)
    attributes: dict[str, str] | Literal["*"] = Field(default_factory=dict)
    drop: list[str] = Field(default_factory=list)
    as_: Literal["entity", "event"] = Field(default="entity", alias="as")
    # csv only
    delimiter: str | None = Field(default=None, min_length=1, max_length=1)
    decimal: Literal[".", ","] = "."
    encoding: str = "utf-8"
    # events only
    event_type: str | None = None
    headline: str | None = None
    description: str | None = None
    severity: str | None = None
    severity_values: dict[str, Severity] = Field(default_factory=dict)
    urgency: str | None = None
    certainty: str | None = None
    onset: str | None = None
    expires: str | None = None
    status: str | None = None
    status_values: dict[str, str] = Field(default_factory=dict)

    @field_validator("metrics", mode="before")
    @classmethod
    def _metric_shorthand(cls, metrics: Any) -> Any:
        # `beds_total: total_beds` is short for `beds_total: {field: total_beds}`
        if isinstance(metrics, dict):
            return {name: {"field": spec} if isinstance(spec, str) else spec for name, spec in metrics.items()}
        return metrics

    @field_validator("metrics")
    @classmethod
    def _metric_names(cls, metrics: dict[str, MetricField]) -> dict[str, MetricField]:
        for name in metrics:
            if not re.match(_METRIC_NAME, name):
                raise ValueError(f"metric name '{name}' is not lower_snake_case")
        return metrics

    @field_validator("attributes", mode="before")
    @classmethod
    def _attribute_list(cls, attributes: Any) -> Any:
        # a list names fields copied under their own (last) name; a dict renames them
        if isinstance(attributes, list):
            if not all(isinstance(path, str) and path for path in attributes):
                raise ValueError("attributes must be field names")
            return {path.rsplit(".", 1)[-1]: path for path in attributes}
        return attributes

    @field_validator("timezone")
    @classmethod
    def _known_timezone(cls, timezone: str) -> str:
        try:
            ZoneInfo(timezone)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"'{timezone}' is not an IANA time zone (e.g. Asia/Ho_Chi_Minh)") from None
        return timezone

    @field_validator("encoding")
    @classmethod
    def _known_encoding(cls, encoding: str) -> str:
        try:
            "".encode(encoding)
        except LookupError:
            raise ValueError(f"'{encoding}' is not a text encoding") from None
        return encoding

    @model_validator(mode="after")
    def _consistent(self) -> FieldMapping:
        if (self.lon is None) != (self.lat is None):
            raise ValueError("give both 'lon' and 'lat', or 'point'")
        if self.point and self.lon:
            raise ValueError("give either 'lon'/'lat' or 'point', not both")
        if self.as_ == "entity":
            if not self.entity_type:
                raise ValueError("entity_type is required (CamelCase, e.g. Hospital)")
            event_only = [f for f in ("event_type", "headline", "severity", "onset", "expires") if getattr(self, f)]
            if event_only:
                raise ValueError(f"{', '.join(event_only)}: only for `as: event`")
        else:
            if self.metrics:
                raise ValueError("metrics: an event has no measured values; map them on an entity feed")
            if not (self.entity_type or self.event_type):
                raise ValueError("an event feed needs entity_type (a fixed type) or event_type (a field)")
        dropped = {path.lower() for path in self.drop}
        for label, path in self.field_paths():
            if path == ALL_FIELDS:
                continue
            if path.lower() in dropped:
                raise ValueError(f"{label}: '{path}' is also listed in drop")
            if is_personal_field(_last_segment(path)):
                raise ValueError(f"{label}: '{path}' is personal data and is never copied")
        return self

    def field_paths(self) -> list[tuple[str, str]]:
        """Every (mapping key, field path) this mapping reads, for checks and error messages."""
        paths = [("id", self.id)]
        for key in ("name", "lon", "lat", "point", "time", "event_type", "headline", "description",
                    "severity", "urgency", "certainty", "onset", "expires", "status"):
            value = getattr(self, key)
            if value:
                paths.append((key, value))
        paths.extend((f"metrics.{name}.field", metric.field) for name, metric in self.metrics.items())
        if isinstance(self.attributes, dict):
            paths.extend((f"attributes.{name}", path) for name, path in self.attributes.items())
        return paths


def _last_segment(path: str) -> str:
    segments = [s for s in path.removeprefix(ROOT_PREFIX).split(".") if not s.isdigit()]
    return segments[-1] if segments else path


def describe_errors(exc: ValidationError) -> str:
    """Pydantic errors as 'field: message' lines that name the mapping key."""
    lines = []
    for err in exc.errors():
        loc = ".".join("as" if part == "as_" else str(part) for part in err["loc"])
        message = err["msg"].removeprefix("Value error, ")
        lines.append(f"{loc}: {message}" if loc else message)
    return "; ".join(lines)


def check_mapping(mapping: Mapping[str, Any]) -> FieldMapping:
    """Validate a mapping from configuration; ValueError naming the field (config load calls this)."""
    try:
        return FieldMapping.model_validate(dict(mapping))
    except ValidationError as exc:
        raise ValueError(describe_errors(exc)) from None


def load_mapping(feed: FeedContext, reader_id: str) -> FieldMapping:
    """The feed's mapping, or PayloadError saying what the configuration lacks."""
    if not feed.mapping:
        raise PayloadError(
            f"feed '{feed.name}': the {reader_id} reader needs a field mapping (`mapping:` in agencies.yaml) "
            "that names at least the id field and the entity_type"
        )
    try:
        return check_mapping(feed.mapping)
    except ValueError as exc:
        raise PayloadError(f"feed '{feed.name}': mapping: {exc}") from None
