"""The KPI report page (/reports): a period's KPIs against targets by sector, the areas behind them, exports.

Thin: the report is `ioc.kpis.report.cached_report`, its text `ioc.kpis.exports.table`, its charts
`ioc.kpis.exports.figures`, its files `ioc.kpis.exports.write_report`; this module only lays them out.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import dash
from dash import Input, Output, State, dcc, html

from ioc.config import ConfigError, Settings
from ioc.i18n import CITY_ZONE, local_time, t
from ioc.kpis.catalogue import load_catalogue, sector_colour, sector_name
from ioc.kpis.exports import MEDIA_TYPES, file_name, write_report
from ioc.kpis.exports.figures import district_map_figure, trend_figure
from ioc.kpis.exports.table import KpiRow, default_kpi, district_rows, kpi_rows
from ioc.kpis.periods import KINDS, Period, PeriodError, make_range, period_of
from ioc.kpis.report import cached_report
from ioc.kpis.results import Report
from ioc.model import utcnow
from ioc.pages import Callback, Page
from ioc.web import WebContext, language
from layouts import ids
from layouts.reports_alarms import alarm_section

GRAPH_CONFIG = {"displayModeBar": False, "responsive": True}
ALL = ""  # the "whole city" / "all sectors" choice of a dropdown


def today() -> date:
    return utcnow().astimezone(CITY_ZONE).date()


def layout(context: WebContext, **_query: Any) -> html.Div:
    settings = context.settings
    day = today()
    areas = _area_names(context)
    return html.Div(
        className="reports-page",
        children=[
            html.Div(
                className="reports-head",
                children=[
                    html.H1(id=ids.REPORTS_TITLE, className="reports-title"),
                    html.Div(
                        className="reports-controls",
                        children=[
                            html.Div(className="reports-control", children=[
                                html.Label(id=ids.REPORTS_LABEL_PERIOD, htmlFor=ids.REPORTS_PERIOD_KIND),
                                dcc.RadioItems(id=ids.REPORTS_PERIOD_KIND, value="month", inline=True,
                                               className="reports-kinds",
                                               options=[{"label": k, "value": k} for k in KINDS]),
                            ]),
                            html.Div(id=ids.REPORTS_DATE_BOX, className="reports-control", children=[
                                dcc.DatePickerSingle(id=ids.REPORTS_DATE, date=day.isoformat(),
                                                     display_format="DD/MM/YYYY", first_day_of_week=1,
                                                     max_date_allowed=day.isoformat()),
                            ]),
                            html.Div(id=ids.REPORTS_RANGE_BOX, className="reports-control",
                                     style={"display": "none"}, children=[
                                dcc.DatePickerRange(id=ids.REPORTS_RANGE,
                                                    start_date=(day - timedelta(days=13)).isoformat(),
                                                    end_date=day.isoformat(), display_format="DD/MM/YYYY",
                                                    first_day_of_week=1, max_date_allowed=day.isoformat()),
                            ]),
                            html.Div(className="reports-control", children=[
                                html.Label(id=ids.REPORTS_LABEL_DISTRICT, htmlFor=ids.REPORTS_DISTRICT),
                                dcc.Dropdown(id=ids.REPORTS_DISTRICT, value=ALL, clearable=False,
                                             className="reports-dropdown",
                                             options=[{"label": a, "value": a} for a in ["", *areas]]),
                            ]),
                            html.Div(className="reports-control", children=[
                                html.Label(id=ids.REPORTS_LABEL_SECTOR, htmlFor=ids.REPORTS_SECTOR),
                                dcc.Dropdown(id=ids.REPORTS_SECTOR, value=ALL, clearable=False,
                                             className="reports-dropdown",
                                             options=[{"label": s, "value": s}
                                                      for s in ["", *_sectors(settings)]]),
                            ]),
                            html.Div(className="reports-control reports-export", children=[
                                html.Label(id=ids.REPORTS_LABEL_EXPORT),
                                html.Div(className="reports-export-buttons", children=[
                                    html.Button("CSV", id=ids.REPORTS_EXPORT_CSV, n_clicks=0, className="export-button"),
                                    html.Button("Excel", id=ids.REPORTS_EXPORT_XLSX, n_clicks=0,
                                                className="export-button"),
                                    html.Button("PDF", id=ids.REPORTS_EXPORT_PDF, n_clicks=0, className="export-button"),
                                ]),
                                dcc.Download(id=ids.REPORTS_DOWNLOAD),
                            ]),
                        ],
                    ),
                ],
            ),
            html.Div(id=ids.REPORTS_SUMMARY, className="reports-summary"),
            dcc.Loading(html.Div(id=ids.REPORTS_BODY, className="reports-body"), type="dot", color="#4cc9ff",
                        delay_show=400),
            html.Section(
                className="panel reports-detail",
                children=[
                    html.Div(className="reports-detail-head", children=[
                        html.H2(id=ids.REPORTS_DETAIL_TITLE, className="reports-detail-title"),
                        html.Div(className="reports-control", children=[
                            html.Label(id=ids.REPORTS_LABEL_KPI, htmlFor=ids.REPORTS_KPI),
                            dcc.Dropdown(id=ids.REPORTS_KPI, clearable=False, className="reports-dropdown reports-kpi"),
                        ]),
                    ]),
                    html.Div(className="reports-detail-body", children=[
                        html.Div(id=ids.REPORTS_LEAGUE, className="reports-league"),
                        dcc.Graph(id=ids.REPORTS_MAP, className="reports-map", config=GRAPH_CONFIG,
                                  figure={"data": [], "layout": {"paper_bgcolor": "rgba(0,0,0,0)",
                                                                 "plot_bgcolor": "rgba(0,0,0,0)",
                                                                 "xaxis": {"visible": False},
                                                                 "yaxis": {"visible": False}}}),
                    ]),
                ],
            ),
        ],
    )


def _sectors(settings: Settings) -> list[str]:
    """The catalogue's sectors; none while kpis.yaml does not load (the report then says why)."""
    try:
        return load_catalogue(settings).sectors()
    except ConfigError:
        return []


