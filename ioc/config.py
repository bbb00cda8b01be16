"""Loads and validates the city's configuration files (city, agencies' feeds, alert rules).

Every file is validated once at load; an error names the file, the entry and the field, e.g.
`config/danang/agencies.yaml: feeds[3] (air-stations): interval: Input should be greater than 0`.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import BaseModel, Field, ValidationError, field_validator, model_validator

from ioc.config_alarms import FloodLimit, Grouping, MaintenanceWindow
from ioc.config_base import FROM_ENV, SLUG, ConfigError, Text, _Strict, expand_env
from ioc.feed_credentials import (
    ApiKeyAuth,
    BasicAuth,
    BearerAuth,
    FeedAuth,
    OAuth2ClientCredentials,
    SecretRef,
)
from ioc.model import Severity

__all__ = ["SLUG", "ApiKeyAuth", "BasicAuth", "BearerAuth", "ConfigError", "FeedAuth", "OAuth2ClientCredentials",
           "SecretRef", "Text", "expand_env"]  # re-exported: their callers read them from here

PROJECT_ROOT = Path(__file__).resolve().parents[1]
DEFAULT_CONFIG_DIR = PROJECT_ROOT / "config" / "danang"


# Marker shapes a sector may draw its points with, and the character its legend chip shows for each: the
# shape tells sectors apart where colour cannot (colour blindness, a washed-out wall).
SECTOR_SYMBOLS: dict[str, str] = {
    "circle": "●", "square": "■", "diamond": "◆", "triangle-up": "▲", "triangle-down": "▼", "star": "★",
    "hexagon": "⬢", "pentagon": "⬟", "cross": "✚", "x": "✖",
}


class Sector(_Strict):
    id: str = Field(pattern=SLUG)
    name: Text
    colour: str = Field(pattern=r"^#[0-9a-fA-F]{6}$")
    symbol: Literal[tuple(SECTOR_SYMBOLS)] = "circle"  # type: ignore[valid-type]


class City(_Strict):
    id: str = Field(pattern=SLUG)
    name: Text
    timezone: str = "Asia/Ho_Chi_Minh"
    # the interface language until a browser chooses one (sign-in page, dashboard, PDFs)
    language: Literal["vi", "en"] = "vi"
    boundaries: str = Field(description="GeoJSON of the city's administrative areas, relative to the project")
    area_name_property: str = "name_short"
    center: tuple[float, float]
    sectors: list[Sector]
    tile_url: str | None = None


class FeedKpi(_Strict):
    """The headline number of a feed on the control room: an aggregate over its entities' latest values."""

    label: Text
    # what a tile prints where the label does not fit two lines read from across the room; the label is its tooltip
    short: Text | None = None
    metric: str | None = None
    aggregate: Literal["mean", "max", "min", "sum", "count"] = "mean"
    unit: str = ""
    where: dict[str, str | int | float | bool] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _metric_needed(self) -> FeedKpi:
        if self.aggregate != "count" and not self.metric:
            raise ValueError(f"aggregate '{self.aggregate}' needs a metric")
        return self


class Feed(_Strict):
    """One agency feed: who publishes it, which reader understands it, where and how often to fetch it."""

    name: str = Field(pattern=SLUG)
    agency: str
    agency_name: Text
    # what a control-room tile prints (the full name does not fit a tile read from across the room)
    agency_short: Text | None = None
    sector: str
    reader: str
    url: Annotated[str, FROM_ENV]
    fallback_url: Annotated[str, FROM_ENV] | None = Field(
        default=None, description="for pushed feeds (mqtt://): an HTTP URL polled while the broker is unreachable"
    )
    interval: float = Field(gt=0, description="seconds between polls")
    timeout: float = Field(default=10.0, gt=0)
    retries: int = Field(default=2, ge=0, le=10)
    stale_factor: float = Field(default=3.0, ge=1)
    mapping: dict[str, Any] = Field(default_factory=dict)
    kpi: FeedKpi | None = None
    enabled: bool = True
    auth: FeedAuth | None = Field(default=None, description="credentials, by reference to where they are kept")


