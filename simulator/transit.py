"""The bus operator's network: routes along real corridors, the fleet, and where every bus is at any time.

A bus's position is a pure function of time: the distance it has covered is the integral of a speed
that drops in the rush hours, tabulated once per minute of the day, so any moment (now, or a day of
history) is computed directly without stepping through the ones before it. Buses shuttle between their
route's termini; fewer run late at night.
"""

from __future__ import annotations

import bisect
import math
import random
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from simulator.geography import BUS_CORRIDORS, BusCorridor, bearing_deg, distance_km
from simulator.rhythm import daytime, local_hour, local_seconds, rush_hour

if TYPE_CHECKING:
    from simulator.city import SimCity

STOP_SPACING_KM = 0.45
# a bus this close to a stop is standing at it, doors open
AT_STOP_KM = 0.035
# buses move faster between stops than their average including stops
MOVING_FACTOR = 1.3
# how stale a bus's last GPS fix may be when the feed is read
MAX_REPORT_LAG_S = 12


def pace(hour: float) -> float:
    """Share of off-peak speed a bus makes at a local hour: congestion takes up to 45% in the rush hours."""
    return 1 - 0.45 * rush_hour(hour)


# Effective travel hours from local midnight to the start of each minute of the day: distance covered is
# cruise speed times this, so a position at any time is one lookup instead of a simulation from the start.
_PACE_BY_MINUTE = [pace(m / 60) for m in range(1440)]
_EFFECTIVE_HOURS = [0.0]
for _minute_pace in _PACE_BY_MINUTE:
    _EFFECTIVE_HOURS.append(_EFFECTIVE_HOURS[-1] + _minute_pace / 60)
_EFFECTIVE_HOURS_PER_DAY = _EFFECTIVE_HOURS[-1]


