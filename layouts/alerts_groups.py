"""The alert page in a flood: group lines (count, worst severity, areas, first and last time) that open to
list their alarms, acknowledging a group's new alarms at once, the flood banner, and what is out of service
or in maintenance. What they show is computed in ioc.alert_queue and ioc.alerts.groups / service."""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence
from datetime import datetime
from typing import Any

import dash
from dash import ALL, Input, Output, State, dcc, html

from ioc import alert_queue
from ioc.alerts import AlertRecord
from ioc.alerts.groups import AlarmGroup, Flood, acknowledge_group, find_group, flood_state
from ioc.alerts.open_snapshot import first_lines, open_alarms
from ioc.alerts.service import Service
from ioc.auth import current_actor
from ioc.i18n import local_time, t
from ioc.model import utcnow
from ioc.pages import Callback
from ioc.web import WebContext, language
from layouts import ids

MemberRow = Callable[[alert_queue.QueueRow], Any]


def stores() -> list[Any]:
    """What the page keeps for the groups: which lines are open, and a counter a group acknowledgement bumps."""
    return [dcc.Store(id=ids.ALERTS_GROUPS_OPEN, data=[]), dcc.Store(id=ids.ALERTS_GROUPS_VERSION, data=0),
            dcc.Store(id=ids.ALERTS_QUEUE_LINES, data=alert_queue.QUEUE_LINES)]


def more_line(at: str, text: str, more: int) -> html.Button:
    """Under a list drawn in part: how many more lines there are; a press draws the next ones."""
    return html.Button(text, id=ids.alerts_more(at), n_clicks=0, className="aq-more", **{"data-more": str(more)})


def banner() -> html.Div:
    """Where the flood banner, the group feedback and the out-of-service line go, above the queue."""
    return html.Div(className="alerts-flood-area", children=[
        html.Div(id=ids.ALERTS_FLOOD, className="alerts-flood"),
        html.Div(id=ids.ALERTS_GROUP_FEEDBACK, className="alerts-feedback"),
        html.Div(id=ids.ALERTS_SERVICE, className="alerts-service"),
    ])


def flood_banner(found: alert_queue.FloodBanner) -> Any:
    if not found.active:
        return None
    return html.Div(className="aq-flood", **{"data-flood": "1"}, role="alert", children=[
        html.Span(found.text, className="aq-flood-title"), html.Span(found.detail, className="aq-flood-detail")])


def group_line(row: alert_queue.GroupRow, member_row: MemberRow, hint: str) -> html.Div:
    """A group's line; opened, its members (ordinary rows that open each alarm) and the acknowledge button."""
    classes = f"aq-group aq-row aq-row--{row.severity}" + (" aq-row--pulse" if row.loud else "")
    head = html.Div(
        id=ids.alert_group_row(row.key), n_clicks=0, className=classes, title=hint,
        style={"--severity": row.colour},
        **{"data-group": row.key, "data-count": str(row.count), "data-severity": row.severity},
        children=[
            html.Div(row.severity_text, className="aq-severity"),
            html.Div(className="aq-body", children=[
                html.Div([html.Span("▾ " if row.expanded else "▸ ", className="aq-group-caret"), row.title,
                          html.Span(row.count_text, className="aq-badge aq-badge--count"),
                          html.Span(row.new_text, className="aq-badge aq-badge--new") if row.new_text else None],
                         className="aq-title"),
                html.Div(f"{row.areas_text} · {row.meta_text}", className="aq-meta"),
            ]),
            html.Div(className="aq-when", children=[html.Div(row.when_text, className="aq-age")]),
        ],
    )
    if not row.expanded:
        return html.Div(head, className="aq-group-wrap")
    members = html.Div(className="aq-group-members", children=[
        html.Button(row.ack_text, id=ids.alert_group_ack(row.key), n_clicks=0, disabled=not row.can_acknowledge,
                    className="alerts-button alerts-button--ack aq-group-ack"),
        *(member_row(member) for member in row.members),
        more_line(row.key, row.more_text, row.more_members) if row.more_members else None,
    ])
    return html.Div([head, members], className="aq-group-wrap aq-group-wrap--open")


def queue_lines(context: WebContext, records: Sequence[AlertRecord], lang: str, now: datetime, selected: str | None,
                shelved: Collection[str], expanded: Collection[str], member_row: MemberRow,
                shown: int = alert_queue.QUEUE_LINES) -> tuple[list[Any], Any]:
    """The queue's components (group lines and single alarms, the first `shown` of them and a line counting
    the rest) and the flood banner."""
    settings = context.settings
    flood = flood_state(context.store.redis, context.store.keys, settings.grouping, now)
    hint = t("alerts.group.hint", lang)
    drawn, more = first_lines(alert_queue.queue_lines(records, settings.grouping, flood, now), shown)
    lines = []
    for line in drawn:
        if isinstance(line, AlarmGroup):
            row = alert_queue.group_row(line, settings, lang, now, selected, shelved, expanded, shown)
            lines.append(group_line(row, member_row, hint))
        else:
            lines.append(member_row(alert_queue.queue_row(line, settings, lang, now, selected, shelved)))
    if more:
        lines.append(more_line("queue", t("alerts.more", lang, n=more), more))
    return lines, flood_banner(alert_queue.flood_banner(flood, lang))


