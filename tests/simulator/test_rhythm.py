"""The city's daily rhythm: wall-clock hours in Da Nang, rush hours, daytime."""

from __future__ import annotations

from datetime import UTC, datetime

from simulator.rhythm import daytime, local_hour, rush_hour


def test_local_hour_is_da_nang_wall_clock() -> None:
    assert local_hour(datetime(2025, 6, 12, 1, 30, tzinfo=UTC)) == 8.5
    assert local_hour(datetime(2025, 6, 12, 17, 0, tzinfo=UTC)) == 0.0


def test_rush_hours_peak_morning_and_evening() -> None:
    hours = [h / 4 for h in range(96)]
    morning_peak = max(hours[:48], key=rush_hour)
    evening_peak = max(hours[48:], key=rush_hour)
    assert 6.5 <= morning_peak <= 8 and 17 <= evening_peak <= 18.5
    assert rush_hour(3) < 0.01 and rush_hour(12.5) < 0.2


def test_daytime_is_low_at_night_and_high_in_the_day() -> None:
    assert daytime(2) < 0.05
    assert daytime(12) > 0.95
    assert daytime(23.5) < 0.1
