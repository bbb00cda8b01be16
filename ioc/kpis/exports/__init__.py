"""Report exports: the KPI report as rows (what the page shows) and its CSV, XLSX and PDF writers."""

from __future__ import annotations

from collections.abc import Callable

from ioc.config import Settings
from ioc.kpis.results import Report

FORMATS = ("csv", "xlsx", "pdf")
MEDIA_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "pdf": "application/pdf",
}


def write_report(report: Report, settings: Settings, fmt: str, *, lang: str = "vi", kpi_id: str | None = None) -> bytes:
    """The report in a format; `kpi_id` is the KPI whose district table (and map) the reader chose."""
    writers: dict[str, Callable[..., bytes]]
    from ioc.kpis.exports import csv_writer, pdf_writer, xlsx_writer

    writers = {"csv": csv_writer.write, "xlsx": xlsx_writer.write, "pdf": pdf_writer.write}
    if fmt not in writers:
        raise ValueError(f"unknown format '{fmt}' (one of: {', '.join(FORMATS)})")
    return writers[fmt](report, settings, lang=lang, kpi_id=kpi_id)


def file_name(report: Report, fmt: str) -> str:
    """kpi-report-2026-11[-hai-chau][-transport].xlsx"""
    from ioc.kpis.aggregates import slug

    parts = ["kpi-report", report.period.label.replace("..", "_")]
    if report.district:
        parts.append(slug(report.district))
    if report.sector:
        parts.append(report.sector)
    return "-".join(parts) + f".{fmt}"
