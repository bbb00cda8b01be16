"""The city as every map draws it: its areas from the boundaries file (no internet tiles), the palette, where an
entity sits, the view that frames what is on the map, and the open-alert rows beside it.

The live layers over these areas are `ioc.live_map`'s; the alert page's zoomed map is `ioc.alert_map`'s.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import shapely

from ioc.areas import area_index
from ioc.config import City, Settings
from ioc.i18n import age_text, local_time, t
from ioc.kpis.tiles import format_value
from ioc.model import Alert, Severity

# Red for what needs action now, orange for what needs it soon: the operator reads colour before text.
# Alarm colours, kept out of the sector palette (city.yaml's sectors are Paul Tol's "light" scheme, no red):
# red and magenta only ever mean an alarm. Extreme is magenta, not a second red, so it stays apart from severe
# for a colour-blind operator too; the severity is always written beside the colour as well.
SEVERITY_COLOURS: dict[Severity, str] = {
    Severity.EXTREME: "#ff3dd2",
    Severity.SEVERE: "#ff3d3d",
    Severity.MODERATE: "#ff9100",
    Severity.MINOR: "#ffd600",
    Severity.UNKNOWN: "#b0bec5",
}
AREA_FILLS = ("#1d2c44", "#263a5a", "#1a3443", "#2d3655")
AREA_EDGE = "#8fb3d9"
MAP_BACKGROUND = "#070d18"
LABEL_COLOUR = "#e8f0fa"
FOCUS_GRID_DEGREES = 0.02  # about 2 km: the view moves only when things move that far beyond it


@dataclass(frozen=True, slots=True)
class AlertRow:
    """One line of the open-alert list, already in the interface language."""

    id: str
    severity: str
    severity_text: str
    colour: str
    title: str
    district: str
    value_text: str
    age_text: str
    raised_text: str
    occurrences: int
    state_text: str


def district_layer(city: City) -> list[dict[str, Any]]:
    """The areas as plain trace dicts (filled outlines, then names): JSON-ready so a cache can keep them."""
    index = area_index(city)
    traces: list[dict[str, Any]] = []
    label_x, label_y, label_text = [], [], []
    for number, (name, geometry) in enumerate(zip(index.names, index.frame.geometry, strict=True)):
        xs: list[float | None] = []
        ys: list[float | None] = []
        for polygon in getattr(geometry, "geoms", [geometry]):
            ring = polygon.exterior.coords
            if xs:
                xs.append(None)  # a gap: plotly fills each closed run on its own
                ys.append(None)
            xs.extend(round(x, 6) for x, _ in ring)
            ys.extend(round(y, 6) for _, y in ring)
        traces.append(
            {
                "type": "scatter",
                "x": xs,
                "y": ys,
                "mode": "lines",
                "fill": "toself",
                "fillcolor": AREA_FILLS[number % len(AREA_FILLS)],
                "line": {"color": AREA_EDGE, "width": 1.5},
                "name": name,
                "hoverinfo": "skip",
                "showlegend": False,
            }
        )
        # representative_point lies inside the area, where a centroid of a crescent-shaped district may not
        anchor = shapely.get_coordinates(geometry.representative_point())[0]
        label_x.append(round(float(anchor[0]), 6))
        label_y.append(round(float(anchor[1]), 6))
        label_text.append(name)
    traces.append(
        {
            "type": "scatter",
            "x": label_x,
            "y": label_y,
            "text": label_text,
            "mode": "text",
            "textfont": {"size": 22, "color": LABEL_COLOUR, "family": "Inter, Segoe UI, Roboto, sans-serif",
                         "weight": 600, "shadow": "0px 0px 5px #000000"},
            "hoverinfo": "skip",
            "showlegend": False,
            "name": "areas",
        }
    )
    return traces


def entity_point(entity: Mapping[str, Any]) -> tuple[float, float] | None:
    """Where an entity sits on the map: its location, else a point inside its geometry."""
    if entity.get("lon") is not None and entity.get("lat") is not None:
        return float(entity["lon"]), float(entity["lat"])
    if entity.get("geometry"):
        try:
            point = shapely.geometry.shape(entity["geometry"]).representative_point()
        except (ValueError, TypeError, AttributeError, shapely.errors.GEOSException):
            return None
        return float(point.x), float(point.y)
    return None


def _escape(text: str) -> str:
    # hover text is rendered as HTML by plotly; agency text must not inject markup
    return str(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def focus_bounds(city: City, points: Iterable[tuple[float, float]]) -> tuple[float, float, float, float]:
    """Where the city's things are, so a large rural area does not shrink the town into a corner.

    The extent is widened to a coarse grid so the view stays still while buses move, and never leaves
    the city's own bounds.
    """
    city_minx, city_miny, city_maxx, city_maxy = area_index(city).bounds()
    located = [(x, y) for x, y in points if city_minx <= x <= city_maxx and city_miny <= y <= city_maxy]
    if not located:
        return city_minx, city_miny, city_maxx, city_maxy
    xs, ys = [x for x, _ in located], [y for _, y in located]
    step = FOCUS_GRID_DEGREES
    return (
        max(city_minx, (math.floor(min(xs) / step) - 1) * step),
        max(city_miny, (math.floor(min(ys) / step) - 1) * step),
        min(city_maxx, (math.ceil(max(xs) / step) + 1) * step),
        min(city_maxy, (math.ceil(max(ys) / step) + 1) * step),
    )


def alert_title(alert: Alert, settings: Settings, lang: str) -> str:
    """The rule's title in the interface language; a relayed warning keeps its source's own headline."""
    rule = next((r for r in settings.rules if r.id == alert.rule_id), None)
    if rule is None or rule.kind == "relay":
        return alert.title
    return rule.title.get(lang)


def alert_rows(alerts: Sequence[Alert], settings: Settings, lang: str, now: datetime) -> list[AlertRow]:
    """The open-alert list in the store's order (most severe, then oldest, first)."""
    rows = []
    for alert in alerts:
        age = (now - alert.raised_at).total_seconds() if alert.raised_at else None
        rows.append(
            AlertRow(
                id=alert.id,
                severity=str(alert.severity),
                severity_text=t(f"control_room.severity.{alert.severity}", lang),
                colour=SEVERITY_COLOURS[alert.severity],
                title=alert_title(alert, settings, lang),
                district=alert.district or t("map.outside", lang),
                value_text=_value_text(alert, settings),
                age_text=age_text(age, lang),
                raised_text=local_time(alert.raised_at, "%H:%M"),
                occurrences=alert.occurrences,
                state_text=t(f"control_room.state.{alert.state}", lang),
            )
        )
    return rows


def _value_text(alert: Alert, settings: Settings) -> str:
    if alert.value is None:
        return ""
    rule = next((r for r in settings.rules if r.id == alert.rule_id), None)
    return f"{rule.metric} {format_value(alert.value)}" if rule else format_value(alert.value)
