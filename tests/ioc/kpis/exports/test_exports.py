"""The exports hold what the page shows: CSV rows, an XLSX read back with openpyxl, a PDF's pages and text."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta
from pathlib import Path

import openpyxl
import pytest
from pypdf import PdfReader

from ioc.config import Settings
from ioc.i18n import t
from ioc.kpis.catalogue import sector_name
from ioc.kpis.exports import file_name, write_report
from ioc.kpis.exports.table import district_rows, kpi_rows, number
from ioc.kpis.periods import parse_period
from ioc.kpis.report import compute_report
from ioc.kpis.results import Report
from ioc.kpis.rollups import KpiRollups
from ioc.model import Batch
from ioc.store import Store
from tests.ioc.kpis.conftest import pm25, request, station, write_catalogue

NOW = datetime(2026, 11, 22, 5, 0, tzinfo=UTC)


@pytest.fixture
def report(fake_store: Store, settings: Settings, tmp_path: Path) -> Report:
    catalogue = write_catalogue(tmp_path, settings)
    rollups = KpiRollups(fake_store, settings, catalogue)
    air = settings.feed("air-stations")
    for day in range(16, 22):
        for hour in (1, 8, 17):
            moment = datetime(2026, 11, day, hour, tzinfo=UTC)
            batch = Batch(entities=[station(1, "Hải Châu"), station(2, "Liên Chiểu")],
                          observations=[pm25(1, 18 + day % 3, moment), pm25(2, 30 + hour, moment)])
            rollups.ingest(air, batch, now=moment, polls=360)
    opened = datetime(2026, 11, 18, 2, tzinfo=UTC)
    closed = [request(n, "Thanh Khê", "closed", opened, opened + timedelta(hours=n), opened + timedelta(hours=20))
              for n in range(1, 25)]
    rollups.ingest(settings.feed("citizen-requests"), Batch(entities=closed), now=NOW, polls=1)
    return compute_report(fake_store, settings, parse_period("2026-W47"), catalogue=catalogue, now=NOW)


def test_csv_rows_are_the_pages_rows(report: Report, settings: Settings) -> None:
    content = write_report(report, settings, "csv", lang="vi", kpi_id="pm25-mean")

    assert content.startswith("\ufeff".encode())  # Excel opens Vietnamese UTF-8 by its BOM
    rows = list(csv.DictReader(io.StringIO(content.decode("utf-8-sig"))))
    section, kpi, value = (t(f"reports.col.{c}", "vi") for c in ("section", "kpi", "value"))
    kpis = [r for r in rows if r[section] == t("reports.section.kpi", "vi")]
    areas = [r for r in rows if r[section] == t("reports.section.district", "vi")]
    on_screen = kpi_rows(report, settings, "vi")
    assert [r[kpi] for r in kpis] == [row.kpi for row in on_screen]
    for written, shown in zip(kpis, on_screen, strict=True):
        assert (float(written[value]) if written[value] else None) == (
            None if shown.value is None else pytest.approx(shown.value, abs=1e-4))
        assert written[t("reports.col.status", "vi")] == shown.status_text
    assert [r[t("reports.col.district", "vi")] for r in areas] == [
        row.district for row in district_rows(report, "pm25-mean", "vi")]
    assert {r[kpi] for r in areas} == {report.result("pm25-mean").kpi.name.vi}


def test_xlsx_has_a_sheet_per_sector(report: Report, settings: Settings) -> None:
    book = openpyxl.load_workbook(io.BytesIO(write_report(report, settings, "xlsx", lang="en")))

    sectors = [sector_name(settings, s, "en") for s in report.sectors()]
    assert book.sheetnames == [t("reports.sheet.summary", "en"), *sectors, t("reports.sheet.districts", "en"),
                               t("alarm_kpis.sheet", "en")]
    environment = book[sector_name(settings, "environment", "en")]
    header = [cell.value for cell in environment[1]]
    assert header[:4] == [t(f"reports.col.{c}", "en") for c in ("sector", "kpi", "agency", "value")]
    by_name = {row[1].value: row for row in environment.iter_rows(min_row=2, max_row=3)}
    mean = by_name[report.result("pm25-mean").kpi.name.en]
    assert mean[3].value == pytest.approx(report.result("pm25-mean").value, abs=1e-4)
    assert mean[6].value == t(f"reports.status.{report.result('pm25-mean').status}", "en")
    assert mean[6].fill.fgColor.rgb.endswith({"met": "C8F2D4", "near": "FFE7B3", "missed": "FFC9C9"}[
        report.result("pm25-mean").status])
    # the trend the page charts sits under the KPIs, a column per day
    trend_rows = [row for row in environment.iter_rows(values_only=True) if row[0] == report.result("pm25-mean").kpi.name.en]
    days = [v for v in trend_rows[-1][2:] if v is not None]
    assert days == [pytest.approx(p.value, abs=1e-4) for p in report.result("pm25-mean").trend if p.value is not None]
    areas = book[t("reports.sheet.districts", "en")]
    assert areas.max_row == 2 + len(report.districts)


def test_pdf_pages_and_text(report: Report, settings: Settings) -> None:
    pdf = PdfReader(io.BytesIO(write_report(report, settings, "pdf", lang="vi", kpi_id="pm25-mean")))

    text = "\n".join(page.extract_text() for page in pdf.pages)
    assert len(pdf.pages) >= 3  # the KPIs, then the league table and map on a page of their own
    assert pdf.metadata.title.startswith(t("reports.title", "vi"))
    for row in kpi_rows(report, settings, "vi"):
        assert row.kpi in text.replace("\n", " ")
    assert t("reports.league.title", "vi", kpi=report.result("pm25-mean").kpi.name.vi) in pdf.pages[-1].extract_text()
    assert number(report.result("pm25-mean").value, 1, "vi") in text
    assert t("reports.page", "vi", n=len(pdf.pages)) in pdf.pages[-1].extract_text()
    # charts are images drawn from the data, one per KPI with a trend
    images = sum(len(page.images) for page in pdf.pages)
    assert images >= sum(1 for r in report.results if any(p.value is not None for p in r.trend))


def test_file_names_say_what_is_in_them(report: Report) -> None:
    assert file_name(report, "pdf") == "kpi-report-2026-W47.pdf"
    report.district, report.sector = "Hải Châu", "environment"
    assert file_name(report, "xlsx") == "kpi-report-2026-W47-hai-chau-environment.xlsx"


def test_unknown_format_is_refused(report: Report, settings: Settings) -> None:
    with pytest.raises(ValueError, match="unknown format 'docx'"):
        write_report(report, settings, "docx")
