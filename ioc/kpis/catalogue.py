"""The KPI catalogue (config/<city>/kpis.yaml): what each KPI measures, from which feed, against which target.

Validated once at load. An error names the file, the KPI and the field, e.g.
`config/danang/kpis.yaml: kpis[4] (bed-occupancy): count_if: 'beds >' is not a valid expression`.
A KPI whose feed is not configured (yet) is valid: it has no data until the agency is connected.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from ioc.config import SLUG, ConfigError, Settings, Text
from ioc.kpis.expressions import Condition, ExpressionError, ValueExpr, equality, parse_condition, parse_value

KPI_FILE = "kpis.yaml"
# The IOC's own KPIs (how well the city's data flows) sit in a sector every city has, whatever city.yaml says.
DATA_SECTOR = "data"
DATA_SECTOR_NAME = Text(vi="Dữ liệu và tích hợp", en="Data and integration")
DATA_SECTOR_COLOUR = "#4cc9ff"

Aggregate = Literal[
    "mean", "median", "p90", "sum", "count", "min", "max", "share", "ratio", "hours_above",
    "integration_rate", "feed_delivery",
]
# Aggregates whose value grows with the length of the period: their target is per day.
ADDITIVE: frozenset[str] = frozenset({"sum", "count", "hours_above"})
# Aggregates read from a quantile sketch.
QUANTILES: dict[str, float] = {"median": 0.5, "p90": 0.9}
# Aggregates computed from the feeds' poll record rather than from a feed's records.
DATA_AGGREGATES: frozenset[str] = frozenset({"integration_rate", "feed_delivery"})
PERCENT_AGGREGATES: frozenset[str] = frozenset({"share", "ratio", "integration_rate", "feed_delivery"})
NEAR_SHARE = 0.1  # without an explicit `near`, within 10% of the target counts as near


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, arbitrary_types_allowed=True)


def _condition(text: Any) -> Condition:
    try:
        return parse_condition(text)
    except ExpressionError as exc:
        raise ValueError(str(exc)) from None


class Source(_Strict):
    """Which records a KPI reads: each new observation of a metric, each entity once, each event once, or
    every entity at every poll (`snapshots`: the state of a fleet, e.g. cameras online)."""

    records: Literal["observations", "entities", "events", "snapshots"] = "observations"
    feeds: list[str] = Field(min_length=1, description="feed names (agencies.yaml); data from any of them counts")
    entity_type: str | None = Field(default=None, description="entity type, or event type for `events`")
    metric: str | None = Field(default=None, description="`observations`: the metric whose observations count")
    time: str | None = Field(default=None, description="`entities`/`events`: the field holding the record's time")
    where: list[Condition] = Field(default_factory=list)
    hours: list[int] = Field(default_factory=list, description="local hours of day to keep (e.g. rush hours)")
    group_by: str | None = Field(default=None, description="a field that names who is behind each record")

    @field_validator("where", mode="before")
    @classmethod
    def _parse_where(cls, where: Any) -> Any:
        if where is None:
            return []
        if isinstance(where, str):
            where = [where]
        if isinstance(where, dict):
            return [equality(str(name), wanted) for name, wanted in where.items()]
        if isinstance(where, list):
            return [item if isinstance(item, Condition) else _condition(item) for item in where]
        raise ValueError("expected a condition, a list of conditions or a {field: value} mapping")

    @field_validator("hours")
    @classmethod
    def _hours_of_day(cls, hours: list[int]) -> list[int]:
        if any(not 0 <= h <= 23 for h in hours):
            raise ValueError("hours of day run from 0 to 23")
        return sorted(set(hours))

    @model_validator(mode="after")
    def _metric_for_observations(self) -> Source:
        if self.records == "observations" and not self.metric:
            raise ValueError("records: observations needs `metric` (which observations count)")
        return self


class Kpi(_Strict):
    """One KPI: its name, owner, computation and target."""

    id: str = Field(pattern=SLUG)
    name: Text
    description: Text | None = None
    sector: str
    agency: str = Field(min_length=1, description="the agency accountable for the KPI")
    agency_name: Text | None = Field(default=None, description="defaults to the name agencies.yaml gives it")
    unit: str = ""
    source: Source | None = None
    aggregate: Aggregate
    value: ValueExpr | None = None
    per: ValueExpr | None = Field(default=None, description="`ratio`: the denominator")
    count_if: Condition | None = Field(default=None, description="`share`: the records that count as hits")
    limit: float | None = Field(default=None, description="`hours_above`: the limit an hour's mean exceeds")
    target: float
    better: Literal["higher", "lower"]
    near: float | None = Field(default=None, ge=0, description="how far from target still counts as near")
    decimals: int = Field(default=1, ge=0, le=4)

    @field_validator("value", "per", mode="before")
    @classmethod
    def _parse_value(cls, text: Any) -> Any:
        if text is None or isinstance(text, ValueExpr):
            return text
        try:
            return parse_value(text)
        except ExpressionError as exc:
            raise ValueError(str(exc)) from None

    @field_validator("count_if", mode="before")
    @classmethod
    def _parse_count_if(cls, text: Any) -> Any:
        return text if text is None or isinstance(text, Condition) else _condition(text)

    @model_validator(mode="after")
    def _computable(self) -> Kpi:
        if self.aggregate in DATA_AGGREGATES:
            if self.source is not None:
                raise ValueError(f"aggregate '{self.aggregate}' is computed from every feed's polls; drop `source`")
            return self
        if self.source is None:
            raise ValueError(f"aggregate '{self.aggregate}' needs a `source`")
        needs_value = self.aggregate not in ("count", "share")
        if needs_value and self.value is None and not self.source.metric:
            raise ValueError(f"aggregate '{self.aggregate}' needs `value` (or a source metric)")
        if self.aggregate == "share" and self.count_if is None:
            raise ValueError("aggregate 'share' needs `count_if` (which records count as hits)")
        if self.aggregate == "ratio" and self.per is None:
            raise ValueError("aggregate 'ratio' needs `per` (the denominator)")
        if self.source.records == "snapshots" and self.additive:
            raise ValueError(
                f"aggregate '{self.aggregate}' adds up records, but `snapshots` counts every entity at every poll; "
                "use share, mean, ratio or a quantile")
        if self.aggregate == "hours_above" and self.limit is None:
            raise ValueError("aggregate 'hours_above' needs `limit`")
        if self.aggregate != "hours_above" and self.limit is not None:
            raise ValueError("`limit` is only for aggregate 'hours_above'")
        return self

    # --- what the computation reads --------------------------------------------------------------------

    @property
    def value_expr(self) -> ValueExpr | None:
        """The per-record value: `value:` if given, else the source metric's number."""
        if self.value is not None:
            return self.value
        if self.source is not None and self.source.metric and self.aggregate not in ("count", "share"):
            return parse_value(self.source.metric)
        return None

    @property
    def is_data_kpi(self) -> bool:
        return self.aggregate in DATA_AGGREGATES

    @property
    def additive(self) -> bool:
        return self.aggregate in ADDITIVE

    @property
    def needs_sketch(self) -> bool:
        return self.aggregate in QUANTILES

    @property
    def display_unit(self) -> str:
        return "%" if self.aggregate in PERCENT_AGGREGATES and not self.unit else self.unit

    def target_for(self, days: float) -> float:
        """The target of a period `days` long: a per-day target scales for additive aggregates."""
        return self.target * days if self.additive else self.target

    def near_band(self, days: float) -> float:
        band = self.near if self.near is not None else abs(self.target) * NEAR_SHARE
        return band * days if self.additive else band


