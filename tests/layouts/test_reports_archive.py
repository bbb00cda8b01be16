"""The reports page says when days of a report came from the history archive (and only then)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from ioc.config import Settings
from ioc.kpis.periods import make_range
from ioc.kpis.report import compute_report
from ioc.store import Store
from layouts.reports import summary


def _text(node: Any) -> str:
    if isinstance(node, str | int | float):
        return str(node)
    if isinstance(node, list | tuple):
        return "".join(_text(child) for child in node)
    children = getattr(node, "children", None)
    return _text(children) if children is not None else ""


def test_the_summary_names_the_archives_days(fake_store: Store, settings: Settings) -> None:
    period = make_range(date(2026, 1, 1), date(2026, 1, 7))
    report = compute_report(fake_store, settings, period, now=datetime(2026, 2, 1, tzinfo=UTC))
    assert "archive" not in _text(summary(report, "en")) and report.archive_days() == 0
    report.sources = {"pm25-mean": {"archive": 3, "rollups": 4}, "bus-on-time": {"rollups": 7}}
    assert "from the history archive: 3 of 7 days" in _text(summary(report, "en"))
    assert "từ kho lưu trữ lịch sử: 3/7 ngày" in _text(summary(report, "vi"))
