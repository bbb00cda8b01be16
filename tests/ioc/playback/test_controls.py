"""The playback controls' logic: slider positions and days, play / pause / back to live, the clock, the banner."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from ioc.playback.controls import (
    LAST_DAY,
    LIVE,
    advance,
    archived_days,
    at_position,
    banner,
    day_span,
    moment,
    next_state,
    position_of,
    slider_marks,
)

NOW = datetime(2026, 12, 6, 3, 0, tzinfo=UTC)  # 10:00 in Da Nang


def test_slider_over_the_last_day_and_over_an_archived_local_day() -> None:
    assert day_span(LAST_DAY, NOW) == (NOW - timedelta(days=1), NOW)
    assert at_position(LAST_DAY, 1440 - 90, NOW) == NOW - timedelta(minutes=90)
    assert position_of(LAST_DAY, NOW - timedelta(minutes=90), NOW) == 1350
    # 5 December in Da Nang starts at 17:00 UTC on the 4th
    start, end = day_span("2026-12-05", NOW)
    assert (start, end) == (datetime(2026, 12, 4, 17, tzinfo=UTC), datetime(2026, 12, 5, 17, tzinfo=UTC))
    assert at_position("2026-12-05", 8 * 60, NOW) == datetime(2026, 12, 5, 1, tzinfo=UTC)  # 08:00 local
    # today is cut at now; an unreadable day is the last 24 hours
    assert day_span("2026-12-06", NOW)[1] == NOW
    assert at_position("2026-12-06", 1440, NOW) == NOW
    assert day_span("not-a-day", NOW) == day_span(LAST_DAY, NOW)
    assert slider_marks("2026-12-05", NOW) == {0: "00:00", 360: "06:00", 720: "12:00", 1080: "18:00", 1440: "00:00"}


def test_seek_play_pause_clock_and_back_to_live() -> None:
    seeked = next_state(None, "seek", day=LAST_DAY, position=1380, now=NOW)
    assert moment(seeked) == NOW - timedelta(hours=1) and seeked["speed"] == 0
    playing = next_state(seeked, "play", day=LAST_DAY, position=1380, now=NOW, speed=60)
    later = next_state(playing, "clock", day=LAST_DAY, position=None, now=NOW, seconds=1)
    assert moment(later) == NOW - timedelta(hours=1) + timedelta(seconds=60)
    paused = next_state(later, "play", day=LAST_DAY, position=None, now=NOW, speed=0)
    assert next_state(paused, "clock", day=LAST_DAY, position=None, now=NOW) == paused
    # play from live starts an hour back; reaching now is live again
    assert moment(next_state(LIVE, "play", day=LAST_DAY, position=None, now=NOW, speed=10)) == NOW - timedelta(hours=1)
    near = {**playing, "at": (NOW - timedelta(seconds=30)).isoformat()}
    assert advance(near, 1, NOW) == LIVE
    assert next_state(later, "live", day=LAST_DAY, position=None, now=NOW) == LIVE
    with pytest.raises(ValueError, match="speed 7"):
        next_state(seeked, "play", day=LAST_DAY, position=None, now=NOW, speed=7)
    assert moment({"at": "yesterday"}) is None and moment(None) is None


def test_banner_says_playback_the_moment_and_the_pace() -> None:
    state = {"at": "2026-12-06T01:30:00+00:00", "speed": 10, "day": LAST_DAY}
    assert banner(state, "en") == "PLAYBACK · 08:30:00 06/12/2026 · 10×"
    assert banner({**state, "speed": 0}, "vi") == "XEM LẠI · 08:30:00 06/12/2026 · tạm dừng"
    assert banner(LIVE, "en") == ""


def test_archived_days_are_the_local_days_the_archive_reaches(tmp_path: Path) -> None:
    assert archived_days(tmp_path, NOW) == []
    (tmp_path / "entities" / "day=2026-12-04").mkdir(parents=True)
    (tmp_path / "snapshots" / "day=2026-12-06").mkdir(parents=True)
    (tmp_path / "snapshots" / "not-a-day").mkdir(parents=True)
    assert archived_days(tmp_path, NOW) == ["2026-12-06", "2026-12-05", "2026-12-04"]
