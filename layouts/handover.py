"""The shift handover page (/handover, or /handover?shift=<YYYY-MM-DD>:<shift id> for one shift): the shift's
summary, a notes box, "hand over" for the outgoing operator and "accept" for the incoming one, the past
handovers with their PDF (/handover/pdf), and the header's reminder when a handover is due.

What it shows is computed in ioc.handover and ioc.handover_summary; this module holds layout and thin
callbacks. The notes box is never redrawn by the live refresh, so what someone types survives it."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

import dash
import flask
from dash import Input, Output, State, dcc, html

from ioc.access.language import request_language
from ioc.auth import current_actor, may
from ioc.handover import (
    HANDED_OVER,
    OPEN,
    AtHand,
    HandoverBook,
    HandoverRefused,
    city_zone,
    notification_settings,
    shown,
)
from ioc.handover_pdf import who_line, write
from ioc.handover_summary import counts, sections, shift_name, shift_summary, window_text
from ioc.i18n import LANGUAGES, local_time, t
from ioc.model import utcnow
from ioc.pages import Callback, Page, Route
from ioc.web import WebContext, language
from layouts import ids

PATH = "/handover"
PDF_PATH = "/handover/pdf"
REFRESH_MS = 15_000
DUE_CHECK_MS = 30_000
VIEW, ACT = "handover.view", "handover.act"


def layout(_context: WebContext, shift: str | None = None, **_query: Any) -> html.Div:
    return html.Div(
        className="handover-page",
        children=[
            dcc.Interval(id=ids.HANDOVER_TICK, interval=REFRESH_MS),
            dcc.Store(id=ids.HANDOVER_KEY, data=shift or None),
            dcc.Store(id=ids.HANDOVER_SHOWN),
            dcc.Store(id=ids.HANDOVER_VERSION, data=0),
            html.Div(className="handover-head", children=[
                html.H1(id=ids.HANDOVER_TITLE, className="handover-title"),
                html.Div(id=ids.HANDOVER_STATE, className="handover-state"),
            ]),
            html.Div(className="handover-body", children=[
                html.Section(id=ids.HANDOVER_SUMMARY, className="panel handover-summary"),
                html.Section(className="panel handover-side", children=[
                    html.H2(id=ids.HANDOVER_NOTES_TITLE, className="panel-title"),
                    dcc.Textarea(id=ids.HANDOVER_NOTES, className="handover-notes", value=""),
                    html.Div(className="handover-buttons", children=[
                        html.Button(id=ids.HANDOVER_HAND, n_clicks=0, className="handover-button handover-button--hand"),
                        html.Button(id=ids.HANDOVER_ACCEPT, n_clicks=0,
                                    className="handover-button handover-button--accept"),
                    ]),
                    html.Div(id=ids.HANDOVER_FEEDBACK, className="handover-feedback"),
                    html.A(id=ids.HANDOVER_PDF, className="handover-pdf", href=PDF_PATH, target="_blank",
                           rel="noopener"),
                    html.H2(id=ids.HANDOVER_PAST_TITLE, className="panel-title handover-past-title"),
                    html.Div(id=ids.HANDOVER_PAST, className="handover-past"),
                ]),
            ]),
        ],
    )


# --- reading -----------------------------------------------------------------------------------------------


def _book(context: WebContext) -> HandoverBook:
    return HandoverBook(context.store.redis, context.store.keys)


def current(context: WebContext, key: str | None) -> tuple[AtHand | None, dict[str, Any] | None]:
    """The handover shown and its summary: as handed over once it was, else as the shift stands now."""
    shifts = notification_settings(context.settings)
    if shifts is None:
        return None, None
    now = utcnow()
    found = shown(_book(context), shifts, now, city_zone(context.settings), key)
    if found is None:
        return None, None
    summary = found.handover.summary or shift_summary(context.store, context.settings, found.window, now)
    return found, summary


def pdf_href(key: str, lang: str) -> str:
    return f"{PDF_PATH}?{urlencode({'shift': key, 'lang': lang})}"


def _table(section: Any) -> html.Table:
    body = []
    for row, link in zip(section.rows, section.links, strict=True):
        first = dcc.Link(row[0], href=link) if link else row[0]
        body.append(html.Tr([html.Td(first), *[html.Td(cell) for cell in row[1:]]]))
    return html.Table([html.Thead(html.Tr([html.Th(column) for column in section.columns])), html.Tbody(body)],
                      className="handover-table")


def summary_view(found: AtHand, summary: dict[str, Any], context: WebContext, lang: str) -> list[Any]:
    handover = found.handover
    tiles = [html.Div(className=f"handover-count handover-count--{key}" + (" handover-count--hot" if key == "sla"
                                                                          and number else ""),
                      **{"data-count": key}, children=[html.Div(str(number), className="handover-count-number"),
                                                       html.Div(label, className="handover-count-label")])
             for key, label, number in counts(summary, lang)]
    notes = [html.Div(className="handover-handed-notes", children=[
        html.H3(title, className="handover-section-title"), html.P(text, className="handover-notes-text")])
        for title, text in ((t("handover.section.notes", lang), handover.notes),
                            (t("handover.accept_note", lang), handover.accept_note)) if text]
    parts: list[Any] = [html.Div(tiles, className="handover-counts"), *notes]
    for section in sections(summary, context.settings, lang):
        parts.append(html.Div(className=f"handover-section handover-section--{section.key}",
                              **{"data-section": section.key}, children=[
            html.H3(f"{section.title} ({len(section.rows)})", className="handover-section-title"),
            _table(section) if section.rows else html.Div(t("handover.none", lang), className="muted"),
        ]))
    return parts


def past_view(context: WebContext, lang: str) -> list[Any]:
    rows = []
    for handover in _book(context).past():
        summary = handover.summary or {}
        rows.append(html.Li(className=f"handover-past-item handover-past-item--{handover.state}",
                            **{"data-shift": handover.key}, children=[
            dcc.Link(window_text(summary, lang) if summary else handover.key, href=f"{PATH}?shift={handover.key}",
                     className="handover-past-link"),
            html.Div(who_line(handover, lang), className="handover-past-who"),
            html.A("PDF", href=pdf_href(handover.key, lang), target="_blank", rel="noopener",
                   className="handover-past-pdf"),
        ]))
    return [html.Ul(rows, className="handover-past-list")] if rows else [html.Div(t("handover.none", lang),
                                                                                   className="muted")]


# --- callbacks ---------------------------------------------------------------------------------------------


def refresh(context: WebContext, _tick: int | None, lang: str | None, key: str | None, _version: int | None
            ) -> tuple[Any, ...]:
    """Title, state, summary, buttons (who may press which), PDF link and past handovers."""
    lang = language(lang)
    found, summary = current(context, key)
    labels = (t("handover.section.notes", lang), t("handover.notes.placeholder", lang),
              t("handover.hand_over", lang), t("handover.accept", lang), t("handover.past", lang))
    if found is None or summary is None:
        message = t("handover.no_shift" if key is None else "handover.unknown_shift", lang, key=key or "")
        return (t("handover.title_plain", lang), message, html.Div(message, className="muted"), *labels, True, True,
                "", PDF_PATH, past_view(context, lang), None)
    handover = found.handover
    state_class = f"handover-state-text handover-state-text--{handover.state}" + (
        " handover-state-text--due" if found.due else "")
    state = html.Div(className=state_class, **{"data-state": handover.state}, children=[
        html.Span(t("handover.due", lang), className="handover-due-flag") if found.due else None,
        who_line(handover, lang)])
    actor = current_actor(default="")
    acting = may(ACT)
    return (
        t("handover.title", lang, window=window_text(summary, lang)),
        state,
        summary_view(found, summary, context, lang),
        *labels,
        not acting or handover.state != OPEN,
        not acting or handover.state != HANDED_OVER or handover.handed_by == actor,
        t("handover.pdf", lang),
        pdf_href(found.window.key, lang),
        past_view(context, lang),
        found.window.key,
    )


def act(context: WebContext, _hand: int | None, _accept: int | None, notes: str | None, key: str | None,
        lang: str | None, version: int | None) -> tuple[Any, Any, Any]:
    """Hand over (with the notes and the summary as it stands) or accept, as the signed-in user."""
    trigger = dash.ctx.triggered_id
    if trigger is None or not key or not any(item.get("value") for item in dash.ctx.triggered):
        return dash.no_update, dash.no_update, dash.no_update
    lang = language(lang)
    shifts = notification_settings(context.settings)
    found = shown(_book(context), shifts, utcnow(), city_zone(context.settings), key) if shifts else None
    if found is None:
        return _feedback(t("handover.unknown_shift", lang, key=key), "problem"), dash.no_update, version
    actor = current_actor(default="")
    try:
        if trigger == ids.HANDOVER_HAND:
            summary = shift_summary(context.store, context.settings, found.window, utcnow())
            _book(context).hand_over(found.window, actor=actor, notes=notes or "", summary=summary)
            done = t("handover.done.handed_over", lang, window=window_text(summary, lang))
        else:
            _book(context).accept(found.window.key, actor=actor, note=notes or "")
            done = t("handover.done.accepted", lang, key=found.window.key)
    except HandoverRefused as refused:
        text = t(f"handover.refused.{refused.reason}", lang, who=refused.by or "?",
                 time=local_time(refused.at, "%H:%M %d/%m"))
        return _feedback(text, "refused"), dash.no_update, (version or 0) + 1
    return _feedback(done, "ok"), "", (version or 0) + 1


def _feedback(text: str, tone: str) -> html.Div:
    return html.Div(text, className=f"handover-feedback-line handover-feedback-line--{tone}")


def pdf(context: WebContext) -> flask.Response:
    """The PDF of one shift's handover (?shift=; default the one at hand) in ?lang= or the screen's language."""
    asked = flask.request.args.get("lang")
    lang = asked if asked in LANGUAGES else request_language()
    found, summary = current(context, flask.request.args.get("shift") or None)
    if found is None or summary is None:
        return flask.Response(t("handover.unknown_shift", lang, key=flask.request.args.get("shift", "")),
                              status=404, mimetype="text/plain")
    body = write(summary, found.handover, context.settings, lang=lang)
    response = flask.Response(body, mimetype="application/pdf")
    response.headers["Content-Disposition"] = f'attachment; filename="handover-{found.window.key.replace(":", "-")}.pdf"'
    response.headers["Cache-Control"] = "no-store"
    return response


# --- the header's reminder -----------------------------------------------------------------------------------


def due_badge() -> list[Any]:
    """The header's link to the handover page, shown while a handover is due (for roles that hand over)."""
    return [dcc.Interval(id=ids.HANDOVER_DUE_TICK, interval=DUE_CHECK_MS),
            dcc.Link(id=ids.HANDOVER_DUE, href=PATH, className="ioc-handover-due", style={"display": "none"})]


