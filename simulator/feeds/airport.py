"""The airport's arrivals board (JSON): flights due from two hours ago to four hours ahead, with delays.

Flights carry no position of their own: the feed's mapping places them at the airport, read from the
document's `airport` object.
"""

from __future__ import annotations

from datetime import datetime

from simulator.city import SimCity
from simulator.feeds.common import JSON, FeedRequest, json_bytes, local_iso
from simulator.services import AIRPORT, flights


def render(city: SimCity, now: datetime, request: FeedRequest) -> tuple[bytes, str]:
    arrivals = [
        {
            "id": flight.key,
            "flight": flight.number,
            "airline": flight.airline,
            "origin": flight.origin,
            "origin_name": flight.origin_name,
            "terminal": "T2" if flight.international else "T1",
            "scheduled": local_iso(flight.scheduled),
            "estimated": None if flight.cancelled else local_iso(flight.estimated),
            "status": flight.status(now),
            "delay_min": None if flight.cancelled else flight.delay_min,
            "passengers": flight.passengers,
        }
        for flight in flights(city, now)
    ]
    document = {"airport": AIRPORT, "updated": local_iso(now), "arrivals": arrivals}
    return json_bytes(document), JSON
