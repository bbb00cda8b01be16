"""The control room page (/): the district map with sector layers, a KPI tile per feed, the open alerts."""

from __future__ import annotations

from typing import Any

import dash
from dash import Input, Output, State, dcc, html

from ioc.city_map import MAP_BACKGROUND, AlertRow, alert_rows, city_figure
from ioc.i18n import local_time, t
from ioc.kpi import KpiTile, kpi_tiles
from ioc.model import utcnow
from ioc.web import age_step, current, language, live_state, map_base_layer
from layouts import ids

REFRESH_MS = 2000
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
MAP_CONFIG = {"displayModeBar": False, "scrollZoom": True, "doubleClick": "reset"}


def layout(**_query: Any) -> html.Div:
    return html.Div(
        className="control-room",
        children=[
            dcc.Interval(id=ids.CONTROL_ROOM_TICK, interval=REFRESH_MS),
            dcc.Store(id=ids.CONTROL_ROOM_SEEN),
            html.Section(
                className="panel control-room-map",
                children=[
                    html.Div(id=ids.CITY_MAP_TITLE, className="panel-title"),
                    dcc.Graph(id=ids.CITY_MAP, figure=EMPTY_MAP, config=MAP_CONFIG, className="city-map",
                              responsive=True),
                ],
            ),
            html.Aside(
                className="control-room-side",
                children=[
                    html.Section(id=ids.KPI_PANEL, className="panel kpi-panel"),
                    html.Section(id=ids.ALERT_PANEL, className="panel alert-panel"),
                ],
            ),
        ],
    )


def kpi_tile(tile: KpiTile) -> html.Div:
    return html.Div(
        className="kpi-tile kpi-tile--stale" if tile.stale else "kpi-tile",
        style={"--sector": tile.colour},
        title=tile.agency,
        **{"data-feed": tile.feed},
        children=[
            html.Div(tile.label, className="kpi-label"),
            html.Div(
                [html.Span(tile.value_text, className="kpi-value"), html.Span(tile.unit, className="kpi-unit")],
                className="kpi-number",
            ),
            html.Div(tile.agency, className="kpi-agency"),
            html.Div(tile.stale_text, className="kpi-stale-badge") if tile.stale_text else None,
        ],
    )


def kpi_panel(tiles: list[KpiTile], lang: str) -> list[Any]:
    return [
        html.H2(t("control_room.kpis", lang), className="panel-title"),
        html.Div([kpi_tile(tile) for tile in tiles], className="kpi-grid"),
    ]


def alert_item(row: AlertRow, lang: str) -> html.Div:
    meta = " · ".join(part for part in (row.district, row.value_text, row.state_text) if part)
    return html.Div(
        className=f"alert-row alert-row--{row.severity}",
        style={"--severity": row.colour},
        **{"data-alert": row.id},
        children=[
            html.Div(row.severity_text, className="alert-severity"),
            html.Div([html.Div(row.title, className="alert-title"), html.Div(meta, className="alert-meta")],
                     className="alert-body"),
            html.Div(
                [
                    html.Div(row.age_text, className="alert-age"),
                    html.Div(t("control_room.alert_since", lang, time=row.raised_text, n=row.occurrences),
                             className="alert-since"),
                ],
                className="alert-when",
            ),
        ],
    )


def alert_panel(rows: list[AlertRow], lang: str) -> list[Any]:
    body: Any = (
        [alert_item(row, lang) for row in rows]
        if rows
        else html.Div(t("control_room.no_alerts", lang), className="alert-empty")
    )
    return [
        html.H2(
            [t("control_room.alerts", lang), html.Span(str(len(rows)),
                                                       className="count-badge" + (" count-badge--hot" if rows else ""))],
            className="panel-title",
        ),
        html.Div(body, className="alert-list"),
    ]


def refresh(_tick: int | None, lang: str | None, seen: dict[str, Any] | None) -> tuple[Any, ...]:
    """Redraw what changed: the map on new data, language or staleness; tiles and alerts also as they age."""
    context = current()
    store, settings = context.store, context.settings
    lang = language(lang)
    now = utcnow()
    state = live_state(store, settings, now)
    signature = state.signature(lang)
    step = age_step(now)
    seen = seen or {}
    new_data = seen.get("signature") != signature
    if not new_data and seen.get("age_step") == step:
        return (dash.no_update,) * 5
    feeds = [feed for feed in settings.feeds if feed.enabled]
    # a feed's incidents and warnings are drawn and counted like its things
    entities_by_feed = {
        feed.name: store.entities_of_feed(feed.name) + store.events_of_feed(feed.name, now) for feed in feeds
    }
    alerts = store.open_alerts()
    tiles = kpi_tiles(settings, entities_by_feed, state.health, lang, now)
    figure: Any = dash.no_update
    title: Any = dash.no_update
    if new_data:
        entities = [entity for feed in feeds for entity in entities_by_feed[feed.name]]
        figure = city_figure(settings, entities, alerts, lang, base=map_base_layer(context),
                             stale_feeds=frozenset(state.stale_feeds))
        title = t("control_room.map_title", lang, n=len(entities), time=local_time(now, "%H:%M:%S"))
    return (
        figure,
        title,
        kpi_panel(tiles, lang),
        alert_panel(alert_rows(alerts, settings, lang, now), lang),
        {"signature": signature, "age_step": step},
    )


def register_callbacks(app: dash.Dash) -> None:
    app.callback(
        Output(ids.CITY_MAP, "figure"),
        Output(ids.CITY_MAP_TITLE, "children"),
        Output(ids.KPI_PANEL, "children"),
        Output(ids.ALERT_PANEL, "children"),
        Output(ids.CONTROL_ROOM_SEEN, "data"),
        Input(ids.CONTROL_ROOM_TICK, "n_intervals"),
        Input(ids.LANG, "data"),
        State(ids.CONTROL_ROOM_SEEN, "data"),
    )(refresh)
