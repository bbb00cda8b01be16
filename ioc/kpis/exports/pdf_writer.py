"""The KPI report as a PDF for print and e-mail: drawn from the data (reportlab tables, matplotlib charts).

A4 landscape: a title block with the status summary; per sector a table of its KPIs (status cells coloured
as on the page, the districts or agencies behind a miss) and a trend chart per KPI with its target line
and forecast; last, the district league table and the choropleth map of the chosen KPI. Text is set in
DejaVu Sans (shipped with matplotlib), which has every Vietnamese letter.
"""

from __future__ import annotations

import io
import os
from collections.abc import Callable
from functools import cache
from typing import Any

import matplotlib
from matplotlib.figure import Figure
from matplotlib.patches import Patch
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4, landscape
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.platypus import (
    Image,
    KeepTogether,
    PageBreak,
    Paragraph,
    SimpleDocTemplate,
    Spacer,
    Table,
    TableStyle,
)

from ioc.areas import area_index
from ioc.config import Settings
from ioc.i18n import t
from ioc.kpis.catalogue import sector_colour
from ioc.kpis.exports import alarms
from ioc.kpis.exports.table import (
    KpiRow,
    default_kpi,
    district_rows,
    header_lines,
    kpi_rows,
    number,
    trend_label,
    with_unit,
)
from ioc.kpis.results import KpiResult, Report

# Print colours: the page's meaning (green met, amber near, red missed, grey no data) on white paper.
STATUS_COLOURS = {"met": "#1e8e4e", "near": "#c77c00", "missed": "#c62828", "no_data": "#7b8794",
                  "share": "#1f6fa8"}
STATUS_TINTS = {"met": "#d7f3e1", "near": "#ffedc7", "missed": "#ffd6d6", "no_data": "#eceff3",
                "share": "#dbeefb"}
JUDGED = ("met", "near", "missed", "no_data")
FONT, BOLD = "IocSans", "IocSans-Bold"
CHARTS_PER_ROW = 3
CHART_SIZE_IN = (3.6, 1.9)
PAGE = landscape(A4)


@cache
def _fonts() -> None:
    folder = os.path.join(matplotlib.get_data_path(), "fonts", "ttf")
    pdfmetrics.registerFont(TTFont(FONT, os.path.join(folder, "DejaVuSans.ttf")))
    pdfmetrics.registerFont(TTFont(BOLD, os.path.join(folder, "DejaVuSans-Bold.ttf")))


def _styles() -> dict[str, ParagraphStyle]:
    return {
        "title": ParagraphStyle("title", fontName=BOLD, fontSize=18, leading=22, spaceAfter=4),
        "line": ParagraphStyle("line", fontName=FONT, fontSize=10, leading=13, textColor=colors.HexColor("#334")),
        "sector": ParagraphStyle("sector", fontName=BOLD, fontSize=14, leading=18, spaceBefore=6, spaceAfter=4),
        "cell": ParagraphStyle("cell", fontName=FONT, fontSize=8.5, leading=10.5),
        "cell_bold": ParagraphStyle("cell_bold", fontName=BOLD, fontSize=9, leading=11),
        "small": ParagraphStyle("small", fontName=FONT, fontSize=7.5, leading=9, textColor=colors.HexColor("#556")),
    }


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def page_footer(text: str, lang: str) -> Callable[[Any, Any], None]:
    """What every page of a document of ours carries at its foot: what it is, and its page number."""

    def draw(canvas: Any, doc: Any) -> None:
        canvas.saveState()
        canvas.setFont(FONT, 7.5)
        canvas.setFillColor(colors.HexColor("#667"))
        canvas.drawString(12 * mm, 7 * mm, text)
        canvas.drawRightString(PAGE[0] - 12 * mm, 7 * mm, t("reports.page", lang, n=doc.page))
        canvas.restoreState()

    return draw


def _png(figure: Figure, width_mm: float) -> Image:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=150)
    buffer.seek(0)
    width, height = figure.get_size_inches()
    return Image(buffer, width=width_mm * mm, height=width_mm * mm * height / width)


