"""The health department's hospitals and how full their beds are through the day.

Bed occupancy follows a daily load: admissions through the morning, a peak in the early afternoon,
discharges in the evening and the quietest hours before dawn, with a weekly swing. Rain and the storm
bring injuries to the general hospitals. The big public hospitals run above 100%, as they do.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from simulator.rhythm import local_hour
from simulator.weather import soaked_rain, storm_strength

if TYPE_CHECKING:
    from simulator.city import SimCity

EXPORT_INTERVAL_S = 900
LOAD_PEAK_H, LOAD_SPREAD_H = 14.0, 4.5

# (name, lon, lat, beds, ICU beds, typical occupancy, general hospital: takes emergencies)
HOSPITALS: tuple[tuple[str, float, float, int, int, float, bool], ...] = (
    ("Bệnh viện Đà Nẵng", 108.2160, 16.0720, 1350, 60, 1.0, True),
    ("Bệnh viện C Đà Nẵng", 108.2178, 16.0716, 600, 24, 0.88, True),
    ("Bệnh viện Phụ sản - Nhi Đà Nẵng", 108.2500, 16.0010, 900, 40, 0.86, False),
    ("Bệnh viện Ung bướu Đà Nẵng", 108.1537, 16.0756, 750, 20, 0.95, False),
    ("Bệnh viện Hoàn Mỹ Đà Nẵng", 108.2072, 16.0601, 250, 12, 0.72, True),
    ("Bệnh viện Quân y 17", 108.2143, 16.0437, 500, 20, 0.8, True),
    ("Bệnh viện Phổi Đà Nẵng", 108.2330, 16.0880, 300, 10, 0.78, False),
    ("Bệnh viện Vinmec Đà Nẵng", 108.2230, 16.0390, 200, 10, 0.64, True),
    ("Bệnh viện Gia Đình", 108.2140, 16.0290, 150, 6, 0.7, True),
    ("Bệnh viện Y học cổ truyền Đà Nẵng", 108.1930, 16.0330, 250, 0, 0.75, False),
    ("Bệnh viện Tâm thần Đà Nẵng", 108.1700, 16.0300, 400, 0, 0.9, False),
    ("Trung tâm Y tế quận Sơn Trà", 108.2424, 16.0823, 120, 0, 0.6, True),
    ("Trung tâm Y tế quận Liên Chiểu", 108.1480, 16.0760, 130, 0, 0.62, True),
    ("Trung tâm Y tế huyện Hòa Vang", 108.1500, 16.0100, 150, 0, 0.58, True),
)


@dataclass(frozen=True, slots=True)
class Hospital:
    id: str
    name: str
    lon: float
    lat: float
    beds: int
    icu_beds: int
    typical_load: float
    emergency: bool
    # how strongly its census follows the day (a psychiatric hospital hardly does)
    swing: float
    phase: float
    # minutes its export lags the quarter hour
    lag_min: int


def hospitals(city: SimCity) -> tuple[Hospital, ...]:
    def build(built: SimCity) -> tuple[Hospital, ...]:
        rng = built.rng("hospitals")
        return tuple(
            Hospital(
                id=f"BV-DN-{number:03d}",
                name=name,
                lon=lon,
                lat=lat,
                beds=beds,
                icu_beds=icu,
                typical_load=load,
                emergency=emergency,
                swing=0.02 if "Tâm thần" in name else rng.uniform(0.08, 0.13),
                phase=rng.uniform(0, 2 * math.pi),
                lag_min=rng.randrange(0, 11),
            )
            for number, (name, lon, lat, beds, icu, load, emergency) in enumerate(HOSPITALS, start=1)
        )

    return city.part("hospitals", build)


def daily_load(hour: float) -> float:
    """-0.4 before dawn to 0.6 in the early afternoon: the shape of a hospital's day."""
    return math.exp(-0.5 * ((hour - LOAD_PEAK_H) / LOAD_SPREAD_H) ** 2) - 0.4


@dataclass(frozen=True, slots=True)
class BedReport:
    hospital: Hospital
    updated_at: datetime
    occupied: int
    icu_occupied: int | None

    @property
    def occupancy_pct(self) -> float:
        return round(100 * self.occupied / self.hospital.beds, 1)


def bed_report(city: SimCity, hospital: Hospital, moment: datetime) -> BedReport:
    """The hospital's last export before `moment` (every quarter hour, a few minutes late)."""
    lagged = moment - timedelta(minutes=hospital.lag_min)
    slot = int(lagged.timestamp()) // EXPORT_INTERVAL_S
    counted_at = datetime.fromtimestamp(slot * EXPORT_INTERVAL_S, UTC)
    noise = city.rng("beds", hospital.id, slot)
    days = counted_at.timestamp() / 86400
    load = hospital.typical_load + hospital.swing * daily_load(local_hour(counted_at))
    load += 0.025 * math.sin(2 * math.pi * days / 7 + hospital.phase)
    if hospital.emergency:
        # injured people from flooded streets and the storm
        load += 0.03 * min(1.0, soaked_rain(city, counted_at) / 20) + 0.02 * storm_strength(city, counted_at)
    occupied = round(hospital.beds * max(0.2, load + noise.gauss(0, 0.006)))
    icu = None
    if hospital.icu_beds:
        icu_load = 0.78 + 0.12 * daily_load(local_hour(counted_at)) + noise.gauss(0, 0.04)
        icu = max(0, min(hospital.icu_beds, round(hospital.icu_beds * icu_load)))
    updated = counted_at + timedelta(minutes=hospital.lag_min)
    return BedReport(hospital, updated, occupied, icu)