def _area_names(context: WebContext) -> list[str]:
    from ioc.areas import area_index

    return list(area_index(context.settings.city).names)


# --- turning controls into a period ------------------------------------------------------------------------


def period_from(kind: str | None, day: str | None, start: str | None, end: str | None) -> Period:
    """The period the controls describe; PeriodError when they describe none."""
    if kind == "range":
        if not start or not end:
            raise PeriodError("a range needs a first and a last day")
        return make_range(date.fromisoformat(start[:10]), date.fromisoformat(end[:10]))
    if kind not in ("day", "week", "month"):
        raise PeriodError(f"unknown period kind {kind!r}")
    if not day:
        raise PeriodError("choose a day")
    return period_of(kind, date.fromisoformat(day[:10]))  # type: ignore[arg-type]


def report_for(context: WebContext,
               kind: str | None, day: str | None, start: str | None, end: str | None, district: str | None,
               sector: str | None, lang: str) -> Report:
    return cached_report(context.store, context.settings, period_from(kind, day, start, end),
                         cache=context.cache, district=district or None, sector=sector or None, lang=lang)


# --- the page's parts ----------------------------------------------------------------------------------------


def controls(context: WebContext, lang: str | None) -> tuple[Any, ...]:
    """Every label and option of the page's controls in the chosen language."""
    lang = language(lang)
    settings = context.settings
    kinds = [{"label": t(f"reports.period.{k}", lang), "value": k} for k in KINDS]
    areas = [{"label": t("reports.scope.city", lang), "value": ALL}] + [
        {"label": name, "value": name} for name in _area_names(context)]
    sectors = [{"label": t("reports.filter.all_sectors", lang), "value": ALL}] + [
        {"label": sector_name(settings, s, lang), "value": s} for s in _sectors(settings)]
    return (
        t("reports.title", lang), t("reports.filter.period", lang), kinds, t("reports.filter.district", lang), areas,
        t("reports.filter.sector", lang), sectors, t("reports.export", lang), t("reports.choose_kpi", lang),
    )


