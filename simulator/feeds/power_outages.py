"""The power company's outage API (JSON): planned outages of today and tomorrow, and faults with the
customers they cut off; restored ones stay listed for six hours.
"""

from __future__ import annotations

from datetime import datetime

from simulator.city import SimCity
from simulator.feeds.common import JSON, FeedRequest, json_bytes, local_iso
from simulator.services import outages

COMPANY = "Công ty TNHH MTV Điện lực Đà Nẵng"


def render(city: SimCity, now: datetime, request: FeedRequest) -> tuple[bytes, str]:
    items = []
    for outage in sorted(outages(city, now), key=lambda o: (o.start, o.id)):
        state = outage.state(now)
        # a fault's end is only known once power is back; a planned outage announces its end
        end = outage.end if outage.planned or state == "restored" else None
        items.append(
            {
                "outage_id": outage.id,
                "kind": "planned" if outage.planned else "unplanned",
                "state": state,
                "area_name": outage.area_name,
                "district": outage.district,
                "reason": outage.reason,
                "start_time": local_iso(outage.start),
                "end_time": local_iso(end) if end else None,
                "customers_affected": outage.customers,
                "position": {"lat": outage.lat, "lon": outage.lon},
            }
        )
    document = {"status": "ok", "data": {"company": COMPANY, "generated_at": local_iso(now), "items": items}}
    return json_bytes(document), JSON
