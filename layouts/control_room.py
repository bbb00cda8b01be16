"""The control room page (/): the city map by layer, a KPI tile per feed, the open alerts.

Every screen ticks every 2 s. The tick's work is shared: layers come from `ioc.control_room.LiveCity`, built
once per change for all screens and workers; a screen receives only the traces whose layer changed (a Dash
`Patch`), and nothing at all when nothing changed.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import dash
from dash import ALL, ClientsideFunction, Input, Output, Patch, State, dcc, html

from ioc.city_map import MAP_BACKGROUND, alert_rows
from ioc.control_room import LiveCity, Tick, alert_list, tiles
from ioc.i18n import DEFAULT_LANGUAGE, local_time, t
from ioc.live_map import entity_at, figure_delta, legend_entries, wire
from ioc.map_view import screen_view, view_span
from ioc.model import from_iso, utcnow
from ioc.pages import Callback, Page
from ioc.playback.city import PlaybackCity, playback_city
from ioc.playback.controls import moment
from ioc.web import WebContext, age_step, language
from layouts import ids, playback
from layouts.control_room_view import alert_panel, detail_card, kpi_panel, legend

REFRESH_MS = 2000
HOVER_ATTRIBUTES = 5  # a detail card read from across the room holds a few values, not a dump
# before the first refresh the graph is an empty dark canvas, not a white default plot
EMPTY_MAP = {
    "data": [],
    "layout": {
        "paper_bgcolor": MAP_BACKGROUND,
        "plot_bgcolor": MAP_BACKGROUND,
        "xaxis": {"visible": False},
        "yaxis": {"visible": False},
        "margin": {"l": 0, "r": 0, "t": 0, "b": 0},
    },
}
# plotly draws WebGL at twice the screen's pixels by default: four times the fill work for nothing a wall at
# device pixel ratio 1 can show (and a 3840 px wall would get a 7680 px canvas)
MAP_CONFIG = {"displayModeBar": False, "scrollZoom": True, "doubleClick": "reset", "plotGlPixelRatio": 1}


def layout(context: WebContext, **_query: Any) -> html.Div:
    return html.Div(
        id=ids.CONTROL_ROOM,
        className="control-room",
        children=[
            # PLAYBACK and the moment shown, across the top of the screen while it is not live
            html.Div(id=ids.PLAYBACK_BANNER, className="playback-banner"),
            dcc.Interval(id=ids.CONTROL_ROOM_TICK, interval=REFRESH_MS),
            dcc.Store(id=ids.CONTROL_ROOM_SEEN),
            # which sectors this screen hides: the screen's own, kept across reloads
            dcc.Store(id=ids.MAP_HIDDEN, storage_type="local", data=[]),
            # how large this screen draws (2 on a 3840 px wall), so the map's type grows with the page's
            dcc.Store(id=ids.SCREEN_SCALE),
            # tiles across the top, the map below them, the alert queue beside it: the layout of a 16:9 wall
            html.Section(id=ids.KPI_PANEL, className="panel kpi-panel"),
            html.Section(
                className="panel control-room-map",
                children=[
                    html.Div([html.Div(id=ids.CITY_MAP_TITLE, className="map-title"),
                              html.Div(id=ids.MAP_LEGEND, className="map-legend")],
                             className="panel-title map-head"),
                    html.Div(
                        className="map-frame",
                        children=[
                            dcc.Graph(id=ids.CITY_MAP, figure=EMPTY_MAP, config=MAP_CONFIG, className="city-map",
                                      responsive=True),
                            html.Div(id=ids.MAP_DETAIL, className="map-detail"),
                        ],
                    ),
                    playback.controls(context, DEFAULT_LANGUAGE),
                ],
            ),
            html.Section(id=ids.ALERT_PANEL, className="panel alert-panel"),
        ],
    )


def refresh(context: WebContext, _tick: int | None, lang: str | None, hidden: list[str] | None,
            relayout: dict[str, Any] | None, scale: float | None, playing: dict[str, Any] | None,
            seen: dict[str, Any] | None) -> tuple[Any, ...]:
    """Send a screen what changed since it last drew: nothing, some layers, or (first time) everything; in
    playback, the city at the moment the screen plays."""
    at = moment(playing)
    city = context.live if at is None else playback_city(context.live)
    return screen_update(city, language(lang), seen or {}, hidden, relayout, scale, at=at)


def screen_update(live: LiveCity | PlaybackCity, lang: str, seen: dict[str, Any], hidden: list[str] | None = None,
                  relayout: dict[str, Any] | None = None, scale: float | None = None,
                  at: datetime | None = None) -> tuple[Any, ...]:
    """The live city, or with `at` the city at that past moment (`PlaybackCity`), drawn the same way."""
    now = at or utcnow()
    tick = live.read(lang, now)
    state = tick.state
    span = view_span(relayout, seen.get("span"))
    view = screen_view(hidden, span, scale)
    # a new scale redraws everything: the layout's type and every marker change size; so does going into or out
    # of playback, whose layers' versions are not the live ones
    plan_key = f"{len(live.base)}:{','.join(state.plan.feeds)}:{view.scale:g}{':playback' if at else ''}"
    step = age_step(now)
    figure: Any = dash.no_update
    title: Any = dash.no_update
    legend_children: Any = dash.no_update
    if seen.get("plan") != plan_key or not seen.get("layers"):
        whole = live.figure(tick, view)
        figure = {**whole, "data": [wire(trace) for trace in whole["data"]]}
        layers = state.signatures(view)
    else:
        delta = figure_delta(live.settings, state, {**seen["layers"], "view": seen.get("view", "")}, view)
        # what the screen holds after this tick: the layers just sent, and the rest as they were
        layers = {**seen["layers"], **delta.drawn, "alerts": state.alerts_signature(), "size": str(state.size())}
        if delta:
            figure = Patch()
            for index, trace in delta.traces.items():
                figure["data"][index] = wire(trace)
            for index, shown in delta.visible.items():
                figure["data"][index]["visible"] = shown
    if at is not None:  # the moment moves on every playback tick, whether or not the map changed
        title = t("playback.map_title", lang, n=state.points_on_map(), time=local_time(at, "%H:%M:%S %d/%m/%Y"))
    elif figure is not dash.no_update:
        title = t("control_room.map_title", lang, n=state.points_on_map(), time=local_time(now, "%H:%M:%S"))
    legend_key = f"{lang}:{','.join(sorted(state.stale_feeds))}:{view.key()}"
    if seen.get("legend") != legend_key:
        legend_children = legend(legend_entries(live.settings, state.plan, state.stale_feeds, lang), view.hidden, lang)
    tile_list = tiles(live.settings, tick)
    tiles_key = _tiles_key(tile_list, lang)
    kpis: Any = dash.no_update
    if seen.get("tiles") != tiles_key:
        agency_names = {feed.name: feed.agency_name.get(lang) for feed in live.settings.feeds}
        kpis = kpi_panel(tile_list, agency_names, lang)
    alerts_key = f"{layers['alerts']}:{step}"
    alerts: Any = dash.no_update
    if seen.get("alerts") != alerts_key:
        alerts = alert_panel(alert_list(state.alerts, live.settings, lang, now), lang)
    if all(part is dash.no_update for part in (figure, title, legend_children, kpis, alerts)):
        return (dash.no_update,) * 6
    new_seen = {"plan": plan_key, "layers": layers, "view": view.key(), "span": span, "legend": legend_key,
                "tiles": tiles_key, "alerts": alerts_key}
    return figure, title, legend_children, kpis, alerts, new_seen


def _tiles_key(tile_list: list[Any], lang: str) -> str:
    return lang + "|" + "|".join(f"{tile.feed}={tile.value_text}{tile.unit}:{tile.stale_text}" for tile in tile_list)


def show_detail(context: WebContext, hover: dict[str, Any] | None, lang: str | None, seen: dict[str, Any] | None,
                playing: dict[str, Any] | None = None) -> list[Any]:
    """The card of what the pointer is on, read on demand: the map carries positions only (in playback, the
    record as it was at the moment shown)."""
    at = moment(playing)
    city = context.live if at is None else playback_city(context.live)
    return detail_for(city, hover, language(lang), seen or {}, at)


def detail_for(live: LiveCity | PlaybackCity, hover: dict[str, Any] | None, lang: str, seen: dict[str, Any],
               at: datetime | None = None) -> list[Any]:
    now = at or utcnow()
    points = (hover or {}).get("points") or []
    if not points:
        return detail_card(t("map.detail.hint", lang), [])
    point = points[0]
    trace_index, point_index = int(point.get("curveNumber", -1)), int(point.get("pointNumber", -1))
    plan = live.plan
    feed_name = plan.feed_at(trace_index)
    if feed_name is None:
        return _alert_detail(live, trace_index, point_index, lang, now)
    version = int(str((seen.get("layers") or {}).get(feed_name, "0")).split(":")[0] or 0)
    feed = next(feed for feed in live.feeds if feed.name == feed_name)
    layer = live.layer(feed, version, lang, now)
    if trace_index == plan.cluster_index(feed_name):
        counts = layer.cluster.get("meta", {}).get("counts") or []
        count = counts[point_index] if 0 <= point_index < len(counts) else 0
        return detail_card(layer.detail["name"], [t("map.detail.cluster", lang, n=count)])
    entity_id = entity_at({feed_name: layer}, plan, trace_index, point_index)
    entity = live.entity(entity_id, now) if entity_id else None
    if entity is None:
        name = layer.names[point_index] if 0 <= point_index < len(layer.names) else (entity_id or "")
        return detail_card(name, [f"{t('map.hover.feed', lang)}: {feed.agency_name.get(lang)}"])
    lines = [f"{t('map.hover.type', lang)}: {entity.get('type', '')}",
             f"{t('map.hover.district', lang)}: {entity.get('district') or t('map.outside', lang)}",
             f"{t('map.hover.feed', lang)}: {feed.agency_name.get(lang)}"]
    shown = 0
    for key, value in (entity.get("attributes") or {}).items():
        if shown >= HOVER_ATTRIBUTES or isinstance(value, dict | list) or value in (None, ""):
            continue
        lines.append(f"{key}: {str(value)[:40]}")
        shown += 1
    if entity.get("observed_at"):
        lines.append(f"{t('map.hover.observed', lang)}: {local_time(from_iso(entity['observed_at']))}")
    return detail_card(entity.get("name") or entity.get("id", ""), lines)


def _alert_detail(live: LiveCity | PlaybackCity, trace_index: int, point_index: int, lang: str, now: datetime
                  ) -> list[Any]:
    if trace_index != live.plan.alert_index:
        return detail_card(t("map.detail.hint", lang), [])
    tick: Tick = live.read(lang, now)
    located = tick.state.points()
    drawn = [alert for alert in tick.state.alerts if alert.location or located.get(alert.entity_id)]
    if not 0 <= point_index < len(drawn):
        return detail_card(t("map.detail.hint", lang), [])
    row = alert_rows([drawn[point_index]], live.settings, lang, tick.now)[0]  # the one clicked, not all of them
    return detail_card(row.title, [row.severity_text, row.district, row.age_text])


PAGE = Page(
    module=__name__,
    path="/",
    title_key="nav.control_room",
    order=0,
    permission="control_room.view",
    layout=layout,
    nav_id=ids.NAV_CONTROL_ROOM,
    callbacks=(
        Callback(
            outputs=(Output(ids.CITY_MAP, "figure"), Output(ids.CITY_MAP_TITLE, "children"),
                     Output(ids.MAP_LEGEND, "children"), Output(ids.KPI_PANEL, "children"),
                     Output(ids.ALERT_PANEL, "children"), Output(ids.CONTROL_ROOM_SEEN, "data")),
            # a zoom or a hidden sector is answered at once, not at the next tick
            inputs=(Input(ids.CONTROL_ROOM_TICK, "n_intervals"), Input(ids.LANG, "data"),
                    Input(ids.MAP_HIDDEN, "data"), Input(ids.CITY_MAP, "relayoutData"),
                    Input(ids.SCREEN_SCALE, "data"), Input(ids.PLAYBACK, "data")),
            states=(State(ids.CONTROL_ROOM_SEEN, "data"),),
            function=refresh,
        ),
        Callback(
            outputs=(Output(ids.MAP_DETAIL, "children"),),
            inputs=(Input(ids.CITY_MAP, "hoverData"), Input(ids.LANG, "data")),
            states=(State(ids.CONTROL_ROOM_SEEN, "data"), State(ids.PLAYBACK, "data")),
            function=show_detail,
        ),
        *playback.CALLBACKS,
        # the browser measures its own scale at each tick; the store changes (and the map redraws) only when the
        # window does
        Callback(
            outputs=(Output(ids.SCREEN_SCALE, "data"),),
            inputs=(Input(ids.CONTROL_ROOM_TICK, "n_intervals"),),
            states=(State(ids.SCREEN_SCALE, "data"),),
            function=ClientsideFunction(namespace="ioc", function_name="screenScale"),
        ),
        # which sectors a screen hides is its own choice, kept in the browser
        Callback(
            outputs=(Output(ids.MAP_HIDDEN, "data"),),
            inputs=(Input({"type": ids.MAP_LAYER_TOGGLE, "sector": ALL}, "n_clicks"),),
            states=(State(ids.MAP_HIDDEN, "data"),),
            function=ClientsideFunction(namespace="ioc", function_name="toggleLayer"),
            prevent_initial_call=True,
        ),
    ),
)
