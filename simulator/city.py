"""The simulated Da Nang: a static world generated from a seed, and its state as a pure function of time.

Everything random comes from `SimCity.rng(...)`, a Random seeded with the city's seed and a name for the
thing being decided (never the global random module), so one seed always builds the same city and the
state at a time does not depend on which times were asked for before. A new simulated agency builds its
part of the world in its own module from `rng`, `districts` and `scenario` (kept with `part`), and reads
time through `simulator.rhythm`.
"""

from __future__ import annotations

import random
import threading
from collections.abc import Callable
from datetime import datetime
from functools import lru_cache
from typing import Any, TypeVar

from simulator import air, citizens, transit
from simulator.air import AirReading, AirStation
from simulator.citizens import SERVICE_TYPES, CitizenRequest, ServiceType
from simulator.geography import District, load_districts
from simulator.scenario import Scenario
from simulator.transit import BusRoute, VehicleState

T = TypeVar("T")


class SimCity:
    """Da Nang as the simulator sees it: stations, bus routes, request types, and what they do over time."""

    def __init__(self, seed: int = 42, *, scenario: Scenario | None = None) -> None:
        self.seed = seed
        self.scenario = scenario or Scenario.quiet()
        self.districts: tuple[District, ...] = load_districts()
        self.stations: tuple[AirStation, ...] = air.build_stations(self)
        self.bus_routes: tuple[BusRoute, ...] = transit.build_routes(self)
        self.service_types: tuple[ServiceType, ...] = SERVICE_TYPES
        self.address_book = citizens.build_address_book(self)
        # an hour's requests are fixed once drawn; feeds ask for the same hours on every poll
        self._requests_in_hour = lru_cache(maxsize=24 * 100)(self._draw_hour)
        # the other agencies' parts of the world, built on first use so a city for one feed stays cheap
        self._parts: dict[str, Any] = {}
        self._parts_lock = threading.RLock()  # a part may be built from another part

    def rng(self, *names: object) -> random.Random:
        """A Random for one decision, seeded with the city's seed and the decision's names."""
        # a str seed is hashed with SHA-512 by Random, the same in every process (unlike hash())
        return random.Random(":".join(map(str, (self.seed, *names))))

    def part(self, name: str, build: Callable[[SimCity], T]) -> T:
        """A piece of the world (an agency's sensors, a memo) built once from this city, then kept."""
        with self._parts_lock:
            if name not in self._parts:
                self._parts[name] = build(self)
            return self._parts[name]

    def district(self, name: str) -> District:
        for district in self.districts:
            if district.name == name:
                return district
        raise KeyError(name)

    # --- state at a moment -------------------------------------------------------------------------------

    def air_quality(self, moment: datetime) -> list[AirReading]:
        """Every station's reading for the minute holding `moment`."""
        return [air.read_station(self, station, moment) for station in self.stations]

    def vehicles(self, moment: datetime) -> list[VehicleState]:
        """Every bus in service at `moment`."""
        return transit.vehicles_at(self, moment)

    def citizen_requests(self, since: datetime, until: datetime) -> list[CitizenRequest]:
        """Requests made from `since` up to and including `until`, oldest first."""
        found: list[CitizenRequest] = []
        for hour in range(citizens.hour_index(since), citizens.hour_index(until) + 1):
            found.extend(r for r in self._requests_in_hour(hour) if since <= r.requested_at <= until)
        return found

    def citizen_request(self, request_id: str) -> CitizenRequest | None:
        parsed = citizens.parse_request_id(request_id)
        if parsed is None:
            return None
        hour, number = parsed
        drawn = self._requests_in_hour(hour)
        return drawn[number - 1] if 0 < number <= len(drawn) else None

    def _draw_hour(self, hour: int) -> tuple[CitizenRequest, ...]:
        return citizens.requests_in_hour(self, hour)

    def __repr__(self) -> str:
        return (
            f"SimCity(seed={self.seed}, stations={len(self.stations)}, routes={len(self.bus_routes)}, "
            f"buses={sum(len(r.buses) for r in self.bus_routes)})"
        )
