"""The demo's timeline of city incidents (rain, typhoon warning, accident), relative to the simulator's start.

Feeds consult it to make their agency react: `scenario.rain_intensity(t)` raises flood sensors and
flooding reports, `scenario.active(t, "typhoon_warning")` makes civil defence publish a warning. Without a
start the city is quiet (no incidents), which is what a backfill of ordinary history wants.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta


@dataclass(frozen=True, slots=True)
class Incident:
    """One thing that happens to the city, `starts_after` the simulator's start, for `duration`."""

    id: str
    kind: str
    title_vi: str
    title_en: str
    starts_after: timedelta
    duration: timedelta
    severity: str = "moderate"
    # the strength at its height, in the kind's own unit (rain: mm/h)
    peak: float = 1.0
    district: str | None = None
    # (lon, lat) where a point incident happens
    location: tuple[float, float] | None = None
    # when the agency issues an update of a warning it published (CAP msgType Update), after its start
    update_after: timedelta | None = None


@dataclass(frozen=True, slots=True)
class ActiveIncident:
    """An incident placed on the calendar: when it began and ends."""

    incident: Incident
    onset: datetime
    ends: datetime

    @property
    def updated(self) -> datetime | None:
        """When the warning was updated, if it is one that is."""
        if self.incident.update_after is None:
            return None
        return self.onset + self.incident.update_after


# A short, eventful demo: the first alerts come within minutes of `ioc demo` starting.
DEFAULT_TIMELINE: tuple[Incident, ...] = (
    Incident(
        id="typhoon-warning-1",
        kind="typhoon_warning",
        title_vi="Tin bão khẩn cấp: bão gần Biển Đông, ảnh hưởng trực tiếp Đà Nẵng",
        title_en="Typhoon warning: storm in the East Sea expected to affect Da Nang",
        starts_after=timedelta(minutes=1),
        # the storm weakens before landfall: civil defence cancels the warning the same day
        duration=timedelta(hours=8),
        severity="severe",
        # half an hour in, the storm strengthens and the warning is raised to extreme
        update_after=timedelta(minutes=30),
    ),
    Incident(
        id="heavy-rain-1",
        kind="rain",
        title_vi="Mưa lớn diện rộng",
        title_en="Widespread heavy rain",
        starts_after=timedelta(minutes=2),
        duration=timedelta(hours=4),
        severity="moderate",
        peak=45.0,
    ),
    Incident(
        id="accident-nguyen-van-linh",
        kind="traffic_accident",
        title_vi="Va chạm giao thông trên đường Nguyễn Văn Linh",
        title_en="Traffic collision on Nguyen Van Linh street",
        starts_after=timedelta(minutes=4),
        duration=timedelta(minutes=50),
        severity="moderate",
        district="Thanh Khê",
        location=(108.2110, 16.0598),
    ),
)

RAIN_RAMP_UP = timedelta(minutes=15)
RAIN_RAMP_DOWN = timedelta(minutes=45)


class Scenario:
    """The incidents of one simulator run, anchored at its start."""

    def __init__(self, start: datetime | None, incidents: tuple[Incident, ...] = DEFAULT_TIMELINE) -> None:
        self.start = start
        self.incidents = incidents if start is not None else ()

    @classmethod
    def quiet(cls) -> Scenario:
        return cls(None)

    def timeline(self) -> list[ActiveIncident]:
        """Every incident of the run with its calendar times, in onset order."""
        if self.start is None:
            return []
        placed = [
            ActiveIncident(i, self.start + i.starts_after, self.start + i.starts_after + i.duration)
            for i in self.incidents
        ]
        return sorted(placed, key=lambda a: (a.onset, a.incident.id))

    def active(self, moment: datetime, kind: str | None = None) -> list[ActiveIncident]:
        return [
            a
            for a in self.timeline()
            if a.onset <= moment < a.ends and (kind is None or a.incident.kind == kind)
        ]

    def rain_intensity(self, moment: datetime) -> float:
        """Rainfall in mm/h: ramps up over a quarter hour, passes in cells, tails off over 45 minutes."""
        total = 0.0
        for placed in self.active(moment, "rain"):
            since = (moment - placed.onset).total_seconds()
            until = (placed.ends - moment).total_seconds()
            ramp = min(1.0, since / RAIN_RAMP_UP.total_seconds(), until / RAIN_RAMP_DOWN.total_seconds())
            # convective cells pass over roughly every 40 minutes
            cells = 0.8 + 0.2 * math.sin(2 * math.pi * since / 2400)
            total += placed.incident.peak * max(0.0, ramp) * cells
        return round(total, 2)

    def issued(self, moment: datetime, kind: str) -> list[ActiveIncident]:
        """Incidents of a kind that began at or before `moment`, ended or not (what an agency has published)."""
        return [a for a in self.timeline() if a.incident.kind == kind and a.onset <= moment]

    def typhoon_warning(self, moment: datetime) -> ActiveIncident | None:
        warnings = self.active(moment, "typhoon_warning")
        return warnings[0] if warnings else None
