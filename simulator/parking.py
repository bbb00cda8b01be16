"""The parking operator's car parks: how full each is through the day, by what is around it.

Offices fill from 7:30 and empty after 17:00, markets peak early and again before dinner, malls and the
beach in the evening, the airport stays busy. Rain empties the beach and fills the malls.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from simulator.rhythm import local_hour

if TYPE_CHECKING:
    from simulator.city import SimCity

READING_INTERVAL_S = 120

# kind -> (night level, [(peak hour, spread in hours, height)]), as a share of the spaces
PROFILES: dict[str, tuple[float, tuple[tuple[float, float, float], ...]]] = {
    "office": (0.06, ((9.5, 2.2, 0.8), (14.5, 2.0, 0.78))),
    "market": (0.05, ((7.5, 1.5, 0.75), (17.5, 1.5, 0.6))),
    "shopping": (0.04, ((12.0, 2.0, 0.45), (19.5, 1.8, 0.88))),
    "hospital": (0.2, ((9.0, 2.5, 0.72), (15.0, 2.0, 0.5))),
    "beach": (0.05, ((6.0, 1.0, 0.35), (18.5, 1.8, 0.85))),
    "airport": (0.3, ((10.0, 3.0, 0.4), (19.0, 3.0, 0.5))),
    "transport": (0.25, ((7.0, 2.0, 0.45), (16.0, 2.5, 0.45))),
    "tourism": (0.03, ((9.5, 1.8, 0.7), (15.0, 1.8, 0.6))),
}
RAIN_EFFECT = {"beach": -0.6, "tourism": -0.4, "shopping": 0.15, "market": -0.2}

CAR_PARKS: tuple[tuple[str, str, float, float, int], ...] = (
    ("Bãi đỗ xe Công viên APEC", "beach", 108.2240, 16.0580, 220),
    ("Bãi đỗ xe Chợ Hàn", "market", 108.2245, 16.0680, 180),
    ("Bãi đỗ xe Vincom Plaza Ngô Quyền", "shopping", 108.2310, 16.0713, 500),
    ("Bãi đỗ xe Trung tâm Hành chính thành phố", "office", 108.2210, 16.0770, 350),
    ("Bãi đỗ xe Bệnh viện Đà Nẵng", "hospital", 108.2160, 16.0720, 150),
    ("Bãi đỗ xe Công viên Biển Đông", "beach", 108.2440, 16.0700, 300),
    ("Bãi đỗ xe Nhà ga Sân bay Đà Nẵng", "airport", 108.2000, 16.0530, 900),
    ("Bãi đỗ xe Chợ Cồn", "market", 108.2140, 16.0680, 120),
    ("Bãi đỗ xe Bến xe Trung tâm", "transport", 108.1735, 16.0570, 250),
    ("Bãi đỗ xe Danh thắng Ngũ Hành Sơn", "tourism", 108.2631, 16.0036, 200),
    ("Bãi đỗ xe Khu công nghiệp Hòa Khánh", "office", 108.1500, 16.0730, 400),
    ("Bãi đỗ xe Lotte Mart Đà Nẵng", "shopping", 108.2290, 16.0350, 600),
)


@dataclass(frozen=True, slots=True)
class CarPark:
    id: str
    name: str
    kind: str
    lon: float
    lat: float
    total_spots: int
    # how popular this one is against others of its kind
    draw: float


def car_parks(city: SimCity) -> tuple[CarPark, ...]:
    def build(built: SimCity) -> tuple[CarPark, ...]:
        rng = built.rng("car-parks")
        return tuple(
            CarPark(f"DN-P{number:02d}", name, kind, lon, lat, total, rng.uniform(0.85, 1.08))
            for number, (name, kind, lon, lat, total) in enumerate(CAR_PARKS, start=1)
        )

    return city.part("car-parks", build)


def demand(kind: str, hour: float) -> float:
    night, peaks = PROFILES[kind]
    return night + max(height * math.exp(-0.5 * ((hour - peak) / spread) ** 2) for peak, spread, height in peaks)


@dataclass(frozen=True, slots=True)
class ParkingReading:
    car_park: CarPark
    observed_at: datetime
    occupied: int

    @property
    def available(self) -> int:
        return self.car_park.total_spots - self.occupied

    @property
    def occupancy(self) -> float:
        return round(self.occupied / self.car_park.total_spots, 3)


def read_car_park(city: SimCity, car_park: CarPark, moment: datetime) -> ParkingReading:
    slot = int(moment.timestamp()) // READING_INTERVAL_S
    observed_at = datetime.fromtimestamp(slot * READING_INTERVAL_S, UTC)
    noise = city.rng("parking", car_park.id, slot)
    wet = min(1.0, city.scenario.rain_intensity(observed_at) / 20)
    share = demand(car_park.kind, local_hour(observed_at)) * car_park.draw
    share *= 1 + RAIN_EFFECT.get(car_park.kind, 0.0) * wet
    share += noise.gauss(0, 0.015)
    occupied = round(car_park.total_spots * max(0.0, min(1.0, share)))
    return ParkingReading(car_park, observed_at, occupied)
