"""The control room's live city at city scale: map layers per feed, built once per change version and
shared by every screen and worker, and the delta a screen needs to catch up from what it last drew.

Why this shape: a city has tens of thousands of things on the map and dozens of screens watching them. A
feed's layer (its points as a WebGL trace, their grid clusters for the city-wide view, their ids for
on-demand detail, and the feed's headline number) is built once per (feed, version, language) and kept in
the dashboard's shared cache, so the work of one data change is done once whatever the number of screens.
A screen remembers the signature of every layer it drew and receives only the layers whose signature moved.
Traces are plain dicts (no plotly validation: it cost more than everything else at 10,000 entities).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from functools import cached_property
from typing import Any

import numpy as np

from ioc.city_map import (
    AREA_EDGE,
    LABEL_COLOUR,
    MAP_BACKGROUND,
    SEVERITY_COLOURS,
    _escape,
    entity_point,
    focus_bounds,
)
from ioc.config import SECTOR_SYMBOLS, Feed, Settings
from ioc.i18n import t
from ioc.kpis.tiles import KpiValue, feed_kpi
from ioc.map_view import WHOLE_CITY, ScreenView, scaled
from ioc.model import Alert

# A layer with more points than this is drawn as grid clusters at city zoom and as points on zoom-in: a few
# hundred markers stay legible over the districts, thousands make one solid blob.
CLUSTER_ABOVE = 150
# about 2 km in Da Nang: a cluster is a neighbourhood, and clusters of one feed sit some 60 px apart on a
# 1920 px screen showing the whole city, so their counts stay legible
CLUSTER_CELL_DEGREES = 0.02
COORD_DIGITS = 5  # about 1 m: more digits are bytes on every tick and no information
STALE_OPACITY = 0.4
UI_REVISION = "city-map"
# the page's own typeface first (served from assets/fonts), as the tiles and the alert list use
FONT = "Inter Variable, Inter, Segoe UI, Roboto, DejaVu Sans, sans-serif"
# Marker sizes shrink as the map fills: (up to this many points on the map, size in px).
MARKER_SIZES = ((400, 13), (2000, 9), (10000, 7), (math.inf, 5))


@dataclass(frozen=True, slots=True)
class FeedLayer:
    """One feed's part of the live city at one change version, in one language."""

    feed: str
    version: int
    detail: dict[str, Any]  # the feed's points (scattergl)
    cluster: dict[str, Any]  # its grid clusters for the city-wide view (no points when the layer is small)
    ids: tuple[str, ...]  # entity ids in point order: hover and detail are looked up on demand
    names: tuple[str, ...]
    kpi: KpiValue
    records: int
    points: tuple[tuple[float, float], ...]


