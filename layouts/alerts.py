"""The alert queue page (/alerts): alerts by severity then age, filters, and a detail view to act on one.

The queue redraws when the city's change counter moves (a new alert shows within one 2 s tick) and as ages
step on; the detail redraws when its alert changes. The note field and the buttons are never redrawn, so
what an operator is typing survives the live refresh. Every change goes through ioc.alerts with the actor
from `current_actor()`: the signed-in user, "operator" when nobody is signed in.
"""

from __future__ import annotations

import math
from typing import Any

import dash
import plotly.graph_objects as go
import shapely
from dash import ALL, Input, Output, State, dcc, html

from ioc import city_map
from ioc.alerts import ALL as ALL_STATES
from ioc.alerts import OPEN, ActionOutcome, AlertQuery, AlertRecord, operator_action, select
from ioc.areas import area_index
from ioc.city_map import AREA_EDGE, LABEL_COLOUR, MAP_BACKGROUND, SEVERITY_COLOURS
from ioc.config import Settings
from ioc.i18n import DEFAULT_LANGUAGE, age_text, local_time, t
from ioc.model import AlertState, Severity, from_iso, utcnow
from ioc.pages import Callback, Page
from ioc.rules import load_zones
from ioc.web import WebContext, age_step, language, map_base_layer
from layouts import ids

REFRESH_MS = 2000
# the alerts that pulse on screen until someone acknowledges them
LOUD = (Severity.EXTREME, Severity.SEVERE)
MAP_SPAN_DEGREES = 0.03  # the small map shows about 6 km across around the alert
MAP_HEIGHT = 250
STATE_CHOICES = (OPEN, *(str(s) for s in AlertState), ALL_STATES)
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
                                              figure=_empty_map()),
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
                                        ],
                                    ),
                                ],
                            ),
                            html.Div(id=ids.ALERTS_HISTORY, className="alerts-history"),
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
    lang = language(lang)
    settings = context.settings
    severities = [{"label": t(f"control_room.severity.{s}", lang), "value": str(s)} for s in Severity]
    sectors = [{"label": s.name.get(lang), "value": s.id} for s in settings.city.sectors]
    districts = [{"label": name, "value": name} for name in area_index(settings.city).names]
    states = [
        {"label": t(f"alerts.state.{s}", lang) if s in (OPEN, ALL_STATES) else t(f"control_room.state.{s}", lang),
         "value": s}
        for s in STATE_CHOICES
    ]
    any_text = t("alerts.filter.any", lang)
    return (severities, any_text, sectors, any_text, districts, any_text, states)


def filter_labels(_context: WebContext, lang: str | None) -> list[str]:
    lang = language(lang)
    return [t(f"alerts.filter.{name}", lang) for name in ("severity", "sector", "district", "state")]


# --- the queue -------------------------------------------------------------------------------------------------


def alert_title(record: AlertRecord, settings: Settings, lang: str) -> str:
    """A relayed warning keeps its source's headline; other alerts say the rule's title and the place."""
    title = city_map.alert_title(record.alert, settings, lang)
    if record.kind == "relay" or not record.place or title == record.alert.title:
        return title
    return f"{title} — {record.place}"


def _sector_name(settings: Settings, sector: str, lang: str) -> str:
    found = settings.sector(sector)
    return found.name.get(lang) if found else sector


def _is_loud(record: AlertRecord) -> bool:
    return record.alert.severity in LOUD and record.state == AlertState.NEW


def queue_row(record: AlertRecord, settings: Settings, lang: str, now: Any, selected: str | None) -> html.Div:
    alert = record.alert
    classes = [f"aq-row aq-row--{alert.severity} aq-row--{alert.state}"]
    if _is_loud(record):
        classes.append("aq-row--pulse")
    if alert.id == selected:
        classes.append("aq-row--selected")
    meta = [alert.district or t("map.outside", lang), _sector_name(settings, alert.sector, lang),
            t(f"control_room.state.{alert.state}", lang)]
    if record.assignee:
        meta.append(t("alerts.row.assigned_to", lang, who=record.assignee))
    badges = []
    if record.escalations:
        badges.append(html.Span(t("alerts.badge.escalated", lang, n=record.escalations),
                                className="aq-badge aq-badge--escalated"))
    if record.flapping:
        badges.append(html.Span(t("alerts.badge.flapping", lang), className="aq-badge aq-badge--flapping"))
    age = (now - alert.raised_at).total_seconds() if alert.raised_at else None
    return html.Div(
        id=ids.alert_row(alert.id),
        n_clicks=0,
        className=" ".join(classes),
        style={"--severity": SEVERITY_COLOURS[alert.severity]},
        **{"data-alert": alert.id, "data-severity": str(alert.severity), "data-state": str(alert.state)},
        children=[
            html.Div(t(f"control_room.severity.{alert.severity}", lang), className="aq-severity"),
            html.Div(
                className="aq-body",
                children=[
                    html.Div([alert_title(record, settings, lang), *badges], className="aq-title"),
                    html.Div(" · ".join(meta), className="aq-meta"),
                ],
            ),
            html.Div(
                className="aq-when",
                children=[html.Div(age_text(age, lang), className="aq-age"),
                          html.Div(f"{alert.id} · {t('alerts.row.occurrences', lang, n=alert.occurrences)}",
                                   className="aq-id")],
            ),
        ],
    )


