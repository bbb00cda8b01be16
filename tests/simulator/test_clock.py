"""SimClock: simulated time from a start, at a speed, against an injectable real-time source."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from simulator.clock import SimClock

START = datetime(2025, 6, 12, 1, 0, tzinfo=UTC)


class FakeRealTime:
    def __init__(self) -> None:
        self.seconds = 1000.0

    def __call__(self) -> float:
        return self.seconds


def test_starts_at_the_fixed_start() -> None:
    real = FakeRealTime()
    clock = SimClock(START, speed=60, real_seconds=real)
    assert clock.now() == START


def test_speed_60_runs_a_simulated_minute_per_real_second() -> None:
    real = FakeRealTime()
    clock = SimClock(START, speed=60, real_seconds=real)
    real.seconds += 1
    assert clock.now() == START + timedelta(minutes=1)
    real.seconds += 9.5
    assert clock.now() == START + timedelta(minutes=10, seconds=30)


def test_speed_1_follows_real_time() -> None:
    real = FakeRealTime()
    clock = SimClock(START, speed=1, real_seconds=real)
    real.seconds += 42
    assert clock.now() == START + timedelta(seconds=42)


def test_default_start_is_the_real_now() -> None:
    before = datetime.now(UTC).replace(microsecond=0)
    clock = SimClock()
    after = datetime.now(UTC)
    assert before <= clock.start <= after
    assert clock.start.tzinfo is not None


def test_naive_start_is_taken_as_utc() -> None:
    clock = SimClock(datetime(2025, 6, 12, 1, 0), real_seconds=FakeRealTime())
    assert clock.now() == START


@pytest.mark.parametrize("speed", [0, -5])
def test_speed_must_be_positive(speed: float) -> None:
    with pytest.raises(ValueError, match="speed"):
        SimClock(START, speed=speed)
