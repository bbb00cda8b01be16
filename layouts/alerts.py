"""The alert queue page (/alerts): alerts by severity then age (related ones folded into group lines, with
the flood banner: layouts.alerts_groups), filters, and a detail view to act on one.

The queue redraws when the city's change counter moves (a new alert shows within one 2 s tick) and as ages
step on; the detail redraws when its alert changes. The note field and the buttons are never redrawn, so
what an operator is typing survives the live refresh. Every change goes through ioc.alerts with the actor
from `current_actor()`: the signed-in user, "operator" when nobody is signed in. What the page shows is
computed in ioc.alert_queue and ioc.alert_map; this module holds the layout and thin callbacks.
"""

from __future__ import annotations

from typing import Any

import dash
from dash import ALL, Input, Output, State, dcc, html

from ioc import alert_queue
from ioc.alert_map import alert_map, empty_map
from ioc.alerts import OPEN, AlertQuery, AlertRecord, operator_action
from ioc.alerts.open_snapshot import open_alarms
from ioc.alerts.shelf import Shelf
from ioc.city_map import SEVERITY_COLOURS
from ioc.config import Settings
from ioc.i18n import DEFAULT_LANGUAGE, t
from ioc.model import utcnow
from ioc.pages import Callback, Page
from ioc.web import WebContext, age_step, language, map_base_layer
from layouts import ids
from layouts.alerts_groups import CALLBACKS as GROUP_CALLBACKS
from layouts.alerts_groups import banner, queue_lines, stores
from layouts.alerts_metrics import CALLBACKS as METRICS_CALLBACKS
from layouts.alerts_metrics import metrics_panel
from layouts.alerts_shelf import CALLBACKS as SHELF_CALLBACKS
from layouts.alerts_shelf import shelf_controls, shelved_panel

REFRESH_MS = 2000
MAP_CONFIG = {"displayModeBar": False, "scrollZoom": True}
OPERATOR = "operator"  # the actor of a change made with nobody signed in


def current_actor() -> str:
    """Who is acting on this request: the signed-in user, "operator" when nobody is signed in."""
    from ioc.auth import current_actor as signed_in_actor  # late: sign-in is optional for this page

    return signed_in_actor(default=OPERATOR)


# --- layout --------------------------------------------------------------------------------------------------


def layout(context: WebContext, alert: str | None = None, **_query: Any) -> html.Div:
    # the choices are there from the first paint (a value without its option would show blank)
    options = filter_options(context, DEFAULT_LANGUAGE)
    return html.Div(
        className="alerts-page",
        children=[
            dcc.Interval(id=ids.ALERTS_TICK, interval=REFRESH_MS),
            dcc.Store(id=ids.ALERTS_QUEUE_SEEN),
            dcc.Store(id=ids.ALERTS_DETAIL_SEEN),
            # /alerts?alert=A000012 opens on that alert (links from the CLI, reports, the control room)
            dcc.Store(id=ids.ALERTS_SELECTED, data=alert),
            dcc.Store(id=ids.ALERTS_VERSION, data=0),
            *stores(),
            html.Div(
                className="alerts-head",
                children=[html.H1(id=ids.ALERTS_TITLE, className="alerts-title"),
                          html.Div(id=ids.ALERTS_SUMMARY, className="alerts-summary")],
            ),
            html.Div(
                className="alerts-filters",
                children=[
                    _filter(ids.ALERTS_FILTER_SEVERITY, options[0], multi=True),
                    _filter(ids.ALERTS_FILTER_SECTOR, options[2], multi=True),
                    _filter(ids.ALERTS_FILTER_DISTRICT, options[4], multi=True),
                    _filter(ids.ALERTS_FILTER_STATE, options[6], multi=False, value=OPEN),
                ],
            ),
            metrics_panel(),
            banner(),
            html.Div(
                className="alerts-body",
                children=[
                    html.Section(id=ids.ALERTS_QUEUE, className="panel alerts-queue"),
                    html.Section(
                        className="panel alerts-detail-panel",
                        children=[
                            html.Div(id=ids.ALERTS_DETAIL, className="alerts-detail"),
                            html.Div(
                                id=ids.ALERTS_ACTIONS,
                                className="alerts-actions",
                                style={"display": "none"},
                                children=[
                                    dcc.Graph(id=ids.ALERTS_MAP, className="alerts-map", config=MAP_CONFIG,
                                              figure=empty_map()),
                                    html.Div(
                                        className="alerts-controls",
                                        children=[
                                            dcc.Textarea(id=ids.ALERTS_NOTE, className="alerts-note", value=""),
                                            dcc.Input(id=ids.ALERTS_ASSIGNEE, className="alerts-assignee",
                                                      type="text", list=ids.ALERTS_ASSIGNEES, debounce=False),
                                            html.Datalist(id=ids.ALERTS_ASSIGNEES),
                                            html.Div(
                                                className="alerts-buttons",
                                                children=[
                                                    html.Button(id=ids.ALERTS_ACK, n_clicks=0,
                                                                className="alerts-button alerts-button--ack"),
                                                    html.Button(id=ids.ALERTS_ASSIGN, n_clicks=0,
                                                                className="alerts-button alerts-button--assign"),
                                                    html.Button(id=ids.ALERTS_RESOLVE, n_clicks=0,
                                                                className="alerts-button alerts-button--resolve"),
                                                ],
                                            ),
                                            html.Div(id=ids.ALERTS_FEEDBACK, className="alerts-feedback"),
                                            shelf_controls(),
                                        ],
                                    ),
                                ],
                            ),
                            html.Div(id=ids.ALERTS_HISTORY, className="alerts-history"),
                            shelved_panel(),
                        ],
                    ),
                ],
            ),
        ],
    )


