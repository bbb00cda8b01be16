"""Road traffic in the simulated city: the transport department's detectors, the traffic police's incident
log and the surveillance cameras.

Detectors stand on the streets the bus corridors follow. Flow follows the rush hours; rain thins traffic
a little and slows it a lot; the scenario's collision crawls the detectors near it. Incidents arrive at a
rate that rises in the rush hours and with the rain (`arrivals`, so a rainy hour never has fewer than a dry
one). Cameras drop offline now and then, more when rain gets into their housings.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from simulator.arrivals import arrivals
from simulator.citizens import person_name, phone_number
from simulator.geography import REPORT_SHARE, distance_km
from simulator.rhythm import daytime, local_hour, rush_hour
from simulator.water import FLOOD_SPOTS

if TYPE_CHECKING:
    from simulator.city import SimCity

DETECTOR_WINDOW_S = 300
# streets around a collision crawl: within this distance of it, detectors see the queue
ACCIDENT_REACH_KM = 1.2
INCIDENT_LOOKBACK = timedelta(hours=3)
WIDE_STREETS = ("Nguyễn Tất Thành", "Võ Nguyên Giáp", "Quốc lộ 1A", "Quốc lộ 14B", "Nguyễn Văn Linh", "Điện Biên Phủ")


@dataclass(frozen=True, slots=True)
class TrafficDetector:
    """A loop or radar counting station on one street (trạm đo lưu lượng giao thông)."""

    id: str
    name: str
    street: str
    lon: float
    lat: float
    bearing: float
    lanes: int
    free_speed_kmh: float
    # a street's share of the city's traffic, around 1
    busyness: float


def street_label(street: str) -> str:
    """'đường Lê Duẩn', but 'cầu Rồng' and 'Quốc lộ 1A' as they are."""
    if street.startswith("Cầu "):
        return "cầu " + street.removeprefix("Cầu ")
    if street.startswith(("Quốc lộ", "ĐT")):
        return street
    return f"đường {street}"


def detectors(city: SimCity) -> tuple[TrafficDetector, ...]:
    def build(built: SimCity) -> tuple[TrafficDetector, ...]:
        rng = built.rng("traffic-detectors")
        found: list[TrafficDetector] = []
        seen: set[str] = set()
        for route in built.bus_routes:
            streets = route.corridor.streets
            for index, street in enumerate(streets):
                if street in seen:
                    continue
                seen.add(street)
                (lon, lat), bearing = route.point_at(route.length_km * (index + 0.5) / len(streets))
                wide = street in WIDE_STREETS or street.startswith("Cầu")
                found.append(
                    TrafficDetector(
                        id=f"DN-TF-{len(found) + 1:03d}",
                        name=f"Trạm đo lưu lượng {street_label(street)}",
                        street=street,
                        lon=round(lon, 6),
                        lat=round(lat, 6),
                        bearing=round(bearing, 1),
                        lanes=rng.choice((3, 4)) if wide else rng.choice((2, 2, 3)),
                        free_speed_kmh=round(rng.uniform(50, 60) if wide else rng.uniform(38, 48), 1),
                        busyness=rng.uniform(0.85, 1.15),
                    )
                )
        return tuple(found)

    return city.part("traffic-detectors", build)


@dataclass(frozen=True, slots=True)
class TrafficFlow:
    detector: TrafficDetector
    window_start: datetime
    window_end: datetime
    intensity_veh_h: int
    average_speed_kmh: float
    occupancy: float
    congested: bool


def traffic_demand(hour: float) -> float:
    """Share of a street's capacity in use at a local hour, before the weather."""
    return 0.08 + 0.42 * daytime(hour) + 0.5 * rush_hour(hour)


