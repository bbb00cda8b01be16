"""A short, honest forecast of a KPI's next period from its daily history, labelled with how it was made.

- seasonal_naive: with at least two weeks of daily values in the last four, each day ahead is forecast by
  the same weekday of the most recent week that has it (city life has a weekly rhythm: weekdays, weekends).
- recent_mean: with fewer (at least MIN_POINTS days), every day ahead is the mean of the days there are. A
  line through a few days, carried a month ahead, would promise more than the data knows.
- none: too little history to say anything.
The period's forecast is the sum of the daily forecasts for KPIs that add up over days (counts, sums,
hours above a limit) and their mean otherwise; a manager reads it as a direction, not a promise.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Literal

Method = Literal["seasonal_naive", "recent_mean", "none"]
WINDOW_DAYS = 28
SEASONAL_MIN_DAYS = 14
MIN_POINTS = 3
SEASON = 7


@dataclass(frozen=True, slots=True)
class Forecast:
    method: Method
    value: float | None
    days: tuple[tuple[date, float], ...] = ()


def forecast(
    daily: Mapping[date, float],
    ahead: list[date],
    *,
    additive: bool,
    last_known: date,
    bounds: tuple[float | None, float | None] = (0.0, None),
) -> Forecast:
    """Forecast the days `ahead` from the daily values up to `last_known` (later days are ignored)."""
    window_start = last_known - timedelta(days=WINDOW_DAYS - 1)
    history = {day: value for day, value in daily.items() if window_start <= day <= last_known and value is not None}
    if not ahead or len(history) < MIN_POINTS:
        return Forecast("none", None)
    values: list[float | None] = []
    method: Method = "recent_mean"
    if len(history) >= SEASONAL_MIN_DAYS:
        values = [_seasonal(history, day) for day in ahead]
        method = "seasonal_naive"
    if method == "recent_mean" or any(value is None for value in values):
        mean = sum(history.values()) / len(history)
        method, values = "recent_mean", [mean] * len(ahead)
    low, high = bounds
    clipped = [_clip(value, low, high) for value in values if value is not None]
    days = tuple(zip(ahead, clipped, strict=True))
    total = sum(clipped)
    return Forecast(method, total if additive else total / len(clipped), days)


def _clip(value: float, low: float | None, high: float | None) -> float:
    if low is not None:
        value = max(low, value)
    return min(high, value) if high is not None else value


def _seasonal(history: Mapping[date, float], day: date) -> float | None:
    back = day - timedelta(days=SEASON)
    first = min(history)
    while back >= first:
        if back in history:
            return history[back]
        back -= timedelta(days=SEASON)
    return None