def _filter(component: str, options: list[dict[str, str]], *, multi: bool, value: Any = None) -> html.Div:
    return html.Div(
        className="alerts-filter",
        children=[
            html.Label(id={"type": ids.ALERTS_FILTER_LABELS, "filter": component}, className="alerts-filter-label",
                       htmlFor=component),
            dcc.Dropdown(id=component, options=options, multi=multi, clearable=multi, className="alerts-dropdown",
                         value=value if value is not None else ([] if multi else None)),
        ],
    )


# --- filters ---------------------------------------------------------------------------------------------------


def filter_options(context: WebContext, lang: str | None) -> tuple[Any, ...]:
    """Labels and choices of the four filters in the interface language."""
    choices = alert_queue.filter_choices(context.settings, language(lang))
    any_text = choices.any_text
    return (choices.severities, any_text, choices.sectors, any_text, choices.districts, any_text,
            choices.states)


def filter_labels(_context: WebContext, lang: str | None) -> list[str]:
    return alert_queue.filter_labels(language(lang))


# --- the queue -------------------------------------------------------------------------------------------------


def _badges(found: list[alert_queue.Badge]) -> list[html.Span]:
    return [html.Span(badge.text, className=f"aq-badge aq-badge--{badge.kind}") for badge in found]


def queue_row(row: alert_queue.QueueRow) -> html.Div:
    classes = [f"aq-row aq-row--{row.severity} aq-row--{row.state}"]
    if row.loud:
        classes.append("aq-row--pulse")
    if row.selected:
        classes.append("aq-row--selected")
    return html.Div(
        id=ids.alert_row(row.id),
        n_clicks=0,
        className=" ".join(classes),
        style={"--severity": row.colour},
        **{"data-alert": row.id, "data-severity": row.severity, "data-state": row.state},
        children=[
            html.Div(row.severity_text, className="aq-severity"),
            html.Div(
                className="aq-body",
                children=[
                    html.Div([row.title, *_badges(row.badges)], className="aq-title"),
                    html.Div(row.meta_text, className="aq-meta"),
                ],
            ),
            html.Div(
                className="aq-when",
                children=[html.Div(row.age_text, className="aq-age"),
                          html.Div(row.id_text, className="aq-id")],
            ),
        ],
    )


def summary(pills: list[alert_queue.Pill]) -> list[Any]:
    return [html.Span(pill.text, className=f"aq-pill aq-pill--{pill.kind}" if pill.kind else "aq-pill",
                      style={"--severity": pill.colour} if pill.colour else None)
            for pill in pills]


