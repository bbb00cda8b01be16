"""The situation view (/situation?alert=<id> or ?event=<id>, optionally &wall=1): one serious alarm or CAP
warning on one screen, read from across the room: the map zoomed to its area, the warning in Vietnamese and
English, the procedure with who does what, the related alarms, the feeds in the area and the timeline.

What it shows is assembled in ioc.situation; this module holds the layout and thin callbacks. `wall=1` drops
the header (a wall screen shows the view alone)."""

from __future__ import annotations

import contextlib
import json
from typing import Any

import dash
import redis
from dash import ALL, Input, Output, State, dcc, html

from ioc import alert_queue
from ioc import situation as situations
from ioc.alert_map import empty_map
from ioc.auth import may
from ioc.i18n import local_time, t
from ioc.model import utcnow
from ioc.pages import Callback, Page
from ioc.web import WebContext, age_step, language, map_base_layer
from layouts import ids
from layouts.alerts import current_actor, timeline_item

REFRESH_MS = 3000
TIMELINE_SHOWN = 14
MAP_CONFIG = {"displayModeBar": False, "scrollZoom": False, "staticPlot": False}
ACT_PERMISSION = "alerts.act"
CACHE_SECONDS = 60  # a drawing is keyed by the city's change counter: a stale one is never read again


def layout(_context: WebContext, alert: str | None = None, event: str | None = None, wall: str | None = None,
           **_query: Any) -> html.Div:
    on_wall = wall in ("1", "true", "yes")
    return html.Div(
        className="situation-page" + (" situation-page--wall" if on_wall else ""),
        children=[
            dcc.Interval(id=ids.SITUATION_TICK, interval=REFRESH_MS),
            dcc.Store(id=ids.SITUATION_QUERY, data={"alert": alert or None, "event": event or None}),
            dcc.Store(id=ids.SITUATION_SEEN),
            dcc.Store(id=ids.SITUATION_VERSION, data=0),
            html.Div(id=ids.SITUATION_HEAD, className="situation-head"),
            html.Div(
                className="situation-body",
                children=[
                    html.Section(className="panel situation-map-panel", children=[
                        dcc.Graph(id=ids.SITUATION_MAP, className="situation-map", config=MAP_CONFIG,
                                  figure=empty_map(), responsive=True),
                    ]),
                    html.Section(id=ids.SITUATION_WARNING, className="panel situation-warning"),
                    html.Section(id=ids.SITUATION_SOP, className="panel situation-sop"),
                    html.Section(id=ids.SITUATION_RELATED, className="panel situation-related"),
                    html.Section(id=ids.SITUATION_FEEDS, className="panel situation-feeds"),
                    html.Section(id=ids.SITUATION_TIMELINE, className="panel situation-timeline"),
                ],
            ),
        ],
    )


# --- the parts ---------------------------------------------------------------------------------------------


def head(found: situations.Situation, lang: str) -> list[Any]:
    record = found.record
    severity = str(found.severity)
    return [
        html.Span(t(f"control_room.severity.{severity}", lang),
                  className=f"situation-severity situation-severity--{severity}"),
        html.Div(className="situation-heading", children=[
            html.H1(found.texts[0 if lang == "vi" else 1].title, className="situation-title",
                    **{"data-alert": record.alert.id, "data-severity": severity}),
            html.Div(" · ".join(part for part in (", ".join(found.area_names),
                                                  local_time(record.alert.raised_at, "%H:%M %d/%m")) if part),
                     className="situation-where"),
        ]),
        html.Dl([part for label, value in found.facts for part in (html.Dt(label), html.Dd(value or "—"))],
                className="situation-facts"),
        html.Div(className="situation-links", children=[
            html.A(t("situation.link", lang), href=found.link, className="situation-link",
                   title=found.link, **{"data-link": found.link}),
            dcc.Link(t("situation.open_alert", lang), href=f"/alerts?alert={record.alert.id}",
                     className="situation-link") if found.stored else None,
        ]),
    ]


