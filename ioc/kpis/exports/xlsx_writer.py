"""The KPI report as an Excel workbook: a summary sheet, one sheet per sector, and the district league table.

Each sector sheet holds its KPIs (numbers as numbers, the status cell coloured like the page) and below
them the trend series the page charts, one row per KPI.
"""

from __future__ import annotations

import io

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from ioc.config import Settings
from ioc.i18n import t
from ioc.kpis.exports import alarms
from ioc.kpis.exports.table import (
    DISTRICT_COLUMNS,
    KPI_COLUMNS,
    default_kpi,
    district_rows,
    header_lines,
    kpi_rows,
    trend_label,
)
from ioc.kpis.results import Report

STATUS_FILLS = {"met": "C8F2D4", "near": "FFE7B3", "missed": "FFC9C9", "no_data": "E6EAF0", "share": "DBEEFB"}
HEADER_FILL = PatternFill("solid", fgColor="1F3250")
HEADER_FONT = Font(bold=True, color="FFFFFF")
# Excel refuses sheet names over 31 characters or with any of []:*?/\
_FORBIDDEN = str.maketrans({c: " " for c in "[]:*?/\\"})


def sheet_title(text: str, taken: set[str]) -> str:
    base = text.translate(_FORBIDDEN).strip()[:31] or "Sheet"
    title, number = base, 2
    while title in taken:
        suffix = f" ({number})"
        title, number = base[: 31 - len(suffix)] + suffix, number + 1
    taken.add(title)
    return title


def _header(sheet: Worksheet, row: int, labels: list[str]) -> None:
    for column, label in enumerate(labels, start=1):
        cell = sheet.cell(row=row, column=column, value=label)
        cell.fill, cell.font = HEADER_FILL, HEADER_FONT
        cell.alignment = Alignment(vertical="center", wrap_text=True)


def _widths(sheet: Worksheet, widths: dict[int, float]) -> None:
    for column, width in widths.items():
        sheet.column_dimensions[get_column_letter(column)].width = width


def write(report: Report, settings: Settings, *, lang: str = "vi", kpi_id: str | None = None) -> bytes:
    book = Workbook()
    taken: set[str] = set()
    summary = book.active
    summary.title = sheet_title(t("reports.sheet.summary", lang), taken)
    for number, line in enumerate(header_lines(report, settings, lang), start=1):
        summary.cell(row=number, column=1, value=line).font = Font(bold=number == 1, size=14 if number == 1 else 11)
    rows = kpi_rows(report, settings, lang)
    labels = [t(f"reports.col.{c}", lang) for c in KPI_COLUMNS]
    summary_start = len(header_lines(report, settings, lang)) + 2
    _header(summary, summary_start, labels)
    for offset, row in enumerate(rows, start=1):
        _kpi_line(summary, summary_start + offset, row.cells(), row.status)
    _widths(summary, {1: 24, 2: 44, 3: 34, 4: 12, 5: 10, 6: 12, 7: 16, 8: 12, 9: 22, 10: 12, 11: 26, 12: 50})

    for sector_id in report.sectors():
        sector_rows = [r for r in rows if r.sector_id == sector_id]
        sheet = book.create_sheet(sheet_title(sector_rows[0].sector, taken))
        _header(sheet, 1, labels)
        for offset, row in enumerate(sector_rows, start=1):
            _kpi_line(sheet, 1 + offset, row.cells(), row.status)
        _widths(sheet, {1: 24, 2: 44, 3: 34, 4: 12, 5: 10, 6: 12, 7: 16, 8: 12, 9: 22, 10: 12, 11: 26, 12: 50})
        # the trend series the page charts, one row per KPI
        results = [report.result(r.kpi_id) for r in sector_rows]
        longest = max(results, key=lambda r: len(r.trend))
        start = len(sector_rows) + 3
        sheet.cell(row=start, column=1, value=t("reports.trend.title", lang)).font = Font(bold=True)
        _header(sheet, start + 1, [t("reports.col.kpi", lang), t("reports.trend.target", lang),
                                   *(trend_label(p.start, longest.trend_unit) for p in longest.trend)])
        for offset, result in enumerate(results, start=2):
            sheet.cell(row=start + offset, column=1, value=result.kpi.name.get(lang))
            sheet.cell(row=start + offset, column=2, value=round(result.trend_target, 4))
            for column, point in enumerate(result.trend, start=3):
                if point.value is not None:
                    sheet.cell(row=start + offset, column=column, value=round(point.value, 4))

    chosen = kpi_id or default_kpi(report)
    if chosen:
        sheet = book.create_sheet(sheet_title(t("reports.sheet.districts", lang), taken))
        sheet.cell(row=1, column=1, value=t("reports.league.title", lang,
                                            kpi=report.result(chosen).kpi.name.get(lang))).font = Font(bold=True)
        _header(sheet, 2, [t(f"reports.col.{c}", lang) for c in DISTRICT_COLUMNS])
        for offset, row in enumerate(district_rows(report, chosen, lang), start=1):
            cells = row.cells()
            for column, key in enumerate(DISTRICT_COLUMNS, start=1):
                cell = sheet.cell(row=2 + offset, column=column, value=cells[key])
                if key == "status":
                    cell.fill = PatternFill("solid", fgColor=STATUS_FILLS[row.status])
        _widths(sheet, {1: 8, 2: 24, 3: 12, 4: 10, 5: 16, 6: 10})

    alarms.xlsx_sheet(book, report, settings, lang, sheet_title(t("alarm_kpis.sheet", lang), taken), STATUS_FILLS,
                      _header)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def _kpi_line(sheet: Worksheet, row: int, cells: dict[str, object], status: str) -> None:
    for column, key in enumerate(KPI_COLUMNS, start=1):
        cell = sheet.cell(row=row, column=column, value=cells[key])
        if key == "status":
            cell.fill = PatternFill("solid", fgColor=STATUS_FILLS[status])
            cell.font = Font(bold=True)
        if key in ("why", "note", "kpi"):
            cell.alignment = Alignment(wrap_text=True, vertical="top")