def date_boxes(_context: WebContext, kind: str | None) -> tuple[dict[str, str], dict[str, str]]:
    """The single-day picker for a day, week or month (any day in it); the range picker for a range."""
    hidden, shown = {"display": "none"}, {}
    return (hidden, shown) if kind == "range" else (shown, hidden)


def kpi_options(context: WebContext,
                sector: str | None, lang: str | None, chosen: str | None) -> tuple[list[dict[str, str]], str | None]:
    """The KPIs the league table and map can show (those measured by area), and the one to show."""
    lang = language(lang)
    try:
        catalogue = load_catalogue(context.settings)
    except ConfigError:
        return [], None
    options = [{"label": k.name.get(lang), "value": k.id} for k in catalogue.kpis
               if not k.is_data_kpi and (not sector or k.sector == sector)]
    values = [o["value"] for o in options]
    return options, chosen if chosen in values else None


def status_pill(status: str, text: str) -> html.Span:
    return html.Span(text, className=f"status-chip status-chip--{status}")


def kpi_card(row: KpiRow, report: Report, lang: str) -> html.Div:
    result = report.result(row.kpi_id)
    change_class = {True: "kpi-change--good", False: "kpi-change--bad", None: "kpi-change--flat"}[row.change_good]
    forecast = t("reports.forecast", lang, period=report.next_period.display(), value=row.forecast_text)
    children: list[Any] = [
        html.Div(className="kpi-card-head", children=[
            html.Div([html.Div(row.kpi, className="kpi-card-name", title=row.description),
                      html.Div(row.agency, className="kpi-card-agency")]),
            status_pill(row.status, row.status_text),
        ]),
        html.Div(className="kpi-card-numbers", children=[
            html.Span(row.value_text, className="kpi-card-value"),
            html.Div(className="kpi-card-side", children=[
                html.Div(t("reports.target", lang, target=row.target_text), className="kpi-card-target"),
                html.Div([html.Span(row.change_text, className=f"kpi-change {change_class}"),
                          html.Span(" " + t("reports.change_vs", lang), className="muted")]
                         if row.change is not None else t("reports.previous", lang, value="—"),
                         className="kpi-card-change"),
            ]),
        ]),
    ]
    if any(point.value is not None for point in result.trend):
        children.append(dcc.Graph(figure=trend_figure(result, row, lang), config=GRAPH_CONFIG,
                                  className="kpi-card-trend"))
    children.append(html.Div([html.Span(forecast), html.Span(f" · {row.forecast_method_text}", className="muted")],
                             className="kpi-card-forecast"))
    if row.why:
        children.append(html.Div([html.Span(t("reports.why", lang) + ": ", className="kpi-card-why-label"),
                                  html.Span(row.why)], className="kpi-card-why"))
    if row.note:
        children.append(html.Div(row.note, className="kpi-card-note"))
    return html.Div(className=f"kpi-card kpi-card--{row.status}", children=children,
                    **{"data-kpi": row.kpi_id, "data-status": row.status})


def body(context: WebContext, report: Report, lang: str) -> list[Any]:
    settings = context.settings
    rows = kpi_rows(report, settings, lang)
    sections = []
    for sector_id in report.sectors():
        sector_rows = [r for r in rows if r.sector_id == sector_id]
        sections.append(html.Section(
            className="reports-sector", style={"--sector": sector_colour(settings, sector_id)},
            **{"data-sector": sector_id},
            children=[html.H2(sector_rows[0].sector, className="reports-sector-title"),
                      html.Div([kpi_card(row, report, lang) for row in sector_rows], className="kpi-card-grid")],
        ))
    sections.append(alarm_section(report, settings, lang))
    return sections


