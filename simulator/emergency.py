"""Emergency services in the simulated city: 115 ambulance dispatches, 114 fire and rescue call-outs, and the
calls 113 police take per district.

Each is an arrival process (`arrivals`) whose rate follows the day, the rush hours, the rain and the storm;
each call then moves through its states at times drawn when it arrives, so its state at any moment is a
comparison. Response times grow in the rush hours and in the rain, when the roads are slow.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from ioc.i18n import CITY_ZONE
from simulator.arrivals import arrivals
from simulator.citizens import Address, person_name, phone_number
from simulator.geography import REPORT_SHARE, distance_km
from simulator.health import hospitals
from simulator.rhythm import daytime, local_hour, local_seconds, rush_hour
from simulator.weather import storm_strength

if TYPE_CHECKING:
    from simulator.city import SimCity

DISPATCH_WINDOW = timedelta(hours=3)
FIRE_WINDOW = timedelta(hours=24)
AMBULANCES = 14


def _place(city: SimCity, rng: random.Random) -> Address:
    districts = list(REPORT_SHARE)
    district = rng.choices(districts, weights=[REPORT_SHARE[d] for d in districts])[0]
    return rng.choice(city.address_book[district])


def _road_delay_min(city: SimCity, moment: datetime) -> float:
    """Minutes the roads add to a trip across the city: the rush hours, the rain, the storm."""
    rain = city.scenario.rain_intensity(moment)
    return 4.0 * rush_hour(local_hour(moment)) + min(8.0, rain * 0.15) + 3.0 * storm_strength(city, moment)


# --- 115 ---------------------------------------------------------------------------------------------------

# (incident type, weight, extra weight in the rush hours, per mm/h of rain)
MEDICAL_CALLS: tuple[tuple[str, float, float, float], ...] = (
    ("Tai nạn giao thông", 0.25, 0.6, 0.01),
    ("Cấp cứu tại nhà", 0.4, 0.0, 0.0),
    ("Đột quỵ", 0.08, 0.0, 0.0),
    ("Chuyển viện", 0.15, 0.0, 0.0),
    ("Đuối nước", 0.03, 0.0, 0.0),
    ("Chấn thương do cây đổ", 0.0, 0.0, 0.006),
)
MEDICAL_NOTES = (
    "Bệnh nhân tỉnh, vết thương phần mềm",
    "Cụ bà 80 tuổi khó thở",
    "Nghi đột quỵ, liệt nửa người",
    "2 người bị thương",
    "",
    "",
)


@dataclass(frozen=True, slots=True)
class Dispatch:
    id: str
    incident_type: str
    priority: int
    address: Address
    received_at: datetime
    arrived_at: datetime
    left_scene_at: datetime
    completed_at: datetime
    ambulance: str
    destination: str
    caller_name: str
    caller_phone: str
    notes: str

    def state(self, now: datetime) -> str:
        if now >= self.completed_at:
            return "completed"
        if now >= self.left_scene_at:
            return "transporting"
        if now >= self.arrived_at:
            return "at_scene"
        if now >= self.received_at + timedelta(minutes=1):
            return "en_route"
        return "received"

    def response_time_min(self, now: datetime) -> float | None:
        """Call to arrival at the scene, once the crew has arrived."""
        if now < self.arrived_at:
            return None
        return round((self.arrived_at - self.received_at).total_seconds() / 60, 1)


def medical_rate(city: SimCity, moment: datetime) -> float:
    hour = local_hour(moment)
    rain = city.scenario.rain_intensity(moment)
    return 1.0 + 2.5 * daytime(hour) + 1.5 * rush_hour(hour) + 0.06 * rain + 2.0 * storm_strength(city, moment)


def dispatches(city: SimCity, now: datetime) -> list[Dispatch]:
    """The 115 centre's calls of the last three hours, newest first."""
    general = [h for h in hospitals(city) if h.emergency]
    found = []
    for arrival in arrivals(city, "115", now - DISPATCH_WINDOW, now, lambda t: medical_rate(city, t)):
        rng, at = arrival.rng, arrival.at
        rain = city.scenario.rain_intensity(at)
        rush = rush_hour(local_hour(at))
        kind = rng.choices(MEDICAL_CALLS, weights=[w + r * rush + k * rain for _n, w, r, k in MEDICAL_CALLS])[0][0]
        address = _place(city, rng)
        response = rng.lognormvariate(math.log(9.0), 0.3) + _road_delay_min(city, at)
        arrived = at + timedelta(minutes=response)
        left = arrived + timedelta(minutes=rng.uniform(8, 20))
        nearest = min(general, key=lambda h: distance_km((h.lon, h.lat), (address.lon, address.lat)))
        notes = rng.choice(MEDICAL_NOTES)
        if rng.random() < 0.2:
            notes = (notes + ", " if notes else "") + f"người gọi xin gọi lại số {phone_number(rng, spaced=True)}"
        local = at.astimezone(CITY_ZONE)
        found.append(
            Dispatch(
                id=f"115-{local:%y%m%d}-{arrival.key}",
                incident_type=kind,
                priority=rng.choices((1, 2, 3), weights=(0.3, 0.5, 0.2))[0],
                address=address,
                received_at=at,
                arrived_at=arrived.replace(microsecond=0),
                left_scene_at=left.replace(microsecond=0),
                completed_at=(left + timedelta(minutes=rng.uniform(10, 25))).replace(microsecond=0),
                ambulance=f"DN-115-{rng.randint(1, AMBULANCES):02d}",
                destination=nearest.name,
                caller_name=person_name(rng),
                caller_phone=phone_number(rng),
                notes=notes,
            )
        )
    return sorted(found, key=lambda d: (d.received_at, d.id), reverse=True)