class AgencyFile(_Strict):
    feeds: list[Feed]

    @model_validator(mode="after")
    def _unique_names(self) -> AgencyFile:
        seen: set[str] = set()
        for feed in self.feeds:
            if feed.name in seen:
                raise ValueError(f"feed name '{feed.name}' is declared twice")
            seen.add(feed.name)
        return self


class _RuleBase(_Strict):
    """What every alert rule says: who it concerns (sector), who should act (agency), how loud it is
    (CAP severity) and how its alerts live: cool-down, flapping hold, escalation, checklist."""

    id: str = Field(pattern=SLUG)
    title: Text
    sector: str
    agency: str = Field(description="the agency that should act")
    feed: str | None = Field(default=None, description="only this feed's batches (default: every feed)")
    severity: Severity = Severity.MODERATE
    auto_resolve: bool = Field(default=True, description="resolve the alert when the condition clears")
    cooldown_minutes: float = Field(
        default=0, ge=0, description="after an alert of a rule and entity is resolved, no new one for this long"
    )
    flap_cycles: int = Field(
        default=0, ge=0, description="this many raises within flap_window_minutes: the alert is held open (0: off)"
    )
    flap_window_minutes: float = Field(default=60, gt=0)
    escalate_after_minutes: float | None = Field(
        default=None, gt=0, description="unacknowledged this long: severity up one step, again every period"
    )
    procedure: str | None = Field(default=None, description="the operating procedure whose checklist applies")


class ThresholdRule(_RuleBase):
    """A metric of an entity above (or below) a limit for a minimum time; clears past a second limit
    (hysteresis), so a value hovering at the limit does not raise and clear on every reading."""

    kind: Literal["threshold"]
    metric: str
    above: float | None = None
    below: float | None = None
    clear_at: float | None = Field(
        default=None, description="the value past which the condition clears (default: the limit itself)"
    )
    for_minutes: float = Field(default=0, ge=0, description="the limit must be passed this long before raising")

    @model_validator(mode="after")
    def _one_limit(self) -> ThresholdRule:
        if (self.above is None) == (self.below is None):
            raise ValueError("give exactly one of 'above' and 'below'")
        if self.clear_at is not None:
            if self.above is not None and self.clear_at > self.above:
                raise ValueError(f"clear_at ({self.clear_at:g}) must not be above 'above' ({self.above:g})")
            if self.below is not None and self.clear_at < self.below:
                raise ValueError(f"clear_at ({self.clear_at:g}) must not be below 'below' ({self.below:g})")
        return self

    @property
    def limit(self) -> float:
        return self.above if self.above is not None else self.below  # type: ignore[return-value]

    @property
    def clear_limit(self) -> float:
        return self.clear_at if self.clear_at is not None else self.limit


class RateOfChangeRule(_RuleBase):
    """A metric rising (or falling) by more than an amount within a window, read from the entity's
    observation stream: a flood sensor rising 20 cm in 30 minutes."""

    kind: Literal["rate_of_change"]
    metric: str
    rise: float | None = Field(default=None, gt=0)
    fall: float | None = Field(default=None, gt=0)
    within_minutes: float = Field(gt=0)
    clear_at: float | None = Field(
        default=None, ge=0, description="the change within the window below which it clears (default: half)"
    )

    @model_validator(mode="after")
    def _one_direction(self) -> RateOfChangeRule:
        if (self.rise is None) == (self.fall is None):
            raise ValueError("give exactly one of 'rise' and 'fall'")
        if self.clear_at is not None and self.clear_at > self.amount:
            raise ValueError(f"clear_at ({self.clear_at:g}) must not exceed the change ({self.amount:g})")
        return self

    @property
    def amount(self) -> float:
        return self.rise if self.rise is not None else self.fall  # type: ignore[return-value]

    @property
    def clear_amount(self) -> float:
        return self.clear_at if self.clear_at is not None else self.amount / 2


class StalenessRule(_RuleBase):
    """A feed (or each sensor of a feed) silent longer than its expected interval times a factor;
    evaluated on a timer too, since silence delivers no batch."""

    kind: Literal["staleness"]
    target: Literal["feed", "sensor"] = "feed"
    expected_interval: float | None = Field(
        default=None, gt=0, description="seconds between readings (default: the feed's polling interval)"
    )
    factor: float | None = Field(default=None, ge=1, description="default: the feed's stale_factor")

    @model_validator(mode="after")
    def _sensor_needs_feed(self) -> StalenessRule:
        if self.target == "sensor" and not self.feed:
            raise ValueError("a sensor staleness rule names its 'feed'")
        return self


