"""Simulated time: where the simulator's city is in time, and how fast it runs against the wall clock."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta


class SimClock:
    """Simulated time that starts at `start` and runs `speed` times faster than real time.

    speed 60 means one real second is one simulated minute. The real-time source is injectable so tests
    can advance it without sleeping.
    """

    def __init__(
        self,
        start: datetime | None = None,
        speed: float = 1.0,
        *,
        real_seconds: Callable[[], float] = time.monotonic,
    ) -> None:
        if speed <= 0:
            raise ValueError(f"speed must be positive, got {speed}")
        if start is None:
            start = datetime.now(UTC)
        elif start.tzinfo is None:
            start = start.replace(tzinfo=UTC)
        # whole seconds, so every feed's timestamps line up with the start the operator was told
        self.start = start.astimezone(UTC).replace(microsecond=0)
        self.speed = float(speed)
        self._real_seconds = real_seconds
        self._real_start = real_seconds()

    def now(self) -> datetime:
        elapsed = (self._real_seconds() - self._real_start) * self.speed
        return self.start + timedelta(seconds=elapsed)

    def __repr__(self) -> str:
        return f"SimClock(start={self.start.isoformat()}, speed={self.speed:g})"
