"""The KPI report as CSV: one table, a `section` column telling KPI rows from the chosen KPI's district rows.

UTF-8 with a byte-order mark, so Excel opens Vietnamese text correctly on a double click.
"""

from __future__ import annotations

import csv
import io

from ioc.config import Settings
from ioc.i18n import t
from ioc.kpis.exports import alarms
from ioc.kpis.exports.table import DISTRICT_COLUMNS, KPI_COLUMNS, default_kpi, district_rows, kpi_rows
from ioc.kpis.results import Report


def write(report: Report, settings: Settings, *, lang: str = "vi", kpi_id: str | None = None) -> bytes:
    columns = ["section", *KPI_COLUMNS, *(c for c in DISTRICT_COLUMNS if c not in KPI_COLUMNS)]
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer)
    writer.writerow([t(f"reports.col.{column}", lang) for column in columns])
    for row in kpi_rows(report, settings, lang):
        cells = row.cells()
        writer.writerow([t("reports.section.kpi", lang), *(_cell(cells.get(c)) for c in columns[1:])])
    chosen = kpi_id or default_kpi(report)
    if chosen:
        name = report.result(chosen).kpi.name.get(lang)
        for row in district_rows(report, chosen, lang):
            cells = {**row.cells(), "kpi": name}
            writer.writerow([t("reports.section.district", lang), *(_cell(cells.get(c)) for c in columns[1:])])
    writer.writerows(alarms.csv_rows(report, settings, lang, columns))
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


def _cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return repr(value)
    return str(value)
