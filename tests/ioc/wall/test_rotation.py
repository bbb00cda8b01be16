"""The rotation follows the clock: each item for its dwell time, round and round, the same on every screen."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from ioc.wall.config import PlaylistItem
from ioc.wall.rotation import position

ITEMS = [PlaylistItem(page="/", dwell_seconds=10), PlaylistItem(sector="transport", dwell_seconds=5),
         PlaylistItem(area="Hải Châu", dwell_seconds=15)]
CYCLE_START = datetime.fromtimestamp(30 * 1_000_000, tz=UTC)  # a multiple of the 30 s cycle


@pytest.mark.parametrize(("offset", "index", "left"), [
    (0, 0, 10), (9.5, 0, 0.5), (10, 1, 5), (14, 1, 1), (15, 2, 15), (29.9, 2, 0.1), (30, 0, 10),
])
def test_each_item_for_its_dwell_time(offset: float, index: int, left: float) -> None:
    at = position(ITEMS, CYCLE_START + timedelta(seconds=offset))
    assert at.index == index and at.item is ITEMS[index]
    assert at.seconds_left == pytest.approx(left)


def test_days_later_it_is_still_in_step() -> None:
    later = CYCLE_START + timedelta(days=9, seconds=12)  # 9 days is a whole number of 30 s cycles
    assert position(ITEMS, later).index == 1


def test_an_empty_playlist_is_refused() -> None:
    with pytest.raises(ValueError, match="at least one item"):
        position([], CYCLE_START)
