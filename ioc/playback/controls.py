"""The playback controls' logic, without a browser: which moment a slider position means on which day, how the
moment moves at 1x / 10x / 60x, which days the archive can show, and what the screen says while in playback.

A screen's playback state is a small dict kept in the browser: `at` (the moment shown, ISO 8601 in UTC; None
when live), `speed` (0 paused, else 1, 10 or 60 seconds of the past per second) and `day` (LAST_DAY for the
last 24 hours, else a local date "YYYY-MM-DD" of an archived day).
"""

from __future__ import annotations

import os
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any

from ioc.archive.snapshots import SNAPSHOTS
from ioc.i18n import CITY_ZONE, local_time, t
from ioc.model import from_iso, to_iso

LAST_DAY = "last24"
SPEEDS = (1, 10, 60)
SLIDER_MINUTES = 24 * 60  # the slider's positions: a minute each over a day
LIVE: dict[str, Any] = {"at": None, "speed": 0, "day": LAST_DAY}


def moment(state: dict[str, Any] | None) -> datetime | None:
    """The past moment a screen shows, None when it shows the live city (or the state is unreadable)."""
    if not state or not state.get("at"):
        return None
    try:
        return from_iso(state["at"])
    except ValueError:
        return None


def day_span(day: str, now: datetime) -> tuple[datetime, datetime]:
    """The time a slider covers: the last 24 hours, or an archived local day (never past now)."""
    if day == LAST_DAY:
        return now - timedelta(minutes=SLIDER_MINUTES), now
    try:
        local = date.fromisoformat(day)
    except ValueError:
        return now - timedelta(minutes=SLIDER_MINUTES), now
    start = datetime.combine(local, time(0), CITY_ZONE).astimezone(UTC)
    return start, min(start + timedelta(days=1), now)


def at_position(day: str, position: float, now: datetime) -> datetime:
    """The moment a slider position (minutes from the span's start) means."""
    start, end = day_span(day, now)
    return min(end, start + timedelta(minutes=max(0.0, float(position))))


def position_of(day: str, at: datetime, now: datetime) -> int:
    start, _ = day_span(day, now)
    return max(0, min(SLIDER_MINUTES, round((at - start).total_seconds() / 60)))


def seek(state: dict[str, Any], day: str, position: float, now: datetime) -> dict[str, Any]:
    """The slider moved (or the day changed): show that moment, keeping the speed."""
    return {**state, "day": day, "at": to_iso(at_position(day, position, now))}


def play(state: dict[str, Any], speed: int, now: datetime) -> dict[str, Any]:
    """Play at `speed` (0 pauses) from the moment shown; from live, from an hour ago."""
    if speed not in (0, *SPEEDS):
        raise ValueError(f"speed {speed} is not one of 0, {', '.join(map(str, SPEEDS))}")
    at = moment(state) or now - timedelta(hours=1)
    return {**state, "at": to_iso(at), "speed": speed}


def advance(state: dict[str, Any], seconds: float, now: datetime) -> dict[str, Any]:
    """The playback clock ticked: the moment moves on by speed x seconds; reaching now is back to live."""
    at, speed = moment(state), int(state.get("speed") or 0)
    if at is None or speed == 0:
        return state
    later = at + timedelta(seconds=speed * seconds)
    if later >= now:
        return dict(LIVE)
    return {**state, "at": to_iso(later)}


def archived_days(root: Path, now: datetime, limit: int = 90) -> list[str]:
    """Local days the archive can show, newest first: those whose snapshots or records it holds (a UTC day
    reaches into two local days)."""
    days: set[date] = set()
    for kind in (SNAPSHOTS, "entities"):
        folder = Path(root) / kind
        if folder.is_dir():
            for name in os.listdir(folder):
                try:
                    day = date.fromisoformat(name.removeprefix("day="))
                except ValueError:
                    continue
                days.update((day, day + timedelta(days=1)))
    today = now.astimezone(CITY_ZONE).date()
    return [day.isoformat() for day in sorted(days, reverse=True) if day <= today][:limit]


def slider_marks(day: str, now: datetime) -> dict[int, str]:
    """Local times every six hours along the slider, so a position reads as a time of day."""
    start, _ = day_span(day, now)
    return {minutes: local_time(start + timedelta(minutes=minutes), "%H:%M") for minutes in range(0, 1441, 360)}


def next_state(state: dict[str, Any] | None, trigger: str, *, day: str, position: float | None, now: datetime,
               speed: int = 0, seconds: float = 1.0) -> dict[str, Any]:
    """What a control did to a screen's playback: `trigger` is "seek", "play" (at `speed`), "live" or "clock"."""
    state = dict(state or LIVE)
    if trigger == "seek":
        if position is None:
            return state
        return seek(state, day, position, now)
    if trigger == "play":
        return play({**state, "day": day}, speed, now)
    if trigger == "clock":
        return advance(state, seconds, now)
    return dict(LIVE)


def banner(state: dict[str, Any], lang: str) -> str:
    """What a screen in playback says across its top: PLAYBACK, the moment, the speed."""
    at = moment(state)
    if at is None:
        return ""
    speed = int(state.get("speed") or 0)
    pace = t("playback.paused", lang) if speed == 0 else f"{speed}×"
    return t("playback.banner", lang, time=local_time(at, "%H:%M:%S %d/%m/%Y"), pace=pace)
