"""The seaport's vessels-in-port API (JSON): ships alongside at Tiên Sa or waiting at the anchorage."""

from __future__ import annotations

from datetime import datetime

from simulator.city import SimCity
from simulator.feeds.common import JSON, FeedRequest, json_bytes, local_iso
from simulator.services import port_calls
from simulator.weather import storm_strength


def render(city: SimCity, now: datetime, request: FeedRequest) -> tuple[bytes, str]:
    storm = storm_strength(city, now)
    vessels = [
        {
            "imo": call.imo,
            "name": call.name,
            "type": call.vessel_type,
            "flag": call.flag,
            "length_m": call.length_m,
            "dwt": call.deadweight_t,
            "berth": call.berth,
            # in a storm nobody sails: ships stay, moored or anchored, until the port reopens
            "status": "storm_shelter" if storm > 0.3 else ("at_berth" if call.berth else "at_anchorage"),
            "arrived_at": local_iso(call.arrived_at),
            "etd": local_iso(call.departs_at),
            "lat": call.lat,
            "lon": call.lon,
        }
        for call in port_calls(city, now)
    ]
    document = {"port": "Cảng Tiên Sa", "unlocode": "VNDAD", "updated": local_iso(now), "vessels": vessels}
    return json_bytes(document), JSON