@dataclass(frozen=True, slots=True)
class MapPlan:
    """Where each layer sits in the figure's trace list: fixed for a city's configuration, so a screen can
    replace trace i without sending the others."""

    base_traces: int
    feeds: tuple[str, ...]

    def cluster_index(self, feed: str) -> int:
        return self.base_traces + 2 * self.feeds.index(feed)

    def detail_index(self, feed: str) -> int:
        return self.cluster_index(feed) + 1

    @property
    def alert_index(self) -> int:
        return self.base_traces + 2 * len(self.feeds)

    def feed_at(self, trace_index: int) -> str | None:
        offset = trace_index - self.base_traces
        if offset < 0 or offset >= 2 * len(self.feeds):
            return None
        return self.feeds[offset // 2]


def map_plan(settings: Settings, base: Sequence[Mapping[str, Any]]) -> MapPlan:
    polygons = sum(1 for trace in base if trace.get("mode") != "text")
    return MapPlan(base_traces=polygons, feeds=tuple(feed.name for feed in settings.feeds if feed.enabled))


class PlannedCity:
    """The map plan and the enabled feeds of a city's configuration, computed once per view of it (the live
    city and the city at a past moment share them) rather than on every layer of every tick."""

    settings: Settings
    base: Sequence[Mapping[str, Any]]

    @cached_property
    def plan(self) -> MapPlan:
        return map_plan(self.settings, self.base)

    @cached_property
    def feeds(self) -> list[Feed]:
        return [feed for feed in self.settings.feeds if feed.enabled]


def marker_size(points_on_map: int) -> int:
    return next(size for limit, size in MARKER_SIZES if points_on_map <= limit)


# --- building one feed's layer ------------------------------------------------------------------------------


def build_feed_layer(settings: Settings, feed: Feed, version: int, entities: Sequence[Mapping[str, Any]],
                     lang: str) -> FeedLayer:
    """A feed's points, clusters and headline number from its entities (and active events)."""
    sector = settings.sector(feed.sector)
    colour = sector.colour if sector else "#9e9e9e"
    symbol = sector.symbol if sector else "circle"
    name = sector.name.get(lang) if sector else feed.sector
    xs: list[float] = []
    ys: list[float] = []
    ids: list[str] = []
    names: list[str] = []
    for entity in entities:
        point = entity_point(entity)
        if point is None:
            continue
        xs.append(round(point[0], COORD_DIGITS))
        ys.append(round(point[1], COORD_DIGITS))
        ids.append(str(entity.get("id", "")))
        names.append(str(entity.get("name") or entity.get("id", "")))
    clustered = len(xs) > CLUSTER_ABOVE
    detail = {
        "type": "scattergl",
        "mode": "markers",
        "x": xs,
        "y": ys,
        "name": name,
        "legendgroup": feed.sector,
        "showlegend": False,
        # "none" still reports hover and clicks to the server, which looks the entity up on demand
        "hoverinfo": "none",
        "marker": {"color": colour, "symbol": symbol, "size": 9, "line": {"color": "#0b1220", "width": 1}},
        "meta": {"feed": feed.name, "role": "detail", "clustered": clustered},
    }
    cluster = cluster_trace(feed, colour, name, xs, ys, lang) if clustered else _empty_cluster(feed, colour, name)
    return FeedLayer(feed=feed.name, version=version, detail=detail, cluster=cluster, ids=tuple(ids), names=tuple(names),
                     kpi=feed_kpi(feed, list(entities)), records=len(entities),
                     points=tuple(zip(xs, ys, strict=True)))


def _empty_cluster(feed: Feed, colour: str, name: str) -> dict[str, Any]:
    return {"type": "scattergl", "mode": "markers", "x": [], "y": [], "name": name,
            "legendgroup": feed.sector, "showlegend": False, "hoverinfo": "skip",
            "marker": {"color": colour}, "meta": {"feed": feed.name, "role": "cluster"}}


def grid_clusters(xs: Sequence[float], ys: Sequence[float], cell: float = CLUSTER_CELL_DEGREES
                  ) -> list[tuple[float, float, int]]:
    """Points gathered by grid cell: (mean x, mean y, count) per occupied cell, in a stable order."""
    cells: dict[tuple[int, int], list[float]] = {}
    for x, y in zip(xs, ys, strict=True):
        key = (math.floor(x / cell), math.floor(y / cell))
        acc = cells.get(key)
        if acc is None:
            cells[key] = [x, y, 1.0]
        else:
            acc[0] += x
            acc[1] += y
            acc[2] += 1
    return [(round(sx / n, COORD_DIGITS), round(sy / n, COORD_DIGITS), int(n))
            for _, (sx, sy, n) in sorted(cells.items())]


def cluster_trace(feed: Feed, colour: str, name: str, xs: Sequence[float], ys: Sequence[float], lang: str
                  ) -> dict[str, Any]:
    clusters = grid_clusters(xs, ys)
    counts = [n for _, _, n in clusters]
    return {
        "type": "scattergl",
        "mode": "markers+text",
        "x": [x for x, _, _ in clusters],
        "y": [y for _, y, _ in clusters],
        "text": [str(n) if n > 1 else "" for n in counts],
        "textfont": {"color": "#0b1220", "size": 13, "family": FONT},  # dark on the light sector colours
        "name": name,
        "legendgroup": feed.sector,
        "showlegend": False,
        "hoverinfo": "none",
        # area grows with the count, so a cluster of 400 reads as more than one of 40 without hiding the map
        "marker": {"color": colour, "opacity": 0.8, "size": [round(min(40, 10 + 3.2 * math.sqrt(n)), 1) for n in counts],
                   "line": {"color": "#ffffff", "width": 1}},
        "meta": {"feed": feed.name, "role": "cluster", "counts": counts},
    }


# --- what a screen draws ------------------------------------------------------------------------------------


def signature(version: int, stale: bool, lang: str) -> str:
    """What a screen remembers of a layer it drew: a change in any part means the layer is sent again."""
    return f"{version}:{int(stale)}:{lang}"


# Ends the signature of a layer a screen holds as clusters only: its points were not sent (see `deferred`).
CLUSTERS_ONLY = ":c"


def deferred(layer: FeedLayer, view: ScreenView) -> bool:
    """Whether a screen gets only the layer's clusters: a clustered layer seen from city zoom hides its points,
    so they travel only once the screen zooms in (at 10,000 entities that is most of a tick's bytes)."""
    return bool(layer.detail["meta"].get("clustered")) and not view.zoomed


def styled_detail(layer: FeedLayer, stale: bool, size: int) -> dict[str, Any]:
    """The feed's points as this moment shows them: faded when the feed is stale, sized for the map's load."""
    trace = dict(layer.detail)
    trace["marker"] = {**layer.detail["marker"], "size": size}
    trace["opacity"] = STALE_OPACITY if stale else 1.0
    return trace


def styled_cluster(layer: FeedLayer, stale: bool) -> dict[str, Any]:
    trace = dict(layer.cluster)
    trace["opacity"] = STALE_OPACITY if stale else 1.0
    return trace


@dataclass(frozen=True, slots=True)
class LegendEntry:
    sector: str
    name: str
    colour: str
    stale: bool
    glyph: str = SECTOR_SYMBOLS["circle"]  # the sector's marker shape, as a character


def legend_entries(settings: Settings, plan: MapPlan, stale_feeds: frozenset[str], lang: str
                   ) -> list[LegendEntry]:
    """One entry per sector on the map, in city.yaml order; a sector with a stale feed says so."""
    feeds_by_sector: dict[str, list[str]] = {}
    for feed in settings.feeds:
        if feed.name in plan.feeds:
            feeds_by_sector.setdefault(feed.sector, []).append(feed.name)
    entries = []
    for sector in settings.city.sectors:
        names = feeds_by_sector.get(sector.id)
        if names:
            entries.append(LegendEntry(sector.id, sector.name.get(lang), sector.colour,
                                       any(name in stale_feeds for name in names), SECTOR_SYMBOLS[sector.symbol]))
    return entries


def alert_trace(alerts: Sequence[Alert], points: Mapping[str, tuple[float, float]], settings: Settings,
                lang: str) -> dict[str, Any]:
    """Open alerts as open rings over every layer: they mark a place without hiding what is there."""
    xs, ys, colours, ids = [], [], [], []
    for alert in alerts:
        point = alert.location or points.get(alert.entity_id)
        if point is None:
            continue
        xs.append(round(point[0], COORD_DIGITS))
        ys.append(round(point[1], COORD_DIGITS))
        colours.append(SEVERITY_COLOURS[alert.severity])
        ids.append(alert.id)
    return {
        "type": "scattergl",
        "mode": "markers",
        "x": xs,
        "y": ys,
        "name": t("map.alerts_layer", lang),
        "showlegend": False,
        "hoverinfo": "none",
        "marker": {"size": 34, "color": colours, "symbol": "circle-open", "line": {"width": 5}},
        "meta": {"role": "alerts", "ids": ids},
    }


def area_labels(base: Sequence[Mapping[str, Any]], view: tuple[float, float, float, float], scale: float = 1.0
                ) -> list[dict[str, Any]]:
    """The area names as annotations: drawn above every WebGL layer, so no marker hides where it is."""
    minx, miny, maxx, maxy = view
    inset_x, inset_y = (maxx - minx) * 0.06, (maxy - miny) * 0.03
    labels = []
    for trace in base:
        if trace.get("mode") != "text":
            continue
        for x, y, text in zip(trace["x"], trace["y"], trace["text"], strict=True):
            if minx + inset_x <= x <= maxx - inset_x and miny + inset_y <= y <= maxy - inset_y:
                labels.append({"x": x, "y": y, "text": _escape(text), "showarrow": False,
                               "font": {"size": 20 * scale, "color": LABEL_COLOUR, "family": FONT, "weight": 700,
                                        "shadow": f"0px 0px {6 * scale:g}px #000000"}})
    return labels


def figure_layout(view: tuple[float, float, float, float], labels: list[dict[str, Any]], scale: float = 1.0
                  ) -> dict[str, Any]:
    minx, miny, maxx, maxy = view
    pad_x, pad_y = (maxx - minx) * 0.03, (maxy - miny) * 0.03
    return {
        "uirevision": UI_REVISION,
        "paper_bgcolor": MAP_BACKGROUND,
        "plot_bgcolor": MAP_BACKGROUND,
        "margin": {"l": 0, "r": 0, "t": 0, "b": 0},
        "font": {"color": LABEL_COLOUR, "size": 18 * scale, "family": FONT},
        "hoverlabel": {"font": {"size": 18 * scale}, "bgcolor": "#0f1b2d", "bordercolor": AREA_EDGE},
        "showlegend": False,
        "dragmode": "pan",
        "annotations": labels,
        "xaxis": {"visible": False, "range": [minx - pad_x, maxx + pad_x], "scaleanchor": "y",
                  # one degree of longitude is cos(latitude) of a degree of latitude on the ground
                  "scaleratio": math.cos(math.radians((miny + maxy) / 2)), "constrain": "range"},
        "yaxis": {"visible": False, "range": [miny - pad_y, maxy + pad_y], "constrain": "range"},
    }


@dataclass(frozen=True, slots=True)
class MapState:
    """The map at one moment: every layer, which feeds are stale, the open alerts."""

    plan: MapPlan
    layers: Mapping[str, FeedLayer]
    stale_feeds: frozenset[str]
    alerts: Sequence[Alert]
    alerts_version: int
    lang: str

    def layer_signature(self, feed: str) -> str:
        layer = self.layers[feed]
        return signature(layer.version, feed in self.stale_feeds, self.lang)

    def drawn_signature(self, feed: str, view: ScreenView = WHOLE_CITY) -> str:
        """The signature of what `view` needs of the layer: the whole of it, or its clusters only."""
        whole = self.layer_signature(feed)
        return whole + CLUSTERS_ONLY if deferred(self.layers[feed], view) else whole

    def alerts_signature(self) -> str:
        return f"{self.alerts_version}:{self.lang}"

    def signatures(self, view: ScreenView = WHOLE_CITY) -> dict[str, str]:
        sigs = {feed: self.drawn_signature(feed, view) for feed in self.plan.feeds}
        sigs["alerts"] = self.alerts_signature()
        sigs["size"] = str(self.size())
        return sigs

    def points_on_map(self) -> int:
        return sum(len(layer.ids) for layer in self.layers.values())

    def size(self) -> int:
        return marker_size(self.points_on_map())

    def points(self) -> dict[str, tuple[float, float]]:
        found: dict[str, tuple[float, float]] = {}
        for layer in self.layers.values():
            found.update(zip(layer.ids, layer.points, strict=True))
        return found

    def traces_of(self, feed: str, view: ScreenView = WHOLE_CITY) -> tuple[dict[str, Any], dict[str, Any]]:
        layer, stale = self.layers[feed], feed in self.stale_feeds
        cluster, detail = styled_cluster(layer, stale), styled_detail(layer, stale, self.size())
        if deferred(layer, view):
            detail["x"], detail["y"] = [], []
        cluster["visible"], detail["visible"] = view.shows(cluster), view.shows(detail)
        return scaled(cluster, view.scale), scaled(detail, view.scale)

    def alerts_trace(self, settings: Settings, view: ScreenView = WHOLE_CITY) -> dict[str, Any]:
        return scaled(alert_trace(self.alerts, self.points(), settings, self.lang), view.scale)


def full_figure(settings: Settings, base: Sequence[Mapping[str, Any]], state: MapState,
                view: ScreenView = WHOLE_CITY) -> dict[str, Any]:
    """The whole map as a plain figure dict: areas, then each feed's clusters and points, alerts on top."""
    data: list[dict[str, Any]] = [scaled(dict(trace), view.scale) for trace in base if trace.get("mode") != "text"]
    for feed in state.plan.feeds:
        data.extend(state.traces_of(feed, view))
    data.append(state.alerts_trace(settings, view))
    all_points = [p for layer in state.layers.values() for p in layer.points]
    bounds = focus_bounds(settings.city, all_points)
    return {"data": data, "layout": figure_layout(bounds, area_labels(base, bounds, view.scale), view.scale)}


@dataclass(frozen=True, slots=True)
class FigureDelta:
    """What a screen must change: whole traces that moved, and the visibility of the others it now sees
    differently (a zoom or a hidden sector sends one flag per trace, not the points again)."""

    traces: dict[int, dict[str, Any]]
    visible: dict[int, bool]
    # the signature of each layer whose traces are in `traces`, as the screen will then hold it
    drawn: dict[str, str] = field(default_factory=dict)

    def __bool__(self) -> bool:
        return bool(self.traces or self.visible)


def figure_delta(settings: Settings, state: MapState, seen: Mapping[str, str],
                 view: ScreenView = WHOLE_CITY) -> FigureDelta:
    """The traces a screen that drew `seen` must replace to show `state` as `view` wants it."""
    changes: dict[int, dict[str, Any]] = {}
    visible: dict[int, bool] = {}
    drawn: dict[str, str] = {}
    resize = seen.get("size") != str(state.size())
    view_moved = "view" in seen and seen["view"] != view.key()
    for feed in state.plan.feeds:
        cluster_at, detail_at = state.plan.cluster_index(feed), state.plan.detail_index(feed)
        needed = state.drawn_signature(feed, view)
        # a screen holding the whole layer can show its clusters alone, not the other way round
        if resize or seen.get(feed) not in (needed, state.layer_signature(feed)):
            changes[cluster_at], changes[detail_at] = state.traces_of(feed, view)
            drawn[feed] = needed
        elif view_moved:
            layer = state.layers[feed]
            visible[cluster_at], visible[detail_at] = view.shows(layer.cluster), view.shows(layer.detail)
    if seen.get("alerts") != state.alerts_signature() or changes:
        # an alert on an entity follows it when its layer moved
        changes[state.plan.alert_index] = state.alerts_trace(settings, view)
    return FigureDelta(traces=changes, visible=visible, drawn=drawn)


def wire(trace: Mapping[str, Any]) -> dict[str, Any]:
    """The trace as it leaves for a browser: its coordinate and size lists as numpy arrays, which the JSON
    encoder writes natively instead of walking every number in Python (half a tick's encoding at 10,000
    entities). The JSON is the same."""
    out = dict(trace)
    for axis in ("x", "y"):
        if isinstance(out.get(axis), list) and out[axis]:
            out[axis] = np.asarray(out[axis], dtype=float)
    marker = out.get("marker")
    if isinstance(marker, dict) and isinstance(marker.get("size"), list) and marker["size"]:
        out["marker"] = {**marker, "size": np.asarray(marker["size"], dtype=float)}
    return out


def apply_delta(figure: Mapping[str, Any], delta: FigureDelta) -> dict[str, Any]:
    """The figure a screen shows after a delta (what the browser does with the patch; used by tests)."""
    data = [dict(trace) for trace in figure["data"]]
    for index, trace in delta.traces.items():
        data[index] = dict(trace)
    for index, shown in delta.visible.items():
        data[index]["visible"] = shown
    return {"data": data, "layout": figure["layout"]}


def entity_at(state_layers: Mapping[str, FeedLayer], plan: MapPlan, trace_index: int, point_index: int
              ) -> str | None:
    """The entity id under a hovered or clicked point, from the layer the screen was drawing."""
    feed = plan.feed_at(trace_index)
    if feed is None or trace_index != plan.detail_index(feed):
        return None
    layer = state_layers.get(feed)
    if layer is None or not 0 <= point_index < len(layer.ids):
        return None
    return layer.ids[point_index]


def stale_of(feeds: Iterable[Feed], health: Mapping[str, Any], now: datetime) -> frozenset[str]:
    return frozenset(feed.name for feed in feeds
                     if feed.enabled and (health.get(feed.name) is None or health[feed.name].stale_at(now)))
