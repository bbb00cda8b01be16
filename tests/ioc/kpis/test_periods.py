"""Report periods on the city's calendar: the forms the CLI takes, and the periods before and after."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from ioc.i18n import CITY_ZONE
from ioc.kpis.periods import PeriodError, local_bucket, months_between, parse_period


@pytest.mark.parametrize(
    ("text", "kind", "start", "end"),
    [
        ("2026-11", "month", date(2026, 11, 1), date(2026, 11, 30)),
        ("2024-02", "month", date(2024, 2, 1), date(2024, 2, 29)),
        ("2026-W47", "week", date(2026, 11, 16), date(2026, 11, 22)),
        ("2026-W01", "week", date(2025, 12, 29), date(2026, 1, 4)),  # ISO week 1 starts in December
        ("2026-11-20", "day", date(2026, 11, 20), date(2026, 11, 20)),
        ("2026-11-01..2026-11-15", "range", date(2026, 11, 1), date(2026, 11, 15)),
    ],
)
def test_parse(text: str, kind: str, start: date, end: date) -> None:
    period = parse_period(text)

    assert (period.kind, period.start, period.end) == (kind, start, end)
    assert parse_period(period.label) == period


def test_previous_and_next() -> None:
    assert parse_period("2026-03").previous() == parse_period("2026-02")
    assert parse_period("2026-12").next() == parse_period("2027-01")
    assert parse_period("2026-W01").previous() == parse_period("2025-W52")
    assert parse_period("2026-11-01").previous() == parse_period("2026-10-31")
    assert parse_period("2026-11-01..2026-11-15").previous() == parse_period("2026-10-17..2026-10-31")
    assert parse_period("2026-11-01..2026-11-15").next() == parse_period("2026-11-16..2026-11-30")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("November", "is not a period"),
        ("2026-13", "month must be in 1..12"),
        ("2026-W54", "2026-W54"),
        ("2026-11-15..2026-11-01", "ends before it starts"),
        ("2000-01-01..2026-01-01", "at most"),
    ],
)
def test_refused(text: str, message: str) -> None:
    with pytest.raises(PeriodError, match=message):
        parse_period(text)


def test_a_day_starts_at_the_citys_midnight() -> None:
    assert local_bucket(datetime(2026, 11, 19, 16, 59, tzinfo=UTC), CITY_ZONE) == (date(2026, 11, 19), 23)
    assert local_bucket(datetime(2026, 11, 19, 17, 0, tzinfo=UTC), CITY_ZONE) == (date(2026, 11, 20), 0)


def test_months_between_crosses_a_year() -> None:
    assert months_between(date(2026, 11, 20), date(2027, 2, 1)) == ["2026-11", "2026-12", "2027-01", "2027-02"]