# --- 114 ---------------------------------------------------------------------------------------------------

# (title, category, weight, per mm/h of rain, per unit of storm, weight in dry weather only)
FIRE_CALLS: tuple[tuple[str, str, float, float, float, bool], ...] = (
    ("Cháy nhà dân", "fire", 0.3, 0.0, 0.0, False),
    ("Cháy cơ sở kinh doanh", "fire", 0.2, 0.0, 0.0, False),
    ("Cháy xe ô tô", "fire", 0.1, 0.0, 0.0, False),
    ("Cháy rác, cỏ khô", "fire", 0.25, 0.0, 0.0, True),
    ("Cứu nạn người bị nước cuốn", "rescue", 0.02, 0.02, 0.5, False),
    ("Cứu hộ cây đổ đè người, phương tiện", "rescue", 0.02, 0.015, 0.8, False),
    ("Cứu nạn đuối nước", "rescue", 0.06, 0.0, 0.0, False),
    ("Giải cứu người mắc kẹt trong thang máy", "rescue", 0.05, 0.0, 0.0, False),
)


@dataclass(frozen=True, slots=True)
class FireCall:
    id: str
    title: str
    category: str
    address: Address
    station: str
    reported_at: datetime
    arrived_at: datetime
    controlled_at: datetime
    closed_at: datetime
    trucks: int
    firefighters: int
    caller_phone: str

    def status(self, now: datetime) -> str:
        if now >= self.closed_at:
            return "ket_thuc"
        if now >= self.controlled_at:
            return "da_khong_che"
        return "dang_xu_ly"

    def response_time_min(self, now: datetime) -> float | None:
        if now < self.arrived_at:
            return None
        return round((self.arrived_at - self.reported_at).total_seconds() / 60, 1)


def fire_rate(city: SimCity, moment: datetime) -> float:
    rain = city.scenario.rain_intensity(moment)
    return 0.2 + 0.35 * daytime(local_hour(moment)) + 0.04 * rain + 1.5 * storm_strength(city, moment)