def effective_hours(local_s: float) -> float:
    """Effective (off-peak equivalent) hours of driving since the epoch, on the city's wall clock."""
    days, rest = divmod(local_s, 86400)
    minute = int(rest // 60)
    within = (rest - minute * 60) / 60
    return days * _EFFECTIVE_HOURS_PER_DAY + _EFFECTIVE_HOURS[minute] + within * _PACE_BY_MINUTE[minute] / 60


def service_share(hour: float) -> float:
    """Share of a route's fleet in service at a local hour: full from 6:00 to 21:00, tapering to 23:00."""
    if hour < 4.5 or hour >= 23:
        return 0.0
    if hour < 6:
        return (hour - 4.5) / 1.5
    if hour < 21:
        return 1.0
    return 1 - 0.5 * (hour - 21) / 2


@dataclass(frozen=True, slots=True)
class Bus:
    vehicle_id: str
    label: str
    license_plate: str
    # position in the route's timetable: bus `slot` runs `offset_km` behind the route's first bus
    slot: int
    offset_km: float


@dataclass(frozen=True, slots=True)
class BusRoute:
    corridor: BusCorridor
    # (lon, lat) points from terminus A to terminus B
    path: tuple[tuple[float, float], ...]
    cumulative_km: tuple[float, ...]
    buses: tuple[Bus, ...]

    @property
    def id(self) -> str:
        return self.corridor.id

    @property
    def length_km(self) -> float:
        return self.cumulative_km[-1]

    @property
    def stop_count(self) -> int:
        return max(2, round(self.length_km / STOP_SPACING_KM) + 1)

    @property
    def stop_spacing_km(self) -> float:
        return self.length_km / (self.stop_count - 1)

    def buses_in_service(self, hour: float) -> int:
        share = service_share(hour)
        count = math.ceil(len(self.buses) * share - 1e-9)
        # R1 and R4 keep one night bus, for shift workers and the port
        return max(count, 1 if self.corridor.night_service else 0)

    def point_at(self, along_km: float) -> tuple[tuple[float, float], float]:
        """The (lon, lat) point `along_km` from terminus A and the bearing of the street there (A to B)."""
        along_km = min(max(along_km, 0.0), self.length_km)
        segment = min(bisect.bisect_right(self.cumulative_km, along_km) - 1, len(self.path) - 2)
        start, end = self.path[segment], self.path[segment + 1]
        span = self.cumulative_km[segment + 1] - self.cumulative_km[segment]
        share = (along_km - self.cumulative_km[segment]) / span if span else 0.0
        point = (start[0] + (end[0] - start[0]) * share, start[1] + (end[1] - start[1]) * share)
        return point, bearing_deg(start, end)


@dataclass(frozen=True, slots=True)
class VehicleState:
    """Where one bus is and what it is doing at one moment."""

    route: BusRoute
    bus: Bus
    trip_id: str
    direction_id: int
    lon: float
    lat: float
    bearing: float
    speed_mps: float
    stopped: bool
    stop_id: str
    stop_sequence: int
    timestamp: datetime
    occupancy: str


def build_routes(city: SimCity) -> tuple[BusRoute, ...]:
    """The operator's routes with 4 to 10 buses each, fleet numbers and plates drawn from the seed."""
    rng = city.rng("bus-fleet")
    plates: set[str] = set()
    routes: list[BusRoute] = []
    fleet_number = 100
    for corridor in BUS_CORRIDORS:
        path = tuple((lon, lat) for lat, lon in corridor.waypoints)
        cumulative = [0.0]
        for a, b in zip(path, path[1:], strict=False):
            cumulative.append(cumulative[-1] + distance_km(a, b))
        round_trip = 2 * cumulative[-1]
        count = rng.randint(4, 10)
        headway = round_trip / count
        buses = []
        for slot in range(count):
            plate = _plate(rng)
            while plate in plates:
                plate = _plate(rng)
            plates.add(plate)
            fleet_number += 1
            buses.append(
                Bus(
                    vehicle_id=f"DNB-{fleet_number:03d}",
                    label=f"{corridor.short_name}-{slot + 1:02d}",
                    license_plate=plate,
                    slot=slot,
                    # evenly spaced on the timetable, give or take a traffic light
                    offset_km=(slot * headway + rng.uniform(-0.1, 0.1) * headway) % round_trip,
                )
            )
        routes.append(BusRoute(corridor, path, tuple(cumulative), tuple(buses)))
    return tuple(routes)


def _plate(rng: random.Random) -> str:
    # 43 is Da Nang's registration code, B the series for passenger coaches and buses
    return f"43B-{rng.randint(0, 999):03d}.{rng.randint(0, 99):02d}"


OCCUPANCY_LEVELS = (
    (0.20, "EMPTY"),
    (0.45, "MANY_SEATS_AVAILABLE"),
    (0.70, "FEW_SEATS_AVAILABLE"),
    (0.90, "STANDING_ROOM_ONLY"),
    (1.05, "CRUSHED_STANDING_ROOM_ONLY"),
)


def vehicles_at(city: SimCity, moment: datetime) -> list[VehicleState]:
    """Every bus in service at `moment`, each as of its last GPS fix (a few seconds old)."""
    now_s = int(moment.timestamp())
    hour_now = local_hour(moment)
    states = []
    for route in city.bus_routes:
        for bus in route.buses[: route.buses_in_service(hour_now)]:
            fix = city.rng("bus", bus.vehicle_id, now_s // 15)
            fixed_at = datetime.fromtimestamp(now_s - fix.randint(0, MAX_REPORT_LAG_S), UTC)
            states.append(_bus_state(route, bus, fixed_at, fix.gauss(0, 1), fix.gauss(0, 1)))
    return states


def _bus_state(
    route: BusRoute, bus: Bus, fixed_at: datetime, speed_noise: float, load_noise: float
) -> VehicleState:
    local_s = local_seconds(fixed_at)
    hour = (local_s % 86400) / 3600
    length = route.length_km
    covered = route.corridor.cruise_kmh * effective_hours(local_s) + bus.offset_km
    leg = int(covered // length)
    direction = leg % 2
    into_leg = covered - leg * length
    along = into_leg if direction == 0 else length - into_leg
    (lon, lat), bearing = route.point_at(along)
    if direction == 1:
        bearing = (bearing + 180) % 360

    spacing = route.stop_spacing_km
    nearest = round(into_leg / spacing)
    stopped = abs(into_leg - nearest * spacing) < AT_STOP_KM
    # while moving, the stop the bus is heading to; at a stop, that stop
    sequence = nearest if stopped else math.ceil(into_leg / spacing)
    sequence = min(sequence, route.stop_count - 1)
    physical_stop = sequence if direction == 0 else route.stop_count - 1 - sequence
    speed = 0.0 if stopped else route.corridor.cruise_kmh * pace(hour) * MOVING_FACTOR / 3.6
    speed *= 1 + max(-0.25, min(0.25, 0.1 * speed_noise))

    load = 0.1 + 0.8 * rush_hour(hour) + 0.15 * daytime(hour) + 0.1 * load_noise
    occupancy = next((name for limit, name in OCCUPANCY_LEVELS if load < limit), "FULL")
    return VehicleState(
        route=route,
        bus=bus,
        trip_id=f"{route.id}-{bus.slot + 1:02d}-{leg}",
        direction_id=direction,
        lon=round(lon, 6),
        lat=round(lat, 6),
        bearing=round(bearing, 1),
        speed_mps=round(speed, 2),
        stopped=stopped,
        stop_id=f"{route.id}-S{physical_stop + 1:02d}",
        stop_sequence=sequence + 1,
        timestamp=fixed_at,
        occupancy=occupancy,
    )
