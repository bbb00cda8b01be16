"""Report periods on the city's calendar: a day, an ISO week, a month or a range, and the one before and after.

`2026-11-20`, `2026-W47`, `2026-11` and `2026-11-01..2026-11-15` are the forms the CLI and the page use.
Days are local dates in the city's zone: a day's data runs from the city's midnight to the next.
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Literal
from zoneinfo import ZoneInfo

PeriodKind = Literal["day", "week", "month", "range"]
KINDS: tuple[PeriodKind, ...] = ("day", "week", "month", "range")
MAX_RANGE_DAYS = 5 * 366  # what the daily rollups keep

_DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_WEEK = re.compile(r"^(\d{4})-W(\d{2})$")
_MONTH = re.compile(r"^(\d{4})-(\d{2})$")


class PeriodError(ValueError):
    """Text that is not a period; the message shows the accepted forms."""


@dataclass(frozen=True, slots=True)
class Period:
    kind: PeriodKind
    start: date
    end: date  # inclusive

    @property
    def days(self) -> list[date]:
        return [self.start + timedelta(days=n) for n in range(self.length)]

    @property
    def length(self) -> int:
        return (self.end - self.start).days + 1

    @property
    def label(self) -> str:
        """The period as the CLI takes it back (also the cache key and the export's file name part)."""
        if self.kind == "day":
            return self.start.isoformat()
        if self.kind == "week":
            year, week, _ = self.start.isocalendar()
            return f"{year}-W{week:02d}"
        if self.kind == "month":
            return f"{self.start.year}-{self.start.month:02d}"
        return f"{self.start.isoformat()}..{self.end.isoformat()}"

    def display(self) -> str:
        """dd/mm/yyyy as Vietnamese and English readers of the city both write dates."""
        if self.kind == "day":
            return self.start.strftime("%d/%m/%Y")
        if self.kind == "month":
            return self.start.strftime("%m/%Y")
        text = f"{self.start.strftime('%d/%m/%Y')} – {self.end.strftime('%d/%m/%Y')}"
        return f"{self.label} ({text})" if self.kind == "week" else text

    def previous(self) -> Period:
        """The period of the same kind just before (a range: as many days, ending the day before)."""
        if self.kind == "month":
            first = (self.start - timedelta(days=1)).replace(day=1)
            return month_of(first)
        return Period(self.kind, self.start - timedelta(days=self.length), self.start - timedelta(days=1))

    def next(self) -> Period:
        if self.kind == "month":
            return month_of(self.end + timedelta(days=1))
        return Period(self.kind, self.end + timedelta(days=1), self.end + timedelta(days=self.length))

    def contains(self, day: date) -> bool:
        return self.start <= day <= self.end


def month_of(day: date) -> Period:
    last = calendar.monthrange(day.year, day.month)[1]
    return Period("month", day.replace(day=1), day.replace(day=last))


def week_of(day: date) -> Period:
    start = day - timedelta(days=day.weekday())
    return Period("week", start, start + timedelta(days=6))


def period_of(kind: PeriodKind, day: date, end: date | None = None) -> Period:
    """The period of a kind that holds `day` (a range runs from `day` to `end`)."""
    if kind == "day":
        return Period("day", day, day)
    if kind == "week":
        return week_of(day)
    if kind == "month":
        return month_of(day)
    return make_range(day, end or day)


def make_range(start: date, end: date) -> Period:
    if end < start:
        raise PeriodError(f"{start.isoformat()}..{end.isoformat()}: the range ends before it starts")
    if (end - start).days + 1 > MAX_RANGE_DAYS:
        raise PeriodError(f"a range may span at most {MAX_RANGE_DAYS} days (what the rollups keep)")
    return Period("range", start, end)


def parse_period(text: str) -> Period:
    """2026-11-20 | 2026-W47 | 2026-11 | 2026-11-01..2026-11-15."""
    text = (text or "").strip()
    try:
        if ".." in text:
            first, last = (part.strip() for part in text.split("..", 1))
            return make_range(date.fromisoformat(first), date.fromisoformat(last))
        if _DAY.match(text):
            return Period("day", date.fromisoformat(text), date.fromisoformat(text))
        if match := _WEEK.match(text):
            year, week = int(match.group(1)), int(match.group(2))
            return week_of(date.fromisocalendar(year, week, 1))
        if match := _MONTH.match(text):
            return month_of(date(int(match.group(1)), int(match.group(2)), 1))
    except ValueError as exc:
        if isinstance(exc, PeriodError):
            raise
        raise PeriodError(f"'{text}': {exc}") from None
    raise PeriodError(
        f"'{text}' is not a period: use a day (2026-11-20), an ISO week (2026-W47), a month (2026-11) "
        f"or a range (2026-11-01..2026-11-15)"
    )


# --- buckets on the local calendar -------------------------------------------------------------------------


def local_bucket(moment: datetime, zone: ZoneInfo) -> tuple[date, int]:
    """The local date and hour of day a moment falls in."""
    local = moment.astimezone(zone)
    return local.date(), local.hour


def day_start(day: date, zone: ZoneInfo) -> datetime:
    """The instant the city's day begins (its local midnight), as an aware datetime."""
    return datetime(day.year, day.month, day.day, tzinfo=zone)


def month_key(day: date) -> str:
    return f"{day.year}-{day.month:02d}"


def months_between(first: date, last: date) -> list[str]:
    months: list[str] = []
    year, month = first.year, first.month
    while (year, month) <= (last.year, last.month):
        months.append(f"{year}-{month:02d}")
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return months