def summary(open_records: list[AlertRecord], lang: str) -> list[Any]:
    if not open_records:
        return [html.Span(t("alerts.summary.none", lang), className="aq-pill aq-pill--calm")]
    pills: list[Any] = [html.Span(t("alerts.summary.open", lang, n=len(open_records)), className="aq-pill")]
    for severity in Severity:
        count = sum(r.alert.severity == severity for r in open_records)
        if count:
            pills.append(html.Span(
                f"{count} {t(f'control_room.severity.{severity}', lang)}",
                className=f"aq-pill aq-pill--{severity}", style={"--severity": SEVERITY_COLOURS[severity]}))
    waiting = sum(r.state == AlertState.NEW for r in open_records)
    if waiting:
        pills.append(html.Span(t("alerts.summary.unacknowledged", lang, n=waiting),
                               className="aq-pill aq-pill--waiting"))
    return pills


def refresh_queue(context: WebContext,
                  _tick: int | None, lang: str | None, severities: list[str] | None, sectors: list[str] | None,
    districts: list[str] | None, state: str | None, selected: str | None, version: int | None,
    seen: dict[str, Any] | None,
) -> tuple[Any, ...]:
    """Redraw the queue when alerts changed, a filter or the selection moved, or ages stepped on."""
    lang = language(lang)
    now = utcnow()
    query = AlertQuery.of(severities, sectors, districts, state)
    signature = {
        "changes": context.store.change_counter(),
        "lang": lang,
        "query": [sorted(query.severities), sorted(query.sectors), sorted(query.districts), query.state],
        "selected": selected,
        "version": version,
        "age": age_step(now),
    }
    if seen == signature:
        return (dash.no_update,) * 4
    book = context.store.alerts
    records = select(book, query)
    # the summary counts every open alert, whatever the filters hide
    open_records = records if query == AlertQuery.of(state=OPEN) else book.records()
    rows: Any = (
        [queue_row(record, context.settings, lang, now, selected) for record in records]
        if records else html.Div(t("alerts.empty", lang), className="aq-empty")
    )
    return t("alerts.title", lang), summary(open_records, lang), html.Div(rows, className="aq-list"), signature


def select_alert(_context: WebContext, _clicks: list[int | None], selected: str | None) -> Any:
    """A click on a queue row opens that alert."""
    trigger = dash.ctx.triggered_id
    # a redraw of the queue re-creates the rows, which fires this callback without a click
    if not isinstance(trigger, dict) or not any(item.get("value") for item in dash.ctx.triggered):
        return dash.no_update
    return trigger.get("alert") or selected


# --- the detail view ------------------------------------------------------------------------------------------


def _meta(label: str, value: Any) -> list[Any]:
    return [html.Dt(label), html.Dd(value if value not in (None, "") else "—")]


def _by_at(who: str, when: Any, lang: str) -> str:
    return t("alerts.detail.by_at", lang, who=who, time=local_time(when, "%H:%M:%S %d/%m")) if who else ""


def timeline_text(entry: dict[str, str], lang: str) -> str:
    action = entry.get("action", "")
    if action == "assigned":
        return t("alerts.timeline.assigned", lang, who=entry.get("assignee", ""))
    if action == "escalated":
        return t("alerts.timeline.escalated", lang,
                 before=t(f"control_room.severity.{entry.get('severity_from', 'unknown')}", lang),
                 after=t(f"control_room.severity.{entry.get('severity_to', 'unknown')}", lang))
    key = f"alerts.timeline.{action}"
    text = t(key, lang)
    return action if text == key else text


