"""The frame around every page: header with city name, page links, heartbeat, clock and the VI/EN switch."""

from __future__ import annotations

from typing import Any

import dash
import redis
from dash import ClientsideFunction, Input, Output, State, dcc, html

from ioc.access import csrf_token, may_open
from ioc.access.language import remember, request_language
from ioc.auth import current_user, may
from ioc.cities import SWITCH_PATH, deployment_of
from ioc.i18n import CITY_ZONE, local_time, t
from ioc.model import utcnow
from ioc.pages import Callback, Frame, Page
from ioc.web import WebContext, language
from layouts import ids
from layouts.admin import account_menu
from layouts.annunciator import CALLBACKS as ANNUNCIATOR_CALLBACKS
from layouts.annunciator import PERMISSION as ANNOUNCE_PERMISSION
from layouts.annunciator import annunciator
from layouts.handover import DUE_CALLBACKS as HANDOVER_DUE_CALLBACKS
from layouts.handover import VIEW as HANDOVER_PERMISSION
from layouts.handover import due_badge

HEARTBEAT_MS = 2000
# The clock counts the server lost after this long without a heartbeat (three missed beats).
HEARTBEAT_LOST_MS = 3 * HEARTBEAT_MS


def nav_pages(pages: tuple[Page, ...]) -> tuple[Page, ...]:
    """The pages the header links to, in nav order (those declared with a nav link id)."""
    return tuple(page for page in pages if page.nav_id is not None)


def city_switch(lang: str) -> list[html.Form]:
    """The city switch, for a user holding roles in several of the deployment's cities: a form posting the
    chosen city to /city (the server checks the role there and audits); nothing for anyone else."""
    deployment = deployment_of()
    user = current_user()
    if deployment is None or user is None:
        return []
    held = deployment.cities_of(user)
    if len(held) < 2:
        return []
    current = deployment.current_city()
    return [html.Form(id=ids.CITY_SWITCH, action=SWITCH_PATH, method="POST", className="ioc-city-switch",
                      title=t("header.city_switch", lang), children=[
        dcc.Input(type="hidden", name="csrf", value=csrf_token()),
        *(html.Button(title, type="submit", name="city", value=city,
                      className="ioc-lang-button ioc-lang-button--active" if city == current else "ioc-lang-button")
          for city, title in deployment.names(lang) if city in held),
    ])]


def layout(context: WebContext) -> html.Div:
    settings = context.settings
    # the browser's chosen language (a cookie the sign-in page shares), else the city's
    lang = request_language()
    now = utcnow()
    switch = city_switch(lang)
    return html.Div(
        className="ioc-app",
        children=[
            dcc.Location(id=ids.URL),
            dcc.Store(id=ids.LANG, data=lang),
            dcc.Store(id=ids.CITY_ZONE, data={"zone": str(CITY_ZONE), "lost_ms": HEARTBEAT_LOST_MS}),
            dcc.Store(id=ids.HEARTBEAT_STATE),
            dcc.Interval(id=ids.CLOCK_TICK, interval=1000),
            dcc.Interval(id=ids.HEARTBEAT_TICK, interval=HEARTBEAT_MS),
            html.Header(
                className="ioc-header",
                children=[
                    html.Div(
                        className="ioc-brand",
                        children=[
                            html.Div("IOC", className="ioc-logo"),
                            html.Div(
                                [
                                    html.Div(settings.city.name.get(lang), id=ids.CITY_NAME, className="ioc-city"),
                                    # a user of several cities gets the switch in the subtitle's place
                                    html.Div(t("app.subtitle", lang), id=ids.CITY_SUBTITLE,
                                             className="ioc-subtitle", **({"hidden": True} if switch else {})),
                                    *switch,
                                ]
                            ),
                        ],
                    ),
                    html.Nav(
                        className="ioc-nav",
                        children=[
                            # links the signed-in role may not open are hidden (the server refuses them anyway)
                            dcc.Link(t(page.title_key, lang), href=page.path, id=page.nav_id,
                                     className="ioc-nav-link",
                                     style=None if may_open(page.path) else {"display": "none"})
                            for page in nav_pages(context.pages)
                        ],
                    ),
                    html.Div(
                        className="ioc-header-right",
                        children=[
                            # a handover due shows on every screen of a role that hands over
                            *(due_badge() if may(HANDOVER_PERMISSION) else []),
                            html.Div(
                                id=ids.HEARTBEAT,
                                className="ioc-heartbeat ioc-heartbeat--lost",
                                children=[html.Span(className="ioc-heartbeat-dot"),
                                          html.Span(id=ids.HEARTBEAT_LABEL, className="ioc-heartbeat-label")],
                            ),
                            html.Div(
                                className="ioc-clock",
                                children=[
                                    html.Div(local_time(now, "%H:%M:%S"), id=ids.CLOCK_TIME,
                                             className="ioc-clock-time"),
                                    html.Div(local_time(now, "%d/%m/%Y"), id=ids.CLOCK_DATE,
                                             className="ioc-clock-date"),
                                ],
                            ),
                            account_menu(lang),
                            html.Div(
                                className="ioc-lang",
                                children=[
                                    html.Button("VI", id=ids.LANG_VI, n_clicks=0, className="ioc-lang-button"),
                                    html.Button("EN", id=ids.LANG_EN, n_clicks=0, className="ioc-lang-button"),
                                ],
                            ),
                        ],
                    ),
                ],
            ),
            html.Main(dash.page_container, className="ioc-main"),
            # every screen of a role that sees alerts announces the top-priority ones, whatever page it shows
            *([annunciator(lang)] if may(ANNOUNCE_PERMISSION) else []),
        ],
    )


