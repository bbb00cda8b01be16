"""The report's files carry the alarm-system section: CSV rows, an XLSX sheet and the PDF's text, each the
measures the page shows with their targets and statuses."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta
from pathlib import Path

import openpyxl
import pytest
from pypdf import PdfReader

from ioc.alerts.metrics_text import metric_lines
from ioc.config import Settings
from ioc.i18n import t
from ioc.kpis.exports import write_report
from ioc.kpis.periods import parse_period
from ioc.kpis.report import compute_report
from ioc.kpis.results import Report
from ioc.model import Alert, Severity
from ioc.store import Store
from tests.ioc.kpis.conftest import write_catalogue

NOW = datetime(2026, 11, 22, 5, 0, tzinfo=UTC)


@pytest.fixture
def report(store: Store, settings: Settings, tmp_path: Path) -> Report:
    at = datetime(2026, 11, 18, 3, 0, tzinfo=UTC)
    for k in range(3):  # a chattering station
        alert, _ = store.alerts.raise_alert(
            Alert(
                id="",
                rule_id="pm25-high",
                entity_id="station-9",
                title="PM2.5",
                severity=Severity.SEVERE,
                sector="environment",
                agency="danang-donre",
                district="Liên Chiểu",
                raised_at=at + timedelta(seconds=15 * k),
                updated_at=at + timedelta(seconds=15 * k),
            ),
            extra={"place": "Hòa Khánh"},
        )
        store.alerts.resolve(alert.id, actor="system", note="cleared", now=at + timedelta(seconds=15 * k + 5))
    catalogue = write_catalogue(tmp_path, settings)
    return compute_report(store, settings, parse_period("2026-W47"), catalogue=catalogue, now=NOW)


def test_csv_holds_the_measures_and_the_alarms(report: Report, settings: Settings) -> None:
    rows = list(
        csv.DictReader(io.StringIO(write_report(report, settings, "csv", lang="en").decode("utf-8-sig")))
    )
    section, kpi, value, status = (t(f"reports.col.{c}", "en") for c in ("section", "kpi", "value", "status"))
    measures = [r for r in rows if r[section] == t("alarm_kpis.title", "en")]
    assert [r[kpi] for r in measures] == [line.label for line in metric_lines(report.alarm_system, "en")]
    chattering = next(r for r in measures if r[kpi].startswith("Chattering"))
    assert (chattering[value], chattering[status]) == ("1", t("reports.status.missed", "en"))
    listed = [r for r in rows if r[section].endswith(t("alarm_kpis.chattering_list", "en"))]
    assert [r[kpi] for r in listed] == ["PM2.5 above limit — Hòa Khánh"]


def test_xlsx_has_an_alarm_system_sheet(report: Report, settings: Settings) -> None:
    book = openpyxl.load_workbook(io.BytesIO(write_report(report, settings, "xlsx", lang="vi")))
    sheet = book[t("alarm_kpis.sheet", "vi")]
    cells = [row for row in sheet.iter_rows(values_only=True)]
    assert cells[0][0] == t("alarm_kpis.title", "vi")
    measures = {row[0]: row[1:4] for row in cells[4:11]}
    lines = metric_lines(report.alarm_system, "vi")
    assert list(measures) == [line.label for line in lines]
    assert measures[lines[4].label] == ("1", "0", t("reports.status.missed", "vi"))
    assert any(row[0] == "Bụi mịn PM2.5 vượt ngưỡng — Hòa Khánh" for row in cells)


def test_pdf_text_holds_the_section(report: Report, settings: Settings) -> None:
    pdf = PdfReader(io.BytesIO(write_report(report, settings, "pdf", lang="en")))
    text = " ".join(page.extract_text() for page in pdf.pages).replace("\n", " ")
    assert t("alarm_kpis.title", "en") in text
    for line in metric_lines(report.alarm_system, "en"):
        assert line.label in text
    assert "PM2.5 above limit — Hòa Khánh" in text