def timeline_item(entry: dict[str, str], lang: str) -> html.Li:
    return html.Li(
        className=f"tl-entry tl-entry--{entry.get('action', '')}",
        **{"data-action": entry.get("action", "")},
        children=[
            html.Span(local_time(from_iso(entry.get("at")), "%H:%M:%S %d/%m"), className="tl-time"),
            html.Span(entry.get("actor", ""), className="tl-actor"),
            html.Span(timeline_text(entry, lang), className="tl-action"),
            html.Span(entry.get("note", ""), className="tl-note") if entry.get("note") else None,
        ],
    )


def checklist(record: AlertRecord, settings: Settings, ticked: dict[int, dict[str, str]], lang: str) -> Any:
    procedure = settings.procedures.get(record.procedure) if record.procedure else None
    if procedure is None:
        return None
    steps = []
    for number, step in enumerate(procedure.steps):
        done = ticked.get(number)
        steps.append(html.Li(
            className="cl-step cl-step--done" if done else "cl-step",
            children=[
                html.Button("✓" if done else "", id=ids.alert_step(number), n_clicks=0, className="cl-box",
                            disabled=not record.is_open, title=step.get(lang)),
                html.Span(step.get(lang), className="cl-text"),
                html.Span(t("alerts.checklist.done", lang, who=done["by"],
                            time=local_time(from_iso(done["at"]), "%H:%M")), className="cl-by") if done else None,
            ],
        ))
    return html.Div(className="alerts-checklist", children=[
        html.H3(t("alerts.checklist", lang, title=procedure.title.get(lang)), className="detail-subtitle"),
        html.Ol(steps, className="cl-steps"),
    ])


def detail_view(record: AlertRecord, settings: Settings, lang: str) -> list[Any]:
    alert = record.alert
    badges = [
        html.Span(t(f"control_room.severity.{alert.severity}", lang),
                  className=f"detail-severity detail-severity--{alert.severity}"
                  + (" detail-severity--pulse" if _is_loud(record) else ""),
                  style={"--severity": SEVERITY_COLOURS[alert.severity]}),
        html.Span(t(f"control_room.state.{alert.state}", lang), className=f"detail-state detail-state--{alert.state}"),
    ]
    if record.escalations:
        badges.append(html.Span(t("alerts.badge.escalated", lang, n=record.escalations),
                                className="aq-badge aq-badge--escalated"))
    if record.flapping:
        badges.append(html.Span(t("alerts.badge.flapping", lang), className="aq-badge aq-badge--flapping"))
    rule = next((r for r in settings.rules if r.id == alert.rule_id), None)
    facts = [
        *_meta(t("alerts.detail.rule", lang), rule.title.get(lang) if rule else alert.rule_id),
        *_meta(t("alerts.detail.entity", lang), alert.entity_id),
        *_meta(t("alerts.detail.district", lang), alert.district),
        *_meta(t("alerts.detail.sector", lang), _sector_name(settings, alert.sector, lang)),
        *_meta(t("alerts.detail.agency", lang), alert.agency),
        *_meta(t("alerts.detail.raised", lang), local_time(alert.raised_at)),
        *_meta(t("alerts.detail.occurrences", lang), alert.occurrences),
        *_meta(t("alerts.detail.acknowledged", lang), _by_at(record.acknowledged_by, record.acknowledged_at, lang)),
        *_meta(t("alerts.detail.assignee", lang),
               f"{record.assignee} ({_by_at(record.assigned_by, record.assigned_at, lang)})" if record.assignee
               else ""),
    ]
    if record.resolved_by:
        facts += _meta(t("alerts.detail.resolved", lang), _by_at(record.resolved_by, record.resolved_at, lang))
    if record.expires:
        facts += _meta(t("alerts.detail.expires", lang), local_time(record.expires))
    return [
        html.Div(badges, className="detail-badges"),
        html.H2(alert_title(record, settings, lang), className="detail-title", **{"data-alert": alert.id}),
        html.P(alert.message, className="detail-message", title=t("alerts.detail.message", lang))
        if alert.message else None,
        html.Dl(facts, className="detail-facts"),
    ]


def history_view(record: AlertRecord, settings: Settings, timeline: list[dict[str, str]],
                 ticked: dict[int, dict[str, str]], lang: str) -> list[Any]:
    """The checklist to work through and the timeline, newest first."""
    return [
        checklist(record, settings, ticked, lang),
        html.H3(t("alerts.timeline", lang), className="detail-subtitle"),
        html.Ol([timeline_item(entry, lang) for entry in reversed(timeline)], className="alerts-timeline"),
    ]


