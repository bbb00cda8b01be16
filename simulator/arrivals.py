"""Random arrivals in time (incidents, calls, dispatches, outages) as a pure function of seed and window.

Time is cut into fixed buckets counted from the epoch. A bucket's number of arrivals and their offsets
come from a Random seeded with (seed, stream, bucket), and each arrival's details from its own Random, so
asking for any window gives the same arrivals in it whatever was asked before, and an arrival keeps its
id and details from poll to poll. The rate may follow the hour of day and the scenario (rain, storm).
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from simulator.city import SimCity

DEFAULT_BUCKET = timedelta(minutes=10)
# more than this in one bucket is a rate gone wrong, not a busy city
MAX_PER_BUCKET = 200


@dataclass(frozen=True, slots=True)
class Arrival:
    """One arrival: a stable `key` ('<bucket>-<n>'), when it happened, and a Random for its details."""

    key: str
    at: datetime
    rng: random.Random = field(compare=False, repr=False)


def poisson(rng: random.Random, mean: float) -> int:
    """A Poisson count; Knuth's method, which draws more only as the mean grows (more rain, never fewer)."""
    if mean <= 0:
        return 0
    limit, count, product = math.exp(-min(mean, 700.0)), 0, rng.random()
    while product > limit and count < MAX_PER_BUCKET:
        count += 1
        product *= rng.random()
    return count


def arrivals(
    city: SimCity,
    stream: str,
    since: datetime,
    until: datetime,
    rate_per_hour: Callable[[datetime], float],
    bucket: timedelta = DEFAULT_BUCKET,
) -> list[Arrival]:
    """Arrivals of `stream` from `since` up to and including `until`, oldest first.

    `rate_per_hour(t)` is read at the middle of each bucket. With the same Random stream a higher rate
    never gives fewer arrivals in a bucket, so a rainy city has at least the incidents of a dry one.
    """
    size = int(bucket.total_seconds())
    found: list[Arrival] = []
    first, last = int(since.timestamp()) // size, int(until.timestamp()) // size
    for number in range(first, last + 1):
        start = number * size
        middle = datetime.fromtimestamp(start + size / 2, UTC)
        draw = city.rng(stream, number)
        count = poisson(draw, max(0.0, rate_per_hour(middle)) * size / 3600)
        offsets = sorted(draw.randrange(size) for _ in range(count))
        for index, offset in enumerate(offsets, start=1):
            at = datetime.fromtimestamp(start + offset, UTC)
            if since <= at <= until:
                found.append(Arrival(f"{number}-{index}", at, city.rng(stream, number, index)))
    return found