class KpiFile(_Strict):
    kpis: list[Kpi]

    @model_validator(mode="after")
    def _unique_ids(self) -> KpiFile:
        seen: set[str] = set()
        for kpi in self.kpis:
            if kpi.id in seen:
                raise ValueError(f"KPI id '{kpi.id}' is declared twice")
            seen.add(kpi.id)
        return self


@dataclass(frozen=True, slots=True)
class Catalogue:
    """The validated KPIs of one city, in file order."""

    path: Path
    kpis: tuple[Kpi, ...]
    # feed names KPIs refer to that agencies.yaml does not declare (yet): those KPIs have no data
    missing_feeds: frozenset[str]

    def get(self, kpi_id: str) -> Kpi:
        for kpi in self.kpis:
            if kpi.id == kpi_id:
                return kpi
        raise KeyError(kpi_id)

    def for_feed(self, feed: str) -> list[Kpi]:
        """The KPIs that read records of a feed."""
        return [k for k in self.kpis if k.source is not None and feed in k.source.feeds]

    def connected(self, kpi: Kpi) -> bool:
        """Whether at least one feed the KPI reads is configured (data KPIs always are)."""
        return kpi.source is None or any(f not in self.missing_feeds for f in kpi.source.feeds)

    def sectors(self) -> list[str]:
        return list(dict.fromkeys(k.sector for k in self.kpis))

    @property
    def fingerprint(self) -> str:
        """Changes when the file changes: part of the report cache key."""
        stat = self.path.stat()
        return f"{stat.st_mtime_ns}-{stat.st_size}"


