"""The small offline map of one alert: the city's areas, the zone of a geofence alert or a relayed warning's
area, and the alert's ring, framed around them. Drawn from the alert's own fields and its rule's
configuration (the zone id is kept on the alert, never read out of its id)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import plotly.graph_objects as go
import shapely

from ioc.alerts import AlertRecord
from ioc.city_map import AREA_EDGE, LABEL_COLOUR, MAP_BACKGROUND, SEVERITY_COLOURS
from ioc.config import Settings
from ioc.i18n import t
from ioc.rules import Zone, load_zones

MAP_SPAN_DEGREES = 0.03  # the small map shows about 6 km across around the alert
MAP_HEIGHT = 250
ZONE_FILL, ZONE_EDGE = "rgba(76, 201, 255, 0.25)", "#4cc9ff"
AREA_FILL = "rgba(255, 23, 68, 0.18)"


def empty_map() -> dict[str, Any]:
    """The map panel with nothing selected: the background only, at the map's height."""
    return {"data": [], "layout": {"paper_bgcolor": MAP_BACKGROUND, "plot_bgcolor": MAP_BACKGROUND,
                                   "xaxis": {"visible": False}, "yaxis": {"visible": False},
                                   "margin": {"l": 0, "r": 0, "t": 0, "b": 0}, "height": MAP_HEIGHT}}


def alert_zone(record: AlertRecord, settings: Settings) -> Zone | None:
    """The zone a geofence alert is about: the alert's zone id looked up in its rule's zones file."""
    if not record.zone:
        return None
    rule = next((r for r in settings.rules if r.id == record.alert.rule_id), None)
    zones_file = getattr(rule, "zones", None)
    if not zones_file:
        return None
    return next((zone for zone in load_zones(zones_file) if zone.id == record.zone), None)


def warning_area(record: AlertRecord) -> Any | None:
    """A relayed warning's area as a shape, or None when it has none or it does not read as one."""
    if not record.area:
        return None
    try:
        area = shapely.geometry.shape(record.area)
    except (ValueError, TypeError, AttributeError, shapely.errors.GEOSException):
        return None
    return None if area.is_empty else area


def outline(figure: go.Figure, geometry: Any, fill: str, edge: str, name: str) -> None:
    """A polygon (or each part of a multi-polygon) filled; a line is drawn as a line."""
    for polygon in getattr(geometry, "geoms", [geometry]):
        ring = getattr(polygon, "exterior", None)
        coords = list(ring.coords) if ring is not None else list(getattr(polygon, "coords", []))
        if not coords:
            continue
        xs, ys = zip(*coords, strict=True)
        figure.add_scatter(x=list(xs), y=list(ys), mode="lines", fill="toself" if ring is not None else None,
                           hoverinfo="skip", fillcolor=fill, line={"color": edge, "width": 2}, name=name,
                           showlegend=False)


def alert_map(record: AlertRecord, settings: Settings, base: Sequence[dict[str, Any]], lang: str
              ) -> go.Figure:
    """A small offline map around the alert: the areas, the zone or the warning's area, the alert's ring.

    `base` is the city's area layer (ioc.city_map.district_layer): outlines first, the area names on top.
    """
    alert = record.alert
    figure = go.Figure(data=[trace for trace in base if trace.get("mode") != "text"])
    colour = SEVERITY_COLOURS[alert.severity]
    shapes: list[Any] = []
    zone = alert_zone(record, settings)
    if zone is not None:
        outline(figure, zone.geometry, ZONE_FILL, ZONE_EDGE, t("alerts.map.zone", lang))
        shapes.append(zone.geometry)
    area = warning_area(record)
    if area is not None:
        outline(figure, area, AREA_FILL, colour, alert.title)
        shapes.append(area)
    if alert.location is not None:
        lon, lat = alert.location
        figure.add_scatter(x=[lon], y=[lat], mode="markers", hoverinfo="skip", showlegend=False,
                           marker={"size": 34, "color": "rgba(0,0,0,0)",
                                   "line": {"color": colour, "width": 5}})
        figure.add_scatter(x=[lon], y=[lat], mode="markers", hoverinfo="skip", showlegend=False,
                           marker={"size": 12, "color": colour, "line": {"color": "#ffffff", "width": 2}})
        shapes.append(shapely.Point(lon, lat))
    if not shapes:
        return figure
    minx, miny, maxx, maxy = shapely.GeometryCollection(shapes).bounds
    cx, cy = (minx + maxx) / 2, (miny + maxy) / 2
    # at least the span around the alert, and the whole zone or warning area when it is larger
    half_x = max(MAP_SPAN_DEGREES, (maxx - minx) / 2 * 1.15)
    half_y = max(MAP_SPAN_DEGREES * 0.6, (maxy - miny) / 2 * 1.15)
    labels = next((trace for trace in base if trace.get("mode") == "text"), None)
    if labels is not None and half_x < MAP_SPAN_DEGREES * 4:
        # only the area names well inside the view (a name cut at the edge reads as noise), and none on a
        # wide view of a warning area, where they would pile up on each other
        keep = [i for i, (x, y) in enumerate(zip(labels["x"], labels["y"], strict=True))
                if abs(x - cx) < half_x * 0.7 and abs(y - cy) < half_y * 0.75]
        figure.add_trace({**labels, **{key: [labels[key][i] for i in keep] for key in ("x", "y", "text")}})
    figure.update_layout(
        paper_bgcolor=MAP_BACKGROUND, plot_bgcolor=MAP_BACKGROUND, height=MAP_HEIGHT, showlegend=False,
        margin={"l": 0, "r": 0, "t": 0, "b": 0}, dragmode="pan",
        font={"color": LABEL_COLOUR},
        # one degree of longitude is cos(latitude) of a degree of latitude on the ground
        xaxis={"visible": False, "range": [cx - half_x, cx + half_x], "scaleanchor": "y",
               "scaleratio": math.cos(math.radians(cy)), "constrain": "range"},
        yaxis={"visible": False, "range": [cy - half_y, cy + half_y], "constrain": "range"},
        hoverlabel={"bordercolor": AREA_EDGE},
    )
    return figure
