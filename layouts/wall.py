"""The video wall (/wall?screen=<id>): a kiosk page with no navigation, type sized for 3 to 5 m, a playlist
that rotates by the clock, a takeover by a critical alarm, and a heartbeat that says within 10 s when the
server is lost and greys what it shows until it is back.

The screen's page asks /wall/state every tick (a fetch in the browser, assets/wall.js): its answer is the
heartbeat, and a refusal (401/403: the screen was revoked) blanks the screen. Which view is on show is
decided on the server (ioc.wall.state) and drawn from the dashboard's own pages (layouts.wall_views)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import flask
from dash import ClientsideFunction, Input, Output, State, dcc, html

from ioc.access.screens import WALL_PATH, current_screen
from ioc.i18n import CITY_ZONE, DEFAULT_LANGUAGE, t
from ioc.model import utcnow
from ioc.pages import Callback, Page, Route
from ioc.roles import USER_NAME
from ioc.wall.config import WALL_FILE, WallConfig, load_wall
from ioc.wall.screens import ScreenBook
from ioc.wall.state import wall_state
from ioc.web import WebContext, language
from layouts import ids
from layouts.wall_views import banner, render

STATE_PATH = "/wall/state"
PERMISSION = "wall.view"
TICK_MS = 2000
# a tick's answer that takes longer than this counts as missing
FETCH_TIMEOUT_MS = 3000
# lost after three missed ticks; the overlay's clock checks every second, so the screen says so within 7 s
LOST_MS = 3 * TICK_MS
_configs: dict[Path, tuple[int, WallConfig]] = {}


def wall_config(context: WebContext) -> WallConfig:
    """The city's wall.yaml, read again when the file changes (a playlist edit needs no restart)."""
    path = Path(context.settings.directory) / WALL_FILE
    stamp = path.stat().st_mtime_ns if path.exists() else 0
    held = _configs.get(path)
    if held is None or held[0] != stamp:
        held = _configs[path] = (stamp, load_wall(context.settings))
    return held[1]


# what a person previewing /wall without naming a screen sees: a screen wall.yaml does not list, so the
# default playlist
PREVIEW = "preview"


def _screen_id(asked: str | None) -> str:
    """A paired screen is always its own screen; a person previewing the wall names one (or sees the
    default playlist)."""
    screen = current_screen()
    return screen.screen_id if screen is not None else ((asked or "").strip().lower() or PREVIEW)


def layout(context: WebContext, screen: str | None = None, **_query: Any) -> html.Div:
    screen_id = _screen_id(screen)
    lang = DEFAULT_LANGUAGE
    return html.Div(
        id=ids.WALL,
        className="wall",
        children=[
            dcc.Store(id=ids.WALL_SETUP, data={
                "screen": screen_id, "state": STATE_PATH, "tick_ms": TICK_MS, "timeout_ms": FETCH_TIMEOUT_MS,
                "lost_ms": LOST_MS, "zone": str(CITY_ZONE),
                "texts": {code: {"lost": t("wall.lost", code, time="{time}"), "lost_short": t("wall.lost_short", code),
                                 "live": t("wall.live", code)} for code in ("vi", "en")},
            }),
            dcc.Store(id=ids.WALL_STATE),
            dcc.Store(id=ids.WALL_VIEW),
            dcc.Store(id=ids.WALL_ZOOMED),
            dcc.Interval(id=ids.WALL_TICK, interval=TICK_MS),
            dcc.Interval(id=ids.WALL_CLOCK_TICK, interval=1000),
            html.Div(className="wall-bar", children=[
                html.Div(context.settings.city.name.get(lang), className="wall-city"),
                html.Div(id=ids.WALL_LABEL, className="wall-label"),
                html.Div(id=ids.WALL_BEAT, className="wall-beat wall-beat--lost"),
                html.Div(id=ids.WALL_TIME, className="wall-time"),
            ]),
            html.Div(id=ids.WALL_BANNER, className="wall-banner"),
            html.Div(id=ids.WALL_CONTENT, className="wall-content"),
            html.Div(id=ids.WALL_LOST, className="wall-lost"),
            html.Div(t("wall.revoked", lang) + " / " + t("wall.revoked", "en"), id=ids.WALL_BLANK,
                     className="wall-blank"),
        ],
    )


