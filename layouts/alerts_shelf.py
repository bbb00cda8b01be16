"""The alert page's shelf: shelve the selected alarm for a while with the note as its reason, and the shelved
list with a button to bring each back before its time."""

from __future__ import annotations

from typing import Any

import dash
from dash import ALL, Input, Output, State, dcc, html

from ioc.alerts import AlertConflict, AlertNotFound
from ioc.alerts.shelf import Shelf, ShelvingRefused, return_due
from ioc.auth import current_actor
from ioc.i18n import local_time, t
from ioc.model import utcnow
from ioc.pages import Callback
from ioc.web import WebContext, language
from layouts import ids

MINUTES = (15, 30, 60, 120, 480)


def shelf_controls() -> html.Div:
    return html.Div(className="alerts-shelf-controls", children=[
        dcc.Dropdown(id=ids.ALERTS_SHELVE_MINUTES, options=[], value=30, clearable=False,
                     className="alerts-dropdown alerts-shelve-minutes"),
        html.Button(id=ids.ALERTS_SHELVE, n_clicks=0, className="alerts-button alerts-button--shelve"),
        html.Div(id=ids.ALERTS_SHELF_FEEDBACK, className="alerts-feedback"),
    ])


def shelved_panel() -> html.Div:
    return html.Div([dcc.Store(id=ids.ALERTS_SHELF_CHANGED, data=0),
                     html.Section(id=ids.ALERTS_SHELVED, className="alerts-shelved")])


def _shelf(context: WebContext) -> Shelf:
    book = context.store.alerts
    return Shelf(book.redis, book.keys, context.settings.shelving)


def controls(context: WebContext, lang: str | None, selected: str | None, _tick: int | None, _version: int | None
             ) -> tuple[Any, ...]:
    """The button's label and the choice of times in the language; the button is off for an alarm that
    cannot be shelved (resolved, or of a priority that may not be)."""
    lang = language(lang)
    record = context.store.alerts.get(selected) if selected else None
    shelvable = (record is not None and record.is_open
                 and str(record.alert.severity) in context.settings.shelving.max_minutes)
    options = [{"label": t("alerts.shelve.minutes", lang, n=n), "value": n} for n in MINUTES]
    return t("alerts.shelve", lang), options, not shelvable


def shelve(context: WebContext, clicks: int | None, selected: str | None, note: str | None, minutes: int | None,
           lang: str | None) -> Any:
    """Shelve the selected alarm, the note as its reason, within its priority's time (refused otherwise)."""
    lang = language(lang)
    if not clicks or not selected:
        return dash.no_update
    if not (note or "").strip():
        return _line(t("alerts.shelve.reason_needed", lang), "problem")
    record = context.store.alerts.get(selected)
    if record is None:
        return _line(str(AlertNotFound(selected)), "refused")
    try:
        done = _shelf(context).shelve(record, actor=current_actor(), reason=note or "", minutes=int(minutes or 0))
    except (ShelvingRefused, AlertConflict) as exc:
        return _line(str(exc), "refused")
    return _line(t("alerts.shelve.done", lang, id=done.alert_id, time=local_time(done.until, "%H:%M")), "ok")


def _line(text: str, tone: str) -> html.Div:
    return html.Div(text, className=f"alerts-feedback-line alerts-feedback-line--{tone}")


def unshelve(context: WebContext, _clicks: list[int | None], changed: int | None) -> Any:
    """Bring the clicked alarm back before its time (an action: it needs the right to act on alerts)."""
    trigger = dash.ctx.triggered_id
    # a redraw of the list re-creates the buttons, which fires this without a click
    if not isinstance(trigger, dict) or not any(item.get("value") for item in dash.ctx.triggered):
        return dash.no_update
    record = context.store.alerts.get(trigger["alert"])
    if record is None or not _shelf(context).unshelve(record, actor=current_actor()):
        return dash.no_update
    return (changed or 0) + 1


def shelved_list(context: WebContext, _tick: int | None, lang: str | None, _changed: int | None) -> list[Any]:
    """The shelved alarms, soonest back first; those whose time is up go back first (audited as system)."""
    lang = language(lang)
    shelf, book = _shelf(context), context.store.alerts
    now = utcnow()
    return_due(shelf, book.get, now)
    found = shelf.shelved(now)
    lines: list[Any] = [html.H3(t("alerts.shelved.title", lang, n=len(found)), className="alerts-shelved-title")]
    if not found:
        lines.append(html.Div(t("alerts.shelved.none", lang), className="muted"))
    for item in found:
        alert = book.alert(item.alert_id)
        lines.append(html.Div(className="alerts-shelved-line", **{"data-alert": item.alert_id}, children=[
            html.Span(f"{item.alert_id} · {alert.title if alert else ''}", className="alerts-shelved-what"),
            html.Span(t("alerts.shelved.line", lang, time=local_time(item.until, "%H:%M"), by=item.by,
                        reason=item.reason), className="alerts-shelved-why"),
            html.Button(t("alerts.unshelve", lang), id={"type": ids.ALERT_UNSHELVE, "alert": item.alert_id},
                        n_clicks=0, className="alerts-button alerts-button--unshelve"),
        ]))
    return lines


CALLBACKS = (
    Callback(
        outputs=(Output(ids.ALERTS_SHELVE, "children"), Output(ids.ALERTS_SHELVE_MINUTES, "options"),
                 Output(ids.ALERTS_SHELVE, "disabled")),
        inputs=(Input(ids.LANG, "data"), Input(ids.ALERTS_SELECTED, "data"), Input(ids.ALERTS_TICK, "n_intervals"),
                Input(ids.ALERTS_VERSION, "data")),
        function=controls,
    ),
    Callback(
        outputs=(Output(ids.ALERTS_SHELF_FEEDBACK, "children"),),
        inputs=(Input(ids.ALERTS_SHELVE, "n_clicks"),),
        states=(State(ids.ALERTS_SELECTED, "data"), State(ids.ALERTS_NOTE, "value"),
                State(ids.ALERTS_SHELVE_MINUTES, "value"), State(ids.LANG, "data")),
        function=shelve,
        permission="alerts.act",
        prevent_initial_call=True,
    ),
    Callback(
        outputs=(Output(ids.ALERTS_SHELVED, "children"),),
        inputs=(Input(ids.ALERTS_TICK, "n_intervals"), Input(ids.LANG, "data"), Input(ids.ALERTS_SHELF_CHANGED, "data")),
        function=shelved_list,
    ),
    Callback(
        outputs=(Output(ids.ALERTS_SHELF_CHANGED, "data"),),
        inputs=(Input({"type": ids.ALERT_UNSHELVE, "alert": ALL}, "n_clicks"),),
        states=(State(ids.ALERTS_SHELF_CHANGED, "data"),),
        function=unshelve,
        permission="alerts.act",
        prevent_initial_call=True,
    ),
)
