"""Da Nang's map for the simulator: district polygons, settled areas, ward and street names, bus corridors.

Points are sampled inside the real district polygons (the same boundaries file the IOC joins against), so
every simulated thing lands in the area an operator expects. Street corridors follow the real streets
roughly: good enough for a map at city scale, not for routing.
"""

from __future__ import annotations

import json
import math
import random
import unicodedata
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import shapely
from shapely.geometry import box, shape

from ioc.config import resolve_path

BOUNDARIES = "assets/boundaries/danang-districts.geojson"
NAME_PROPERTY = "name_short"
CITY_NAME = "Đà Nẵng"
EARTH_RADIUS_KM = 6371.0

# Where people live and work. Liên Chiểu's north is the Hải Vân pass, Sơn Trà's east the forested
# peninsula, most of Hòa Vang mountains: sensors and citizen reports sit in the settled part.
SETTLED_BOXES: dict[str, tuple[float, float, float, float]] = {
    "Liên Chiểu": (108.120, 16.040, 108.180, 16.115),
    "Sơn Trà": (108.215, 16.050, 108.262, 16.110),
    "Hòa Vang": (108.050, 15.950, 108.200, 16.070),
}

# Wards (phường) and communes (xã) as they were before the 2025 reorganisation, like the boundaries file.
WARDS: dict[str, tuple[str, ...]] = {
    "Liên Chiểu": ("Hòa Khánh Bắc", "Hòa Khánh Nam", "Hòa Minh", "Hòa Hiệp Bắc", "Hòa Hiệp Nam"),
    "Thanh Khê": (
        "Thanh Khê Đông",
        "Thanh Khê Tây",
        "An Khê",
        "Chính Gián",
        "Tam Thuận",
        "Xuân Hà",
        "Hòa Khê",
    ),
    "Hải Châu": (
        "Hải Châu 1",
        "Thạch Thang",
        "Thuận Phước",
        "Phước Ninh",
        "Bình Hiên",
        "Hòa Cường Bắc",
        "Nam Dương",
    ),
    "Sơn Trà": ("An Hải Bắc", "An Hải Đông", "Mân Thái", "Nại Hiên Đông", "Phước Mỹ", "Thọ Quang"),
    "Ngũ Hành Sơn": ("Mỹ An", "Khuê Mỹ", "Hòa Hải", "Hòa Quý"),
    "Cẩm Lệ": ("Khuê Trung", "Hòa Phát", "Hòa An", "Hòa Thọ Đông", "Hòa Thọ Tây", "Hòa Xuân"),
    "Hòa Vang": ("Hòa Sơn", "Hòa Nhơn", "Hòa Phong", "Hòa Châu", "Hòa Tiến", "Hòa Phước", "Hòa Khương"),
}

STREETS: dict[str, tuple[str, ...]] = {
    "Liên Chiểu": (
        "Tôn Đức Thắng",
        "Nguyễn Lương Bằng",
        "Âu Cơ",
        "Nguyễn Sinh Sắc",
        "Hoàng Văn Thái",
        "Kinh Dương Vương",
    ),
    "Thanh Khê": ("Điện Biên Phủ", "Hà Huy Tập", "Trần Cao Vân", "Lê Độ", "Hàm Nghi", "Thái Thị Bôi"),
    "Hải Châu": (
        "Lê Duẩn",
        "Bạch Đằng",
        "Trần Phú",
        "Hùng Vương",
        "Nguyễn Văn Linh",
        "Núi Thành",
        "Phan Châu Trinh",
    ),
    "Sơn Trà": ("Ngô Quyền", "Võ Nguyên Giáp", "Phạm Văn Đồng", "Võ Văn Kiệt", "Hồ Nghinh", "Trần Hưng Đạo"),
    "Ngũ Hành Sơn": ("Lê Văn Hiến", "Trường Sa", "Ngũ Hành Sơn", "Nguyễn Văn Thoại", "Chương Dương"),
    "Cẩm Lệ": ("Cách Mạng Tháng Tám", "Ông Ích Đường", "Trường Chinh", "Tôn Đản", "Nguyễn Hữu Thọ"),
    "Hòa Vang": ("Quốc lộ 14B", "Quốc lộ 1A", "ĐT602", "ĐT605", "Trường Sơn"),
}

# The national statistics office's district codes (mã đơn vị hành chính), as agencies' exports carry them.
DISTRICT_CODES: dict[str, str] = {
    "Liên Chiểu": "490",
    "Thanh Khê": "491",
    "Hải Châu": "492",
    "Sơn Trà": "493",
    "Ngũ Hành Sơn": "494",
    "Cẩm Lệ": "495",
    "Hòa Vang": "497",
}

