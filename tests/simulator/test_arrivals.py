"""Arrivals: a deterministic Poisson process per bucket, whatever window is asked for."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

from simulator.arrivals import arrivals, poisson
from simulator.city import SimCity

from .conftest import MORNING


def steady(rate: float) -> Callable[[datetime], float]:
    return lambda _moment: rate


def test_the_same_window_gives_the_same_arrivals(quiet_city: SimCity) -> None:
    one = arrivals(quiet_city, "test", MORNING, MORNING + timedelta(hours=6), steady(6))
    other = arrivals(SimCity(42), "test", MORNING, MORNING + timedelta(hours=6), steady(6))
    assert [(a.key, a.at) for a in one] == [(a.key, a.at) for a in other]
    assert [a.rng.random() for a in one] == [a.rng.random() for a in other]


def test_a_narrower_window_is_a_slice_of_a_wider_one(quiet_city: SimCity) -> None:
    wide = arrivals(quiet_city, "test", MORNING, MORNING + timedelta(hours=6), steady(6))
    since, until = MORNING + timedelta(minutes=47), MORNING + timedelta(hours=2, minutes=13)
    narrow = arrivals(quiet_city, "test", since, until, steady(6))
    assert [a.key for a in narrow] == [a.key for a in wide if since <= a.at <= until]
    assert all(since <= a.at <= until for a in narrow)


def test_the_count_follows_the_rate(quiet_city: SimCity) -> None:
    day = arrivals(quiet_city, "test", MORNING, MORNING + timedelta(days=2), steady(5))
    assert 5 * 48 * 0.8 < len(day) < 5 * 48 * 1.2
    assert arrivals(quiet_city, "test", MORNING, MORNING + timedelta(days=1), steady(0)) == []


def test_a_higher_rate_never_gives_fewer_in_a_bucket(quiet_city: SimCity) -> None:
    for bucket in range(200):
        start = MORNING + timedelta(minutes=10 * bucket)
        end = start + timedelta(minutes=10) - timedelta(seconds=1)
        low = arrivals(quiet_city, "test", start, end, steady(3))
        high = arrivals(quiet_city, "test", start, end, steady(9))
        assert len(high) >= len(low)


def test_poisson_of_nothing_is_nothing(quiet_city: SimCity) -> None:
    assert poisson(quiet_city.rng("p"), 0) == 0
    assert poisson(quiet_city.rng("p"), -1) == 0