def summary(report: Report, lang: str) -> list[Any]:
    counts = report.counts()
    area = report.district or t("reports.scope.city", lang)
    return [
        html.Div(className="reports-period", children=[
            html.Span(report.period.display(), className="reports-period-label"),
            html.Span(f" · {area}", className="muted"),
            html.Span(" · " + t("reports.generated", lang,
                                time=local_time(report.generated_at, "%H:%M %d/%m/%Y")), className="muted"),
            # days Redis no longer held came from the history archive: say so
            *([html.Span(" · " + t("reports.from_archive", lang, days=archived, total=report.period.length),
                         className="muted")] if (archived := report.archive_days()) else []),
        ]),
        html.Div(className="reports-counts", children=[
            status_pill(status, f"{counts[status]} {t(f'reports.status.{status}', lang)}")
            for status in ("missed", "near", "met", "no_data")
        ]),
    ]


def render(context: WebContext,
           kind: str | None, day: str | None, start: str | None, end: str | None, district: str | None,
           sector: str | None, lang: str | None) -> tuple[Any, Any]:
    """The summary line and the KPI cards of the chosen period and filters."""
    lang = language(lang)
    try:
        report = report_for(context, kind, day, start, end, district, sector, lang)
    except ConfigError as exc:  # the catalogue does not load: say where, as `ioc report` would
        return html.Pre(str(exc), className="reports-error"), []
    except (PeriodError, ValueError) as exc:
        return html.Div(f"{t('reports.bad_period', lang)}: {exc}", className="reports-error"), []
    return summary(report, lang), body(context, report, lang)


def league(report: Report, kpi_id: str, lang: str) -> html.Table:
    rows = district_rows(report, kpi_id, lang)
    head = [t(f"reports.col.{c}", lang) for c in ("rank", "district", "value", "status")]
    return html.Table(className="league-table", children=[
        html.Thead(html.Tr([html.Th(label) for label in head])),
        html.Tbody([
            html.Tr(className=f"league-row league-row--{row.status}", **{"data-district": row.district}, children=[
                html.Td(row.rank or "–", className="num"), html.Td(row.district),
                html.Td(row.value_text, className="num"), html.Td(status_pill(row.status, row.status_text)),
            ])
            for row in rows
        ]),
    ])


def detail(context: WebContext,
           kind: str | None, day: str | None, start: str | None, end: str | None, district: str | None,
           sector: str | None, kpi_id: str | None, lang: str | None) -> tuple[Any, Any, Any, str]:
    """The area league table and map of the chosen KPI (the first missed one when none is chosen, which
    the KPI picker then names)."""
    lang = language(lang)
    try:
        report = report_for(context, kind, day, start, end, district, sector, lang)
    except (PeriodError, ValueError):
        return "", [], dash.no_update, ""
    shown = kpi_id if kpi_id and any(r.kpi.id == kpi_id for r in report.results) else default_kpi(report)
    if shown is None:
        return (t("reports.status.no_data", lang), [],
                district_map_figure(report, context.settings, None, lang), "")
    name = report.result(shown).kpi.name.get(lang)
    return (t("reports.league.title", lang, kpi=name), league(report, shown, lang),
            district_map_figure(report, context.settings, shown, lang), name)


def export_file(context: WebContext,
                fmt: str, kind: str | None, day: str | None, start: str | None, end: str | None,
                district: str | None, sector: str | None, kpi_id: str | None, lang: str | None) -> dict[str, Any] | None:
    """The report on screen as a download (dcc.Download data), None when the controls describe no period."""
    lang = language(lang)
    try:
        report = report_for(context, kind, day, start, end, district, sector, lang)
    except (PeriodError, ValueError):
        return None
    content = write_report(report, context.settings, fmt, lang=lang, kpi_id=kpi_id or None)
    return dcc.send_bytes(content, file_name(report, fmt), type=MEDIA_TYPES[fmt])


