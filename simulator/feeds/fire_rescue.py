"""The 114 fire and rescue command centre's incident map (GeoJSON): every call-out of the last 24 hours.

Status is dang_xu_ly (being handled), da_khong_che (under control) or ket_thuc (closed). Each feature
keeps the caller's phone number, as the command centre's own map does: the reader drops it.
"""

from __future__ import annotations

from datetime import datetime

from simulator.city import SimCity
from simulator.emergency import fire_calls
from simulator.feeds.common import FeedRequest, json_bytes, local_iso

GEOJSON = "application/geo+json"


def render(city: SimCity, now: datetime, request: FeedRequest) -> tuple[bytes, str]:
    features = []
    for call in fire_calls(city, now):
        properties: dict[str, object] = {
            "incident_id": call.id,
            "name": call.title,
            "category": call.category,
            "status": call.status(now),
            "reported_at": local_iso(call.reported_at),
            "address": call.address.text,
            "station": call.station,
            "trucks": call.trucks,
            "firefighters": call.firefighters,
            "caller_phone": call.caller_phone,
        }
        response = call.response_time_min(now)
        if response is not None:
            properties["response_time_min"] = response
        features.append(
            {
                "type": "Feature",
                "id": call.id,
                "geometry": {"type": "Point", "coordinates": [call.address.lon, call.address.lat]},
                "properties": properties,
            }
        )
    document = {"type": "FeatureCollection", "name": "danang_114_incidents", "features": features}
    return json_bytes(document), GEOJSON