def _empty_map() -> dict[str, Any]:
    return {"data": [], "layout": {"paper_bgcolor": MAP_BACKGROUND, "plot_bgcolor": MAP_BACKGROUND,
                                   "xaxis": {"visible": False}, "yaxis": {"visible": False},
                                   "margin": {"l": 0, "r": 0, "t": 0, "b": 0}, "height": MAP_HEIGHT}}


def _outline(figure: go.Figure, geometry: Any, fill: str, edge: str, name: str) -> None:
    for polygon in getattr(geometry, "geoms", [geometry]):
        ring = getattr(polygon, "exterior", None)
        coords = list(ring.coords) if ring is not None else list(getattr(polygon, "coords", []))
        if not coords:
            continue
        xs, ys = zip(*coords, strict=True)
        figure.add_scatter(x=list(xs), y=list(ys), mode="lines", fill="toself" if ring is not None else None,
                           hoverinfo="skip", fillcolor=fill, line={"color": edge, "width": 2}, name=name,
                           showlegend=False)


def alert_map(record: AlertRecord, settings: Settings, base: list[dict[str, Any]], lang: str) -> go.Figure:
    """A small offline map around the alert: the areas, the rule's zone or the warning's area, the alert's ring."""
    alert = record.alert
    figure = go.Figure(data=[trace for trace in base if trace.get("mode") != "text"])
    colour = SEVERITY_COLOURS[alert.severity]
    shapes: list[Any] = []
    rule = next((r for r in settings.rules if r.id == alert.rule_id), None)
    zone_id = alert.entity_id.rsplit(":zone:", 1)[1] if ":zone:" in alert.entity_id else None
    if rule is not None and getattr(rule, "zones", None) and zone_id:
        for zone in load_zones(rule.zones):
            if zone.id == zone_id:
                _outline(figure, zone.geometry, "rgba(76, 201, 255, 0.25)", "#4cc9ff", t("alerts.map.zone", lang))
                shapes.append(zone.geometry)
    if record.area:
        try:
            area = shapely.geometry.shape(record.area)
        except (ValueError, TypeError, AttributeError, shapely.errors.GEOSException):
            area = None
        if area is not None and not area.is_empty:
            _outline(figure, area, "rgba(255, 23, 68, 0.18)", colour, alert.title)
            shapes.append(area)
    if alert.location is not None:
        lon, lat = alert.location
        figure.add_scatter(x=[lon], y=[lat], mode="markers", hoverinfo="skip", showlegend=False,
                           marker={"size": 34, "color": "rgba(0,0,0,0)", "line": {"color": colour, "width": 5}})
        figure.add_scatter(x=[lon], y=[lat], mode="markers", hoverinfo="skip", showlegend=False,
                           marker={"size": 12, "color": colour, "line": {"color": "#ffffff", "width": 2}})
        shapes.append(shapely.Point(lon, lat))
    labels = next((trace for trace in base if trace.get("mode") == "text"), None)
    if not shapes:
        return figure
    minx, miny, maxx, maxy = shapely.GeometryCollection(shapes).bounds
    cx, cy = (minx + maxx) / 2, (miny + maxy) / 2
    # at least the span around the alert, and the whole zone or warning area when it is larger
    half_x = max(MAP_SPAN_DEGREES, (maxx - minx) / 2 * 1.15)
    half_y = max(MAP_SPAN_DEGREES * 0.6, (maxy - miny) / 2 * 1.15)
    if labels is not None and half_x < MAP_SPAN_DEGREES * 4:
        # only the area names well inside the view (a name cut at the edge reads as noise), and none on a
        # wide view of a warning area, where they would pile up on each other
        keep = [i for i, (x, y) in enumerate(zip(labels["x"], labels["y"], strict=True))
                if abs(x - cx) < half_x * 0.7 and abs(y - cy) < half_y * 0.75]
        figure.add_trace({**labels, **{key: [labels[key][i] for i in keep] for key in ("x", "y", "text")}})
    figure.update_layout(
        paper_bgcolor=MAP_BACKGROUND, plot_bgcolor=MAP_BACKGROUND, height=MAP_HEIGHT, showlegend=False,
        margin={"l": 0, "r": 0, "t": 0, "b": 0}, dragmode="pan",
        font={"color": LABEL_COLOUR},
        xaxis={"visible": False, "range": [cx - half_x, cx + half_x], "scaleanchor": "y",
               "scaleratio": math.cos(math.radians(cy)), "constrain": "range"},
        yaxis={"visible": False, "range": [cy - half_y, cy + half_y], "constrain": "range"},
        hoverlabel={"bordercolor": AREA_EDGE},
    )
    return figure