# District share of citizen reports, roughly by population.
REPORT_SHARE: dict[str, float] = {
    "Hải Châu": 0.20,
    "Thanh Khê": 0.18,
    "Sơn Trà": 0.15,
    "Liên Chiểu": 0.15,
    "Cẩm Lệ": 0.12,
    "Ngũ Hành Sơn": 0.10,
    "Hòa Vang": 0.10,
}

# The Hòa Khánh industrial zone (KCN Hòa Khánh) in Liên Chiểu: the city's air-quality hot spot.
INDUSTRIAL_ZONE_BOX = (108.140, 16.066, 108.160, 16.080)


@dataclass(frozen=True, slots=True)
class BusCorridor:
    """A bus route's path through real streets, as (lat, lon) waypoints from one terminus to the other."""

    id: str
    short_name: str
    long_name: str
    streets: tuple[str, ...]
    waypoints: tuple[tuple[float, float], ...]
    # average speed including stops, off-peak, km/h
    cruise_kmh: float
    night_service: bool = False


_KIM_LIEN = (16.1150, 108.1260)
_CHO_HAN = (16.0680, 108.2245)
_BEN_XE_TRUNG_TAM = (16.0570, 108.1735)
_NGA_BA_HUE = (16.0625, 108.1780)
_DIEN_BIEN_PHU = ((16.0640, 108.1900), (16.0660, 108.2010))
_LE_DUAN = ((16.0675, 108.2110), (16.0700, 108.2180), (16.0715, 108.2225))

BUS_CORRIDORS: tuple[BusCorridor, ...] = (
    BusCorridor(
        "R1",
        "R1",
        "Kim Liên – Chợ Hàn",
        ("Quốc lộ 1A", "Nguyễn Lương Bằng", "Tôn Đức Thắng", "Điện Biên Phủ", "Lê Duẩn", "Bạch Đằng"),
        (
            _KIM_LIEN,
            (16.1000, 108.1330),
            (16.0860, 108.1420),
            (16.0760, 108.1500),
            (16.0700, 108.1590),
            (16.0660, 108.1680),
            _NGA_BA_HUE,
            *_DIEN_BIEN_PHU,
            *_LE_DUAN,
            _CHO_HAN,
        ),
        cruise_kmh=22.0,
        night_service=True,
    ),
    BusCorridor(
        "R2",
        "R2",
        "Túy Loan – Chợ Hàn",
        ("Quốc lộ 14B", "Cách Mạng Tháng Tám", "Núi Thành", "Hùng Vương"),
        (
            (15.9960, 108.1230),
            (16.0040, 108.1500),
            (16.0120, 108.1800),
            (16.0200, 108.2000),
            (16.0300, 108.2120),
            (16.0420, 108.2150),
            (16.0520, 108.2160),
            (16.0620, 108.2190),
            _CHO_HAN,
        ),
        cruise_kmh=26.0,
    ),
    BusCorridor(
        "R4",
        "R4",
        "Bến xe Trung tâm – Cảng Tiên Sa",
        ("Tôn Đức Thắng", "Nguyễn Văn Linh", "Cầu Rồng", "Võ Văn Kiệt", "Ngô Quyền", "Yết Kiêu"),
        (
            _BEN_XE_TRUNG_TAM,
            (16.0580, 108.1850),
            (16.0593, 108.2000),
            (16.0593, 108.2085),
            (16.0605, 108.2160),
            (16.0612, 108.2238),
            (16.0612, 108.2300),
            (16.0620, 108.2390),
            (16.0750, 108.2420),
            (16.0900, 108.2440),
            (16.1000, 108.2460),
            (16.1100, 108.2450),
            (16.1140, 108.2440),
            (16.1160, 108.2360),
            (16.1190, 108.2280),
            (16.1225, 108.2250),
        ),
        cruise_kmh=21.0,
        night_service=True,
    ),
    BusCorridor(
        "R5",
        "R5",
        "Nam Ô – Thuận Phước",
        ("Nguyễn Tất Thành",),
        (
            (16.1180, 108.1270),
            (16.1090, 108.1320),
            (16.0995, 108.1400),
            (16.0900, 108.1500),
            (16.0830, 108.1600),
            (16.0780, 108.1700),
            (16.0740, 108.1800),
            (16.0712, 108.1900),
            (16.0710, 108.1950),
            (16.0720, 108.2000),
            (16.0770, 108.2050),
            (16.0850, 108.2120),
            (16.0915, 108.2170),
        ),
        cruise_kmh=27.0,
    ),
    BusCorridor(
        "R6",
        "R6",
        "Chợ Hàn – Non Nước",
        ("Bạch Đằng", "2 Tháng 9", "Cầu Tiên Sơn", "Ngũ Hành Sơn", "Lê Văn Hiến"),
        (
            _CHO_HAN,
            (16.0612, 108.2238),
            (16.0500, 108.2235),
            (16.0370, 108.2260),
            (16.0370, 108.2290),
            (16.0375, 108.2360),
            (16.0380, 108.2430),
            (16.0260, 108.2470),
            (16.0150, 108.2500),
            (16.0000, 108.2600),
        ),
        cruise_kmh=23.0,
    ),
    BusCorridor(
        "R16",
        "R16",
        "Bến xe Trung tâm – Công viên Biển Đông",
        ("Tôn Đức Thắng", "Điện Biên Phủ", "Lê Duẩn", "Cầu Sông Hàn", "Phạm Văn Đồng"),
        (
            _BEN_XE_TRUNG_TAM,
            _NGA_BA_HUE,
            *_DIEN_BIEN_PHU,
            *_LE_DUAN,
            (16.0718, 108.2290),
            (16.0716, 108.2380),
            (16.0715, 108.2465),
        ),
        cruise_kmh=20.0,
    ),
)


