"""The KPI report as rows of text, in the reader's language: what the page shows, and what every export writes.

The page's cards and tables and the CSV, XLSX and PDF files are all built from `kpi_rows` and
`district_rows`, so an export holds exactly the numbers on screen, formatted the same way.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from ioc.config import Settings
from ioc.i18n import local_time, t
from ioc.kpis.catalogue import sector_name
from ioc.kpis.results import KpiInfo, KpiResult, Report, ScopeValue, league_table

ARROW_UP, ARROW_DOWN = "▲", "▼"
# the columns of the KPI table, in order, for CSV and XLSX (labels: reports.col.<key>)
KPI_COLUMNS = ("sector", "kpi", "agency", "value", "unit", "target", "status", "previous", "change",
               "forecast", "forecast_method", "why", "records", "note")
DISTRICT_COLUMNS = ("rank", "district", "value", "unit", "status", "records")


def number(value: float | None, decimals: int = 1, lang: str = "vi") -> str:
    """1234.5 -> '1.234,5' in Vietnamese, '1,234.5' in English; '—' for no value."""
    if value is None:
        return "—"
    text = f"{value:,.{decimals}f}"
    if lang == "vi":
        text = text.replace(",", "\u0000").replace(".", ",").replace("\u0000", ".")
    return text


def with_unit(text: str, unit: str) -> str:
    if not unit or text == "—":
        return text
    return f"{text}{unit}" if unit == "%" else f"{text} {unit}"


def agency_label(settings: Settings, info: KpiInfo, lang: str) -> str:
    if info.agency_name is not None:
        return info.agency_name.get(lang)
    for feed in settings.feeds:
        if feed.agency == info.agency:
            return feed.agency_name.get(lang)
    return info.agency


@dataclass(frozen=True, slots=True)
class KpiRow:
    """One KPI of the report, every cell already text (numbers kept too, for spreadsheets)."""

    kpi_id: str
    sector_id: str
    sector: str
    kpi: str
    description: str
    agency: str
    value: float | None
    value_text: str
    unit: str
    target: float
    target_text: str
    status: str
    status_text: str
    previous: float | None
    previous_text: str
    change: float | None
    change_text: str
    # True: the change goes the good way; False: the bad way; None: no change or nothing to compare
    change_good: bool | None
    forecast: float | None
    forecast_text: str
    forecast_method: str
    forecast_method_text: str
    why: str
    records: int
    note: str

    def cells(self) -> dict[str, object]:
        """The KPI table's cells by column key: numbers as numbers where a spreadsheet wants them."""
        return {
            "sector": self.sector, "kpi": self.kpi, "agency": self.agency, "value": _rounded(self.value),
            "unit": self.unit, "target": round(self.target, 4), "status": self.status_text,
            "previous": _rounded(self.previous), "change": self.change_text, "forecast": _rounded(self.forecast),
            "forecast_method": self.forecast_method_text, "why": self.why, "records": self.records,
            "note": self.note,
        }


def _rounded(value: float | None) -> float | None:
    return None if value is None else round(value, 4)


def _unchanged(result: KpiResult) -> bool:
    """No change at the precision the KPI is shown with."""
    change = result.change
    return change is not None and abs(change) < 0.5 * 10**-result.kpi.decimals


def _change_text(result: KpiResult, lang: str) -> str:
    change = result.change
    if change is None:
        return "—"
    decimals = result.kpi.decimals
    if _unchanged(result):
        return "= " + with_unit(number(0, decimals, lang), result.kpi.unit)
    arrow = ARROW_UP if change > 0 else ARROW_DOWN
    text = f"{arrow} {'+' if change > 0 else '−'}{with_unit(number(abs(change), decimals, lang), result.kpi.unit)}"
    # a change of a percentage is read in points; a relative change of it would be a second, confusing %
    if result.previous and result.kpi.unit != "%":
        text += f" ({'+' if change > 0 else '−'}{number(abs(change) / abs(result.previous) * 100, 0, lang)}%)"
    return text


def _scope_text(scope: ScopeValue, decimals: int, lang: str) -> str:
    return f"{scope.label} {number(scope.value, decimals, lang)}"


def _note(result: KpiResult, lang: str) -> str:
    if result.city_wide_only:
        return t("reports.city_wide", lang)
    if result.value is None:
        if result.missing_feeds and not result.connected:
            return t("reports.not_connected", lang, feeds=", ".join(result.missing_feeds))
        return t("reports.no_data_in_period", lang)
    return ""


