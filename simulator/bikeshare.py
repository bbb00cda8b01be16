"""The public bike-share system: stations by the river, the beach and the neighbourhoods, and free e-bikes.

Commuters ride into the centre in the morning and home in the evening, visitors ride along the beach in
the late afternoon, so centre stations fill by day while neighbourhood and beach stations empty; in the
rain riders give their bikes back. One station a day is closed for a couple of hours for maintenance.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from simulator.geography import STREETS
from simulator.rhythm import local_hour, local_seconds

if TYPE_CHECKING:
    from simulator.city import SimCity

# district -> (number of stations, what kind of place they serve)
STATION_PLAN: dict[str, tuple[int, str]] = {
    "Hải Châu": (6, "centre"),
    "Thanh Khê": (3, "centre"),
    "Sơn Trà": (5, "beach"),
    "Ngũ Hành Sơn": (3, "beach"),
    "Cẩm Lệ": (2, "neighbourhood"),
    "Liên Chiểu": (2, "neighbourhood"),
}
FREE_EBIKES = 14
EBIKE_RANGE_M = 45_000
STATUS_INTERVAL_S = 60
# e-bikes are parked somewhere new after each ride; rides are about half an hour
RIDE_SLOT_S = 1800


@dataclass(frozen=True, slots=True)
class BikeStation:
    id: str
    name: str
    address: str
    district: str
    kind: str
    lon: float
    lat: float
    capacity: int
    ebike_share: float


@dataclass(frozen=True, slots=True)
class BikeSystem:
    stations: tuple[BikeStation, ...]
    ebike_names: tuple[str, ...]


def system(city: SimCity) -> BikeSystem:
    def build(built: SimCity) -> BikeSystem:
        rng = built.rng("bike-share")
        stations = []
        for district_name, (count, kind) in STATION_PLAN.items():
            district = built.district(district_name)
            streets = list(STREETS[district_name])
            rng.shuffle(streets)
            for index in range(count):
                lon, lat = district.sample_point(rng)
                street = streets[index % len(streets)]
                stations.append(
                    BikeStation(
                        id=f"DNB-{len(stations) + 1:03d}",
                        name=f"Trạm xe đạp {street}",
                        address=f"{rng.randint(1, 300)} {street}, {district_name}, Đà Nẵng",
                        district=district_name,
                        kind=kind,
                        lon=lon,
                        lat=lat,
                        capacity=rng.choice((10, 12, 15, 15, 20)),
                        ebike_share=rng.uniform(0.2, 0.4),
                    )
                )
        return BikeSystem(tuple(stations), tuple(f"EB-{n:03d}" for n in range(1, FREE_EBIKES + 1)))

    return city.part("bike-share", build)


def _bump(hour: float, start: float, end: float) -> float:
    """0 outside [start, end], rising to 1 in the middle, smoothly."""
    if not start < hour < end:
        return 0.0
    return math.sin(math.pi * (hour - start) / (end - start)) ** 2


def bike_share(kind: str, hour: float) -> float:
    """Share of a station's docks holding a bike, by what the station serves and the hour."""
    if kind == "centre":
        return 0.3 + 0.45 * _bump(hour, 7.0, 18.5)
    if kind == "neighbourhood":
        return 0.7 - 0.45 * _bump(hour, 6.5, 18.5)
    return 0.65 - 0.45 * _bump(hour, 14.0, 21.0) - 0.15 * _bump(hour, 5.0, 8.0)


@dataclass(frozen=True, slots=True)
class StationStatus:
    station: BikeStation
    reported_at: datetime
    classic_available: int
    ebikes_available: int
    bikes_disabled: int
    docks_disabled: int
    is_renting: bool

    @property
    def bikes_available(self) -> int:
        return self.classic_available + self.ebikes_available

    @property
    def docks_available(self) -> int:
        used = self.bikes_available + self.bikes_disabled + self.docks_disabled
        return max(0, self.station.capacity - used)


def station_status(city: SimCity, station: BikeStation, moment: datetime) -> StationStatus:
    slot = int(moment.timestamp()) // STATUS_INTERVAL_S
    reported = datetime.fromtimestamp(slot * STATUS_INTERVAL_S, UTC)
    noise = city.rng("bike-station", station.id, slot // 5)
    hour = local_hour(reported)
    wet = min(1.0, city.scenario.rain_intensity(reported) / 10)
    share = bike_share(station.kind, hour) * (1 - wet) + 0.75 * wet + noise.gauss(0, 0.06)
    docks_disabled = 1 if noise.random() < 0.15 else 0
    bikes_disabled = noise.choice((0, 0, 0, 1, 1, 2))
    room = max(0, station.capacity - docks_disabled - bikes_disabled)
    bikes = max(0, min(room, round(station.capacity * share)))
    ebikes = round(bikes * station.ebike_share)
    day = int(local_seconds(reported) // 86400)
    maintenance = city.rng("bike-maintenance", day)
    closed_station = maintenance.choice(system(city).stations).id
    closed_from = maintenance.uniform(8.0, 14.0)
    renting = not (station.id == closed_station and closed_from <= hour < closed_from + 2)
    return StationStatus(station, reported, bikes - ebikes, ebikes, bikes_disabled, docks_disabled, renting)


@dataclass(frozen=True, slots=True)
class FreeEbike:
    """A free-floating e-bike between rides; its id is rotated after every ride, as GBFS 3.0 requires."""

    vehicle_id: str
    lon: float
    lat: float
    is_reserved: bool
    is_disabled: bool
    range_m: int
    reported_at: datetime


def free_ebikes(city: SimCity, moment: datetime) -> list[FreeEbike]:
    slot = int(moment.timestamp()) // RIDE_SLOT_S
    reported = datetime.fromtimestamp(int(moment.timestamp()) // STATUS_INTERVAL_S * STATUS_INTERVAL_S, UTC)
    hour = local_hour(moment)
    # charged overnight at the depot: full at 5:00, down to a fifth by the evening
    charge = 1.0 - 0.8 * min(1.0, max(0.0, (hour - 5.0) / 16.0))
    beach = [city.district("Sơn Trà"), city.district("Ngũ Hành Sơn"), city.district("Hải Châu")]
    bikes = []
    for name in system(city).ebike_names:
        ride = city.rng("ebike", name, slot)
        if ride.random() < 0.25:
            continue  # out on a ride: not listed until it is parked again
        lon, lat = ride.choice(beach).sample_point(ride)
        bikes.append(
            FreeEbike(
                vehicle_id=f"{ride.getrandbits(48):012x}",
                lon=lon,
                lat=lat,
                is_reserved=ride.random() < 0.08,
                is_disabled=ride.random() < 0.05,
                range_m=round(EBIKE_RANGE_M * charge * ride.uniform(0.8, 1.0)),
                reported_at=reported - timedelta(seconds=ride.randrange(0, 50)),
            )
        )
    return bikes