def warning(found: situations.Situation, lang: str) -> list[Any]:
    headline, body = found.issued
    return [
        html.H2(t("situation.section.warning", lang), className="panel-title"),
        html.Div(className="situation-texts", children=[
            html.Div(className=f"situation-text situation-text--{text.lang}", lang=text.lang, children=[
                html.Div(text.lang.upper(), className="situation-text-lang"),
                html.H3(text.title, className="situation-text-title"),
                html.Ul([html.Li(line) for line in text.lines], className="situation-text-lines"),
                html.P(text.source[1], className="situation-issued-body") if text.source and text.source[1] else None,
            ]) for text in found.texts
        ]),
        # a source that published in one language only: its words once, as issued
        html.Div(className="situation-issued", children=[
            html.Span(t("situation.issued", lang), className="muted"),
            html.Div(headline, className="situation-issued-headline"),
            html.P(body, className="situation-issued-body") if body else None,
        ]) if (headline or body) and not any(text.source for text in found.texts) else None,
    ]


def procedure(found: situations.Situation, lang: str) -> list[Any]:
    if found.sop is None:
        return [html.H2(t("situation.section.sop", lang), className="panel-title"),
                html.Div(t("situation.no_sop", lang), className="muted")]
    editable = found.sop.editable and may(ACT_PERMISSION)
    return [
        html.H2(found.sop.title, className="panel-title"),
        html.Ol(className="situation-steps", children=[
            html.Li(className="situation-step" + (" situation-step--done" if step.done else ""), children=[
                html.Button("✓" if step.done else str(step.number + 1), id=ids.situation_step(step.number),
                            n_clicks=0, className="situation-step-box", disabled=not editable, title=step.text),
                html.Div(className="situation-step-body", children=[
                    html.Div(step.text, className="situation-step-text"),
                    html.Div(step.who, className="situation-step-who") if step.who else None,
                    html.Div(step.done_text, className="situation-step-done") if step.done else None,
                ]),
            ]) for step in found.sop.steps
        ]),
    ]


def related(found: situations.Situation, lang: str) -> list[Any]:
    count = sum(len(group.alerts) for group in found.groups)
    title = html.H2(t("situation.section.related", lang, n=count), className="panel-title")
    if not found.groups:
        return [title, html.Div(t("situation.none_related", lang), className="muted")]
    return [title, html.Div(className="situation-groups", children=[
        html.Div(className="situation-group", style={"--severity": group.colour},
                 **{"data-rule": group.rule_id}, children=[
            html.Div([html.Span(str(len(group.alerts)), className="situation-group-count"),
                      html.Span(group.title, className="situation-group-title"),
                      html.Span(group.severity, className="situation-group-severity")],
                     className="situation-group-head"),
            html.Ul([html.Li([dcc.Link(alert_id, href=situations.link(alert=alert_id)), f" {place} · {state}"])
                     for alert_id, place, state in group.alerts[:6]], className="situation-group-alerts"),
        ]) for group in found.groups
    ])]


def feeds(found: situations.Situation, lang: str) -> list[Any]:
    rows = [
        html.Li(className=f"situation-feed situation-feed--{feed.status}", **{"data-feed": feed.feed}, children=[
            html.Span(feed.status_text, className=f"status-pill status-pill--{feed.status}"),
            html.Span(feed.agency, className="situation-feed-agency"),
            html.Span(feed.sector, className="sector-chip", style={"--sector": feed.sector_colour}),
            html.Span(t("situation.entities_n", lang, n=feed.entities), className="situation-feed-count"),
        ]) for feed in found.feeds
    ]
    names = [entity.get("name") or entity.get("id", "") for entity in found.entities]
    return [
        html.H2(t("situation.section.feeds", lang), className="panel-title"),
        html.Ul(rows, className="situation-feed-list") if rows else html.Div(t("situation.no_feeds", lang),
                                                                               className="muted"),
        html.H3(t("situation.section.entities", lang, n=found.entity_count), className="situation-subtitle"),
        html.Div(", ".join(names) + (" …" if found.entity_count > len(names) else ""),
                 className="situation-entities") if names else None,
    ]


def timeline(found: situations.Situation, lang: str) -> list[Any]:
    return [
        html.H2(t("situation.section.timeline", lang), className="panel-title"),
        html.Ol([timeline_item(line) for line in found.timeline[:TIMELINE_SHOWN]], className="alerts-timeline"),
    ]


# --- callbacks ---------------------------------------------------------------------------------------------


