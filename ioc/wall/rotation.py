"""Which view of a playlist a screen shows now: read from the clock, not kept anywhere, so a screen rotates
for days without drifting, every screen with one playlist shows the same view, and a reload or a server
restart picks up where the rotation is."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from ioc.wall.config import PlaylistItem


@dataclass(frozen=True, slots=True)
class Position:
    """The item on show, its place in the playlist and how long it stays."""

    index: int
    item: PlaylistItem
    seconds_left: float


def position(items: Sequence[PlaylistItem], now: datetime) -> Position:
    """The item a playlist shows at `now`: the playlist repeats from the Unix epoch on, each item for its
    dwell time."""
    if not items:
        raise ValueError("a playlist needs at least one item")
    cycle = sum(item.dwell_seconds for item in items)
    offset = math.fmod(now.timestamp(), cycle)
    for index, item in enumerate(items):
        if offset < item.dwell_seconds:
            return Position(index=index, item=item, seconds_left=item.dwell_seconds - offset)
        offset -= item.dwell_seconds
    return Position(index=len(items) - 1, item=items[-1], seconds_left=0.0)  # float rounding at the cycle's end