def show_view(context: WebContext, view: dict[str, Any] | None, lang: str | None) -> tuple[Any, Any, Any]:
    """Draw the view the rotation or a takeover moved to (called only when it moves)."""
    lang = language(lang)
    if not view:
        return [], None, ""
    label = str(view.get("label") or "")
    if view.get("position"):
        label += f" · {view['position']}"  # where the rotation is: "2/5"
    return render(context, view, lang), banner(view), label


def state_route(context: WebContext) -> flask.Response:
    """GET /wall/state?screen=<id>&lang=vi: the screen's state now (ioc.wall.state), never cached. A paired
    screen gets its own screen's, whatever it asks; the guard refuses a revoked one (401)."""
    args = flask.request.args
    screen = current_screen()
    screen_id = _screen_id(args.get("screen"))
    if not USER_NAME.match(screen_id):
        response = flask.jsonify({"error": "name a screen: /wall/state?screen=<id>", "status": 400})
        response.status_code = 400
        return response
    now = utcnow()
    lang = language(args.get("lang"))
    titles = {page.path: t(page.title_key, lang) for page in context.pages}
    body = wall_state(context.store, context.settings, wall_config(context), screen_id, lang, now, titles)
    if screen is not None:
        ScreenBook(context.store.redis, context.store.keys).note_seen(screen.screen_id, now)
    response = flask.jsonify(body)
    response.headers["Cache-Control"] = "no-store"
    return response


PAGE = Page(
    module=__name__,
    path=WALL_PATH,
    title_key="nav.wall",
    order=95,
    permission=PERMISSION,
    layout=layout,
    callbacks=(
        # the tick: a fetch of /wall/state in the browser, so a refusal and a lost server can be told apart
        Callback(
            outputs=(Output(ids.WALL_STATE, "data"), Output(ids.WALL_VIEW, "data")),
            inputs=(Input(ids.WALL_TICK, "n_intervals"),),
            states=(State(ids.WALL_SETUP, "data"), State(ids.WALL_VIEW, "data"), State(ids.LANG, "data")),
            function=ClientsideFunction(namespace="wall", function_name="tick"),
        ),
        Callback(
            outputs=(Output(ids.WALL_CONTENT, "children"), Output(ids.WALL_BANNER, "children"),
                     Output(ids.WALL_LABEL, "children")),
            inputs=(Input(ids.WALL_VIEW, "data"),),
            states=(State(ids.LANG, "data"),),
            function=show_view,
        ),
        # every second: the clock, the heartbeat chip, and "connection lost" once the ticks stop answering
        Callback(
            outputs=(Output(ids.WALL_TIME, "children"), Output(ids.WALL_BEAT, "className"),
                     Output(ids.WALL_BEAT, "children"), Output(ids.WALL, "className"),
                     Output(ids.WALL_LOST, "children")),
            inputs=(Input(ids.WALL_CLOCK_TICK, "n_intervals"), Input(ids.WALL_STATE, "data")),
            states=(State(ids.WALL_SETUP, "data"), State(ids.WALL_VIEW, "data"), State(ids.LANG, "data")),
            function=ClientsideFunction(namespace="wall", function_name="clock"),
        ),
        # an area item zooms the control room's map to the area once it has drawn
        Callback(
            outputs=(Output(ids.WALL_ZOOMED, "data"),),
            inputs=(Input(ids.CITY_MAP, "figure"),),
            states=(State(ids.WALL_VIEW, "data"), State(ids.WALL_ZOOMED, "data")),
            function=ClientsideFunction(namespace="wall", function_name="zoom"),
        ),
    ),
    routes=(Route(STATE_PATH, "ioc_wall_state", state_route, permission=PERMISSION),),
)