def refresh_queue(context: WebContext,
                  _tick: int | None, lang: str | None, severities: list[str] | None, sectors: list[str] | None,
    districts: list[str] | None, state: str | None, selected: str | None, version: int | None,
    expanded: list[str] | None, _groups: int | None, shown: int | None, seen: dict[str, Any] | None,
) -> tuple[Any, ...]:
    """Redraw the queue (related alarms folded into group lines, the first `shown` of them) when alerts
    changed, a filter, the selection, an opened group or the lines shown moved, or ages stepped on."""
    lang = language(lang)
    now = utcnow()
    shown = shown or alert_queue.QUEUE_LINES
    query = AlertQuery.of(severities, sectors, districts, state)
    signature = {**alert_queue.queue_signature(query, changes=context.store.change_counter(), lang=lang,
                                               selected=selected, version=version, age_step=age_step(now),
                                               expanded=expanded or []), "shown": shown}
    if seen == signature:
        return (dash.no_update,) * 5
    # the open alarms as every screen reads them: one read of Redis per alert change, however many screens
    snapshot = open_alarms(context.store.alerts, context.cache)
    records, open_records = alert_queue.read_queue(context.store.alerts, query, snapshot.records)
    shelved = Shelf(context.store.redis, context.store.keys, context.settings.shelving).shelved_ids(now)
    lines, flood = queue_lines(context, records, lang, now, selected, shelved, expanded or [], queue_row, shown)
    rows: Any = lines or html.Div(t("alerts.empty", lang), className="aq-empty")
    pills = summary(alert_queue.summary_pills(open_records, lang))
    return t("alerts.title", lang), pills, html.Div(rows, className="aq-list"), flood, signature


def select_alert(_context: WebContext, _clicks: list[int | None], selected: str | None) -> Any:
    """A click on a queue row opens that alert."""
    trigger = dash.ctx.triggered_id
    # a redraw of the queue re-creates the rows, which fires this callback without a click
    if not isinstance(trigger, dict) or not any(item.get("value") for item in dash.ctx.triggered):
        return dash.no_update
    return trigger.get("alert") or selected


# --- the detail view ------------------------------------------------------------------------------------------


def timeline_item(line: alert_queue.TimelineLine) -> html.Li:
    return html.Li(
        className=f"tl-entry tl-entry--{line.action}",
        **{"data-action": line.action},
        children=[
            html.Span(line.time_text, className="tl-time"),
            html.Span(line.actor, className="tl-actor"),
            html.Span(line.text, className="tl-action"),
            html.Span(line.note, className="tl-note") if line.note else None,
        ],
    )


def checklist(found: alert_queue.Checklist | None) -> Any:
    if found is None:
        return None
    steps = [
        html.Li(
            className="cl-step cl-step--done" if step.done else "cl-step",
            children=[
                html.Button("✓" if step.done else "", id=ids.alert_step(step.number), n_clicks=0,
                            className="cl-box", disabled=not found.editable, title=step.text),
                html.Span(step.text, className="cl-text"),
                html.Span(step.done_text, className="cl-by") if step.done else None,
            ],
        )
        for step in found.steps
    ]
    return html.Div(className="alerts-checklist", children=[
        html.H3(found.title, className="detail-subtitle"),
        html.Ol(steps, className="cl-steps"),
    ])


def detail_view(record: AlertRecord, settings: Settings, lang: str) -> list[Any]:
    alert = record.alert
    badges = [
        html.Span(t(f"control_room.severity.{alert.severity}", lang),
                  className=f"detail-severity detail-severity--{alert.severity}"
                  + (" detail-severity--pulse" if alert_queue.is_loud(record) else ""),
                  style={"--severity": SEVERITY_COLOURS[alert.severity]}),
        html.Span(t(f"control_room.state.{alert.state}", lang), className=f"detail-state detail-state--{alert.state}"),
        *_badges(alert_queue.badges(record, lang)),
    ]
    facts = [part for label, value in alert_queue.detail_facts(record, settings, lang)
             for part in (html.Dt(label), html.Dd(value if value not in (None, "") else "—"))]
    return [
        html.Div(badges, className="detail-badges"),
        html.H2(alert_queue.alert_title(record, settings, lang), className="detail-title",
                **{"data-alert": alert.id}),
        html.P(alert.message, className="detail-message", title=t("alerts.detail.message", lang))
        if alert.message else None,
        html.Dl(facts, className="detail-facts"),
    ]


def history_view(record: AlertRecord, settings: Settings, timeline: list[dict[str, str]],
                 ticked: dict[int, dict[str, str]], lang: str) -> list[Any]:
    """The checklist to work through and the timeline, newest first."""
    return [
        checklist(alert_queue.checklist(record, settings, ticked, lang)),
        html.H3(t("alerts.timeline", lang), className="detail-subtitle"),
        html.Ol([timeline_item(line) for line in alert_queue.timeline_lines(timeline, lang)],
                className="alerts-timeline"),
    ]