EXPORT_BUTTONS = {ids.REPORTS_EXPORT_CSV: "csv", ids.REPORTS_EXPORT_XLSX: "xlsx", ids.REPORTS_EXPORT_PDF: "pdf"}


def export(context: WebContext, _csv: int | None, _xlsx: int | None, _pdf: int | None, *controls: Any) -> Any:
    """The button pressed says which format."""
    fmt = EXPORT_BUTTONS.get(dash.ctx.triggered_id)
    download = export_file(context, fmt, *controls) if fmt else None
    return dash.no_update if download is None else download


# the controls that choose a report, shared by the callbacks that draw and export it
_PERIOD_INPUTS = (
    Input(ids.REPORTS_PERIOD_KIND, "value"),
    Input(ids.REPORTS_DATE, "date"),
    Input(ids.REPORTS_RANGE, "start_date"),
    Input(ids.REPORTS_RANGE, "end_date"),
    Input(ids.REPORTS_DISTRICT, "value"),
    Input(ids.REPORTS_SECTOR, "value"),
)

PAGE = Page(
    module=__name__,
    path="/reports",
    title_key="nav.reports",
    order=2,
    permission="reports.view",
    nav_id=ids.NAV_REPORTS,
    layout=layout,
    callbacks=(
        Callback(
            outputs=(Output(ids.REPORTS_TITLE, "children"),
                     Output(ids.REPORTS_LABEL_PERIOD, "children"),
                     Output(ids.REPORTS_PERIOD_KIND, "options"),
                     Output(ids.REPORTS_LABEL_DISTRICT, "children"),
                     Output(ids.REPORTS_DISTRICT, "options"),
                     Output(ids.REPORTS_LABEL_SECTOR, "children"),
                     Output(ids.REPORTS_SECTOR, "options"),
                     Output(ids.REPORTS_LABEL_EXPORT, "children"),
                     Output(ids.REPORTS_LABEL_KPI, "children")),
            inputs=(Input(ids.LANG, "data"),),
            function=controls,
        ),
        Callback(
            outputs=(Output(ids.REPORTS_DATE_BOX, "style"),
                     Output(ids.REPORTS_RANGE_BOX, "style")),
            inputs=(Input(ids.REPORTS_PERIOD_KIND, "value"),),
            function=date_boxes,
        ),
        Callback(
            outputs=(Output(ids.REPORTS_KPI, "options"),
                     Output(ids.REPORTS_KPI, "value")),
            inputs=(Input(ids.REPORTS_SECTOR, "value"),
                     Input(ids.LANG, "data")),
            states=(State(ids.REPORTS_KPI, "value"),),
            function=kpi_options,
        ),
        Callback(
            outputs=(Output(ids.REPORTS_SUMMARY, "children"),
                     Output(ids.REPORTS_BODY, "children")),
            inputs=(*_PERIOD_INPUTS,
                     Input(ids.LANG, "data")),
            function=render,
        ),
        Callback(
            outputs=(Output(ids.REPORTS_DETAIL_TITLE, "children"),
                     Output(ids.REPORTS_LEAGUE, "children"),
                     Output(ids.REPORTS_MAP, "figure"),
                     Output(ids.REPORTS_KPI, "placeholder")),
            inputs=(*_PERIOD_INPUTS,
                     Input(ids.REPORTS_KPI, "value"),
                     Input(ids.LANG, "data")),
            function=detail,
        ),
        Callback(
            outputs=(Output(ids.REPORTS_DOWNLOAD, "data"),),
            inputs=(Input(ids.REPORTS_EXPORT_CSV, "n_clicks"),
                     Input(ids.REPORTS_EXPORT_XLSX, "n_clicks"),
                     Input(ids.REPORTS_EXPORT_PDF, "n_clicks")),
            states=(*(State(i.component_id, i.component_property) for i in _PERIOD_INPUTS),
                     State(ids.REPORTS_KPI, "value"),
                     State(ids.LANG, "data")),
            function=export,
            permission="reports.export",
            prevent_initial_call=True,
        ),
    ),
)
