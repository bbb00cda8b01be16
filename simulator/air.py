"""The environment department's air-quality stations: where they stand and what they measure at any time.

PM2.5 follows the city's day: low before dawn, peaks in the morning and evening rush hours, and sits
high around the clock at the Hòa Khánh industrial zone, whose station stays above 50 µg/m³ (the
QCVN 05:2023 24-hour limit) so the demo's PM2.5 rule has something to catch. Values are smooth functions
of time plus per-minute noise from a Random seeded with (seed, station, minute): any minute can be
rendered again, byte for byte, in any order.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from simulator.geography import WARDS, District, industrial_zone
from simulator.rhythm import local_hour, rush_hour

if TYPE_CHECKING:
    from simulator.city import SimCity

STATIONS_PER_DISTRICT = 2
READING_INTERVAL_S = 60


@dataclass(frozen=True, slots=True)
class AirMetric:
    """What a station measures, with the vocabulary SensorThings publishes it under."""

    key: str
    name: str
    description: str
    definition: str
    unit_name: str
    unit_symbol: str
    unit_definition: str


MICROGRAM = ("microgram per cubic metre", "µg/m³", "http://qudt.org/vocab/unit/MicroGM-PER-M3")
AIR_METRICS: tuple[AirMetric, ...] = (
    AirMetric(
        "pm25",
        "PM2.5",
        "Bụi mịn PM2.5 (particulate matter < 2.5 µm)",
        "http://dd.eionet.europa.eu/vocabulary/aq/pollutant/6001",
        *MICROGRAM,
    ),
    AirMetric(
        "pm10",
        "PM10",
        "Bụi PM10 (particulate matter < 10 µm)",
        "http://dd.eionet.europa.eu/vocabulary/aq/pollutant/5",
        *MICROGRAM,
    ),
    AirMetric(
        "no2",
        "NO2",
        "Nitơ điôxít (nitrogen dioxide)",
        "http://dd.eionet.europa.eu/vocabulary/aq/pollutant/8",
        *MICROGRAM,
    ),
    AirMetric(
        "temperature",
        "Temperature",
        "Nhiệt độ không khí (air temperature)",
        "http://vocab.nerc.ac.uk/collection/P07/current/CFSN0023/",
        "degree Celsius",
        "°C",
        "http://qudt.org/vocab/unit/DEG_C",
    ),
    AirMetric(
        "humidity",
        "Relative humidity",
        "Độ ẩm tương đối (relative humidity)",
        "http://vocab.nerc.ac.uk/collection/P07/current/CFSN0413/",
        "percent",
        "%",
        "http://qudt.org/vocab/unit/PERCENT",
    ),
)


@dataclass(frozen=True, slots=True)
class AirStation:
    """One automatic monitoring station (trạm quan trắc tự động)."""

    id: int
    code: str
    name: str
    district: str
    lon: float
    lat: float
    # the station's typical PM2.5 level, µg/m³, before the daily cycle
    pm25_base: float
    industrial: bool
    pm10_ratio: float
    no2_base: float
    # hills and the sea breeze: a station's temperature sits a little off the city's
    temperature_offset: float
    phase: float


@dataclass(frozen=True, slots=True)
class AirReading:
    station: AirStation
    observed_at: datetime
    values: dict[str, float]


def build_stations(city: SimCity) -> tuple[AirStation, ...]:
    """Two stations per district, one of them at the Hòa Khánh industrial zone, placed from the seed."""
    rng = city.rng("air-stations")
    stations: list[AirStation] = []
    for district in city.districts:
        has_zone = district.name == "Liên Chiểu"
        # the industrial zone's station already carries Hòa Khánh's name
        wards = [w for w in WARDS[district.name] if not (has_zone and w.startswith("Hòa Khánh"))]
        rng.shuffle(wards)
        for slot in range(STATIONS_PER_DISTRICT):
            industrial = has_zone and slot == 0
            if industrial:
                place, where = "KCN Hòa Khánh", industrial_zone(city.districts)
                base = rng.uniform(64.0, 70.0)
            else:
                place, where = wards.pop(), district
                # downwind of the industrial zone Liên Chiểu's other station runs dirtier than the rest
                base = rng.uniform(30.0, 35.0) if has_zone else rng.uniform(13.0, 26.0)
            stations.append(_station(len(stations) + 1, place, district, where, base, industrial, rng))
    return tuple(stations)


def _station(
    number: int,
    place: str,
    district: District,
    where: District,
    base: float,
    industrial: bool,
    rng: random.Random,
) -> AirStation:
    lon, lat = where.sample_point(rng)
    return AirStation(
        id=number,
        code=f"DN-AQ-{number:02d}",
        name=f"Trạm quan trắc {place}",
        district=district.name,
        lon=lon,
        lat=lat,
        pm25_base=round(base, 2),
        industrial=industrial,
        pm10_ratio=rng.uniform(1.5, 1.9),
        no2_base=rng.uniform(28.0, 34.0) if industrial else rng.uniform(10.0, 24.0),
        temperature_offset=-0.8 if district.name == "Hòa Vang" else rng.uniform(-0.4, 0.4),
        phase=rng.uniform(0, 2 * math.pi),
    )


def reading_time(moment: datetime) -> datetime:
    """The start of the minute a reading at `moment` belongs to (stations report once a minute)."""
    seconds = int(moment.timestamp()) // READING_INTERVAL_S * READING_INTERVAL_S
    return datetime.fromtimestamp(seconds, UTC)


def read_station(city: SimCity, station: AirStation, moment: datetime) -> AirReading:
    """What `station` reported for the minute holding `moment`."""
    observed_at = reading_time(moment)
    bucket = int(observed_at.timestamp()) // READING_INTERVAL_S
    noise = city.rng("air", station.code, bucket)
    hour = local_hour(observed_at)
    rush = rush_hour(hour)
    days = observed_at.timestamp() / 86400
    # weather patterns shift the whole city's air over days; the phase differs a little per station
    weather = 1 + 0.05 * math.sin(2 * math.pi * days / 5.7 + station.phase)

    if station.industrial:
        # factories run three shifts: a high floor all day, traffic adds the peaks on top
        pm25 = station.pm25_base * (0.92 + 0.35 * rush) * weather + max(-4.0, min(4.0, noise.gauss(0, 1.5)))
    else:
        pm25 = (
            station.pm25_base
            * (0.70 + 0.75 * rush)
            * weather
            * (1 + max(-0.2, min(0.2, noise.gauss(0, 0.07))))
        )
    pm10 = pm25 * station.pm10_ratio * (1 + max(-0.15, min(0.15, noise.gauss(0, 0.05))))
    no2 = station.no2_base * (0.55 + 1.0 * rush) * (1 + max(-0.2, min(0.2, noise.gauss(0, 0.06))))

    rain = city.scenario.rain_intensity(observed_at)
    wet = min(1.0, rain / 15)
    day_of_year = observed_at.timetuple().tm_yday
    # Da Nang: about 21.5 °C in January, 29.5 °C in July; warmest at mid-afternoon
    seasonal = 25.5 - 4.0 * math.cos(2 * math.pi * (day_of_year - 15) / 365)
    daily = math.cos(2 * math.pi * (hour - 14.5) / 24)
    temperature = seasonal + 3.5 * daily + station.temperature_offset - 3.0 * wet + noise.gauss(0, 0.25)
    humidity = 78 - 9 * daily + 16 * wet + noise.gauss(0, 1.2)

    values = {
        "pm25": round(max(1.0, pm25), 1),
        "pm10": round(max(2.0, pm10), 1),
        "no2": round(max(1.0, no2), 1),
        "temperature": round(temperature, 1),
        "humidity": round(max(35.0, min(100.0, humidity)), 1),
    }
    return AirReading(station, observed_at, values)