def read_detector(city: SimCity, detector: TrafficDetector, moment: datetime) -> TrafficFlow:
    """What a detector counted in the 5-minute window that ended last before `moment`."""
    window = int(moment.timestamp()) // DETECTOR_WINDOW_S
    end = datetime.fromtimestamp(window * DETECTOR_WINDOW_S, UTC)
    middle = end - timedelta(seconds=DETECTOR_WINDOW_S / 2)
    noise = city.rng("traffic", detector.id, window)
    rain = city.scenario.rain_intensity(middle)
    capacity = detector.lanes * 1800
    demand = traffic_demand(local_hour(middle)) * detector.busyness * (1 - min(0.25, rain / 120))
    intensity = capacity * demand * (1 + noise.gauss(0, 0.04))
    load = min(1.2, intensity / capacity)
    speed = detector.free_speed_kmh * (1 - 0.55 * load**2.5) * (1 - min(0.35, rain / 90))
    for placed in city.scenario.active(middle, "traffic_accident"):
        if placed.incident.location and distance_km(placed.incident.location, (detector.lon, detector.lat)) < (
            ACCIDENT_REACH_KM
        ):
            speed *= 0.35
    speed = max(4.0, speed * (1 + noise.gauss(0, 0.03)))
    occupancy = min(0.95, 0.04 + 0.5 * load**1.5 + 0.35 * (1 - speed / detector.free_speed_kmh))
    return TrafficFlow(
        detector=detector,
        window_start=end - timedelta(seconds=DETECTOR_WINDOW_S),
        window_end=end,
        intensity_veh_h=round(intensity),
        average_speed_kmh=round(speed, 1),
        occupancy=round(max(0.0, occupancy), 2),
        congested=speed < 0.45 * detector.free_speed_kmh,
    )


# --- the traffic police's incidents ----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class IncidentKind:
    code: str
    title: str
    description: str
    # share of ordinary incidents, and extra weight per mm/h of rain
    weight: float
    rain_weight: float
    minutes: tuple[int, int]


INCIDENT_KINDS: tuple[IncidentKind, ...] = (
    IncidentKind("accident", "Va chạm giao thông", "Va chạm giữa {vehicles}, {lanes}", 0.5, 0.004, (25, 70)),
    IncidentKind("breakdown", "Xe hỏng giữa đường", "Xe {vehicle} chết máy, {lanes}", 0.3, 0.004, (15, 45)),
    IncidentKind("roadwork", "Thi công trên đường", "Thi công đường ống, {lanes}", 0.2, 0.0, (60, 120)),
    IncidentKind("flooding", "Ngập nước trên đường", "Nước ngập {depth} cm, xe máy khó lưu thông", 0.0, 0.03, (40, 120)),
    IncidentKind("fallenTree", "Cây đổ chắn đường", "Cây xanh gãy đổ, {lanes}", 0.0, 0.012, (30, 90)),
)
VEHICLES = ("hai xe máy", "xe máy và ô tô con", "ô tô con và xe tải", "xe máy và xe buýt", "hai ô tô con")
ONE_VEHICLE = ("tải", "khách 16 chỗ", "con", "container", "buýt")


@dataclass(frozen=True, slots=True)
class TrafficIncident:
    id: str
    kind: IncidentKind
    title: str
    description: str
    severity: str
    lon: float
    lat: float
    district: str
    reported_at: datetime
    cleared_at: datetime
    lanes_closed: int
    reporter_name: str | None
    reporter_phone: str | None


def incident_rate(city: SimCity, moment: datetime) -> float:
    """Incidents per hour across the city: more in the rush hours, and more with every mm/h of rain."""
    hour = local_hour(moment)
    return 0.5 + 1.2 * daytime(hour) + 2.5 * rush_hour(hour) + 0.15 * city.scenario.rain_intensity(moment)


