"""The alarm-system section of the report's files: the measures against their targets and the most frequent,
chattering and stale alarms, as CSV rows, an XLSX sheet and PDF flowables, from the same text the page shows
(ioc.alerts.metrics_text)."""

from __future__ import annotations

from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Font, PatternFill
from reportlab.lib import colors
from reportlab.lib.units import mm
from reportlab.platypus import KeepTogether, Paragraph, Spacer, Table, TableStyle

from ioc.alerts.metrics_text import AlarmLine, chattering_lines, heading, metric_lines, stale_lines, top_lines
from ioc.config import Settings
from ioc.i18n import t
from ioc.kpis.results import Report

LIST_LINES = 20  # alarms of each list written to the PDF (the XLSX and CSV hold them all)


def _lists(report: Report, settings: Settings, lang: str) -> list[tuple[str, list[AlarmLine]]]:
    metrics = report.alarm_system
    if metrics is None:
        return []
    return [
        (t("alarm_kpis.top", lang), top_lines(metrics, settings, lang)),
        (t("alarm_kpis.chattering_list", lang), chattering_lines(metrics, settings, lang)),
        (t("alarm_kpis.stale_list", lang), stale_lines(metrics, settings, lang)),
    ]


def csv_rows(report: Report, settings: Settings, lang: str, columns: list[str]) -> list[list[str]]:
    """Rows under the KPI table's columns: `section` says alarm system, `kpi` the measure or the alarm."""
    metrics = report.alarm_system
    if metrics is None:
        return []
    section = t("alarm_kpis.title", lang)
    rows = []
    for line in metric_lines(metrics, lang):
        cells = {
            "kpi": line.label,
            "value": line.full_value,
            "target": line.target,
            "status": t(f"reports.status.{line.status}", lang),
        }
        rows.append([section, *(cells.get(c, "") for c in columns[1:])])
    for title, lines in _lists(report, settings, lang):
        rows.extend(
            [f"{section}: {title}", *({"kpi": a.label, "value": a.figure}.get(c, "") for c in columns[1:])]
            for a in lines
        )
    return rows


def xlsx_sheet(
    book: Workbook,
    report: Report,
    settings: Settings,
    lang: str,
    title: str,
    fills: dict[str, str],
    header: Any,
) -> None:
    """A sheet `title`: the measures with coloured statuses, then each list of alarms."""
    metrics = report.alarm_system
    if metrics is None:
        return
    sheet = book.create_sheet(title)
    sheet.cell(row=1, column=1, value=t("alarm_kpis.title", lang)).font = Font(bold=True, size=14)
    sheet.cell(row=2, column=1, value=heading(metrics, lang))
    header(
        sheet,
        4,
        [
            t("alarm_kpis.col.measure", lang),
            t("reports.col.value", lang),
            t("reports.col.target", lang),
            t("reports.col.status", lang),
        ],
    )
    row = 5
    for line in metric_lines(metrics, lang):
        for column, value in enumerate((line.label, line.full_value, line.target), start=1):
            sheet.cell(row=row, column=column, value=value)
        status = sheet.cell(row=row, column=4, value=t(f"reports.status.{line.status}", lang))
        status.fill, status.font = PatternFill("solid", fgColor=fills[line.status]), Font(bold=True)
        row += 1
    for title_text, lines in _lists(report, settings, lang):
        row += 1
        sheet.cell(row=row, column=1, value=f"{title_text} ({len(lines)})").font = Font(bold=True)
        row += 1
        for line in lines:
            sheet.cell(row=row, column=1, value=line.label)
            sheet.cell(row=row, column=2, value=line.figure)
            row += 1
    for column, width in {"A": 70, "B": 36, "C": 22, "D": 14}.items():
        sheet.column_dimensions[column].width = width


def pdf_story(
    report: Report,
    settings: Settings,
    lang: str,
    styles: dict[str, Any],
    escape: Any,
    status_colours: dict[str, str],
    status_tints: dict[str, str],
) -> list[Any]:
    """The section as flowables: a heading, the measures' table and the three lists side by side."""
    metrics = report.alarm_system
    if metrics is None:
        return []
    cell, small = styles["cell"], styles["small"]
    data: list[list[Any]] = [
        [
            t(f"{key}", lang)
            for key in (
                "alarm_kpis.col.measure",
                "reports.col.value",
                "reports.col.target",
                "reports.col.status",
            )
        ]
    ]
    style: list[Any] = [
        ("FONT", (0, 0), (-1, 0), "IocSans-Bold", 9),
        ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#1f3250")),
        ("TEXTCOLOR", (0, 0), (-1, 0), colors.white),
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("GRID", (0, 0), (-1, -1), 0.4, colors.HexColor("#c5ccd6")),
    ]
    for number, line in enumerate(metric_lines(metrics, lang), start=1):
        status = f'<font color="{status_colours[line.status]}"><b>{escape(t(f"reports.status.{line.status}", lang))}</b></font>'
        data.append(
            [
                Paragraph(escape(line.label), cell),
                Paragraph(f"<b>{escape(line.full_value)}</b>", cell),
                Paragraph(escape(line.target), cell),
                Paragraph(status, cell),
            ]
        )
        style.append(("BACKGROUND", (3, number), (3, number), colors.HexColor(status_tints[line.status])))
    measures = Table(data, colWidths=[x * mm for x in (95, 60, 35, 25)], repeatRows=1)
    measures.setStyle(TableStyle(style))
    columns = []
    for title, lines in _lists(report, settings, lang):
        shown = [
            Paragraph(f"{escape(a.label)} · <b>{escape(a.figure)}</b>", small) for a in lines[:LIST_LINES]
        ]
        if len(lines) > LIST_LINES:
            shown.append(Paragraph(f"+{len(lines) - LIST_LINES}", small))
        columns.append(
            [
                Paragraph(f"<b>{escape(title)} ({len(lines)})</b>", cell),
                *(shown or [Paragraph(escape(t("alarm_kpis.none", lang)), small)]),
            ]
        )
    lists = Table([columns], colWidths=[88 * mm] * len(columns))
    lists.setStyle(TableStyle([("VALIGN", (0, 0), (-1, -1), "TOP")]))
    return [
        KeepTogether(
            [
                Paragraph(escape(t("alarm_kpis.title", lang)), styles["sector"]),
                Paragraph(escape(heading(metrics, lang)), styles["line"]),
                Spacer(1, 2 * mm),
                measures,
            ]
        ),
        Spacer(1, 3 * mm),
        lists,
    ]