class GeofenceRule(_RuleBase):
    """An entity or event inside a zone of a GeoJSON file (flood-prone areas, say); per entity, or per
    zone with a count (`group_by: zone`: one count per zone and feed, as each feed says what it sees)."""

    kind: Literal["geofence"]
    zones: str = Field(description="GeoJSON FeatureCollection of polygons, relative to the project")
    targets: list[Literal["entities", "events"]] = Field(default_factory=lambda: ["entities", "events"])
    where: dict[str, str | int | float | bool | list[str | int | float | bool]] = Field(
        default_factory=dict, description="attribute values an entity must have (a list: any of them)"
    )
    event_types: list[str] = Field(default_factory=list, description="only these event types (default: any)")
    group_by: Literal["entity", "zone"] = "entity"
    min_count: int = Field(default=1, ge=1, description="group_by zone: raise from this many inside")

    @field_validator("zones")
    @classmethod
    def _zones_readable(cls, zones: str) -> str:
        zone_features(zones)  # raises ValueError naming the problem
        return zones

    @model_validator(mode="after")
    def _has_targets(self) -> GeofenceRule:
        if not self.targets:
            raise ValueError("'targets' needs 'entities', 'events' or both")
        return self


class RelayRule(_RuleBase):
    """Events a source reports (CAP warnings, agency incidents) relayed as alerts with their own
    severity; a CAP Cancel (status "cancelled") or the event's expiry resolves the alert."""

    kind: Literal["relay"]
    readers: list[str] = Field(default_factory=list, description="only events read by these readers (default: any)")
    event_types: list[str] = Field(default_factory=list)
    min_severity: Severity = Field(default=Severity.UNKNOWN, description="relay only this severe or worse")
    statuses: list[str] = Field(default_factory=lambda: ["actual"], description="CAP statuses relayed")


class StateRule(_RuleBase):
    """An entity reporting one of some states (a camera `offline`, a lamp `defectiveLamp`) for a minimum time;
    clears when it reports another. For states a device names in words, where a threshold needs a number."""

    kind: Literal["state"]
    metric: str
    values: list[str] = Field(min_length=1, description="the states that raise")
    for_minutes: float = Field(default=0, ge=0, description="in such a state this long before raising")


Rule = Annotated[
    ThresholdRule | RateOfChangeRule | StalenessRule | GeofenceRule | RelayRule | StateRule,
    Field(discriminator="kind"),
]


class ProcedureStep(Text):
    """One step of an operating procedure, in both languages, and optionally who does it: a role in the
    control room or on site (`role`, both languages) and the agency that acts (`agency`)."""

    role: Text | None = None
    agency: str | None = None


class Procedure(_Strict):
    """An operating procedure: the checklist an operator works through on an alert of a rule."""

    title: Text
    steps: list[ProcedureStep] = Field(min_length=1)


class Shelving(_Strict):
    """How long an operator may shelve an alarm (put it aside, with a reason) per priority, in minutes. A
    priority not listed may not be shelved; a shelved alarm comes back by itself when its time is up."""

    max_minutes: dict[Literal["extreme", "severe", "moderate", "minor", "unknown"], int] = Field(
        default_factory=lambda: {"extreme": 30, "severe": 120, "moderate": 480, "minor": 1440})

    @model_validator(mode="after")
    def _positive(self) -> Shelving:
        for severity, minutes in self.max_minutes.items():
            if minutes <= 0:
                raise ValueError(f"max_minutes.{severity}: must be more than 0 (leave the priority out to forbid it)")
        return self