def due_state(context: WebContext, _tick: int | None, lang: str | None) -> tuple[Any, Any]:
    lang = language(lang)
    shifts = notification_settings(context.settings)
    found = shown(_book(context), shifts, utcnow(), city_zone(context.settings)) if shifts else None
    if found is None or not found.due:
        return "", {"display": "none"}
    return t("handover.due_header", lang, shift=shift_name(found.window.shift, lang)), None


DUE_CALLBACKS = (
    Callback(
        outputs=(Output(ids.HANDOVER_DUE, "children"), Output(ids.HANDOVER_DUE, "style")),
        inputs=(Input(ids.HANDOVER_DUE_TICK, "n_intervals"), Input(ids.LANG, "data")),
        function=due_state,
        permission=VIEW,
    ),
)

PAGE = Page(
    module=__name__,
    path=PATH,
    title_key="nav.handover",
    order=4,
    permission=VIEW,
    nav_id=ids.NAV_HANDOVER,
    layout=layout,
    routes=(Route(rule=PDF_PATH, endpoint="handover_pdf", view=pdf, permission=VIEW),),
    callbacks=(
        Callback(
            outputs=(Output(ids.HANDOVER_TITLE, "children"), Output(ids.HANDOVER_STATE, "children"),
                     Output(ids.HANDOVER_SUMMARY, "children"), Output(ids.HANDOVER_NOTES_TITLE, "children"),
                     Output(ids.HANDOVER_NOTES, "placeholder"), Output(ids.HANDOVER_HAND, "children"),
                     Output(ids.HANDOVER_ACCEPT, "children"), Output(ids.HANDOVER_PAST_TITLE, "children"),
                     Output(ids.HANDOVER_HAND, "disabled"), Output(ids.HANDOVER_ACCEPT, "disabled"),
                     Output(ids.HANDOVER_PDF, "children"), Output(ids.HANDOVER_PDF, "href"),
                     Output(ids.HANDOVER_PAST, "children"), Output(ids.HANDOVER_SHOWN, "data")),
            inputs=(Input(ids.HANDOVER_TICK, "n_intervals"), Input(ids.LANG, "data"),
                    Input(ids.HANDOVER_KEY, "data"), Input(ids.HANDOVER_VERSION, "data")),
            function=refresh,
        ),
        Callback(
            outputs=(Output(ids.HANDOVER_FEEDBACK, "children"), Output(ids.HANDOVER_NOTES, "value"),
                     Output(ids.HANDOVER_VERSION, "data")),
            inputs=(Input(ids.HANDOVER_HAND, "n_clicks"), Input(ids.HANDOVER_ACCEPT, "n_clicks")),
            states=(State(ids.HANDOVER_NOTES, "value"), State(ids.HANDOVER_SHOWN, "data"), State(ids.LANG, "data"),
                    State(ids.HANDOVER_VERSION, "data")),
            function=act,
            permission=ACT,
            prevent_initial_call=True,
        ),
    ),
)
