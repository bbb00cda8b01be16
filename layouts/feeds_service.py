"""The feed board's out-of-service panel: take a feed or one of its sensors out of service with a reason (for a
few hours or until put back), declare a maintenance window over feeds and areas, and the list of what is
silenced now with a button to end each. The changes need `service.manage`; ioc.alerts.service does them."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import dash
from dash import ALL, Input, Output, State, dcc, html

from ioc.alerts.service import ENTITY, FEED, Service, ServiceRefused
from ioc.areas import area_index
from ioc.auth import current_actor
from ioc.i18n import local_time, t
from ioc.model import utcnow
from ioc.pages import Callback
from ioc.web import WebContext, language
from layouts import ids

HOURS = (1, 2, 4, 8, 24)
UNTIL_BACK = 0  # the choice "until put back"


def service_panel(context: WebContext) -> html.Section:
    feeds = [{"label": feed.name, "value": feed.name} for feed in context.settings.feeds]
    areas = [{"label": name, "value": name} for name in area_index(context.settings.city).names]
    return html.Section(className="panel feeds-service", children=[
        dcc.Store(id=ids.FEEDS_SERVICE_VERSION, data=0),
        dcc.Store(id=ids.FEEDS_SERVICE_ENDED, data=0),
        html.H2(id=ids.FEEDS_SERVICE_TITLE, className="panel-title"),
        html.Div(className="feeds-service-form", children=[
            dcc.Dropdown(id=ids.FEEDS_SERVICE_FEEDS, options=feeds, multi=True, className="alerts-dropdown"),
            dcc.Input(id=ids.FEEDS_SERVICE_ENTITY, type="text", className="feeds-service-input", debounce=False),
            dcc.Dropdown(id=ids.FEEDS_SERVICE_AREAS, options=areas, multi=True, className="alerts-dropdown"),
            dcc.Input(id=ids.FEEDS_SERVICE_REASON, type="text", className="feeds-service-input", debounce=False),
            dcc.Dropdown(id=ids.FEEDS_SERVICE_HOURS, options=[], value=2, clearable=False,
                         className="alerts-dropdown"),
            html.Button(id=ids.FEEDS_SERVICE_OUT, n_clicks=0, className="alerts-button feeds-service-button"),
            html.Button(id=ids.FEEDS_SERVICE_MAINTENANCE, n_clicks=0,
                        className="alerts-button feeds-service-button"),
        ]),
        html.Div(id=ids.FEEDS_SERVICE_FEEDBACK, className="alerts-feedback"),
        html.Div(id=ids.FEEDS_SERVICE_LIST, className="feeds-service-list"),
    ])


def labels(_context: WebContext, lang: str | None) -> tuple[Any, ...]:
    lang = language(lang)
    hours = [{"label": t("feeds.service.hours", lang, n=n), "value": n} for n in HOURS]
    hours.append({"label": t("feeds.service.until_back", lang), "value": UNTIL_BACK})
    return (t("feeds.service.title", lang), t("feeds.service.feeds", lang), t("feeds.service.entity", lang),
            t("feeds.service.areas", lang), t("feeds.service.reason", lang), hours, t("feeds.service.out", lang),
            t("feeds.service.maintenance", lang))


def _service(context: WebContext) -> Service:
    return Service(context.store.redis, context.store.keys, context.settings)


def act(context: WebContext, _out: int | None, _maintenance: int | None, feeds: list[str] | None,
        entity: str | None, areas: list[str] | None, reason: str | None, hours: int | None, lang: str | None,
        version: int | None) -> tuple[Any, Any]:
    """Out of service (a sensor when an entity id is given, else each chosen feed), or a maintenance window
    from now over the chosen feeds and areas; refused with the reason when something is missing."""
    action = "out" if dash.ctx.triggered_id == ids.FEEDS_SERVICE_OUT else "maintenance"
    return perform(context, action, feeds, entity, areas, reason, hours, lang, version)


def perform(context: WebContext, action: str, feeds: list[str] | None, entity: str | None, areas: list[str] | None,
            reason: str | None, hours: int | None, lang: str | None, version: int | None) -> tuple[Any, Any]:
    """`out` or `maintenance` as the current actor: the feedback line, and the version bumped when done."""
    lang = language(lang)
    service, now, actor = _service(context), utcnow(), current_actor()
    until = now + timedelta(hours=hours) if hours else None
    try:
        if action == "out":
            targets = [(ENTITY, entity.strip())] if (entity or "").strip() else [(FEED, f) for f in feeds or []]
            if not targets:
                raise ServiceRefused(t("feeds.service.choose", lang))
            done = [service.take_out(kind, name, actor=actor, reason=reason or "", until=until, now=now).target
                    for kind, name in targets]
            text = t("feeds.service.done_out", lang, what=", ".join(done))
        else:
            if until is None:
                raise ServiceRefused(t("feeds.service.window_end", lang))
            window = service.declare_window(feeds=feeds or [], areas=areas or [], start=now, end=until,
                                            reason=reason or "", actor=actor, now=now)
            text = t("feeds.service.done_window", lang, id=window.id, end=local_time(window.end, "%H:%M"))
    except ServiceRefused as refusal:
        return _line(str(refusal), "refused"), dash.no_update
    return _line(text, "ok"), (version or 0) + 1


def end(context: WebContext, _clicks: list[int | None], ended: int | None) -> Any:
    """Put a feed or sensor back in service, or cancel a declared maintenance window (the clicked line's)."""
    trigger = dash.ctx.triggered_id
    # a redraw of the list re-creates the buttons, which fires this callback without a click
    if not isinstance(trigger, dict) or not any(item.get("value") for item in dash.ctx.triggered):
        return dash.no_update
    service, target = _service(context), str(trigger.get("target", ""))
    kind, _, name = target.partition(":")
    done = (service.cancel_window(name, actor=current_actor()) if kind == "maintenance"
             else service.put_back(kind, name, actor=current_actor()))
    return (ended or 0) + 1 if done else dash.no_update


def listing(context: WebContext, _tick: int | None, lang: str | None, _version: int | None, _ended: int | None
            ) -> list[Any]:
    """What is out of service and the maintenance windows now or within a day, each with its end button."""
    lang = language(lang)
    service, now = _service(context), utcnow()
    lines: list[Any] = []
    for item in service.out_of_service(now):
        until = local_time(item.until, "%H:%M %d/%m") if item.until else t("feeds.service.until_back", lang)
        lines.append(_item(f"{item.target}", t("feeds.service.line_out", lang, by=item.by, until=until,
                                                reason=item.reason), item.target, t("feeds.service.back", lang)))
    for window in service.windows(now):
        what = ", ".join([*window.feeds, *window.areas])
        when = f"{local_time(window.start, '%H:%M %d/%m')}–{local_time(window.end, '%H:%M %d/%m')}"
        button = None if window.recurring else t("feeds.service.cancel", lang)
        lines.append(_item(f"{window.id} · {what}", f"{when} · {window.reason}", f"maintenance:{window.id}", button,
                           active=window.active(now)))
    return lines or [html.Div(t("alerts.service.none", lang), className="muted")]


def _item(what: str, detail: str, target: str, button: str | None, *, active: bool = True) -> html.Div:
    return html.Div(className="feeds-service-line" + ("" if active else " feeds-service-line--later"),
                    **{"data-target": target}, children=[
        html.Span(what, className="feeds-service-what"), html.Span(detail, className="feeds-service-why"),
        html.Button(button, id={"type": ids.FEEDS_SERVICE_END, "target": target}, n_clicks=0,
                    className="alerts-button feeds-service-end") if button else None,
    ])


def _line(text: str, tone: str) -> html.Div:
    return html.Div(text, className=f"alerts-feedback-line alerts-feedback-line--{tone}")


CALLBACKS = (
    Callback(
        outputs=(Output(ids.FEEDS_SERVICE_TITLE, "children"), Output(ids.FEEDS_SERVICE_FEEDS, "placeholder"),
                 Output(ids.FEEDS_SERVICE_ENTITY, "placeholder"), Output(ids.FEEDS_SERVICE_AREAS, "placeholder"),
                 Output(ids.FEEDS_SERVICE_REASON, "placeholder"), Output(ids.FEEDS_SERVICE_HOURS, "options"),
                 Output(ids.FEEDS_SERVICE_OUT, "children"), Output(ids.FEEDS_SERVICE_MAINTENANCE, "children")),
        inputs=(Input(ids.LANG, "data"),),
        function=labels,
    ),
    Callback(
        outputs=(Output(ids.FEEDS_SERVICE_FEEDBACK, "children"), Output(ids.FEEDS_SERVICE_VERSION, "data")),
        inputs=(Input(ids.FEEDS_SERVICE_OUT, "n_clicks"), Input(ids.FEEDS_SERVICE_MAINTENANCE, "n_clicks")),
        states=(State(ids.FEEDS_SERVICE_FEEDS, "value"), State(ids.FEEDS_SERVICE_ENTITY, "value"),
                State(ids.FEEDS_SERVICE_AREAS, "value"), State(ids.FEEDS_SERVICE_REASON, "value"),
                State(ids.FEEDS_SERVICE_HOURS, "value"), State(ids.LANG, "data"),
                State(ids.FEEDS_SERVICE_VERSION, "data")),
        function=act,
        permission="service.manage",
        prevent_initial_call=True,
    ),
    Callback(
        outputs=(Output(ids.FEEDS_SERVICE_ENDED, "data"),),
        inputs=(Input({"type": ids.FEEDS_SERVICE_END, "target": ALL}, "n_clicks"),),
        states=(State(ids.FEEDS_SERVICE_ENDED, "data"),),
        function=end,
        permission="service.manage",
        prevent_initial_call=True,
    ),
    Callback(
        outputs=(Output(ids.FEEDS_SERVICE_LIST, "children"),),
        inputs=(Input(ids.FEEDS_TICK, "n_intervals"), Input(ids.LANG, "data"), Input(ids.FEEDS_SERVICE_VERSION, "data"),
                Input(ids.FEEDS_SERVICE_ENDED, "data")),
        function=listing,
    ),
)