class AlarmSystem(_Strict):
    """How the alarm system's own performance is measured (EEMUA 191, ISA-18.2; ioc.alerts.metrics): how many
    operator positions share the alert queue, and what counts as a flood, a chattering and a stale alarm."""

    operator_positions: int = Field(default=1, ge=1)
    # more than this per position in a 10-minute interval is a flood: not set here but derived at load from
    # grouping.flood (`with_flood`), the one flood limit of the city, so the flood state and the measures agree
    flood_per_10_minutes: float = Field(default=10, gt=0)
    chatter_raises: int = Field(default=3, ge=2)  # this many raises of one alarm ...
    chatter_seconds: int = Field(default=60, gt=0)  # ... within this many seconds is chattering
    stale_hours: float = Field(default=24, gt=0)  # open longer than this is stale
    window_hours: int = Field(default=24, ge=1, le=24 * 31)  # what the alert page's panel measures

    @field_validator("flood_per_10_minutes")
    @classmethod
    def _derived(cls, _value: float) -> float:
        raise ValueError("is derived from grouping.flood (more than `alarms` within `minutes`): set the flood "
                         "limit there, once for the flood state and the measures")

    def with_flood(self, flood: FloodLimit) -> AlarmSystem:
        """The measures' flood limit from the city's flood limit, as a rate per 10-minute interval."""
        return self.model_copy(update={"flood_per_10_minutes": flood.alarms * 10 / flood.minutes})


class RuleFile(_Strict):
    procedures: dict[str, Procedure] = Field(default_factory=dict)
    shelving: Shelving = Field(default_factory=Shelving)
    alarm_system: AlarmSystem = Field(default_factory=AlarmSystem)
    grouping: Grouping = Field(default_factory=Grouping)
    maintenance: list[MaintenanceWindow] = Field(default_factory=list)
    rules: list[Rule]

    @model_validator(mode="after")
    def _consistent(self) -> RuleFile:
        seen: set[str] = set()
        for rule in self.rules:
            if rule.id in seen:
                raise ValueError(f"rule id '{rule.id}' is declared twice")
            seen.add(rule.id)
        return self


def zone_features(relative: str) -> list[dict[str, Any]]:
    """The zones of a geofence file as GeoJSON features with an `id` and a polygon; ValueError if not."""
    path = resolve_path(relative)
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ValueError(f"zones file not found: {relative}") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ValueError(f"zones file {relative} is not readable GeoJSON: {exc}") from None
    features = document.get("features") if isinstance(document, dict) else None
    if not isinstance(features, list) or not features:
        raise ValueError(f"zones file {relative}: expected a FeatureCollection with features")
    for index, feature in enumerate(features):
        props = feature.get("properties") or {}
        geometry = feature.get("geometry") or {}
        if not props.get("id"):
            raise ValueError(f"zones file {relative}: features[{index}] has no properties.id")
        if geometry.get("type") not in ("Polygon", "MultiPolygon"):
            raise ValueError(f"zones file {relative}: features[{index}] ({props['id']}) is not a polygon")
    return features


class Settings(_Strict):
    """Everything loaded from one city's configuration folder."""

    directory: Path
    city: City
    feeds: list[Feed]
    rules: list[Rule]
    procedures: dict[str, Procedure] = Field(default_factory=dict)
    shelving: Shelving = Field(default_factory=Shelving)
    alarm_system: AlarmSystem = Field(default_factory=AlarmSystem)
    grouping: Grouping = Field(default_factory=Grouping)
    maintenance: list[MaintenanceWindow] = Field(default_factory=list)

    def feed(self, name: str) -> Feed:
        for feed in self.feeds:
            if feed.name == name:
                return feed
        raise KeyError(name)

    def sector(self, sector_id: str) -> Sector | None:
        return next((s for s in self.city.sectors if s.id == sector_id), None)


def _describe(errors: ValidationError, path: Path, data: Any, list_key: str | None) -> str:
    lines = []
    for err in errors.errors():
        loc = list(err["loc"])
        where = ""
        if list_key and len(loc) >= 2 and loc[0] == list_key and isinstance(loc[1], int):
            entry = data[list_key][loc[1]] if isinstance(data, dict) else None
            label = entry.get("name") or entry.get("id") if isinstance(entry, dict) else None
            where = f"{list_key}[{loc[1]}]" + (f" ({label})" if label else "")
            loc = loc[2:]
        field = ".".join(str(p) for p in loc) or "(entry)"
        lines.append(f"{path}: {where + ': ' if where else ''}{field}: {err['msg']}")
    return "\n".join(lines)