def _assignees(settings: Settings) -> list[Any]:
    agencies = sorted({f.agency for f in settings.feeds} | {r.agency for r in settings.rules})
    return [html.Option(value=agency) for agency in agencies]


def refresh_detail(context: WebContext,
                   selected: str | None, lang: str | None, _tick: int | None, version: int | None, seen: dict[str, Any] | None
) -> tuple[Any, ...]:
    """The selected alert: facts, checklist, timeline and map; redrawn only when the alert changed."""
    lang = language(lang)
    settings = context.settings
    placeholders = (t("alerts.actions.note", lang), t("alerts.actions.assignee", lang))
    record = context.store.alerts.get(selected) if selected else None
    timeline = context.store.alerts.timeline(selected) if record else []
    signature = {"alert": selected, "lang": lang, "version": version, "entries": len(timeline),
                 "stamp": record.alert.updated_at.isoformat() if record and record.alert.updated_at else ""}
    if seen == signature:
        return (dash.no_update,) * 9
    if record is None:
        message = t("alerts.gone" if selected else "alerts.choose", lang)
        return (html.Div(message, className="muted detail-empty"), {"display": "none"}, _empty_map(), [],
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
        _assignees(settings),
        # a newly opened alert proposes its rule's agency; what the operator typed is otherwise left alone
        (record.assignee or record.alert.agency) if newly_selected else dash.no_update,
        signature,
    )


def button_states(context: WebContext,
                  selected: str | None, lang: str | None, _tick: int | None, _version: int | None
                  ) -> tuple[Any, ...]:
    """Labels of the three buttons, and which apply to the alert's state (another operator may change it)."""
    lang = language(lang)
    record = context.store.alerts.get(selected) if selected else None
    labels = (t("alerts.actions.acknowledge", lang), t("alerts.actions.assign", lang),
              t("alerts.actions.resolve", lang))
    if record is None:
        return True, True, True, *labels
    return record.state != AlertState.NEW, not record.is_open, not record.is_open, *labels


def feedback_text(outcome: ActionOutcome, lang: str) -> tuple[str, str]:
    """The line under the buttons after a press, and its tone (ok, refused, problem)."""
    if outcome.record is not None:
        who = outcome.record.assignee
        return t(f"alerts.done.{outcome.action}", lang, id=outcome.record.id, who=who), "ok"
    if outcome.refusal is not None:
        refusal = outcome.refusal
        return (t(f"alerts.refused.{refusal.reason}", lang, id=refusal.alert_id, who=refusal.by or "?",
                  to=refusal.to, time=local_time(refusal.at, "%H:%M:%S")), "refused")
    return t(f"alerts.problem.{outcome.problem}", lang), "problem"


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
    lang = language(lang)
    outcome = operator_action(context.store.alerts, action, selected, actor=current_actor(), note=note or "",
                              assignee=assignee or "")
    text, tone = feedback_text(outcome, lang)
    feedback = html.Div(text, className=f"alerts-feedback-line alerts-feedback-line--{tone}")
    return feedback, "" if outcome.ok else dash.no_update, (version or 0) + 1


def toggle_step(context: WebContext, alert_id: str | None, step: int, version: int | None) -> int:
    """Tick a step of the alert's checklist, or untick it when it was ticked."""
    book = context.store.alerts
    record = book.get(alert_id) if alert_id else None
    procedure = context.settings.procedures.get(record.procedure) if record and record.procedure else None
    if record is None or procedure is None or not 0 <= step < len(procedure.steps) or not record.is_open:
        return version or 0
    done = step not in book.checklist(record.id)
    book.check_step(record.id, step, actor=current_actor(), label=procedure.steps[step].get("vi"), done=done)
    return (version or 0) + 1


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
                     Output(ids.ALERTS_QUEUE_SEEN, "data")),
            inputs=(Input(ids.ALERTS_TICK, "n_intervals"),
                     Input(ids.LANG, "data"),
                     Input(ids.ALERTS_FILTER_SEVERITY, "value"),
                     Input(ids.ALERTS_FILTER_SECTOR, "value"),
                     Input(ids.ALERTS_FILTER_DISTRICT, "value"),
                     Input(ids.ALERTS_FILTER_STATE, "value"),
                     Input(ids.ALERTS_SELECTED, "data"),
                     Input(ids.ALERTS_VERSION, "data")),
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
    ),
)