def fire_calls(city: SimCity, now: datetime) -> list[FireCall]:
    """The 114 centre's call-outs of the last 24 hours, newest first."""
    found = []
    for arrival in arrivals(city, "114", now - FIRE_WINDOW, now, lambda t: fire_rate(city, t), timedelta(minutes=30)):
        rng, at = arrival.rng, arrival.at
        rain, storm = city.scenario.rain_intensity(at), storm_strength(city, at)
        weights = [0.0 if dry and rain > 1 else w + r * rain + s * storm for _t, _c, w, r, s, dry in FIRE_CALLS]
        title, category, *_ = rng.choices(FIRE_CALLS, weights=weights)[0]
        address = _place(city, rng)
        arrived = at + timedelta(minutes=rng.lognormvariate(math.log(7.0), 0.3) + _road_delay_min(city, at))
        controlled = arrived + timedelta(minutes=rng.uniform(10, 50))
        local = at.astimezone(CITY_ZONE)
        trucks = rng.choice((1, 1, 2, 2, 3, 4)) if category == "fire" else rng.choice((1, 1, 2))
        found.append(
            FireCall(
                id=f"114-{local:%y%m%d}-{arrival.key}",
                title=f"{title} tại {address.street}",
                category=category,
                address=address,
                station=f"Đội Cảnh sát PCCC và CNCH {'huyện' if address.district == 'Hòa Vang' else 'quận'} "
                f"{address.district}",
                reported_at=at,
                arrived_at=arrived.replace(microsecond=0),
                controlled_at=controlled.replace(microsecond=0),
                closed_at=(controlled + timedelta(minutes=rng.uniform(20, 90))).replace(microsecond=0),
                trucks=trucks,
                firefighters=trucks * rng.randint(5, 7),
                caller_phone=phone_number(rng),
            )
        )
    return sorted(found, key=lambda c: (c.reported_at, c.id), reverse=True)


# --- 113 ---------------------------------------------------------------------------------------------------

# category -> (weight, weight in the evening, per mm/h of rain)
POLICE_CATEGORIES: dict[str, tuple[float, float, float]] = {
    "trom_cap": (0.3, 0.1, 0.0),
    "gay_roi_trat_tu": (0.2, 0.4, 0.0),
    "tai_nan_giao_thong": (0.2, 0.1, 0.01),
    "tranh_chap": (0.12, 0.1, 0.0),
    "khac": (0.18, 0.0, 0.005),
}


@dataclass(frozen=True, slots=True)
class DistrictCalls:
    district: str
    lon: float
    lat: float
    counts: dict[str, int]

    @property
    def total(self) -> int:
        return sum(self.counts.values())


def police_rate(city: SimCity, district: str, moment: datetime) -> float:
    hour = local_hour(moment)
    evening = 1.0 if hour >= 19 or hour < 1 else 0.0
    base = 3.0 * (0.25 + daytime(hour) + 0.6 * evening) + 0.05 * city.scenario.rain_intensity(moment)
    return base * REPORT_SHARE[district] * len(REPORT_SHARE) / 2


def calls_today(city: SimCity, now: datetime) -> list[DistrictCalls]:
    """Calls 113 took since midnight (the city's clock), counted by district and category."""
    offset = local_seconds(now) - now.timestamp()
    midnight = datetime.fromtimestamp(int(local_seconds(now) // 86400) * 86400 - offset, UTC)
    found = []
    for district in city.districts:
        if district.name not in REPORT_SHARE:
            continue
        counts = dict.fromkeys(POLICE_CATEGORIES, 0)
        stream = f"113-{district.name}"
        for arrival in arrivals(city, stream, midnight, now, lambda t, d=district.name: police_rate(city, d, t)):
            hour = local_hour(arrival.at)
            evening = 1.0 if hour >= 19 or hour < 1 else 0.0
            rain = city.scenario.rain_intensity(arrival.at)
            weights = [w + e * evening + r * rain for w, e, r in POLICE_CATEGORIES.values()]
            counts[arrival.rng.choices(list(POLICE_CATEGORIES), weights=weights)[0]] += 1
        centre = district.settled.representative_point()
        found.append(DistrictCalls(district.name, round(centre.x, 5), round(centre.y, 5), counts))
    return found