def language_for(button: Any) -> str:
    """The language a click on the VI/EN switch selects."""
    return "en" if button == ids.LANG_EN else "vi"


def choose_language(_context: WebContext, _vi: int | None, _en: int | None) -> str:
    """The switch's choice, kept in the browser's language cookie so every page (sign-in too) opens in it."""
    chosen = language_for(dash.ctx.triggered_id)
    remember(dash.ctx.response, chosen)
    return chosen


def header_text(context: WebContext, lang: str | None, pathname: str | None) -> tuple[Any, ...]:
    """City name, subtitle, page links (the current one marked) and the switch, in the chosen language."""
    lang = language(lang)
    settings = context.settings
    links: list[Any] = []
    for page in nav_pages(context.pages):
        active = (pathname or "/").rstrip("/") == page.path.rstrip("/")
        links.extend([t(page.title_key, lang), "ioc-nav-link ioc-nav-link--active" if active else "ioc-nav-link"])
    return (
        settings.city.name.get(lang),
        t("app.subtitle", lang),
        *links,
        "ioc-lang-button ioc-lang-button--active" if lang == "vi" else "ioc-lang-button",
        "ioc-lang-button ioc-lang-button--active" if lang == "en" else "ioc-lang-button",
    )


def heartbeat(context: WebContext, beat: int | None, lang: str | None) -> dict[str, Any]:
    """What the header's heartbeat shows: whether Redis answers, and its labels in the chosen language."""
    lang = language(lang)
    try:
        redis_ok = bool(context.store.redis.ping())
    except (redis.RedisError, OSError):
        redis_ok = False
    return {
        "seq": beat or 0,
        "redis": redis_ok,
        "live": t("header.live", lang),
        "lost": t("header.lost", lang),
        "redis_down": t("header.redis_down", lang),
    }


def frame(pages: tuple[Page, ...]) -> Frame:
    """The shell around `pages`: its layout and its callbacks (any signed-in user; the nav's outputs follow
    the pages that have a link)."""
    return Frame(layout=layout, callbacks=(
        Callback(
            outputs=(Output(ids.LANG, "data"),),
            inputs=(Input(ids.LANG_VI, "n_clicks"), Input(ids.LANG_EN, "n_clicks")),
            function=choose_language,
            prevent_initial_call=True,
        ),
        Callback(
            outputs=(Output(ids.CITY_NAME, "children"), Output(ids.CITY_SUBTITLE, "children"),
                     *[Output(page.nav_id, prop) for page in nav_pages(pages) for prop in ("children", "className")],
                     Output(ids.LANG_VI, "className"), Output(ids.LANG_EN, "className")),
            inputs=(Input(ids.LANG, "data"), Input(ids.URL, "pathname")),
            function=header_text,
        ),
        Callback(
            outputs=(Output(ids.HEARTBEAT_STATE, "data"),),
            inputs=(Input(ids.HEARTBEAT_TICK, "n_intervals"), Input(ids.LANG, "data")),
            function=heartbeat,
        ),
        # the clock ticks in the browser: a server round trip per second would be load with no information
        Callback(
            outputs=(Output(ids.CLOCK_TIME, "children"), Output(ids.CLOCK_DATE, "children"),
                     Output(ids.HEARTBEAT, "className"), Output(ids.HEARTBEAT_LABEL, "children")),
            inputs=(Input(ids.CLOCK_TICK, "n_intervals"), Input(ids.HEARTBEAT_STATE, "data")),
            states=(State(ids.CITY_ZONE, "data"),),
            function=ClientsideFunction(namespace="ioc", function_name="clock"),
        ),
        *ANNUNCIATOR_CALLBACKS,
        *HANDOVER_DUE_CALLBACKS,
    ))