def traffic_incidents(city: SimCity, now: datetime) -> list[TrafficIncident]:
    """Incidents on the roads at `now`: reported and not yet cleared, oldest first."""
    found = []
    districts = list(REPORT_SHARE)
    shares = [REPORT_SHARE[d] for d in districts]
    for arrival in arrivals(city, "traffic-incidents", now - INCIDENT_LOOKBACK, now, lambda t: incident_rate(city, t)):
        rng = arrival.rng
        rain = city.scenario.rain_intensity(arrival.at)
        kind = rng.choices(INCIDENT_KINDS, weights=[k.weight + k.rain_weight * rain for k in INCIDENT_KINDS])[0]
        minutes = rng.uniform(*kind.minutes) * (1 + rain / 60)
        cleared = arrival.at + timedelta(minutes=minutes)
        district = rng.choices(districts, weights=shares)[0]
        address = rng.choice(city.address_book[district])
        lanes = rng.choice((0, 1, 1, 2))
        lanes_text = "không ảnh hưởng làn xe" if lanes == 0 else f"phong tỏa {lanes} làn"
        description = kind.description.format(
            vehicles=rng.choice(VEHICLES),
            vehicle=rng.choice(ONE_VEHICLE),
            lanes=lanes_text,
            depth=round(20 + rain * rng.uniform(0.3, 0.8)),
        )
        severity = rng.choices(("low", "moderate", "high"), weights=(0.35, 0.45, 0.2 + rain / 100))[0]
        reporter = rng.random() < 0.6
        if reporter and rng.random() < 0.3:
            description += f", người báo tin gọi {phone_number(rng, spaced=True)}"
        if arrival.at <= now < cleared:
            found.append(
                TrafficIncident(
                    id=f"CSGT-{arrival.at.astimezone(UTC):%y%m%d}-{arrival.key}",
                    kind=kind,
                    title=f"{kind.title} {street_label(address.street)}",
                    description=description,
                    severity=severity,
                    lon=address.lon,
                    lat=address.lat,
                    district=district,
                    reported_at=arrival.at,
                    cleared_at=cleared,
                    lanes_closed=lanes,
                    reporter_name=person_name(rng) if reporter else None,
                    reporter_phone=phone_number(rng) if reporter else None,
                )
            )
    for placed in city.scenario.active(now, "traffic_accident"):
        incident = placed.incident
        if incident.location is None:
            continue
        found.append(
            TrafficIncident(
                id=f"CSGT-{incident.id}",
                kind=INCIDENT_KINDS[0],
                title=incident.title_vi,
                description="Va chạm giữa xe tải và xe khách, ùn tắc kéo dài, phong tỏa 2 làn",
                severity="high" if incident.severity in ("severe", "extreme") else "moderate",
                lon=incident.location[0],
                lat=incident.location[1],
                district=incident.district or "",
                reported_at=placed.onset,
                cleared_at=placed.ends,
                lanes_closed=2,
                reporter_name=None,
                reporter_phone=None,
            )
        )
    return sorted(found, key=lambda i: (i.reported_at, i.id))


# --- cameras ---------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class TrafficCamera:
    id: str
    name: str
    lon: float
    lat: float
    installed_year: int


def cameras(city: SimCity) -> tuple[TrafficCamera, ...]:
    """A camera over every detector's street and every flood spot (the control room watches both)."""

    def build(built: SimCity) -> tuple[TrafficCamera, ...]:
        rng = built.rng("traffic-cameras")
        places = [(f"Camera {d.name.removeprefix('Trạm đo lưu lượng ')}", d.lon, d.lat) for d in detectors(built)]
        places += [(f"Camera điểm ngập {place}", lon, lat) for place, lon, lat in FLOOD_SPOTS]
        return tuple(
            TrafficCamera(f"CAM-{number:03d}", name, round(lon, 6), round(lat, 6), rng.choice((2019, 2021, 2023)))
            for number, (name, lon, lat) in enumerate(places, start=1)
        )

    return city.part("traffic-cameras", build)


@dataclass(frozen=True, slots=True)
class CameraStatus:
    camera: TrafficCamera
    online: bool
    last_seen: datetime
    offline_since: datetime | None


def camera_status(city: SimCity, camera: TrafficCamera, now: datetime) -> CameraStatus:
    """Online, or offline since a moment in the current quarter hour (cameras are polled every 15 minutes)."""
    slot = int(now.timestamp()) // 900
    rng = city.rng("camera", camera.id, slot)
    rain = city.scenario.rain_intensity(now)
    # older housings let the rain in
    chance = 0.03 + min(0.25, rain / 200) * (1.5 if camera.installed_year < 2021 else 1.0)
    if rng.random() < chance:
        since = datetime.fromtimestamp(slot * 900 + rng.randrange(60), UTC)
        if since <= now:
            return CameraStatus(camera, False, since - timedelta(seconds=rng.randrange(5, 30)), since)
    return CameraStatus(camera, True, now - timedelta(seconds=int(now.timestamp()) % 10), None)


def distance_to_path_km(point: tuple[float, float], path: tuple[tuple[float, float], ...]) -> float:
    """Distance from a (lon, lat) point to a polyline, on a local flat projection (fine at city scale)."""
    scale_x = 111.32 * math.cos(math.radians(point[1]))
    scale_y = 110.57

    def flat(p: tuple[float, float]) -> tuple[float, float]:
        return ((p[0] - point[0]) * scale_x, (p[1] - point[1]) * scale_y)

    best = math.inf
    for a, b in zip(path, path[1:], strict=False):
        (ax, ay), (bx, by) = flat(a), flat(b)
        dx, dy = bx - ax, by - ay
        span = dx * dx + dy * dy
        share = 0.0 if span == 0 else max(0.0, min(1.0, -(ax * dx + ay * dy) / span))
        best = min(best, math.hypot(ax + share * dx, ay + share * dy))
    return best
