"""The alert page's alarm-system panel: the queue's own EEMUA 191 / ISA-18.2 measures over the last hours as a
strip of tiles against their targets, opening onto the most frequent, chattering and stale alarms.

The measures are ioc.alerts.metrics and their text ioc.alerts.metrics_text; this module lays them out. They are
measured once for every screen (ioc.alerts.metrics.shared_metrics): again when an alert changed, at most every
`RECOMPUTE_SECONDS`, so a flood of alarms is not measured by every screen on every tick, and once a minute as
the window slides.
"""

from __future__ import annotations

from typing import Any

import dash
from dash import Input, Output, State, dcc, html

from ioc.alerts.metrics import AlarmMetrics, shared_metrics
from ioc.alerts.metrics_text import (
    AlarmLine,
    MetricLine,
    chattering_lines,
    heading,
    metric_lines,
    stale_lines,
    top_lines,
)
from ioc.alerts.record import ALERTS_LAYER
from ioc.config import Settings
from ioc.i18n import t
from ioc.model import utcnow
from ioc.pages import Callback
from ioc.web import WebContext, language
from layouts import ids

RECOMPUTE_SECONDS = 10
LIST_LINES = 10  # lines of the chattering and stale lists shown (the panel says how many more)


def metrics_panel() -> html.Section:
    return html.Section(
        className="panel alerts-metrics",
        children=[
            dcc.Store(id=ids.ALERTS_METRICS_SEEN),
            html.Details(
                id=ids.ALERTS_METRICS,
                className="alerts-metrics-details",
                children=[
                    html.Summary(
                        className="alerts-metrics-summary",
                        children=[
                            html.Div(id=ids.ALERTS_METRICS_HEAD, className="alerts-metrics-head"),
                            html.Div(id=ids.ALERTS_METRICS_TILES, className="alerts-metrics-tiles"),
                        ],
                    ),
                    html.Div(id=ids.ALERTS_METRICS_LISTS, className="alerts-metrics-lists"),
                ],
            ),
        ],
    )


def tile(line: MetricLine, lang: str) -> html.Div:
    return html.Div(
        className=f"am-tile am-tile--{line.status}",
        **{"data-measure": line.key, "data-status": line.status},
        children=[
            html.Div(line.label, className="am-label"),
            html.Div(
                [line.value, html.Span(line.note, className="am-note") if line.note else None],
                className="am-value",
            ),
            html.Div(f"{t('reports.col.target', lang)}: {line.target}", className="am-target"),
        ],
    )


def alarm_list(title: str, lines: list[AlarmLine], lang: str, kind: str) -> html.Div:
    shown = [
        html.Li(
            className="am-line",
            children=[
                html.Span(line.label, className="am-what"),
                html.Span(line.figure, className="am-figure"),
            ],
        )
        for line in lines[:LIST_LINES]
    ]
    if len(lines) > LIST_LINES:
        shown.append(html.Li(f"+{len(lines) - LIST_LINES}", className="am-line am-more"))
    return html.Div(
        className=f"am-list am-list--{kind}",
        **{"data-list": kind},
        children=[
            html.H3(f"{title} ({len(lines)})", className="am-list-title"),
            html.Ol(shown, className="am-lines")
            if shown
            else html.Div(t("alarm_kpis.none", lang), className="muted"),
        ],
    )


def measures_view(
    metrics: AlarmMetrics, settings: Settings, lang: str
) -> tuple[list[Any], list[Any], list[Any]]:
    """The title and window, the tiles and the three lists: the alert page's panel and the report's section."""
    head = [
        html.H2(t("alarm_kpis.title", lang), className="am-title"),
        html.Span(heading(metrics, lang), className="am-window muted"),
    ]
    tiles = [tile(line, lang) for line in metric_lines(metrics, lang)]
    lists = [
        alarm_list(t("alarm_kpis.top", lang), top_lines(metrics, settings, lang), lang, "top"),
        alarm_list(
            t("alarm_kpis.chattering_list", lang),
            chattering_lines(metrics, settings, lang),
            lang,
            "chattering",
        ),
        alarm_list(t("alarm_kpis.stale_list", lang), stale_lines(metrics, settings, lang), lang, "stale"),
    ]
    return head, tiles, lists


def refresh(
    context: WebContext, _tick: int | None, lang: str | None, seen: dict[str, Any] | None
) -> tuple[Any, ...]:
    """The panel's tiles and lists, redrawn only when the measures were taken again (an alert changed, the
    minute stepped on) or the language changed."""
    lang = language(lang)
    now = utcnow()
    version = context.store.redis.hget(context.store.keys.versions(), ALERTS_LAYER)
    minute = int(now.timestamp() // 60)
    if seen and seen.get("lang") == lang and seen.get("version") == version and seen.get("minute") == minute:
        return (dash.no_update,) * 4
    measured = shared_metrics(
        context.store.redis,
        context.store.keys,
        context.settings.alarm_system,
        context.cache,
        version=version,
        now=now,
        fresh_seconds=RECOMPUTE_SECONDS,
    )
    drawn = {"version": measured.version, "minute": int(measured.at // 60), "lang": lang}
    if drawn == seen:
        return (dash.no_update,) * 4
    head, tiles, lists = measures_view(measured.metrics, context.settings, lang)
    return head, tiles, lists, drawn


CALLBACKS = (
    Callback(
        outputs=(
            Output(ids.ALERTS_METRICS_HEAD, "children"),
            Output(ids.ALERTS_METRICS_TILES, "children"),
            Output(ids.ALERTS_METRICS_LISTS, "children"),
            Output(ids.ALERTS_METRICS_SEEN, "data"),
        ),
        inputs=(Input(ids.ALERTS_TICK, "n_intervals"), Input(ids.LANG, "data")),
        states=(State(ids.ALERTS_METRICS_SEEN, "data"),),
        function=refresh,
    ),
)
