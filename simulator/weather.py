"""The weather over the simulated city: rain from the scenario, the storm behind the typhoon warning, and the
hydro-meteorological stations that measure them.

Rain falls unevenly: each station sees the scenario's rain scaled by its exposure, with cells passing at
their own phase. `soaked_rain` is the rain of the last hours weighted towards the recent past: what street
drains, rivers and turbid lakes respond to, so floods rise after the rain starts and fall after it ends.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from simulator.rhythm import local_hour

if TYPE_CHECKING:
    from simulator.city import SimCity

# how long soil and rivers take to shed rain: the weight of past rain falls by e every SOAK_MINUTES
SOAK_MINUTES = 40
# the storm behind the typhoon warning builds over hours and dies down before the warning is cancelled
STORM_BUILD = timedelta(hours=2)
STORM_FADE = timedelta(hours=1)
READING_INTERVAL_S = 600  # hydro-meteorological stations report every 10 minutes


@dataclass(frozen=True, slots=True)
class WeatherStation:
    """An automatic weather or rain-gauge station of the regional hydro-meteorological centre."""

    code: str
    name: str
    lon: float
    lat: float
    # share of the city's rain this spot gets (the hills of Hòa Vang get more, the coast less)
    exposure: float
    # coastal stations get the sea breeze and the storm's wind first
    coastal: bool
    elevation_m: int
    phase: float


# The regional centre's synoptic station (WMO 48855, by the airport) and its automatic rain gauges.
STATIONS: tuple[tuple[str, str, float, float, float, bool, int], ...] = (
    ("48855", "Trạm khí tượng Đà Nẵng", 108.1990, 16.0439, 1.0, False, 5),
    ("DN-KTTV-02", "Trạm đo mưa Sơn Trà", 108.2420, 16.1000, 0.9, True, 8),
    ("DN-KTTV-03", "Trạm đo mưa Liên Chiểu", 108.1500, 16.0760, 1.05, True, 6),
    ("DN-KTTV-04", "Trạm đo mưa Cẩm Lệ", 108.2060, 16.0100, 1.1, False, 7),
    ("DN-KTTV-05", "Trạm đo mưa Ngũ Hành Sơn", 108.2631, 16.0036, 0.95, True, 4),
    ("DN-KTTV-06", "Trạm đo mưa Túy Loan", 108.1230, 15.9960, 1.25, False, 22),
    ("DN-KTTV-07", "Trạm đo mưa Bà Nà", 107.9880, 15.9977, 1.45, False, 1487),
)


def stations(city: SimCity) -> tuple[WeatherStation, ...]:
    def build(built: SimCity) -> tuple[WeatherStation, ...]:
        rng = built.rng("weather-stations")
        return tuple(
            WeatherStation(code, name, lon, lat, exposure, coastal, elevation, rng.uniform(0, 2 * math.pi))
            for code, name, lon, lat, exposure, coastal, elevation in STATIONS
        )

    return city.part("weather-stations", build)


def soaked_rain(city: SimCity, moment: datetime, *, memory_minutes: int = SOAK_MINUTES) -> float:
    """Rain of the recent past in mm/h, each minute weighted by exp(-age / memory_minutes)."""
    minute = int(moment.timestamp()) // 60
    memo: dict[tuple[int, int], float] = city.part("soaked-rain", lambda _city: {})
    key = (memory_minutes, minute)
    known = memo.get(key)
    if known is None:
        # a short memory needs fine steps to catch the start of the rain; a long one does with fewer
        step = max(1, memory_minutes // 20)
        total = weights = 0.0
        for back in range(0, 4 * memory_minutes, step):
            weight = math.exp(-back / memory_minutes)
            at = datetime.fromtimestamp((minute - back) * 60, UTC)
            total += weight * city.scenario.rain_intensity(at)
            weights += weight
        if len(memo) > 50_000:  # a long run: minutes long past are not asked again
            memo.clear()
        known = memo[key] = round(total / weights, 3)
    return known


def storm_strength(city: SimCity, moment: datetime) -> float:
    """0 in calm weather to 1 at the height of the storm the typhoon warning is about."""
    warning = city.scenario.typhoon_warning(moment)
    if warning is None:
        return 0.0
    building = (moment - warning.onset) / STORM_BUILD
    fading = (warning.ends - moment) / STORM_FADE
    return round(max(0.0, min(1.0, building, fading)), 3)


@dataclass(frozen=True, slots=True)
class WeatherReading:
    station: WeatherStation
    observed_at: datetime
    rainfall_mm_h: float
    temperature_c: float
    humidity_pct: float
    wind_speed_ms: float
    wind_gust_ms: float
    wind_direction_deg: int
    pressure_hpa: float


def reading_time(moment: datetime) -> datetime:
    seconds = int(moment.timestamp()) // READING_INTERVAL_S * READING_INTERVAL_S
    return datetime.fromtimestamp(seconds, UTC)


def station_rain(city: SimCity, station: WeatherStation, moment: datetime) -> float:
    """The rain a station measures: the city's rain, its exposure, and the cells passing over it."""
    rain = city.scenario.rain_intensity(moment)
    if rain <= 0:
        return 0.0
    cells = 1 + 0.15 * math.sin(2 * math.pi * moment.timestamp() / 1800 + station.phase)
    return round(rain * station.exposure * cells, 1)


def read_station(city: SimCity, station: WeatherStation, moment: datetime) -> WeatherReading:
    observed_at = reading_time(moment)
    noise = city.rng("weather", station.code, int(observed_at.timestamp()) // READING_INTERVAL_S)
    hour = local_hour(observed_at)
    rain = station_rain(city, station, observed_at)
    storm = storm_strength(city, observed_at)
    wet = min(1.0, rain / 15)
    day_of_year = observed_at.timetuple().tm_yday
    seasonal = 25.5 - 4.0 * math.cos(2 * math.pi * (day_of_year - 15) / 365)
    daily = math.cos(2 * math.pi * (hour - 14.5) / 24)
    # 0.6 °C cooler every 100 m up: Bà Nà sits in the clouds at 1,487 m
    temperature = seasonal + 3.5 * daily - 3.0 * wet - 0.006 * station.elevation_m + noise.gauss(0, 0.2)
    humidity = min(100.0, 78 - 9 * daily + 18 * wet + noise.gauss(0, 1.0))
    # the afternoon sea breeze, then the storm's wind on top of it
    breeze = 2.0 + 2.5 * max(0.0, daily) + (1.0 if station.coastal else 0.0)
    wind = breeze + 16.0 * storm * (1.2 if station.coastal else 0.9) + 0.04 * rain + abs(noise.gauss(0, 0.6))
    gust = wind * noise.uniform(1.3, 1.6)
    # north-east monsoon on calm days; the storm's circulation turns it easterly as it nears
    direction = (45 + 50 * storm + noise.gauss(0, 15)) % 360
    pressure = 1009.5 - 0.8 * math.cos(4 * math.pi * (hour - 10) / 24) - 14.0 * storm + noise.gauss(0, 0.2)
    return WeatherReading(
        station=station,
        observed_at=observed_at,
        rainfall_mm_h=rain,
        temperature_c=round(temperature, 1),
        humidity_pct=round(max(40.0, humidity), 0),
        wind_speed_ms=round(wind, 1),
        wind_gust_ms=round(gust, 1),
        wind_direction_deg=round(direction),
        # reduced to sea level, as synoptic reports give it, so stations on hills compare with the rest
        pressure_hpa=round(pressure, 1),
    )
