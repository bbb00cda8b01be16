"""City services people visit or depend on: the public administration service centres, the power company's
outages, tourist sites, the airport's arrivals and the seaport's vessels.

Counts that a day accumulates (dossiers received, visitors) are integrals of an hourly rate from local
midnight, so they only grow through the day and start again at midnight; rain keeps visitors from the
beach and the storm cancels flights, cuts power lines and sends ships to shelter.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from ioc.i18n import CITY_ZONE
from simulator.arrivals import arrivals
from simulator.geography import WARDS
from simulator.rhythm import daytime, local_hour, local_seconds
from simulator.weather import storm_strength

if TYPE_CHECKING:
    from simulator.city import SimCity

STEP = timedelta(minutes=15)


def local_midnight(moment: datetime) -> datetime:
    offset = local_seconds(moment) - moment.timestamp()
    return datetime.fromtimestamp(int(local_seconds(moment) // 86400) * 86400 - offset, UTC)


def local_day(moment: datetime) -> int:
    """Days since the epoch on the city's calendar (a seed for what is planned day by day)."""
    return int(local_seconds(moment) // 86400)


def weekday(moment: datetime) -> int:
    """0 Monday .. 6 Sunday, on the city's calendar."""
    return (local_day(moment) + 3) % 7


def since_midnight(moment: datetime, rate_per_hour: Callable[[datetime], float]) -> float:
    """The integral of a rate from local midnight to `moment`, in quarter-hour steps (a day's running total)."""
    total, at = 0.0, local_midnight(moment)
    while at < moment:
        step = min(STEP, moment - at)
        total += rate_per_hour(at + step / 2) * step.total_seconds() / 3600
        at += step
    return total


# --- public administration ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ServiceOffice:
    id: str
    name: str
    address: str
    lon: float
    lat: float
    # dossiers received per open hour, and the share resolved late
    per_hour: float
    late_share: float
    backlog: int


def service_offices(city: SimCity) -> tuple[ServiceOffice, ...]:
    def build(built: SimCity) -> tuple[ServiceOffice, ...]:
        rng = built.rng("service-offices")
        offices = [
            ServiceOffice(
                "TTPVHCC",
                "Trung tâm Phục vụ hành chính công thành phố Đà Nẵng",
                "Tầng 1-2, Trung tâm Hành chính thành phố, 24 Trần Phú, Hải Châu",
                108.2210,
                16.0765,
                42.0,
                0.025,
                1450,
            )
        ]
        for district in built.districts:
            unit = "huyện" if district.name == "Hòa Vang" else "quận"
            lon, lat = district.sample_point(rng)
            offices.append(
                ServiceOffice(
                    f"UBND-{len(offices):02d}",
                    f"Bộ phận Một cửa UBND {unit} {district.name}",
                    f"UBND {unit} {district.name}, Đà Nẵng",
                    lon,
                    lat,
                    round(rng.uniform(9, 20), 1),
                    round(rng.uniform(0.01, 0.06), 3),
                    rng.randint(250, 600),
                )
            )
        return tuple(offices)

    return city.part("service-offices", build)


def office_open(moment: datetime) -> bool:
    """Mon-Fri 7:30-11:30 and 13:30-17:00, Saturday mornings (the one-stop shops' hours)."""
    hour, day = local_hour(moment), weekday(moment)
    morning = 7.5 <= hour < 11.5
    return day < 5 and (morning or 13.5 <= hour < 17.0) or day == 5 and morning


@dataclass(frozen=True, slots=True)
class OfficeDay:
    office: ServiceOffice
    received: int
    received_online: int
    resolved_on_time: int
    resolved_late: int
    in_progress: int
    overdue: int

    @property
    def resolved(self) -> int:
        return self.resolved_on_time + self.resolved_late

    @property
    def on_time_pct(self) -> float | None:
        return round(100 * self.resolved_on_time / self.resolved, 1) if self.resolved else None


def office_day(city: SimCity, office: ServiceOffice, now: datetime) -> OfficeDay:
    # online dossiers arrive around the clock; the counters only while the office is open
    def counter(at: datetime) -> float:
        return office.per_hour if office_open(at) else 0.0

    def online(at: datetime) -> float:
        return 0.35 * office.per_hour * (0.2 + daytime(local_hour(at)))

    day = city.rng("office-day", office.id, local_day(now))
    received_counter = since_midnight(now, counter) * day.uniform(0.9, 1.1)
    received_online = since_midnight(now, online) * day.uniform(0.9, 1.1)
    resolved = since_midnight(now, counter) * 0.95 * day.uniform(0.9, 1.05)
    late = round(resolved * office.late_share)
    received = round(received_counter + received_online)
    return OfficeDay(
        office=office,
        received=received,
        received_online=round(received_online),
        resolved_on_time=round(resolved) - late,
        resolved_late=late,
        in_progress=office.backlog + received - round(resolved),
        overdue=day.randint(0, max(1, office.backlog // 120)),
    )


# --- power outages -----------------------------------------------------------------------------------------

PLANNED_REASONS = (
    "Bảo dưỡng, sửa chữa lưới điện trung áp",
    "Thay máy biến áp, nâng cấp trạm biến áp",
    "Di dời lưới điện phục vụ thi công đường",
    "Vệ sinh cách điện, thí nghiệm định kỳ",
)
FAULT_REASONS = (
    ("Sự cố cáp ngầm hạ thế", 0.0),
    ("Sự cố máy biến áp", 0.0),
    ("Cây đổ vào đường dây 22 kV", 1.0),
    ("Phóng điện sứ cách điện do mưa", 1.0),
    ("Ngập trạm biến áp", 1.0),
)
OUTAGE_LISTED_AFTER = timedelta(hours=6)


@dataclass(frozen=True, slots=True)
class Outage:
    id: str
    planned: bool
    area_name: str
    district: str
    reason: str
    start: datetime
    end: datetime
    customers: int
    lon: float
    lat: float

    def state(self, now: datetime) -> str:
        if now < self.start:
            return "scheduled"
        return "active" if now < self.end else "restored"


def _outage_place(city: SimCity, rng: random.Random) -> tuple[str, str, float, float]:
    district = rng.choice(city.districts)
    ward = rng.choice(WARDS[district.name])
    lon, lat = district.sample_point(rng)
    unit = "xã" if district.name == "Hòa Vang" else "phường"
    return f"Một phần {unit} {ward}", district.name, lon, lat


def fault_rate(city: SimCity, moment: datetime) -> float:
    return 0.12 + 0.01 * city.scenario.rain_intensity(moment) + 2.5 * storm_strength(city, moment)


def outages(city: SimCity, now: datetime) -> list[Outage]:
    """Planned outages of today and tomorrow, and faults still on or restored in the last hours."""
    found = []
    midnight = local_midnight(now)
    for day_offset in (0, 1):
        day = local_day(now) + day_offset
        rng = city.rng("planned-outages", day)
        for number in range(1, rng.randint(2, 4) + 1):
            area, district, lon, lat = _outage_place(city, rng)
            start = midnight + timedelta(days=day_offset, hours=rng.choice((7, 7.5, 8, 13, 13.5)))
            found.append(
                Outage(
                    id=f"PCDN-{start.astimezone(CITY_ZONE):%Y-%m%d}-K{number:02d}",
                    planned=True,
                    area_name=area,
                    district=district,
                    reason=rng.choice(PLANNED_REASONS),
                    start=start,
                    end=start + timedelta(hours=rng.choice((3, 4, 4.5, 5))),
                    customers=rng.randrange(300, 3000, 10),
                    lon=lon,
                    lat=lat,
                )
            )
    lookback = timedelta(hours=12)
    for arrival in arrivals(city, "power-faults", now - lookback, now, lambda t: fault_rate(city, t), timedelta(hours=1)):
        rng = arrival.rng
        storm = storm_strength(city, arrival.at)
        wet = min(1.0, city.scenario.rain_intensity(arrival.at) / 20 + storm)
        reason = rng.choices(FAULT_REASONS, weights=[0.5 + 2 * wet * weather for _r, weather in FAULT_REASONS])[0][0]
        area, district, lon, lat = _outage_place(city, rng)
        hours = rng.lognormvariate(math.log(1.5), 0.5) * (1 + 2 * storm)
        found.append(
            Outage(
                id=f"PCDN-{arrival.at.astimezone(CITY_ZONE):%Y-%m%d}-S{arrival.key}",
                planned=False,
                area_name=area,
                district=district,
                reason=reason,
                start=arrival.at,
                end=(arrival.at + timedelta(hours=hours)).replace(microsecond=0),
                customers=round(rng.randrange(50, 1500) * (1 + 3 * storm)),
                lon=lon,
                lat=lat,
            )
        )
    return [o for o in found if now < o.end + OUTAGE_LISTED_AFTER and (o.planned or o.start <= now)]


# --- tourism -----------------------------------------------------------------------------------------------

# (id, name, lon, lat, domestic a day, international a day, opens, closes, outdoor, ticketed)
SITES: tuple[tuple[str, str, float, float, int, int, float, float, bool, bool], ...] = (
    ("BANA", "Sun World Bà Nà Hills", 107.9880, 15.9977, 8200, 3200, 7.0, 17.0, True, True),
    ("NHS", "Danh thắng Ngũ Hành Sơn", 108.2631, 16.0036, 5000, 2900, 7.0, 17.5, True, True),
    ("LINHUNG", "Chùa Linh Ứng Sơn Trà", 108.2778, 16.1003, 6000, 2000, 6.0, 18.0, True, False),
    ("CHAM", "Bảo tàng Điêu khắc Chăm", 108.2234, 16.0603, 600, 1000, 7.0, 17.0, False, True),
    ("MYKHE", "Bãi biển Mỹ Khê", 108.2478, 16.0544, 12000, 4000, 5.0, 20.0, True, False),
    ("CAURONG", "Cầu Rồng", 108.2272, 16.0612, 7000, 2500, 17.0, 22.5, True, False),
    ("CHOHAN", "Chợ Hàn", 108.2245, 16.0680, 4500, 2200, 6.0, 19.0, False, False),
    ("ASIAPARK", "Sun World Danang Wonders", 108.2285, 16.0395, 3000, 900, 15.0, 22.0, True, True),
    ("BTDN", "Bảo tàng Đà Nẵng", 108.2220, 16.0760, 700, 300, 8.0, 17.0, False, True),
)


@dataclass(frozen=True, slots=True)
class TouristSite:
    id: str
    name: str
    lon: float
    lat: float
    domestic_per_day: int
    international_per_day: int
    opens: float
    closes: float
    outdoor: bool
    ticketed: bool


def tourist_sites(city: SimCity) -> tuple[TouristSite, ...]:
    return city.part("tourist-sites", lambda _city: tuple(TouristSite(*site) for site in SITES))


def visitors_today(city: SimCity, site: TouristSite, now: datetime) -> tuple[int, int]:
    """(domestic, international) visitors since the site opened today."""
    busy = 1.3 if weekday(now) >= 5 else 1.0
    luck = city.rng("tourism-day", site.id, local_day(now)).uniform(0.85, 1.15)
    hours = site.closes - site.opens

    def rate(at: datetime) -> float:
        hour = local_hour(at)
        if not site.opens <= hour < site.closes:
            return 0.0
        # arrivals bunch in the middle of the opening hours: sin² integrates to half the span
        shape = math.sin(math.pi * (hour - site.opens) / hours) ** 2 / (hours / 2)
        wet = min(1.0, city.scenario.rain_intensity(at) / 10)
        weather = 1 - 0.7 * wet if site.outdoor else 1 + 0.3 * wet
        return shape * weather

    share = since_midnight(now, rate) * busy * luck
    return round(site.domestic_per_day * share), round(site.international_per_day * share)


# --- the airport -------------------------------------------------------------------------------------------

# (flight number prefix, airline, origin IATA, origin name, international)
ROUTES: tuple[tuple[str, str, str, str, bool], ...] = (
    ("VN1", "Vietnam Airlines", "SGN", "TP. Hồ Chí Minh", False),
    ("VN1", "Vietnam Airlines", "HAN", "Hà Nội", False),
    ("VJ5", "Vietjet Air", "SGN", "TP. Hồ Chí Minh", False),
    ("VJ5", "Vietjet Air", "HAN", "Hà Nội", False),
    ("QH1", "Bamboo Airways", "HAN", "Hà Nội", False),
    ("VU6", "Vietravel Airlines", "HPH", "Hải Phòng", False),
    ("VJ8", "Vietjet Air", "CXR", "Nha Trang", False),
    ("KE4", "Korean Air", "ICN", "Seoul Incheon", True),
    ("7C2", "Jeju Air", "ICN", "Seoul Incheon", True),
    ("LJ0", "Jin Air", "PUS", "Busan", True),
    ("FD6", "Thai AirAsia", "DMK", "Bangkok Don Mueang", True),
    ("AK6", "AirAsia", "KUL", "Kuala Lumpur", True),
    ("TR3", "Scoot", "SIN", "Singapore", True),
    ("CX7", "Cathay Pacific", "HKG", "Hồng Kông", True),
    ("CI7", "China Airlines", "TPE", "Đài Bắc", True),
)
AIRPORT = {"iata": "DAD", "icao": "VVDN", "name": "Cảng hàng không quốc tế Đà Nẵng", "lat": 16.0439, "lon": 108.1990}


@dataclass(frozen=True, slots=True)
class Flight:
    key: str
    number: str
    airline: str
    origin: str
    origin_name: str
    international: bool
    scheduled: datetime
    delay_min: int
    cancelled: bool
    passengers: int

    @property
    def estimated(self) -> datetime:
        return self.scheduled + timedelta(minutes=self.delay_min)

    def status(self, now: datetime) -> str:
        if self.cancelled:
            return "cancelled"
        if now >= self.estimated:
            return "landed"
        return "delayed" if self.delay_min > 15 else "on_time"


def _day_arrivals(city: SimCity, day: int, midnight: datetime) -> list[tuple[str, int, datetime, random.Random]]:
    """A day's timetable: (route index, flight number, scheduled time, the flight's Random)."""
    rng = city.rng("airport-timetable", day)
    timetable = []
    for index, route in enumerate(ROUTES):
        count = rng.randint(2, 7) if not route[4] else rng.randint(1, 3)
        for leg in range(count):
            hour = rng.uniform(5.5, 25.5)  # the last flights land after midnight
            scheduled = midnight + timedelta(minutes=round(hour * 60 / 5) * 5)
            number = f"{route[0]}{index * 7 + leg * 2:02d}"
            timetable.append((str(index), number, scheduled, city.rng("flight", day, number)))
    return timetable


def flights(city: SimCity, now: datetime) -> list[Flight]:
    """Arrivals scheduled from two hours ago to four hours ahead, in scheduled order."""
    found = []
    today = local_day(now)
    midnight = local_midnight(now)
    for offset in (-1, 0, 1):
        for route_index, number, scheduled, rng in _day_arrivals(city, today + offset, midnight + timedelta(days=offset)):
            if not now - timedelta(hours=2) <= scheduled <= now + timedelta(hours=4):
                continue
            _prefix, airline, origin, origin_name, international = ROUTES[int(route_index)]
            # every draw up front, so the weather changes a flight's delay and nothing else about it
            base_delay, weather_delay, cancel_draw = rng.lognormvariate(math.log(6), 0.9), rng.uniform(20, 70), rng.random()
            passengers = rng.randint(120, 230)
            # the airline knows its delay an hour ahead: the weather until then decides it
            weather_at = min(now, scheduled - timedelta(hours=1))
            delay = max(0, round(base_delay - 5))
            if city.scenario.rain_intensity(weather_at) > 25:
                delay += round(weather_delay)
            cancelled = cancel_draw < 0.7 * storm_strength(city, weather_at)
            found.append(
                Flight(
                    key=f"{number}-{(midnight + timedelta(days=offset)).astimezone(CITY_ZONE):%Y%m%d}",
                    number=number,
                    airline=airline,
                    origin=origin,
                    origin_name=origin_name,
                    international=international,
                    scheduled=scheduled,
                    delay_min=delay,
                    cancelled=cancelled,
                    passengers=passengers,
                )
            )
    return sorted(found, key=lambda f: (f.scheduled, f.number))


# --- the seaport -------------------------------------------------------------------------------------------

BERTHS = (
    ("Bến 1", 108.2185, 16.1200),
    ("Bến 2", 108.2195, 16.1210),
    ("Bến 3", 108.2210, 16.1212),
    ("Bến 4", 108.2225, 16.1208),
    ("Bến 5", 108.2240, 16.1200),
    ("Bến 6", 108.2175, 16.1190),
)
ANCHORAGE = (108.2300, 16.1300)  # the inner anchorage of Đà Nẵng bay
VESSEL_TYPES = (
    ("container", ("Haian", "Wan Hai", "SITC", "Gemadept", "VSICO"), 0.45),
    ("bulk", ("Pacific", "Thanh Thanh Dat", "Vinaship"), 0.25),
    ("general_cargo", ("Vosco", "Truong Hai", "Dong Do"), 0.2),
    ("cruise", ("Costa", "Star Legend", "Diamond Princess"), 0.05),
    ("tanker", ("Petrolimex", "PV Trans"), 0.05),
)
FLAGS = ("VN", "VN", "VN", "PA", "LR", "SG", "HK", "MH")


@dataclass(frozen=True, slots=True)
class PortCall:
    imo: str
    name: str
    vessel_type: str
    flag: str
    length_m: int
    deadweight_t: int
    berth: str | None
    lon: float
    lat: float
    arrived_at: datetime
    departs_at: datetime


def port_rate(city: SimCity, moment: datetime) -> float:
    # the port stops taking ships as the storm nears
    return 0.22 * (1 - storm_strength(city, moment))


def port_calls(city: SimCity, now: datetime) -> list[PortCall]:
    """Vessels in port at `now` (alongside or at the anchorage waiting for a berth), by arrival."""
    calls = []
    berth_free: dict[str, datetime] = {}
    for arrival in arrivals(city, "port-calls", now - timedelta(days=3), now, lambda t: port_rate(city, t),
                            timedelta(hours=1)):
        rng = arrival.rng
        kind, names, _share = rng.choices(VESSEL_TYPES, weights=[w for *_rest, w in VESSEL_TYPES])[0]
        stay = timedelta(hours=rng.uniform(6, 14) if kind == "cruise" else rng.uniform(14, 40))
        departs = arrival.at + stay
        # berths go to ships in arrival order, including those gone since, so a ship never changes berth
        berth = next((b for b in BERTHS if berth_free.get(b[0], arrival.at) <= arrival.at), None)
        if berth is not None:
            berth_free[berth[0]] = departs
            name, lon, lat = berth
        else:
            name, (lon, lat) = None, (ANCHORAGE[0] + rng.uniform(-0.004, 0.004), ANCHORAGE[1] + rng.uniform(0, 0.004))
        length = rng.randint(120, 300) if kind == "cruise" else rng.randint(90, 200)
        suffix = rng.choice(("Star", "Bell", "Glory", "Ocean", "Sky", str(rng.randint(1, 99))))
        call = PortCall(
            imo=str(rng.randint(9_100_000, 9_899_999)),
            name=f"{rng.choice(names)} {suffix}",
            vessel_type=kind,
            flag=rng.choice(FLAGS),
            length_m=length,
            deadweight_t=round(length**2 * rng.uniform(0.8, 1.2) / 10) * 10,
            berth=name,
            lon=round(lon, 5),
            lat=round(lat, 5),
            arrived_at=arrival.at,
            departs_at=departs.replace(microsecond=0),
        )
        if departs > now:
            calls.append(call)
    return calls
