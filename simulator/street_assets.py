"""Things on the streets: the sanitation company's waste containers and the street lights.

A container fills with the day's activity from its last collection and is emptied by its round (most in
the evening, markets and the beach before dawn), so filling levels climb through the day and drop to
near zero when the truck passes. Lamps switch on after sunset and off before sunrise (earlier under the
storm's dark sky), dim after 23:00, and a few are out on any day until the crew fixes them.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from simulator.rhythm import daytime, local_hour, local_seconds

if TYPE_CHECKING:
    from simulator.city import SimCity

CONTAINERS_PER_DISTRICT = 6
WASTE_READING_INTERVAL_S = 600
# the activity of a whole day, as integrated by `_activity`: a container's daily rate is a share of it
_STEP_H = 0.25
LAMP_SPACING_KM = 0.9
LAMP_READING_INTERVAL_S = 300
DIM_FROM_H, DIM_UNTIL_H = 23.0, 4.5
DIM_LEVEL = 0.6


def _activity(hour: float) -> float:
    # people throw things away in the day, a little at night
    return 0.2 + daytime(hour)


_DAY_ACTIVITY = sum(_activity(step * _STEP_H) * _STEP_H for step in range(int(24 / _STEP_H)))


@dataclass(frozen=True, slots=True)
class WasteContainer:
    id: str
    street: str
    district: str
    lon: float
    lat: float
    volume_l: int
    # how many containers' worth of waste the spot gets a day
    daily_fill: float
    # the local hour its collection round passes
    collection_hour: float


def waste_containers(city: SimCity) -> tuple[WasteContainer, ...]:
    def build(built: SimCity) -> tuple[WasteContainer, ...]:
        rng = built.rng("waste-containers")
        containers = []
        for district in built.districts:
            book = built.address_book[district.name]
            for _slot in range(CONTAINERS_PER_DISTRICT if district.name != "Hòa Vang" else 3):
                spot = book[rng.randrange(len(book))]
                morning_round = rng.random() < 0.3
                containers.append(
                    WasteContainer(
                        id=f"DN-WC-{len(containers) + 1:04d}",
                        street=spot.street,
                        district=district.name,
                        lon=spot.lon,
                        lat=spot.lat,
                        volume_l=rng.choice((240, 660, 660, 1100)),
                        daily_fill=rng.uniform(0.55, 1.25),
                        collection_hour=rng.uniform(4.0, 6.0) if morning_round else rng.uniform(18.5, 22.5),
                    )
                )
        return tuple(containers)

    return city.part("waste-containers", build)


@dataclass(frozen=True, slots=True)
class WasteReading:
    container: WasteContainer
    observed_at: datetime
    filling_level: float
    last_emptied: datetime
    next_collection: datetime
    lid_open: bool


def _collection_before(container: WasteContainer, moment: datetime) -> datetime:
    offset = local_seconds(moment) - moment.timestamp()
    local_day = int(local_seconds(moment) // 86400)
    today = datetime.fromtimestamp(local_day * 86400 - offset + container.collection_hour * 3600, UTC)
    return today if today <= moment else today - timedelta(days=1)


def read_container(city: SimCity, container: WasteContainer, moment: datetime) -> WasteReading:
    slot = int(moment.timestamp()) // WASTE_READING_INTERVAL_S
    observed_at = datetime.fromtimestamp(slot * WASTE_READING_INTERVAL_S, UTC)
    emptied = _collection_before(container, observed_at)
    hours = (observed_at - emptied).total_seconds() / 3600
    start_hour = local_hour(emptied)
    filled = sum(_activity((start_hour + step * _STEP_H) % 24) * _STEP_H for step in range(int(hours / _STEP_H)))
    noise = city.rng("waste", container.id, slot)
    level = 0.03 + container.daily_fill * filled / _DAY_ACTIVITY + noise.gauss(0, 0.01)
    return WasteReading(
        container=container,
        observed_at=observed_at,
        filling_level=round(max(0.0, min(1.0, level)), 2),
        last_emptied=emptied,
        next_collection=emptied + timedelta(days=1),
        lid_open=city.rng("waste-lid", container.id, slot // 6).random() < 0.02,
    )


# --- street lights ---------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Streetlight:
    id: str
    street: str
    circuit: str
    lon: float
    lat: float
    rated_w: int


def streetlights(city: SimCity) -> tuple[Streetlight, ...]:
    """Lamps along the main streets (those the buses follow), one about every LAMP_SPACING_KM."""

    def build(built: SimCity) -> tuple[Streetlight, ...]:
        rng = built.rng("streetlights")
        lamps: list[Streetlight] = []
        for route in built.bus_routes:
            streets = route.corridor.streets
            count = max(2, int(route.length_km / LAMP_SPACING_KM))
            for index in range(count):
                along = route.length_km * (index + 0.5) / count
                (lon, lat), _bearing = route.point_at(along)
                street = streets[min(len(streets) - 1, int(len(streets) * along / route.length_km))]
                lamps.append(
                    Streetlight(
                        id=f"DN-SL-{len(lamps) + 1:04d}",
                        street=street,
                        circuit=f"TĐCS-{route.id}-{1 + index // 4:02d}",
                        lon=round(lon, 6),
                        lat=round(lat, 6),
                        rated_w=rng.choice((100, 120, 150)),
                    )
                )
        return tuple(lamps)

    return city.part("streetlights", build)


def sun_times(moment: datetime) -> tuple[float, float]:
    """(sunrise, sunset) as local hours in Da Nang on the day of `moment` (within a few minutes)."""
    day_of_year = moment.timetuple().tm_yday
    swing = 0.45 * math.sin(2 * math.pi * (day_of_year - 80) / 365)
    return 5.75 - swing, 17.7 + swing


@dataclass(frozen=True, slots=True)
class LampReading:
    lamp: Streetlight
    observed_at: datetime
    status: str  # Smart Data Model Streetlight.status: ok | defectiveLamp | brokenLantern
    power_on: bool
    illuminance: float
    switched_on_at: datetime | None


def read_lamp(city: SimCity, lamp: Streetlight, moment: datetime) -> LampReading:
    slot = int(moment.timestamp()) // LAMP_READING_INTERVAL_S
    observed_at = datetime.fromtimestamp(slot * LAMP_READING_INTERVAL_S, UTC)
    hour = local_hour(observed_at)
    sunrise, sunset = sun_times(observed_at)
    night = hour >= sunset + 0.15 or hour < sunrise - 0.15
    # photocells switch the lamps on under a storm's dark sky
    dark = night or city.scenario.rain_intensity(observed_at) > 25
    local_day = int(local_seconds(observed_at) // 86400)
    fault = city.rng("lamp-fault", lamp.id, local_day).random()
    status = "brokenLantern" if fault < 0.005 else "defectiveLamp" if fault < 0.04 else "ok"
    on = dark and status == "ok"
    dimmed = hour >= DIM_FROM_H or hour < DIM_UNTIL_H
    illuminance = (DIM_LEVEL if dimmed else 1.0) if on else 0.0
    switched_on = None
    if on and night:
        offset = local_seconds(observed_at) - observed_at.timestamp()
        evening_day = local_day if hour >= 12 else local_day - 1
        at = evening_day * 86400 - offset + (sunset + 0.15) * 3600
        switched_on = datetime.fromtimestamp(int(at), UTC)
    return LampReading(lamp, observed_at, status, on, illuminance, switched_on)