@dataclass(frozen=True, slots=True)
class District:
    """One administrative area: its polygon and the settled part of it where things are placed."""

    name: str
    unit_type: str
    polygon: shapely.Geometry
    settled: shapely.Geometry

    def sample_point(self, rng: random.Random) -> tuple[float, float]:
        """A (lon, lat) point inside the settled part of the district, drawn with `rng`."""
        minx, miny, maxx, maxy = self.settled.bounds
        for _ in range(1000):
            lon, lat = rng.uniform(minx, maxx), rng.uniform(miny, maxy)
            if shapely.contains_xy(self.settled, lon, lat):
                return round(lon, 6), round(lat, 6)
        point = self.settled.representative_point()
        return round(point.x, 6), round(point.y, 6)


@cache
def load_districts(path: str = BOUNDARIES) -> tuple[District, ...]:
    """The city's districts from its boundaries file, in file order."""
    collection = json.loads(Path(resolve_path(path)).read_text(encoding="utf-8"))
    districts = []
    for feature in collection["features"]:
        props = feature["properties"]
        name = props[NAME_PROPERTY]
        polygon = shape(feature["geometry"])
        settled = polygon.intersection(box(*SETTLED_BOXES[name])) if name in SETTLED_BOXES else polygon
        shapely.prepare(settled)
        districts.append(District(name, props.get("unit_type", ""), polygon, settled))
    return tuple(districts)


def industrial_zone(districts: tuple[District, ...]) -> District:
    """The Hòa Khánh industrial zone as a small pseudo-district inside Liên Chiểu, for placing its station."""
    lien_chieu = next(d for d in districts if d.name == "Liên Chiểu")
    settled = lien_chieu.polygon.intersection(box(*INDUSTRIAL_ZONE_BOX))
    shapely.prepare(settled)
    return District(lien_chieu.name, lien_chieu.unit_type, lien_chieu.polygon, settled)


def distance_km(a: tuple[float, float], b: tuple[float, float]) -> float:
    """Great-circle distance between two (lon, lat) points."""
    lon1, lat1, lon2, lat2 = map(math.radians, (*a, *b))
    h = math.sin((lat2 - lat1) / 2) ** 2 + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(math.sqrt(h))


def bearing_deg(a: tuple[float, float], b: tuple[float, float]) -> float:
    """Initial compass bearing from (lon, lat) a to b, 0 = north, clockwise."""
    lon1, lat1, lon2, lat2 = map(math.radians, (*a, *b))
    y = math.sin(lon2 - lon1) * math.cos(lat2)
    x = math.cos(lat1) * math.sin(lat2) - math.sin(lat1) * math.cos(lat2) * math.cos(lon2 - lon1)
    return (math.degrees(math.atan2(y, x)) + 360) % 360


def ascii_fold(text: str) -> str:
    """Vietnamese without diacritics, for e-mail addresses and codes ('Đà Nẵng' -> 'Da Nang')."""
    text = text.replace("đ", "d").replace("Đ", "D")
    return "".join(ch for ch in unicodedata.normalize("NFD", text) if not unicodedata.combining(ch))


def district_of(lon: float, lat: float) -> str | None:
    """The district a (lon, lat) point lies in, None outside the city (the sea, the neighbours)."""
    for district in load_districts():
        if shapely.contains_xy(district.polygon, lon, lat):
            return district.name
    return None


def slug(text: str) -> str:
    """'Nguyễn Văn Linh' -> 'nguyen-van-linh', for ids built from names."""
    folded = ascii_fold(text).lower()
    return "-".join("".join(ch if ch.isalnum() else " " for ch in folded).split())
