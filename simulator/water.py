"""Water in the simulated city: the drainage company's flood sensors, the water supply company's pressure
sensors and the environment department's water-quality stations on the Hàn river and the lakes.

Flood levels follow the rain the streets have soaked up (`weather.soaked_rain` with a short memory, as
surface water drains in tens of minutes), above what each spot's drains can carry: they rise within minutes
of the scenario's rain and fall after it. Pressure sags when the city draws water (morning and evening).
Rivers turn turbid after rain; the Hàn's salinity follows the tide.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from simulator.rhythm import local_hour
from simulator.weather import soaked_rain

if TYPE_CHECKING:
    from simulator.city import SimCity

# surface water drains quickly: the flood level remembers the last ten minutes of rain the most
FLOOD_MEMORY_MINUTES = 8
SENSOR_INTERVAL_S = 60
QUALITY_INTERVAL_S = 900
# the semi-diurnal tide at the mouth of the Hàn: 12 h 25 min
TIDE_PERIOD_S = 12.42 * 3600
BATTERY_CYCLE_DAYS = 120


@dataclass(frozen=True, slots=True)
class FloodSensor:
    """An ultrasonic water-level sensor at a street that floods (điểm ngập) of the drainage company."""

    id: str
    place: str
    lon: float
    lat: float
    # rain (mm/h, soaked) the drains carry before water stands on the street
    drain_capacity: float
    # cm of water per mm/h of rain beyond that
    depth_per_mm: float
    battery_phase: float


@dataclass(frozen=True, slots=True)
class PressureSensor:
    """A pressure logger on a water main of the water supply company (DAWACO)."""

    id: str
    place: str
    lon: float
    lat: float
    nominal_bar: float
    # far from the pumping stations, demand pulls the pressure down more
    sag: float
    battery_phase: float


@dataclass(frozen=True, slots=True)
class WaterQualitySite:
    """An automatic water-quality station: on a river, at an estuary (tidal) or on a city lake."""

    id: str
    name: str
    kind: str  # river | estuary | lake | polluted
    lon: float
    lat: float
    phase: float


# Da Nang's well-known flood spots (điểm ngập), near the streets that give them their names
FLOOD_SPOTS: tuple[tuple[str, float, float], ...] = (
    ("Hầm chui Điện Biên Phủ", 108.1935, 16.0652),
    ("Nguyễn Văn Linh - Hàm Nghi", 108.2098, 16.0605),
    ("Núi Thành - Tiểu La", 108.2160, 16.0420),
    ("Ông Ích Khiêm - Hùng Vương", 108.2135, 16.0690),
    ("Tôn Đức Thắng - Nguyễn Lương Bằng", 108.1500, 16.0760),
    ("Phan Đăng Lưu", 108.2140, 16.0340),
    ("Hà Huy Tập - Lê Độ", 108.1880, 16.0640),
    ("Lê Văn Hiến", 108.2500, 16.0150),
    ("Ngô Quyền - Nguyễn Công Trứ", 108.2400, 16.0650),
    ("Khu dân cư Hòa Xuân", 108.2230, 16.0050),
    ("Trường Chinh", 108.1800, 16.0400),
    ("Âu Cơ", 108.1550, 16.0850),
    ("Cách Mạng Tháng Tám", 108.2000, 16.0200),
)

PRESSURE_POINTS: tuple[tuple[str, float, float], ...] = (
    ("Nhà máy nước Cầu Đỏ - đầu tuyến", 108.1850, 16.0050),
    ("Trần Phú - Lê Duẩn", 108.2215, 16.0712),
    ("Điện Biên Phủ - Nguyễn Tri Phương", 108.1960, 16.0655),
    ("Ngô Quyền - Phạm Văn Đồng", 108.2400, 16.0716),
    ("Lê Văn Hiến - Non Nước", 108.2550, 16.0050),
    ("Tôn Đức Thắng - Hòa Khánh", 108.1450, 16.0780),
    ("Cách Mạng Tháng Tám - Hòa Thọ", 108.2000, 16.0150),
    ("Nguyễn Tất Thành - Thanh Khê", 108.1900, 16.0712),
    ("Quốc lộ 14B - Túy Loan", 108.1300, 15.9980),
    ("Võ Nguyên Giáp - Mỹ An", 108.2470, 16.0450),
)

WATER_QUALITY_SITES: tuple[tuple[str, str, str, float, float], ...] = (
    ("WQ-01", "Sông Hàn - Cầu Rồng", "estuary", 108.2272, 16.0612),
    ("WQ-02", "Sông Hàn - Cầu Sông Hàn", "estuary", 108.2265, 16.0719),
    ("WQ-03", "Sông Cẩm Lệ - Cầu Cẩm Lệ", "river", 108.2060, 16.0100),
    ("WQ-04", "Hồ Bàu Trảng", "lake", 108.1680, 16.0680),
    ("WQ-05", "Hồ Thạc Gián - Vĩnh Trung", "lake", 108.2020, 16.0590),
    ("WQ-06", "Hồ Công viên 29/3", "lake", 108.2050, 16.0660),
    ("WQ-07", "Hồ Bàu Mạc", "lake", 108.1430, 16.0880),
    ("WQ-08", "Hồ Đầm Rong", "lake", 108.2250, 16.0330),
    ("WQ-09", "Âu thuyền Thọ Quang", "estuary", 108.2420, 16.1000),
    ("WQ-10", "Sông Cu Đê - Nam Ô", "river", 108.1330, 16.1180),
    ("WQ-11", "Kênh Phú Lộc", "polluted", 108.1770, 16.0760),
)


def flood_sensors(city: SimCity) -> tuple[FloodSensor, ...]:
    def build(built: SimCity) -> tuple[FloodSensor, ...]:
        rng = built.rng("flood-sensors")
        return tuple(
            FloodSensor(
                id=f"FL-{number:02d}",
                place=place,
                lon=lon,
                lat=lat,
                drain_capacity=round(rng.uniform(2.0, 18.0), 2),
                depth_per_mm=round(rng.uniform(0.8, 1.5), 2),
                battery_phase=rng.uniform(0, BATTERY_CYCLE_DAYS),
            )
            for number, (place, lon, lat) in enumerate(FLOOD_SPOTS, start=1)
        )

    return city.part("flood-sensors", build)


def pressure_sensors(city: SimCity) -> tuple[PressureSensor, ...]:
    def build(built: SimCity) -> tuple[PressureSensor, ...]:
        rng = built.rng("pressure-sensors")
        sensors = []
        for number, (place, lon, lat) in enumerate(PRESSURE_POINTS, start=1):
            at_plant = number == 1
            sensors.append(
                PressureSensor(
                    id=f"WP-{number:02d}",
                    place=place,
                    lon=lon,
                    lat=lat,
                    nominal_bar=round(4.2 if at_plant else rng.uniform(2.4, 3.3), 2),
                    sag=round(0.15 if at_plant else rng.uniform(0.5, 1.0), 2),
                    battery_phase=rng.uniform(0, BATTERY_CYCLE_DAYS),
                )
            )
        return tuple(sensors)

    return city.part("pressure-sensors", build)


def quality_sites(city: SimCity) -> tuple[WaterQualitySite, ...]:
    def build(built: SimCity) -> tuple[WaterQualitySite, ...]:
        rng = built.rng("water-quality-sites")
        return tuple(
            WaterQualitySite(code, name, kind, lon, lat, rng.uniform(0, 2 * math.pi))
            for code, name, kind, lon, lat in WATER_QUALITY_SITES
        )

    return city.part("water-quality-sites", build)


def _minute(moment: datetime, interval_s: int) -> datetime:
    return datetime.fromtimestamp(int(moment.timestamp()) // interval_s * interval_s, UTC)


def _battery(phase: float, moment: datetime) -> int:
    # the crews swap batteries every few months; a battery drains evenly in between
    days = moment.timestamp() / 86400 + phase
    return round(100 - 70 * (days % BATTERY_CYCLE_DAYS) / BATTERY_CYCLE_DAYS)


@dataclass(frozen=True, slots=True)
class FloodReading:
    sensor: FloodSensor
    observed_at: datetime
    water_level_cm: float
    battery_pct: int


def read_flood_sensor(city: SimCity, sensor: FloodSensor, moment: datetime) -> FloodReading:
    observed_at = _minute(moment, SENSOR_INTERVAL_S)
    noise = city.rng("flood", sensor.id, int(observed_at.timestamp()) // SENSOR_INTERVAL_S)
    soaked = soaked_rain(city, observed_at, memory_minutes=FLOOD_MEMORY_MINUTES)
    standing = sensor.depth_per_mm * max(0.0, soaked - sensor.drain_capacity)
    # a dry street still reads a centimetre or so: puddles, and the sensor's own jitter
    level = standing * (1 + noise.gauss(0, 0.03)) + abs(noise.gauss(0.4, 0.3))
    return FloodReading(sensor, observed_at, round(level, 1), _battery(sensor.battery_phase, observed_at))


@dataclass(frozen=True, slots=True)
class PressureReading:
    sensor: PressureSensor
    observed_at: datetime
    pressure_bar: float
    battery_pct: int


def water_demand(hour: float) -> float:
    """The city's draw on the network, 0 at night to 1 at the morning peak."""
    morning = math.exp(-0.5 * ((hour - 6.5) / 1.2) ** 2)
    evening = 0.9 * math.exp(-0.5 * ((hour - 18.5) / 1.5) ** 2)
    daytime = 0.45 if 8 <= hour <= 17 else 0.1
    return max(morning, evening, daytime)