def show_more(_context: WebContext, _clicks: list[int | None], shown: int | None) -> Any:
    """A press on a "more" line draws the next lines of the queue (and of an opened group)."""
    # a redraw of the queue re-creates the buttons, which fires this callback without a click
    if not any(item.get("value") for item in dash.ctx.triggered):
        return dash.no_update
    return next_lines(shown)


def next_lines(shown: int | None) -> int:
    return (shown or alert_queue.QUEUE_LINES) + alert_queue.QUEUE_LINES


def toggle_group(_context: WebContext, _clicks: list[int | None], opened: list[str] | None) -> Any:
    """A click on a group line opens it (lists its alarms); a second click closes it."""
    trigger = dash.ctx.triggered_id
    # a redraw of the queue re-creates the lines, which fires this callback without a click
    if not isinstance(trigger, dict) or not any(item.get("value") for item in dash.ctx.triggered):
        return dash.no_update
    key = trigger.get("group", "")
    now_open = list(opened or [])
    return [k for k in now_open if k != key] if key in now_open else [*now_open, key]


def acknowledge(context: WebContext, _clicks: list[int | None], lang: str | None, version: int | None
                ) -> tuple[Any, Any]:
    """Acknowledge the clicked group's new alarms, each as the current actor on its own timeline."""
    trigger = dash.ctx.triggered_id
    if not isinstance(trigger, dict) or not any(item.get("value") for item in dash.ctx.triggered):
        return dash.no_update, dash.no_update
    lang = language(lang)
    group = current_group(context, trigger.get("group", ""))
    if group is None:
        return _line(t("alerts.group.gone", lang), "problem"), dash.no_update
    outcome = acknowledge_group(context.store.alerts, group, actor=current_actor())
    text = t("alerts.group.done", lang, n=len(outcome.acknowledged), group=group.key)
    if outcome.refused:
        text += " · " + t("alerts.group.refused", lang, n=len(outcome.refused))
    return _line(text, "ok" if outcome.acknowledged else "refused"), (version or 0) + 1


def current_group(context: WebContext, key: str) -> AlarmGroup | None:
    """The group as the queue shows it now (the same folding, flood or not), by its key."""
    settings, now = context.settings, utcnow()
    flood: Flood = flood_state(context.store.redis, context.store.keys, settings.grouping, now)
    lines = alert_queue.queue_lines(open_alarms(context.store.alerts, context.cache).records, settings.grouping,
                                    flood, now)
    return find_group(lines, key)


def service_line(context: WebContext, _tick: int | None, lang: str | None, _version: int | None) -> Any:
    """What is out of service or in maintenance now: the rules raise nothing for it, so the queue says why."""
    lang = language(lang)
    now = utcnow()
    service = Service(context.store.redis, context.store.keys, context.settings)
    parts = [t("alerts.service.out", lang, what=item.name) for item in service.out_of_service(now)]
    parts += [t("alerts.service.window", lang, start=local_time(w.start, "%H:%M"), end=local_time(w.end, "%H:%M"),
                what=", ".join([*w.feeds, *w.areas])) for w in service.windows(now) if w.active(now)]
    if not parts:
        return None
    return html.Div([html.Span(t("alerts.service.title", lang), className="aq-service-title"),
                     *(html.Span(part, className="aq-service-item") for part in parts)], className="aq-service")


def _line(text: str, tone: str) -> html.Div:
    return html.Div(text, className=f"alerts-feedback-line alerts-feedback-line--{tone}")


CALLBACKS = (
    Callback(
        outputs=(Output(ids.ALERTS_QUEUE_LINES, "data"),),
        inputs=(Input({"type": ids.ALERTS_MORE, "at": ALL}, "n_clicks"),),
        states=(State(ids.ALERTS_QUEUE_LINES, "data"),),
        function=show_more,
        prevent_initial_call=True,
    ),
    Callback(
        outputs=(Output(ids.ALERTS_GROUPS_OPEN, "data"),),
        inputs=(Input({"type": ids.ALERT_GROUP_ROW, "group": ALL}, "n_clicks"),),
        states=(State(ids.ALERTS_GROUPS_OPEN, "data"),),
        function=toggle_group,
        prevent_initial_call=True,
    ),
    Callback(
        outputs=(Output(ids.ALERTS_GROUP_FEEDBACK, "children"), Output(ids.ALERTS_GROUPS_VERSION, "data")),
        inputs=(Input({"type": ids.ALERT_GROUP_ACK, "group": ALL}, "n_clicks"),),
        states=(State(ids.LANG, "data"), State(ids.ALERTS_GROUPS_VERSION, "data")),
        function=acknowledge,
        permission="alerts.act",
        prevent_initial_call=True,
    ),
    Callback(
        outputs=(Output(ids.ALERTS_SERVICE, "children"),),
        inputs=(Input(ids.ALERTS_TICK, "n_intervals"), Input(ids.LANG, "data"),
                Input(ids.ALERTS_GROUPS_VERSION, "data")),
        function=service_line,
    ),
)