def refresh_detail(context: WebContext,
                   selected: str | None, lang: str | None, _tick: int | None, version: int | None, seen: dict[str, Any] | None
) -> tuple[Any, ...]:
    """The selected alert: facts, checklist, timeline and map; redrawn only when the alert changed."""
    lang = language(lang)
    settings = context.settings
    placeholders = (t("alerts.actions.note", lang), t("alerts.actions.assignee", lang))
    record = context.store.alerts.get(selected) if selected else None
    timeline = context.store.alerts.timeline(selected) if record else []
    signature = alert_queue.detail_signature(selected, record, len(timeline), lang=lang, version=version)
    if seen == signature:
        return (dash.no_update,) * 9
    if record is None:
        message = t("alerts.gone" if selected else "alerts.choose", lang)
        return (html.Div(message, className="muted detail-empty"), {"display": "none"}, empty_map(), [],
                *placeholders, [], dash.no_update, signature)
    ticked = context.store.alerts.checklist(record.id)
    figure = alert_map(record, settings, map_base_layer(context), lang)
    newly_selected = seen is None or seen.get("alert") != selected
    return (
        detail_view(record, settings, lang),
        {"display": "grid"},
        figure,
        history_view(record, settings, timeline, ticked, lang),
        *placeholders,
        [html.Option(value=agency) for agency in alert_queue.assignee_choices(settings)],
        # a newly opened alert proposes its rule's agency; what the operator typed is otherwise left alone
        (record.assignee or record.alert.agency) if newly_selected else dash.no_update,
        signature,
    )


def button_states(context: WebContext,
                  selected: str | None, lang: str | None, _tick: int | None, _version: int | None
                  ) -> tuple[Any, ...]:
    """Labels of the three buttons, and which apply to the alert's state (another operator may change it)."""
    record = context.store.alerts.get(selected) if selected else None
    return *alert_queue.buttons_disabled(record), *alert_queue.button_labels(language(lang))


BUTTON_ACTIONS = {ids.ALERTS_ACK: "acknowledge", ids.ALERTS_ASSIGN: "assign", ids.ALERTS_RESOLVE: "resolve"}


def act(context: WebContext,
        _ack: int | None, _assign: int | None, _resolve: int | None, _steps: list[int | None], selected: str | None,
    note: str | None, assignee: str | None, lang: str | None, version: int | None,
) -> tuple[Any, Any, Any]:
    """A button press or a checklist tick, as the current actor; the note clears once it is kept."""
    trigger = dash.ctx.triggered_id
    # redraws re-create the checklist boxes, which fires this callback without a click
    if trigger is None or not any(item.get("value") for item in dash.ctx.triggered):
        return dash.no_update, dash.no_update, dash.no_update
    if isinstance(trigger, dict):
        return dash.no_update, dash.no_update, toggle_step(context, selected, int(trigger["step"]), version)
    return perform(context, BUTTON_ACTIONS[trigger], selected, note, assignee, lang, version)


def perform(context: WebContext,
            action: str, selected: str | None, note: str | None, assignee: str | None, lang: str | None,
            version: int | None) -> tuple[Any, Any, int]:
    """Acknowledge, assign or resolve the selected alert; returns (feedback, note field, new version)."""
    outcome = operator_action(context.store.alerts, action, selected, actor=current_actor(), note=note or "",
                              assignee=assignee or "")
    text, tone = alert_queue.feedback_text(outcome, language(lang))
    feedback = html.Div(text, className=f"alerts-feedback-line alerts-feedback-line--{tone}")
    return feedback, "" if outcome.ok else dash.no_update, (version or 0) + 1


def toggle_step(context: WebContext, alert_id: str | None, step: int, version: int | None) -> int:
    """Tick a step of the alert's checklist, or untick it when it was ticked."""
    changed = alert_queue.toggle_step(context.store.alerts, context.settings, alert_id, step,
                                      actor=current_actor())
    return (version or 0) + 1 if changed else version or 0