def kpi_row(result: KpiResult, report: Report, settings: Settings, lang: str) -> KpiRow:
    info = result.kpi
    value_text = with_unit(number(result.value, info.decimals, lang), info.unit)
    target_text = with_unit(number(result.target, info.decimals, lang), info.unit)
    if info.additive:
        target_text += " " + t("reports.target_per_day", lang,
                               n=with_unit(number(result.trend_target if result.trend_unit == "day"
                                                  else result.trend_target * 24, info.decimals, lang), info.unit))
    outlook = result.forecast
    return KpiRow(
        kpi_id=info.id,
        sector_id=info.sector,
        sector=sector_name(settings, info.sector, lang),
        kpi=info.name.get(lang),
        description=info.description.get(lang) if info.description else "",
        agency=agency_label(settings, info, lang),
        value=result.value,
        value_text=value_text,
        unit=info.unit,
        target=result.target,
        target_text=target_text,
        status=result.status,
        status_text=t(f"reports.status.{result.status}", lang),
        previous=result.previous,
        previous_text=with_unit(number(result.previous, info.decimals, lang), info.unit),
        change=result.change,
        change_text=_change_text(result, lang),
        change_good=None if _unchanged(result) else result.change_is_good,
        forecast=outlook.value,
        forecast_text=with_unit(number(outlook.value, info.decimals, lang), info.unit),
        forecast_method=outlook.method,
        forecast_method_text=t(f"reports.method.{outlook.method}", lang),
        why=" · ".join(_scope_text(s, info.decimals, lang) for s in result.drivers),
        records=result.records,
        note=_note(result, lang),
    )


def kpi_rows(report: Report, settings: Settings, lang: str) -> list[KpiRow]:
    return [kpi_row(result, report, settings, lang) for result in report.results]


@dataclass(frozen=True, slots=True)
class DistrictRow:
    rank: int | None
    district: str
    value: float | None
    value_text: str
    unit: str
    status: str
    status_text: str
    records: int

    def cells(self) -> dict[str, object]:
        return {"rank": self.rank, "district": self.district, "value": _rounded(self.value), "unit": self.unit,
                "status": self.status_text, "records": self.records}


def district_rows(report: Report, kpi_id: str, lang: str) -> list[DistrictRow]:
    """The league table of a KPI: districts best first, those without data last (no rank)."""
    result = report.result(kpi_id)
    rows = []
    rank = 0
    for scope in league_table(report, kpi_id):
        if scope.value is not None:
            rank += 1
        if scope.status == "share":
            part = 100 * scope.value / result.value if result.value and scope.value is not None else 0.0
            status_text = t("reports.status.share", lang, share=number(part, 0, lang))
        else:
            status_text = t(f"reports.status.{scope.status}", lang)
        rows.append(DistrictRow(
            rank=rank if scope.value is not None else None,
            district=scope.label,
            value=scope.value,
            value_text=with_unit(number(scope.value, result.kpi.decimals, lang), result.kpi.unit),
            unit=result.kpi.unit,
            status=scope.status,
            status_text=status_text,
            records=scope.records,
        ))
    return rows


def default_kpi(report: Report) -> str | None:
    """The KPI the league table and map show first: the first missed one with districts, else the first with
    district data."""
    with_districts = [r for r in report.results if not r.city_wide_only and any(
        d.value is not None for d in r.districts)]
    for result in with_districts:
        if result.status == "missed":
            return result.kpi.id
    return with_districts[0].kpi.id if with_districts else None


def header_lines(report: Report, settings: Settings, lang: str) -> list[str]:
    """Title block of an export: city, period, filters, when it was made."""
    area = report.district or t("reports.scope.city", lang)
    sector = sector_name(settings, report.sector, lang) if report.sector else t("reports.filter.all_sectors", lang)
    counts = report.counts()
    return [
        f"{t('reports.title', lang)} · {settings.city.name.get(lang)}",
        f"{t('reports.filter.period', lang)}: {report.period.display()} · {area} · {sector}",
        t("reports.summary", lang, **counts),
        t("reports.generated", lang, time=local_time(report.generated_at, "%H:%M %d/%m/%Y")),
    ]


def trend_label(moment: datetime, unit: str) -> str:
    return local_time(moment, "%H:%M" if unit == "hour" else "%d/%m")
