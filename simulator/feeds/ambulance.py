"""The 115 emergency medical centre's dispatch API (JSON): the calls of the last three hours, newest first.

Its own system's records, so each holds the caller's name and phone number, and the notes sometimes a
number to call back: the feed's mapping takes neither, and the reader scrubs the notes.
"""

from __future__ import annotations

from datetime import datetime

from simulator.city import SimCity
from simulator.emergency import dispatches
from simulator.feeds.common import JSON, FeedRequest, json_bytes


def render(city: SimCity, now: datetime, request: FeedRequest) -> tuple[bytes, str]:
    records = [
        {
            "dispatch_id": d.id,
            # epoch milliseconds: the dispatch software is a JavaScript web app
            "received_at": int(d.received_at.timestamp() * 1000),
            "priority": d.priority,
            "incident_type": d.incident_type,
            "caller_name": d.caller_name,
            "caller_phone": d.caller_phone,
            "address": d.address.text,
            "location": {"type": "Point", "coordinates": [d.address.lon, d.address.lat]},
            "ambulance": d.ambulance,
            "state": d.state(now),
            "response_time_min": d.response_time_min(now),
            "destination": d.destination,
            "notes": d.notes,
        }
        for d in dispatches(city, now)
    ]
    return json_bytes(records), JSON
