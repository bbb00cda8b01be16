"""The next period's forecast: seasonal naive with enough history, a linear trend with less, none with too little."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from ioc.kpis.forecast import forecast

MONDAY = date(2026, 11, 2)


def days(first: date, count: int) -> list[date]:
    return [first + timedelta(days=n) for n in range(count)]


def test_seasonal_naive_repeats_the_last_week() -> None:
    # weekdays 10, weekends 4, for three weeks; the last week a little higher
    history = {d: (4.0 if d.weekday() >= 5 else 10.0) + (1 if d >= MONDAY + timedelta(days=14) else 0)
               for d in days(MONDAY, 21)}
    ahead = days(MONDAY + timedelta(days=21), 7)

    result = forecast(history, ahead, additive=True, last_known=MONDAY + timedelta(days=20))

    assert result.method == "seasonal_naive"
    assert [value for _, value in result.days] == [11, 11, 11, 11, 11, 5, 5]
    assert result.value == 5 * 11 + 2 * 5


def test_linear_trend_with_a_short_history() -> None:
    history = {d: 2.0 * n for n, d in enumerate(days(MONDAY, 5))}  # 0, 2, 4, 6, 8
    ahead = days(MONDAY + timedelta(days=5), 2)  # 10, 12

    result = forecast(history, ahead, additive=False, last_known=MONDAY + timedelta(days=4))

    assert result.method == "linear_trend"
    assert result.value == pytest.approx(11.0)


def test_bounds_keep_a_share_a_share() -> None:
    history = {d: 90.0 + 3 * n for n, d in enumerate(days(MONDAY, 4))}  # climbing past 100

    result = forecast(history, days(MONDAY + timedelta(days=4), 5), additive=False,
                      last_known=MONDAY + timedelta(days=3), bounds=(0.0, 100.0))

    assert max(value for _, value in result.days) == 100.0


def test_too_little_history_gives_no_forecast() -> None:
    result = forecast({MONDAY: 3.0, MONDAY + timedelta(days=1): 4.0}, days(MONDAY + timedelta(days=2), 3),
                      additive=False, last_known=MONDAY + timedelta(days=1))

    assert (result.method, result.value) == ("none", None)


def test_days_after_last_known_are_not_used() -> None:
    history = {d: 5.0 for d in days(MONDAY, 6)} | {MONDAY + timedelta(days=6): 500.0}  # today, still running

    result = forecast(history, [MONDAY + timedelta(days=7)], additive=False, last_known=MONDAY + timedelta(days=5))

    assert result.value == pytest.approx(5.0)
