"""Loads and validates the city's configuration files (city, agencies' feeds, alert rules).

Every file is validated once at load; an error names the file, the entry and the field, e.g.
`config/danang/agencies.yaml: feeds[3] (air-stations): interval: Input should be greater than 0`.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from ioc.model import Severity

PROJECT_ROOT = Path(__file__).resolve().parents[1]
DEFAULT_CONFIG_DIR = PROJECT_ROOT / "config" / "danang"
SLUG = r"^[a-z0-9][a-z0-9-]*$"
_ENV_REF = re.compile(r"\$\{([A-Z0-9_]+)(?::-([^}]*))?\}")


class ConfigError(ValueError):
    """A configuration file is missing, unreadable or invalid; the message says where."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Text(_Strict):
    """A label in both interface languages."""

    vi: str
    en: str

    def get(self, lang: str) -> str:
        return self.vi if lang == "vi" else self.en


class Sector(_Strict):
    id: str = Field(pattern=SLUG)
    name: Text
    colour: str = Field(pattern=r"^#[0-9a-fA-F]{6}$")


class City(_Strict):
    id: str = Field(pattern=SLUG)
    name: Text
    timezone: str = "Asia/Ho_Chi_Minh"
    boundaries: str = Field(description="GeoJSON of the city's administrative areas, relative to the project")
    area_name_property: str = "name_short"
    center: tuple[float, float]
    sectors: list[Sector]
    tile_url: str | None = None


class FeedKpi(_Strict):
    """The headline number of a feed on the control room: an aggregate over its entities' latest values."""

    label: Text
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
    sector: str
    reader: str
    url: str
    fallback_url: str | None = Field(
        default=None, description="for pushed feeds (mqtt://): an HTTP URL polled while the broker is unreachable"
    )
    interval: float = Field(gt=0, description="seconds between polls")
    timeout: float = Field(default=10.0, gt=0)
    retries: int = Field(default=2, ge=0, le=10)
    stale_factor: float = Field(default=3.0, ge=1)
    mapping: dict[str, Any] = Field(default_factory=dict)
    kpi: FeedKpi | None = None
    enabled: bool = True

    @field_validator("url", "fallback_url")
    @classmethod
    def _expand_env(cls, url: str | None) -> str | None:
        return expand_env(url) if url else url


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


class ThresholdRule(_Strict):
    """Raise an alert when a metric of an entity goes above (or below) a limit."""

    id: str = Field(pattern=SLUG)
    kind: Literal["threshold"] = "threshold"
    title: Text
    sector: str
    agency: str = Field(description="the agency that should act")
    metric: str
    feed: str | None = None
    above: float | None = None
    below: float | None = None
    severity: Severity = Severity.MODERATE
    auto_resolve: bool = True

    @model_validator(mode="after")
    def _one_limit(self) -> ThresholdRule:
        if (self.above is None) == (self.below is None):
            raise ValueError("give exactly one of 'above' and 'below'")
        return self


class RuleFile(_Strict):
    rules: list[ThresholdRule]


class Settings(_Strict):
    """Everything loaded from one city's configuration folder."""

    directory: Path
    city: City
    feeds: list[Feed]
    rules: list[ThresholdRule]

    def feed(self, name: str) -> Feed:
        for feed in self.feeds:
            if feed.name == name:
                return feed
        raise KeyError(name)

    def sector(self, sector_id: str) -> Sector | None:
        return next((s for s in self.city.sectors if s.id == sector_id), None)


def expand_env(text: str) -> str:
    """Replace ${VAR} and ${VAR:-default} with the environment's value (URLs differ per deployment)."""

    def _sub(match: re.Match[str]) -> str:
        value = os.environ.get(match.group(1))
        if value is None:
            if match.group(2) is None:
                raise ValueError(f"environment variable {match.group(1)} is not set and has no default")
            return match.group(2)
        return value

    return _ENV_REF.sub(_sub, text)


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
    if problems:
        raise ConfigError("\n".join(problems))
    return Settings(directory=folder, city=city, feeds=agencies.feeds, rules=rules.rules)


def resolve_path(relative: str) -> Path:
    """A path from configuration, relative to the project root unless absolute."""
    path = Path(relative)
    return path if path.is_absolute() else PROJECT_ROOT / path