def trend_chart(result: KpiResult, row: KpiRow, lang: str) -> Figure:
    """The KPI's trend with its target line (dashed) and, for day-by-day trends, the forecast (dotted)."""
    figure = Figure(figsize=CHART_SIZE_IN)
    axes = figure.subplots()
    xs = list(range(len(result.trend)))
    ys = [p.value for p in result.trend]
    colour = STATUS_COLOURS[result.status]
    axes.plot(xs, [float("nan") if y is None else y for y in ys], color=colour, linewidth=1.6, marker="o",
              markersize=2.2)
    span = len(xs)
    if result.trend_unit == "day" and result.forecast.days:
        fx = list(range(span, span + len(result.forecast.days)))
        axes.plot(fx, [v for _, v in result.forecast.days], color="#5b6b85", linestyle=":", linewidth=1.4)
        span += len(fx)
    axes.axhline(result.trend_target, color="#222", linestyle="--", linewidth=0.9)
    target = with_unit(number(result.trend_target, result.kpi.decimals, lang), result.kpi.unit)
    axes.annotate(f"{t('reports.trend.target', lang)} {target}",
                  xy=(1, result.trend_target), xycoords=("axes fraction", "data"), ha="right", va="bottom",
                  fontsize=5.5, color="#222")
    ticks = xs[:: max(1, -(-len(xs) // 5))] if xs else []
    axes.set_xticks(ticks, [trend_label(result.trend[i].start, result.trend_unit) for i in ticks], fontsize=6)
    axes.tick_params(axis="y", labelsize=6)
    axes.set_xlim(-0.5, max(span - 0.5, 0.5))
    axes.set_title(f"{row.kpi}: {row.value_text}", fontsize=7, loc="left", color="#111")
    for side in ("top", "right"):
        axes.spines[side].set_visible(False)
    figure.tight_layout(pad=0.4)
    return figure


def district_map(report: Report, settings: Settings, kpi_id: str, lang: str) -> Figure:
    """The districts filled by their status for a KPI and numbered by their rank in the league table (the
    urban districts are too small to hold their names); polygons only, no tiles."""
    index = area_index(settings.city)
    by_name = {row.district: row for row in district_rows(report, kpi_id, lang)}
    figure = Figure(figsize=(5.2, 4.4))
    axes = figure.subplots()
    # parts of a total are not judged: their blue deepens with their part, a choropleth of the values
    largest = max((row.value for row in by_name.values() if row.status == "share" and row.value), default=0.0)
    for name, geometry in zip(index.names, index.frame.geometry, strict=True):
        row = by_name.get(name)
        status = row.status if row else "no_data"
        face: Any = STATUS_TINTS[status]
        if status == "share" and largest:
            face = (0.12, 0.44, 0.66, 0.08 + 0.6 * (row.value or 0) / largest)
        for polygon in getattr(geometry, "geoms", [geometry]):
            x, y = polygon.exterior.xy
            axes.fill(x, y, facecolor=face, edgecolor=STATUS_COLOURS[status], linewidth=1.2)
        point = geometry.representative_point()
        axes.text(point.x, point.y, str(row.rank) if row and row.rank else "–", ha="center", va="center",
                  fontsize=7, fontweight="bold", color="#111",
                  bbox={"boxstyle": "circle,pad=0.25", "facecolor": "white", "edgecolor": "#555", "linewidth": 0.6})
    axes.set_aspect(1 / 0.96)  # a degree of longitude is 0.96 of a degree of latitude at Da Nang's 16° N
    axes.axis("off")
    shown = [s for s in JUDGED if any(row.status == s for row in by_name.values())]
    handles = [Patch(facecolor=STATUS_TINTS[s], edgecolor=STATUS_COLOURS[s], label=t(f"reports.status.{s}", lang))
               for s in shown]
    if largest:
        handles.append(Patch(facecolor=(0.12, 0.44, 0.66, 0.5), edgecolor=STATUS_COLOURS["share"],
                             label=t("reports.legend.share", lang)))
    axes.legend(handles=handles,
                loc="lower left", fontsize=6.5, frameon=False)
    figure.tight_layout(pad=0.2)
    return figure


def _kpi_table(rows: list[KpiRow], styles: dict[str, ParagraphStyle], lang: str) -> Table:
    cell, bold, small = styles["cell"], styles["cell_bold"], styles["small"]
    on_band = ParagraphStyle("header", parent=bold, textColor=colors.white)
    header = [Paragraph(_escape(t(f"reports.col.{key}", lang)), on_band)
              for key in ("kpi", "value", "target", "status", "change", "forecast", "why")]
    data: list[list[Any]] = [header]
    style = [
        ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#1f3250")),
        ("TEXTCOLOR", (0, 0), (-1, 0), colors.white),
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("GRID", (0, 0), (-1, -1), 0.4, colors.HexColor("#c5ccd6")),
    ]
    for line, row in enumerate(rows, start=1):
        why = row.why or row.note
        data.append([
            [Paragraph(_escape(row.kpi), bold), Paragraph(_escape(row.agency), small)],
            Paragraph(f"<b>{_escape(row.value_text)}</b>", cell),
            Paragraph(_escape(row.target_text), cell),
            Paragraph(f'<font color="{STATUS_COLOURS[row.status]}"><b>{_escape(row.status_text)}</b></font>', cell),
            Paragraph(_escape(row.change_text), cell),
            [Paragraph(_escape(row.forecast_text), cell), Paragraph(_escape(row.forecast_method_text), small)],
            Paragraph(_escape(why), small),
        ])
        style.append(("BACKGROUND", (3, line), (3, line), colors.HexColor(STATUS_TINTS[row.status])))
    widths = [x * mm for x in (62, 26, 34, 24, 32, 36, 55)]
    table = Table(data, colWidths=widths, repeatRows=1)
    table.setStyle(TableStyle(style))
    return table


def write(report: Report, settings: Settings, *, lang: str = "vi", kpi_id: str | None = None) -> bytes:
    _fonts()
    styles = _styles()
    buffer = io.BytesIO()
    title = header_lines(report, settings, lang)[0]
    document = SimpleDocTemplate(
        buffer, pagesize=PAGE, leftMargin=12 * mm, rightMargin=12 * mm, topMargin=12 * mm, bottomMargin=12 * mm,
        title=title, author=settings.city.name.get(lang), subject=report.period.label,
    )
    story: list[Any] = []
    lines = header_lines(report, settings, lang)
    story.append(Paragraph(_escape(lines[0]), styles["title"]))
    story.extend(Paragraph(_escape(line), styles["line"]) for line in lines[1:])
    story.append(Spacer(1, 4 * mm))
    rows = kpi_rows(report, settings, lang)
    chart_width = (PAGE[0] / mm - 24) / CHARTS_PER_ROW - 2
    for sector_id in report.sectors():
        sector_rows = [r for r in rows if r.sector_id == sector_id]
        heading = Paragraph(_escape(sector_rows[0].sector), ParagraphStyle(
            "sector-colour", parent=styles["sector"], textColor=colors.HexColor(sector_colour(settings, sector_id))))
        story.append(KeepTogether([heading, _kpi_table(sector_rows, styles, lang)]))
        charts = [
            _png(trend_chart(report.result(row.kpi_id), row, lang), chart_width)
            for row in sector_rows if any(p.value is not None for p in report.result(row.kpi_id).trend)
        ]
        if charts:
            grid = [charts[i : i + CHARTS_PER_ROW] for i in range(0, len(charts), CHARTS_PER_ROW)]
            grid[-1] += [""] * (CHARTS_PER_ROW - len(grid[-1]))
            story.append(Spacer(1, 2 * mm))
            story.append(Table(grid, colWidths=[(chart_width + 2) * mm] * CHARTS_PER_ROW))
        story.append(Spacer(1, 4 * mm))

    story.extend(alarms.pdf_story(report, settings, lang, styles, _escape, STATUS_COLOURS, STATUS_TINTS))
    chosen = kpi_id or default_kpi(report)
    if chosen:
        story.append(PageBreak())
        name = report.result(chosen).kpi.name.get(lang)
        story.append(Paragraph(_escape(t("reports.league.title", lang, kpi=name)), styles["sector"]))
        table_rows: list[list[Any]] = [[t(f"reports.col.{key}", lang) for key in ("rank", "district", "value", "status")]]
        style = [("FONT", (0, 0), (-1, -1), FONT, 9), ("FONT", (0, 0), (-1, 0), BOLD, 9),
                 ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#1f3250")),
                 ("TEXTCOLOR", (0, 0), (-1, 0), colors.white),
                 ("GRID", (0, 0), (-1, -1), 0.4, colors.HexColor("#c5ccd6"))]
        for line, row in enumerate(district_rows(report, chosen, lang), start=1):
            table_rows.append([row.rank or "—", row.district, row.value_text, row.status_text])
            style.append(("BACKGROUND", (3, line), (3, line), colors.HexColor(STATUS_TINTS[row.status])))
            style.append(("TEXTCOLOR", (3, line), (3, line), colors.HexColor(STATUS_COLOURS[row.status])))
        league = Table(table_rows, colWidths=[14 * mm, 40 * mm, 30 * mm, 30 * mm])
        league.setStyle(TableStyle(style))
        layout = Table([[league, _png(district_map(report, settings, chosen, lang), 140)]],
                       colWidths=[120 * mm, 150 * mm])
        layout.setStyle(TableStyle([("VALIGN", (0, 0), (-1, -1), "TOP")]))
        story.append(layout)

    footer = page_footer(f"{title} · {report.period.display()}", lang)
    document.build(story, onFirstPage=footer, onLaterPages=footer)
    return buffer.getvalue()
