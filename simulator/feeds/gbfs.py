"""The bike-share operator's GBFS 3.0 feed: gbfs.json discovery and the files it lists.

gbfs.json lists system_information, vehicle_types, station_information, station_status and vehicle_status
with absolute URLs (the spec requires them) on the host the client used. Times are RFC 3339 with the
city's offset; names are localized strings in Vietnamese and English.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from simulator.bikeshare import EBIKE_RANGE_M, free_ebikes, station_status, system
from simulator.city import SimCity
from simulator.feeds.common import JSON, FeedRequest, json_bytes, local_iso

ROOT = "/gbfs/3.0"
FILES = ("system_information", "vehicle_types", "station_information", "station_status", "vehicle_status")
# seconds a client may cache each file: the static ones change rarely, the status every minute
TTL = {"system_information": 86400, "vehicle_types": 86400, "station_information": 3600}


def _envelope(name: str, now: datetime, data: dict[str, Any]) -> tuple[bytes, str]:
    document = {"last_updated": local_iso(now), "ttl": TTL.get(name, 60), "version": "3.0", "data": data}
    return json_bytes(document), JSON


def _text(vi: str, en: str | None = None) -> list[dict[str, str]]:
    texts = [{"text": vi, "language": "vi"}]
    if en:
        texts.append({"text": en, "language": "en"})
    return texts


def render_discovery(city: SimCity, now: datetime, request: FeedRequest) -> tuple[bytes, str]:
    feeds = [{"name": name, "url": f"{request.base_url}{ROOT}/{name}.json"} for name in FILES]
    return _envelope("gbfs", now, {"feeds": feeds})


def render_system_information(city: SimCity, now: datetime, request: FeedRequest) -> tuple[bytes, str]:
    data = {
        "system_id": "danang-bikeshare",
        "languages": ["vi", "en"],
        "name": _text("Xe đạp công cộng Đà Nẵng", "Da Nang Public Bike Share"),
        "short_name": _text("DanaBike"),
        "operator": _text("Trung tâm Quản lý giao thông công cộng Đà Nẵng", "Da Nang Public Transport Centre"),
        "opening_hours": "Mo-Su 05:00-23:00",
        "start_date": "2024-03-26",
        "feed_contact_email": "opendata@danabike.example.org",
        "timezone": "Asia/Ho_Chi_Minh",
        "license_url": "https://opendatacommons.org/licenses/odbl/1-0/",
    }
    return _envelope("system_information", now, data)


def render_vehicle_types(city: SimCity, now: datetime, request: FeedRequest) -> tuple[bytes, str]:
    data = {
        "vehicle_types": [
            {
                "vehicle_type_id": "classic",
                "form_factor": "bicycle",
                "propulsion_type": "human",
                "name": _text("Xe đạp thường", "Classic bike"),
                "wheel_count": 2,
            },
            {
                "vehicle_type_id": "ebike",
                "form_factor": "bicycle",
                "propulsion_type": "electric_assist",
                "name": _text("Xe đạp trợ lực điện", "E-bike"),
                "wheel_count": 2,
                "max_range_meters": EBIKE_RANGE_M,
            },
        ]
    }
    return _envelope("vehicle_types", now, data)


def render_station_information(city: SimCity, now: datetime, request: FeedRequest) -> tuple[bytes, str]:
    stations = [
        {
            "station_id": s.id,
            "name": _text(s.name),
            "short_name": _text(s.id),
            "lat": s.lat,
            "lon": s.lon,
            "address": s.address,
            "is_virtual_station": False,
            "capacity": s.capacity,
        }
        for s in system(city).stations
    ]
    return _envelope("station_information", now, {"stations": stations})


def render_station_status(city: SimCity, now: datetime, request: FeedRequest) -> tuple[bytes, str]:
    stations = []
    for station in system(city).stations:
        status = station_status(city, station, now)
        stations.append(
            {
                "station_id": station.id,
                "num_vehicles_available": status.bikes_available,
                "vehicle_types_available": [
                    {"vehicle_type_id": "classic", "count": status.classic_available},
                    {"vehicle_type_id": "ebike", "count": status.ebikes_available},
                ],
                "num_vehicles_disabled": status.bikes_disabled,
                "num_docks_available": status.docks_available,
                "num_docks_disabled": status.docks_disabled,
                "is_installed": True,
                "is_renting": status.is_renting,
                "is_returning": status.is_renting,
                "last_reported": local_iso(status.reported_at),
            }
        )
    return _envelope("station_status", now, {"stations": stations})


def render_vehicle_status(city: SimCity, now: datetime, request: FeedRequest) -> tuple[bytes, str]:
    vehicles = [
        {
            "vehicle_id": bike.vehicle_id,
            "lat": bike.lat,
            "lon": bike.lon,
            "is_reserved": bike.is_reserved,
            "is_disabled": bike.is_disabled,
            "vehicle_type_id": "ebike",
            "last_reported": local_iso(bike.reported_at),
            "current_range_meters": bike.range_m,
        }
        for bike in free_ebikes(city, now)
    ]
    return _envelope("vehicle_status", now, {"vehicles": vehicles})