def _describe(errors: ValidationError, path: Path, data: Any) -> str:
    lines = []
    for err in errors.errors():
        loc = list(err["loc"])
        where = ""
        if len(loc) >= 2 and loc[0] == "kpis" and isinstance(loc[1], int):
            entry = data["kpis"][loc[1]] if isinstance(data, dict) and isinstance(data.get("kpis"), list) else None
            label = entry.get("id") if isinstance(entry, dict) else None
            where = f"kpis[{loc[1]}]" + (f" ({label})" if label else "")
            loc = loc[2:]
        field_name = ".".join(str(p) for p in loc) or "(entry)"
        message = err["msg"].removeprefix("Value error, ")
        lines.append(f"{path}: {where + ': ' if where else ''}{field_name}: {message}")
    return "\n".join(lines)


def parse_catalogue(path: Path, settings: Settings) -> Catalogue:
    """Validate a kpis.yaml against the city's sectors and feeds; ConfigError naming file, KPI and field."""
    try:
        with path.open(encoding="utf-8") as handle:
            data = yaml.safe_load(handle)
    except FileNotFoundError as exc:
        raise ConfigError(f"{path}: file not found") from exc
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: not valid YAML: {exc}") from exc
    try:
        parsed = KpiFile.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(_describe(exc, path, data)) from None
    sectors = {s.id for s in settings.city.sectors} | {DATA_SECTOR}
    feeds = {f.name for f in settings.feeds}
    problems = [
        f"{path}: kpis[{index}] ({kpi.id}): sector: '{kpi.sector}' is not a sector of city.yaml "
        f"({', '.join(sorted(sectors))})"
        for index, kpi in enumerate(parsed.kpis)
        if kpi.sector not in sectors
    ]
    if problems:
        raise ConfigError("\n".join(problems))
    missing = {name for kpi in parsed.kpis if kpi.source for name in kpi.source.feeds} - feeds
    return Catalogue(path=path, kpis=tuple(parsed.kpis), missing_feeds=frozenset(missing))


_loaded: dict[tuple[Any, ...], Catalogue] = {}


def load_catalogue(settings: Settings) -> Catalogue:
    """The city's catalogue, parsed once per version of the file and of the city's feeds and sectors."""
    path = Path(settings.directory) / KPI_FILE
    try:
        mtime = path.stat().st_mtime_ns
    except FileNotFoundError as exc:
        raise ConfigError(f"{path}: file not found") from exc
    key = (str(path), mtime, tuple(f.name for f in settings.feeds), tuple(s.id for s in settings.city.sectors))
    if key not in _loaded:
        _loaded[key] = parse_catalogue(path, settings)
    return _loaded[key]


def sector_name(settings: Settings, sector_id: str, lang: str) -> str:
    if sector_id == DATA_SECTOR:
        return DATA_SECTOR_NAME.get(lang)
    sector = settings.sector(sector_id)
    return sector.name.get(lang) if sector else sector_id


def sector_colour(settings: Settings, sector_id: str) -> str:
    if sector_id == DATA_SECTOR:
        return DATA_SECTOR_COLOUR
    sector = settings.sector(sector_id)
    return sector.colour if sector else "#9e9e9e"