def refresh(context: WebContext, _tick: int | None, lang: str | None, query: dict[str, Any] | None,
            version: int | None, seen: dict[str, Any] | None) -> tuple[Any, ...]:
    """Redraw when anything in the city's alerts or feeds changed, the language moved or a step was ticked."""
    lang = language(lang)
    query = query or {}
    alert, event = query.get("alert"), query.get("event")
    now = utcnow()
    signature = {**situations.signature(context.store, lang, alert, event, age_step(now)), "version": version}
    if seen == signature:
        return (dash.no_update,) * 8
    acting = may(ACT_PERMISSION)
    # every screen showing one situation (a wall taken over shows it on all of them) shares one drawing of it
    key = "situation:" + json.dumps([context.settings.city.id, signature["changes"], signature["age"], lang,
                                     alert, event, acting])
    drawn = _cached(context, key)
    if drawn is None:
        drawn = draw(context, lang, alert, event)
        with contextlib.suppress(redis.RedisError):
            context.cache.set(key, drawn, timeout=CACHE_SECONDS)
    return (*drawn, signature)


def _cached(context: WebContext, key: str) -> tuple[Any, ...] | None:
    try:
        return context.cache.get(key)
    except redis.RedisError:
        return None  # a cache outage costs time, not the view


def draw(context: WebContext, lang: str, alert: str | None, event: str | None) -> tuple[Any, ...]:
    """The view's seven parts for one situation in one language, as the signed-in role may act on it."""
    try:
        found = situations.assemble(context.store, context.settings, lang, utcnow(), alert=alert, event=event)
    except situations.SituationNotFound:
        message = t("situation.gone", lang, id=alert or event) if (alert or event) else t("situation.choose", lang)
        return html.H1(message, className="situation-title muted"), empty_map(), None, None, None, None, None
    figure = situations.situation_map(found, context.settings, map_base_layer(context), lang)
    return (head(found, lang), figure, warning(found, lang), procedure(found, lang), related(found, lang),
            feeds(found, lang), timeline(found, lang))


def tick_step(context: WebContext, _clicks: list[int | None], query: dict[str, Any] | None,
              version: int | None) -> Any:
    """A click on a step ticks it (or unticks it), as on the alert page, as the signed-in user."""
    trigger = dash.ctx.triggered_id
    # redraws re-create the step buttons, which fires this callback without a click
    if not isinstance(trigger, dict) or not any(item.get("value") for item in dash.ctx.triggered):
        return dash.no_update
    alert_id = (query or {}).get("alert")
    if not alert_id:
        found = situations.find(context.store, context.settings, event=(query or {}).get("event"))
        alert_id = found[0].id if found[1] else None
    changed = alert_queue.toggle_step(context.store.alerts, context.settings, alert_id,
                                       int(trigger["step"]), actor=current_actor())
    return (version or 0) + 1 if changed else dash.no_update


PAGE = Page(
    module=__name__,
    path=situations.PATH,
    title_key="situation.title",
    order=90,
    permission="situation.view",
    layout=layout,
    callbacks=(
        Callback(
            outputs=(Output(ids.SITUATION_HEAD, "children"), Output(ids.SITUATION_MAP, "figure"),
                     Output(ids.SITUATION_WARNING, "children"), Output(ids.SITUATION_SOP, "children"),
                     Output(ids.SITUATION_RELATED, "children"), Output(ids.SITUATION_FEEDS, "children"),
                     Output(ids.SITUATION_TIMELINE, "children"), Output(ids.SITUATION_SEEN, "data")),
            inputs=(Input(ids.SITUATION_TICK, "n_intervals"), Input(ids.LANG, "data"),
                    Input(ids.SITUATION_QUERY, "data"), Input(ids.SITUATION_VERSION, "data")),
            states=(State(ids.SITUATION_SEEN, "data"),),
            function=refresh,
        ),
        Callback(
            outputs=(Output(ids.SITUATION_VERSION, "data"),),
            inputs=(Input({"type": ids.SITUATION_STEP, "step": ALL}, "n_clicks"),),
            states=(State(ids.SITUATION_QUERY, "data"), State(ids.SITUATION_VERSION, "data")),
            function=tick_step,
            permission=ACT_PERMISSION,
            prevent_initial_call=True,
        ),
    ),
)
