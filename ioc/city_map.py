"""What the control room shows of the city: the offline district map with sector layers and open alerts.

No internet tiles: the city's areas come from its boundaries file and are drawn as filled shapes on
plain axes whose aspect is corrected for latitude, so the map works in a control room without internet.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import plotly.graph_objects as go
import shapely

from ioc.areas import area_index
from ioc.config import City, Settings
from ioc.i18n import age_text, local_time, t
from ioc.kpis.tiles import format_value
from ioc.model import Alert, Severity, from_iso

# Red for what needs action now, orange for what needs it soon: the operator reads colour before text.
SEVERITY_COLOURS: dict[Severity, str] = {
    Severity.EXTREME: "#ff1744",
    Severity.SEVERE: "#ff3d3d",
    Severity.MODERATE: "#ff9100",
    Severity.MINOR: "#ffd600",
    Severity.UNKNOWN: "#b0bec5",
}
AREA_FILLS = ("#1d2c44", "#263a5a", "#1a3443", "#2d3655")
AREA_EDGE = "#8fb3d9"
MAP_BACKGROUND = "#070d18"
LABEL_COLOUR = "#e8f0fa"
HOVER_ATTRIBUTES = 5  # a hover box read from across the room holds a few values, not a dump
# Keeps zoom and the layers an operator switched off across live refreshes.
UI_REVISION = "city-map"
# Markers shrink as the map fills, so a busy city stays legible: (up to this many points, marker size).
MARKER_SIZES = ((100, 16), (400, 12), (2000, 9), (math.inf, 6))
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


def _hover(entity: Mapping[str, Any], lang: str) -> str:
    district = entity.get("district") or t("map.outside", lang)
    lines = [
        f"<b>{_escape(entity.get('name') or entity.get('id', ''))}</b>",
        f"{t('map.hover.type', lang)}: {_escape(entity.get('type', ''))}",
        f"{t('map.hover.district', lang)}: {_escape(district)}",
    ]
    shown = 0
    for key, value in (entity.get("attributes") or {}).items():
        if shown >= HOVER_ATTRIBUTES or isinstance(value, dict | list) or value in (None, ""):
            continue
        text = format_value(value) if isinstance(value, int | float) and not isinstance(value, bool) else value
        lines.append(f"{_escape(key)}: {_escape(str(text))[:40]}")
        shown += 1
    observed = entity.get("observed_at")
    if observed:
        lines.append(f"{t('map.hover.observed', lang)}: {local_time(from_iso(observed))}")
    return "<br>".join(lines)


def _escape(text: str) -> str:
    # hover text is rendered as HTML by plotly; agency text must not inject markup
    return str(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def sector_layers(
    settings: Settings,
    entities: Iterable[Mapping[str, Any]],
    lang: str,
    stale_feeds: frozenset[str] = frozenset(),
) -> list[go.Scatter]:
    """One toggleable marker trace per sector that has located entities, in city.yaml order.

    Entities of a stale feed are drawn faded and their layer's legend says so: old positions must not
    pass for live ones.
    """
    by_sector: dict[str, list[tuple[tuple[float, float], Mapping[str, Any]]]] = {}
    for entity in entities:
        point = entity_point(entity)
        if point is not None:
            by_sector.setdefault(entity.get("sector") or "", []).append((point, entity))
    order = [s.id for s in settings.city.sectors] + sorted(set(by_sector) - {s.id for s in settings.city.sectors})
    located = sum(len(members) for members in by_sector.values())
    size = next(size for limit, size in MARKER_SIZES if located <= limit)
    traces = []
    for sector_id in order:
        members = by_sector.get(sector_id)
        if not members:
            continue
        sector = settings.sector(sector_id)
        name = sector.name.get(lang) if sector else sector_id
        stale = [e.get("feed") in stale_feeds for _, e in members]
        if any(stale):
            name = f"{name} ⚠ {t('map.stale_layer', lang)}"
        traces.append(
            go.Scatter(
                x=[p[0] for p, _ in members],
                y=[p[1] for p, _ in members],
                mode="markers",
                name=name,
                uid=f"sector-{sector_id}",
                marker={
                    "size": size,
                    "color": sector.colour if sector else "#9e9e9e",
                    "line": {"color": "#ffffff", "width": 2},
                    "opacity": [0.45 if old else 1.0 for old in stale],
                },
                text=[_hover(e, lang) for _, e in members],
                hovertemplate="%{text}<extra></extra>",
            )
        )
    return traces


def alert_layer(
    alerts: Sequence[Alert], points: Mapping[str, tuple[float, float]], settings: Settings, lang: str
) -> go.Scatter | None:
    """Open alerts as large rings over the sector markers, coloured by severity."""
    xs, ys, colours, texts = [], [], [], []
    for alert in alerts:
        point = alert.location or points.get(alert.entity_id)
        if point is None:
            continue
        xs.append(point[0])
        ys.append(point[1])
        colours.append(SEVERITY_COLOURS[alert.severity])
        texts.append(
            f"<b>{_escape(alert_title(alert, settings, lang))}</b><br>"
            f"{t(f'control_room.severity.{alert.severity}', lang)} · {_escape(alert.district or '')}"
            + (f"<br>{format_value(alert.value)}" if alert.value is not None else "")
        )
    if not xs:
        return None
    return go.Scatter(
        x=xs,
        y=ys,
        mode="markers",
        name=t("map.alerts_layer", lang),
        uid="alerts",
        marker={"size": 30, "color": colours, "symbol": "circle", "opacity": 0.9,
                "line": {"color": "#ffffff", "width": 3}},
        text=texts,
        hovertemplate="%{text}<extra></extra>",
    )


def city_figure(
    settings: Settings,
    entities: Sequence[Mapping[str, Any]],
    alerts: Sequence[Alert],
    lang: str,
    *,
    base: list[dict[str, Any]] | None = None,
    stale_feeds: frozenset[str] = frozenset(),
) -> go.Figure:
    """The whole map: areas (from `base` when cached), sector layers, then alerts on top."""
    city = settings.city
    base = base if base is not None else district_layer(city)
    # area names go above the markers: a dense layer must not hide where it is
    figure = go.Figure(data=[trace for trace in base if trace.get("mode") != "text"])
    figure.add_traces(sector_layers(settings, entities, lang, stale_feeds))
    points = {str(e.get("id")): p for e in entities if (p := entity_point(e)) is not None}
    minx, miny, maxx, maxy = focus_bounds(city, points.values())
    pad_x, pad_y = (maxx - minx) * 0.03, (maxy - miny) * 0.03
    figure.add_traces([_labels_within(trace, (minx, miny, maxx, maxy)) for trace in base
                       if trace.get("mode") == "text"])
    alert_trace = alert_layer(alerts, points, settings, lang)
    if alert_trace is not None:
        figure.add_trace(alert_trace)
    figure.update_layout(
        uirevision=UI_REVISION,
        paper_bgcolor=MAP_BACKGROUND,
        plot_bgcolor=MAP_BACKGROUND,
        margin={"l": 0, "r": 0, "t": 0, "b": 0},
        font={"color": LABEL_COLOUR, "size": 18, "family": "Inter, Segoe UI, Roboto, sans-serif"},
        hoverlabel={"font": {"size": 18}, "bgcolor": "#0f1b2d", "bordercolor": AREA_EDGE},
        legend={
            "orientation": "h",
            "x": 0.01,
            "y": 0.99,
            "xanchor": "left",
            "yanchor": "top",
            "bgcolor": "rgba(7,13,24,0.78)",
            "bordercolor": "#2f4560",
            "borderwidth": 1,
            "font": {"size": 18},
            "itemsizing": "constant",
        },
        dragmode="pan",
        xaxis={
            "visible": False,
            "range": [minx - pad_x, maxx + pad_x],
            # one degree of longitude is cos(latitude) of a degree of latitude on the ground
            "scaleanchor": "y",
            "scaleratio": math.cos(math.radians((miny + maxy) / 2)),
            # widen the view to fill the panel rather than leave empty bands beside the map
            "constrain": "range",
        },
        yaxis={"visible": False, "range": [miny - pad_y, maxy + pad_y], "constrain": "range"},
    )
    return figure


def _labels_within(trace: dict[str, Any], view: tuple[float, float, float, float]) -> dict[str, Any]:
    """The area names whose anchor is well inside the view: a name cut in half at the edge reads as noise."""
    minx, miny, maxx, maxy = view
    inset_x, inset_y = (maxx - minx) * 0.08, (maxy - miny) * 0.03
    keep = [
        i for i, (x, y) in enumerate(zip(trace["x"], trace["y"], strict=True))
        if minx + inset_x <= x <= maxx - inset_x and miny + inset_y <= y <= maxy - inset_y
    ]
    return {**trace, **{key: [trace[key][i] for i in keep] for key in ("x", "y", "text")}}


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