def _load_yaml(path: Path) -> Any:
    try:
        with path.open(encoding="utf-8") as handle:
            return yaml.safe_load(handle)
    except FileNotFoundError as exc:
        raise ConfigError(f"{path}: file not found") from exc
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: not valid YAML: {exc}") from exc


def _validate(model: type[BaseModel], path: Path, list_key: str | None) -> Any:
    data = _load_yaml(path)
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(_describe(exc, path, data, list_key)) from None


def load_settings(directory: str | Path | None = None) -> Settings:
    """Load and cross-check a city's configuration folder (default: IOC_CONFIG_DIR or config/danang)."""
    folder = Path(directory or os.environ.get("IOC_CONFIG_DIR") or DEFAULT_CONFIG_DIR)
    city: City = _validate(City, folder / "city.yaml", "sectors")
    agencies: AgencyFile = _validate(AgencyFile, folder / "agencies.yaml", "feeds")
    rules: RuleFile = _validate(RuleFile, folder / "rules.yaml", "rules")

    from data_adapters.base import get_reader, reader_ids  # late: readers import this module

    readers = set(reader_ids())
    sector_ids = {s.id for s in city.sectors}
    feed_names = {f.name for f in agencies.feeds}
    problems = []
    for index, feed in enumerate(agencies.feeds):
        if feed.reader not in readers:
            problems.append(
                f"{folder / 'agencies.yaml'}: feeds[{index}] ({feed.name}): reader: unknown reader "
                f"'{feed.reader}' (known: {', '.join(sorted(readers))})"
            )
        else:
            try:
                get_reader(feed.reader).check_mapping(feed.mapping)
            except ValueError as exc:
                problems.append(f"{folder / 'agencies.yaml'}: feeds[{index}] ({feed.name}): mapping: {exc}")
        if feed.sector not in sector_ids:
            problems.append(
                f"{folder / 'agencies.yaml'}: feeds[{index}] ({feed.name}): sector: "
                f"'{feed.sector}' is not a sector of city.yaml ({', '.join(sorted(sector_ids))})"
            )
    for index, rule in enumerate(rules.rules):
        if rule.sector not in sector_ids:
            problems.append(
                f"{folder / 'rules.yaml'}: rules[{index}] ({rule.id}): sector: '{rule.sector}' is not a sector"
            )
        if rule.feed and rule.feed not in feed_names:
            problems.append(
                f"{folder / 'rules.yaml'}: rules[{index}] ({rule.id}): feed: '{rule.feed}' is not a declared feed"
            )
        if rule.procedure and rule.procedure not in rules.procedures:
            problems.append(
                f"{folder / 'rules.yaml'}: rules[{index}] ({rule.id}): procedure: '{rule.procedure}' is not "
                f"under procedures ({', '.join(sorted(rules.procedures)) or 'none declared'})"
            )
        for reader in getattr(rule, "readers", ()):
            if reader not in readers:
                problems.append(
                    f"{folder / 'rules.yaml'}: rules[{index}] ({rule.id}): readers: unknown reader '{reader}'"
                )
    agencies_known = {feed.agency for feed in agencies.feeds} | {rule.agency for rule in rules.rules}
    for name, procedure in rules.procedures.items():
        for number, step in enumerate(procedure.steps):
            if step.agency and step.agency not in agencies_known:
                problems.append(f"{folder / 'rules.yaml'}: procedures.{name}: steps[{number}]: agency: "
                                f"'{step.agency}' is not an agency of a feed or a rule")
    for index, window in enumerate(rules.maintenance):
        problems.extend(f"{folder / 'rules.yaml'}: maintenance[{index}] ({window.id}): feeds: '{name}' is not a "
                        "declared feed" for name in window.feeds if name not in feed_names)
    if problems:
        raise ConfigError("\n".join(problems))
    return Settings(directory=folder, city=city, feeds=agencies.feeds, rules=rules.rules,
                    procedures=rules.procedures, shelving=rules.shelving, alarm_system=rules.alarm_system.with_flood(rules.grouping.flood),
                    grouping=rules.grouping, maintenance=rules.maintenance)


def resolve_path(relative: str) -> Path:
    """A path from configuration, relative to the project root unless absolute."""
    path = Path(relative)
    return path if path.is_absolute() else PROJECT_ROOT / path
