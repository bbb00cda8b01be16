"""The next period's forecast: seasonal naive with enough history, the recent mean with less, none with too little."""

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


def test_a_short_history_gives_its_mean_not_a_line() -> None:
    history = {d: 2.0 * n for n, d in enumerate(days(MONDAY, 5))}  # 0, 2, 4, 6, 8: climbing
    ahead = days(MONDAY + timedelta(days=5), 30)

    result = forecast(history, ahead, additive=False, last_known=MONDAY + timedelta(days=4))

    # a line would say 68 a month out; five days do not know that
    assert result.method == "recent_mean"
    assert result.value == pytest.approx(4.0) and {v for _, v in result.days} == {4.0}


def test_a_history_with_a_missing_weekday_falls_back_to_the_mean() -> None:
    history = {d: 10.0 for d in days(MONDAY, 21) if d.weekday() != 2}  # never a Wednesday

    result = forecast(history, days(MONDAY + timedelta(days=21), 7), additive=True,
                      last_known=MONDAY + timedelta(days=20))

    assert (result.method, result.value) == ("recent_mean", 70.0)


def test_bounds_keep_a_share_a_share() -> None:
    history = {d: 70.0 + 5 * n for n, d in enumerate(days(MONDAY, 14))}  # climbing past 100

    result = forecast(history, days(MONDAY + timedelta(days=14), 7), additive=False,
                      last_known=MONDAY + timedelta(days=13), bounds=(0.0, 100.0))

    assert result.method == "seasonal_naive"
    assert max(value for _, value in result.days) == 100.0


def test_too_little_history_gives_no_forecast() -> None:
    result = forecast({MONDAY: 3.0, MONDAY + timedelta(days=1): 4.0}, days(MONDAY + timedelta(days=2), 3),
                      additive=False, last_known=MONDAY + timedelta(days=1))

    assert (result.method, result.value) == ("none", None)


def test_days_after_last_known_are_not_used() -> None:
    history = {d: 5.0 for d in days(MONDAY, 6)} | {MONDAY + timedelta(days=6): 500.0}  # today, still running

    result = forecast(history, [MONDAY + timedelta(days=7)], additive=False, last_known=MONDAY + timedelta(days=5))

    assert result.value == pytest.approx(5.0)