PAGE = Page(
    module=__name__,
    path="/alerts",
    title_key="nav.alerts",
    order=1,
    permission="alerts.view",
    nav_id=ids.NAV_ALERTS,
    layout=layout,
    callbacks=(
        Callback(
            outputs=(Output(ids.ALERTS_FILTER_SEVERITY, "options"),
                     Output(ids.ALERTS_FILTER_SEVERITY, "placeholder"),
                     Output(ids.ALERTS_FILTER_SECTOR, "options"),
                     Output(ids.ALERTS_FILTER_SECTOR, "placeholder"),
                     Output(ids.ALERTS_FILTER_DISTRICT, "options"),
                     Output(ids.ALERTS_FILTER_DISTRICT, "placeholder"),
                     Output(ids.ALERTS_FILTER_STATE, "options")),
            inputs=(Input(ids.LANG, "data"),),
            function=filter_options,
        ),
        Callback(
            outputs=(Output({"type": ids.ALERTS_FILTER_LABELS, "filter": ALL}, "children"),),
            inputs=(Input(ids.LANG, "data"),),
            function=filter_labels,
        ),
        Callback(
            outputs=(Output(ids.ALERTS_TITLE, "children"),
                     Output(ids.ALERTS_SUMMARY, "children"),
                     Output(ids.ALERTS_QUEUE, "children"),
                     Output(ids.ALERTS_FLOOD, "children"),
                     Output(ids.ALERTS_QUEUE_SEEN, "data")),
            inputs=(Input(ids.ALERTS_TICK, "n_intervals"),
                     Input(ids.LANG, "data"),
                     Input(ids.ALERTS_FILTER_SEVERITY, "value"),
                     Input(ids.ALERTS_FILTER_SECTOR, "value"),
                     Input(ids.ALERTS_FILTER_DISTRICT, "value"),
                     Input(ids.ALERTS_FILTER_STATE, "value"),
                     Input(ids.ALERTS_SELECTED, "data"),
                     Input(ids.ALERTS_VERSION, "data"),
                     Input(ids.ALERTS_GROUPS_OPEN, "data"),
                     Input(ids.ALERTS_GROUPS_VERSION, "data"),
                     Input(ids.ALERTS_QUEUE_LINES, "data")),
            states=(State(ids.ALERTS_QUEUE_SEEN, "data"),),
            function=refresh_queue,
        ),
        Callback(
            outputs=(Output(ids.ALERTS_SELECTED, "data"),),
            inputs=(Input({"type": ids.ALERT_ROW, "alert": ALL}, "n_clicks"),),
            states=(State(ids.ALERTS_SELECTED, "data"),),
            function=select_alert,
            prevent_initial_call=True,
        ),
        Callback(
            outputs=(Output(ids.ALERTS_DETAIL, "children"),
                     Output(ids.ALERTS_ACTIONS, "style"),
                     Output(ids.ALERTS_MAP, "figure"),
                     Output(ids.ALERTS_HISTORY, "children"),
                     Output(ids.ALERTS_NOTE, "placeholder"),
                     Output(ids.ALERTS_ASSIGNEE, "placeholder"),
                     Output(ids.ALERTS_ASSIGNEES, "children"),
                     Output(ids.ALERTS_ASSIGNEE, "value"),
                     Output(ids.ALERTS_DETAIL_SEEN, "data")),
            inputs=(Input(ids.ALERTS_SELECTED, "data"),
                     Input(ids.LANG, "data"),
                     Input(ids.ALERTS_TICK, "n_intervals"),
                     Input(ids.ALERTS_VERSION, "data")),
            states=(State(ids.ALERTS_DETAIL_SEEN, "data"),),
            function=refresh_detail,
        ),
        # apart from the detail: a role that may only look at alerts still sees them (the buttons declare their own permission)
        Callback(
            outputs=(Output(ids.ALERTS_ACK, "disabled"),
                     Output(ids.ALERTS_ASSIGN, "disabled"),
                     Output(ids.ALERTS_RESOLVE, "disabled"),
                     Output(ids.ALERTS_ACK, "children"),
                     Output(ids.ALERTS_ASSIGN, "children"),
                     Output(ids.ALERTS_RESOLVE, "children")),
            inputs=(Input(ids.ALERTS_SELECTED, "data"),
                     Input(ids.LANG, "data"),
                     Input(ids.ALERTS_TICK, "n_intervals"),
                     Input(ids.ALERTS_VERSION, "data")),
            function=button_states,
        ),
        Callback(
            outputs=(Output(ids.ALERTS_FEEDBACK, "children"),
                     Output(ids.ALERTS_NOTE, "value"),
                     Output(ids.ALERTS_VERSION, "data")),
            inputs=(Input(ids.ALERTS_ACK, "n_clicks"),
                     Input(ids.ALERTS_ASSIGN, "n_clicks"),
                     Input(ids.ALERTS_RESOLVE, "n_clicks"),
                     Input({"type": ids.ALERT_STEP, "step": ALL}, "n_clicks")),
            states=(State(ids.ALERTS_SELECTED, "data"),
                     State(ids.ALERTS_NOTE, "value"),
                     State(ids.ALERTS_ASSIGNEE, "value"),
                     State(ids.LANG, "data"),
                     State(ids.ALERTS_VERSION, "data")),
            function=act,
            permission="alerts.act",
            prevent_initial_call=True,
        ),
        *SHELF_CALLBACKS,
        *GROUP_CALLBACKS,
        *METRICS_CALLBACKS,
    ),
)
