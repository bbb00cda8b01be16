"""A shift handover as a PDF for the shift log: who handed over and accepted it, the counts, the notes and
each section of the summary as a table, drawn with the KPI report's PDF building blocks (fonts with every
Vietnamese letter, paragraph styles, A4 landscape)."""

from __future__ import annotations

import io
from typing import Any

from reportlab.lib import colors
from reportlab.lib.units import mm
from reportlab.platypus import KeepTogether, Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from ioc.config import Settings
from ioc.handover import Handover
from ioc.handover_summary import counts, sections, window_text
from ioc.i18n import local_time, t
from ioc.kpis.exports.pdf_writer import BOLD, FONT, PAGE, _escape, _fonts, _styles, page_footer
from ioc.model import from_iso

HEADER_BAND = "#1f3250"
GRID = "#c5ccd6"
KEEP_TOGETHER_ROWS = 12
WIDEST_CHARS = 70


def _table(columns: list[str], rows: list[list[str]], styles: dict[str, Any]) -> Table:
    cell = styles["cell"]
    # each column as wide as its longest text needs, within bounds: an id stays narrow, a title gets room
    needs = [min(max(len(column), *(len(row[i]) for row in rows)), WIDEST_CHARS) + 4 for i, column in
             enumerate(columns)]
    widths = [(PAGE[0] - 24 * mm) * need / sum(needs) for need in needs]
    data = [[Paragraph(_escape(column), styles["cell_bold"]) for column in columns]]
    data += [[Paragraph(_escape(value), cell) for value in row] for row in rows]
    table = Table(data, colWidths=widths, repeatRows=1)
    table.setStyle(TableStyle([
        ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor(HEADER_BAND)),
        ("TEXTCOLOR", (0, 0), (-1, 0), colors.white),
        ("FONT", (0, 0), (-1, -1), FONT, 8.5),
        ("FONT", (0, 0), (-1, 0), BOLD, 9),
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("GRID", (0, 0), (-1, -1), 0.4, colors.HexColor(GRID)),
    ]))
    return table


def who_line(handover: Handover, lang: str) -> str:
    """Who handed over and who accepted, or that it is not done yet."""
    parts = []
    if handover.handed_by:
        parts.append(t("handover.state.handed_over", lang, who=handover.handed_by,
                       time=local_time(handover.handed_at, "%H:%M %d/%m/%Y")))
    else:
        parts.append(t("handover.state.open", lang))
    if handover.accepted_by:
        parts.append(t("handover.state.accepted", lang, who=handover.accepted_by,
                       time=local_time(handover.accepted_at, "%H:%M %d/%m/%Y")))
    return " · ".join(parts)


def write(summary: dict[str, Any], handover: Handover, settings: Settings, *, lang: str = "vi") -> bytes:
    _fonts()
    styles = _styles()
    on_band = styles["cell_bold"].clone("on_band", textColor=colors.white)
    styles["cell_bold"] = on_band
    buffer = io.BytesIO()
    title = t("handover.pdf_title", lang, city=settings.city.name.get(lang))
    document = SimpleDocTemplate(
        buffer, pagesize=PAGE, leftMargin=12 * mm, rightMargin=12 * mm, topMargin=12 * mm, bottomMargin=12 * mm,
        title=title, author=settings.city.name.get(lang), subject=window_text(summary, lang))
    story: list[Any] = [
        Paragraph(_escape(title), styles["title"]),
        Paragraph(_escape(window_text(summary, lang)), styles["line"]),
        Paragraph(_escape(who_line(handover, lang)), styles["line"]),
        Paragraph(_escape(t("handover.made_at", lang,
                            time=local_time(from_iso(summary.get("made_at")), "%H:%M %d/%m/%Y"))), styles["small"]),
        Spacer(1, 3 * mm),
        Paragraph(_escape("   ·   ".join(f"{label}: {number}" for _, label, number in counts(summary, lang))),
                  styles["sector"]),
    ]
    for heading, text in ((t("handover.section.notes", lang), handover.notes),
                          (t("handover.accept_note", lang), handover.accept_note)):
        if text:
            story += [Paragraph(_escape(heading), styles["sector"]),
                      Paragraph(_escape(text).replace("\n", "<br/>"), styles["line"])]
    for section in sections(summary, settings, lang):
        heading = Paragraph(_escape(f"{section.title} ({len(section.rows)})"), styles["sector"])
        if not section.rows:
            story += [heading, Paragraph(_escape(t("handover.none", lang)), styles["small"])]
        elif len(section.rows) < KEEP_TOGETHER_ROWS:  # a short table stays on one page with its heading
            story.append(KeepTogether([heading, _table(section.columns, section.rows, styles)]))
        else:
            story += [heading, _table(section.columns, section.rows, styles)]
        story.append(Spacer(1, 2 * mm))

    footer = page_footer(f"{title} · {window_text(summary, lang)}", lang)
    document.build(story, onFirstPage=footer, onLaterPages=footer)
    return buffer.getvalue()
