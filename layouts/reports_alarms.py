"""The KPI report page's alarm-system section: the alarm system's own measures over the report's period (the
report carries them, ioc.kpis.alarm_section), drawn as the alert page's panel draws them."""

from __future__ import annotations

from dash import html

from ioc.config import Settings
from ioc.kpis.results import Report
from layouts import ids
from layouts.alerts_metrics import measures_view


def alarm_section(report: Report, settings: Settings, lang: str) -> html.Section | None:
    """The section, or None for a period that has not begun (nothing to measure)."""
    if report.alarm_system is None:
        return None
    head, tiles, lists = measures_view(report.alarm_system, settings, lang)
    return html.Section(
        id=ids.REPORTS_ALARMS,
        className="panel reports-alarms",
        children=[
            html.Div(head, className="alerts-metrics-head"),
            html.Div(tiles, className="alerts-metrics-tiles"),
            html.Div(lists, className="alerts-metrics-lists"),
        ],
    )
