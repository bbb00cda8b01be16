"""The control room's headline numbers: one KPI per feed over its entities' latest values, and its tile."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from ioc.config import Feed, FeedKpi, Settings, Text
from ioc.i18n import LANGUAGES, local_time, t
from ioc.store import FeedHealth


@dataclass(frozen=True, slots=True)
class KpiValue:
    """A feed's headline number; `value` is None when no entity carries a usable value."""

    value: float | None
    unit: str
    label: Text


@dataclass(frozen=True, slots=True)
class KpiTile:
    """What one tile of the control room shows, already in the interface language."""

    feed: str
    label: str
    # the KPI's whole name and the agency's, for the tooltip: the tile prints them short
    full_label: str
    agency: str
    sector: str
    colour: str
    value_text: str
    unit: str
    stale: bool
    # "stale since 10:42" or "no data yet"; empty when the data is fresh
    stale_text: str
    records: int


def _records_label() -> Text:
    return Text(**{lang: t("kpi.records", lang) for lang in LANGUAGES})


def feed_kpi(feed: Feed, entities: list[dict[str, Any]]) -> KpiValue:
    """The feed's configured aggregate over its entities' latest attributes (a record count without one)."""
    spec = feed.kpi
    if spec is None:
        return KpiValue(float(len(entities)), "", _records_label())
    matching = [e for e in entities if _matches(e.get("attributes") or {}, spec.where)]
    if spec.aggregate == "count":
        if spec.metric:
            matching = [e for e in matching if _number(e["attributes"].get(spec.metric)) is not None]
        return KpiValue(float(len(matching)), spec.unit, spec.label)
    values = [v for e in matching if (v := _number(e["attributes"].get(spec.metric or ""))) is not None]
    return KpiValue(_aggregate(spec, values), spec.unit, spec.label)


def _aggregate(spec: FeedKpi, values: list[float]) -> float | None:
    if not values:
        return None
    match spec.aggregate:
        case "mean":
            return sum(values) / len(values)
        case "max":
            return max(values)
        case "min":
            return min(values)
        case "sum":
            return sum(values)
    raise ValueError(f"unknown aggregate '{spec.aggregate}'")


def _matches(attributes: Mapping[str, Any], where: Mapping[str, Any]) -> bool:
    return all(_same(attributes.get(key), wanted) for key, wanted in where.items())


def _same(actual: Any, wanted: Any) -> bool:
    if actual is None:
        return False
    if isinstance(wanted, bool):
        # feeds write booleans as true, "true" or 1 depending on the standard
        return _BOOLEAN_WORDS.get(str(actual).strip().lower()) is wanted
    if isinstance(wanted, int | float):
        number = _number(actual)
        return number is not None and math.isclose(number, float(wanted))
    return str(actual).strip().lower() == str(wanted).strip().lower()


_BOOLEAN_WORDS = {"true": True, "1": True, "yes": True, "false": False, "0": False, "no": False}


def _number(raw: Any) -> float | None:
    """A finite number from an attribute, None for text, booleans, blanks and NaN."""
    if raw is None or isinstance(raw, bool):
        return None
    try:
        number = float(raw)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def format_value(value: float | None) -> str:
    """A number as read from across the room: thousands grouped, one decimal only where it matters."""
    if value is None:
        return "—"
    if float(value).is_integer() or abs(value) >= 100:
        return f"{value:,.0f}".replace(",", "\u202f")
    return f"{value:,.1f}".replace(",", "\u202f")


def tile_for(settings: Settings, feed: Feed, kpi: KpiValue, records: int, health: FeedHealth | None, lang: str,
             now: datetime) -> KpiTile:
    """One feed's tile: its headline number, and "stale since 10:42" when its data is old."""
    sector = settings.sector(feed.sector)
    stale = health is None or health.stale_at(now)
    if health is None or health.last_success is None:
        stale_text, value_text = t("kpi.no_data", lang), "—"
    else:
        value_text = format_value(kpi.value)
        stale_text = t("kpi.stale_since", lang, time=local_time(health.last_success, "%H:%M")) if stale else ""
    # the tile names the KPI and the agency short; their full names are the tile's tooltip
    short = feed.agency_short.get(lang) if feed.agency_short else feed.agency_name.get(lang)
    label = kpi.label.get(lang)
    tile_label = feed.kpi.short.get(lang) if feed.kpi and feed.kpi.short else label
    return KpiTile(feed=feed.name, label=tile_label, full_label=label, agency=short, sector=feed.sector,
                   colour=sector.colour if sector else "#7f7f7f", value_text=value_text, unit=kpi.unit,
                   stale=stale, stale_text=stale_text, records=records)


def tile_columns(tiles: int, widest: int = 13) -> int:
    """Columns for the control room's tile band: as few rows as `widest` columns allow, the rows evenly filled
    (26 tiles are two rows of 13, 27 three rows of 9), so no tile sits alone on a last row."""
    rows = max(1, math.ceil(tiles / widest))
    return max(1, math.ceil(tiles / rows))


def kpi_tiles(
    settings: Settings,
    entities_by_feed: Mapping[str, list[dict[str, Any]]],
    health: Mapping[str, FeedHealth | None],
    lang: str,
    now: datetime,
) -> list[KpiTile]:
    """One tile per enabled feed, in configuration order; a stale feed keeps its number but says so."""
    tiles = []
    for feed in settings.feeds:
        if feed.enabled:
            entities = entities_by_feed.get(feed.name, [])
            tiles.append(tile_for(settings, feed, feed_kpi(feed, entities), len(entities), health.get(feed.name),
                                  lang, now))
    return tiles