def read_pressure_sensor(city: SimCity, sensor: PressureSensor, moment: datetime) -> PressureReading:
    observed_at = _minute(moment, SENSOR_INTERVAL_S)
    noise = city.rng("pressure", sensor.id, int(observed_at.timestamp()) // SENSOR_INTERVAL_S)
    demand = water_demand(local_hour(observed_at))
    pressure = sensor.nominal_bar - sensor.sag * demand + noise.gauss(0, 0.02)
    return PressureReading(sensor, observed_at, round(pressure, 2), _battery(sensor.battery_phase, observed_at))


@dataclass(frozen=True, slots=True)
class WaterQualityReading:
    site: WaterQualitySite
    observed_at: datetime
    temperature: float
    ph: float
    turbidity: float
    dissolved_oxygen: float
    conductivity: float


def read_quality_site(city: SimCity, site: WaterQualitySite, moment: datetime) -> WaterQualityReading:
    observed_at = _minute(moment, QUALITY_INTERVAL_S)
    noise = city.rng("water-quality", site.id, int(observed_at.timestamp()) // QUALITY_INTERVAL_S)
    hour = local_hour(observed_at)
    runoff = soaked_rain(city, observed_at)
    sun = max(0.0, math.sin(math.pi * (hour - 6) / 12)) if 6 <= hour <= 18 else 0.0
    # water warms more slowly than air: warmest in the late afternoon
    temperature = 27.5 + 1.5 * math.cos(2 * math.pi * (hour - 16.5) / 24) + noise.gauss(0, 0.1)
    if site.kind == "lake":
        temperature += 0.8
        # algae: oxygen and pH climb with the sun and fall back overnight
        oxygen = 4.8 + 2.4 * sun + 0.5 * math.sin(site.phase)
        ph = 7.4 + 0.5 * sun
        turbidity = 9.0 + 0.9 * runoff
        conductivity = 0.045 + 0.01 * math.sin(site.phase)
    elif site.kind == "polluted":
        oxygen = 2.2 + 0.8 * sun
        ph = 7.0 + 0.2 * sun
        turbidity = 28.0 + 1.6 * runoff
        conductivity = 0.09
    else:
        oxygen = 6.4 + 0.6 * sun
        ph = 7.3 + 0.15 * sun
        turbidity = 12.0 + 2.6 * runoff
        conductivity = 0.025
        if site.kind == "estuary":
            # sea water comes up the river on the flood tide; rain pushes it back out
            tide = 0.5 + 0.5 * math.cos(2 * math.pi * observed_at.timestamp() / TIDE_PERIOD_S + site.phase)
            conductivity += 2.6 * tide / (1 + runoff / 10)
            ph += 0.5 * tide
    # rain dilutes: lower pH and a little oxygen from the stirred-up mud
    ph -= min(0.4, runoff / 100)
    oxygen -= min(1.0, runoff / 40)
    return WaterQualityReading(
        site=site,
        observed_at=observed_at,
        temperature=round(temperature, 1),
        ph=round(ph + noise.gauss(0, 0.03), 2),
        turbidity=round(max(0.5, turbidity * (1 + noise.gauss(0, 0.05))), 1),
        dissolved_oxygen=round(max(0.2, oxygen + noise.gauss(0, 0.1)), 2),
        conductivity=round(max(0.005, conductivity * (1 + noise.gauss(0, 0.02))), 3),
    )
