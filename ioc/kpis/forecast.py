"""A short, honest forecast of a KPI's next period from its daily history, labelled with how it was made.

- seasonal_naive: with at least two weeks of daily values in the last four, each day ahead is forecast by
  the same weekday of the most recent week that has it (city life has a weekly rhythm: weekdays, weekends).
- linear_trend: with at least MIN_POINTS daily values, a least-squares line through the last four weeks.
- none: too little history to say anything.
The period's forecast is the sum of the daily forecasts for KPIs that add up over days (counts, sums,
hours above a limit) and their mean otherwise; a manager reads it as a direction, not a promise.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Literal

Method = Literal["seasonal_naive", "linear_trend", "none"]
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
    if len(history) >= SEASONAL_MIN_DAYS:
        method: Method = "seasonal_naive"
        values = [_seasonal(history, day) for day in ahead]
        if any(value is None for value in values):
            method, values = "linear_trend", _linear(history, ahead, window_start)
    else:
        method, values = "linear_trend", _linear(history, ahead, window_start)
    low, high = bounds
    clipped = [min(high, v) if high is not None else v for v in (max(low, v) if low is not None else v for v in values)]
    days = tuple(zip(ahead, clipped, strict=True))
    total = sum(clipped)
    return Forecast(method, total if additive else total / len(clipped), days)


def _seasonal(history: Mapping[date, float], day: date) -> float | None:
    back = day - timedelta(days=SEASON)
    while back >= min(history):
        if back in history:
            return history[back]
        back -= timedelta(days=SEASON)
    return None


def _linear(history: Mapping[date, float], ahead: list[date], origin: date) -> list[float]:
    xs = [(day - origin).days for day in history]
    ys = list(history.values())
    count = len(xs)
    mean_x, mean_y = sum(xs) / count, sum(ys) / count
    spread = sum((x - mean_x) ** 2 for x in xs)
    slope = sum((x - mean_x) * (y - mean_y) for x, y in zip(xs, ys, strict=True)) / spread if spread else 0.0
    return [mean_y + slope * ((day - origin).days - mean_x) for day in ahead]
