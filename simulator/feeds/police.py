"""113 police's daily statistics (JSON): calls taken since midnight, per district and category.

Aggregated at the source: counts only, no caller, no address, so the feed carries no personal data.
"""

from __future__ import annotations

from datetime import datetime

from ioc.i18n import CITY_ZONE
from simulator.city import SimCity
from simulator.emergency import calls_today
from simulator.feeds.common import JSON, FeedRequest, json_bytes, local_iso
from simulator.geography import DISTRICT_CODES

UPDATE_INTERVAL_S = 300


def render(city: SimCity, now: datetime, request: FeedRequest) -> tuple[bytes, str]:
    # the statistics are recounted every five minutes
    counted_at = datetime.fromtimestamp(int(now.timestamp()) // UPDATE_INTERVAL_S * UPDATE_INTERVAL_S, CITY_ZONE)
    areas = [
        {
            "ma_quan": DISTRICT_CODES[calls.district],
            "ten_quan": calls.district,
            "lat": calls.lat,
            "lon": calls.lon,
            "cuoc_goi_113": calls.total,
            **calls.counts,
        }
        for calls in calls_today(city, counted_at)
    ]
    document = {
        "don_vi": "Công an thành phố Đà Nẵng - Trung tâm Chỉ huy",
        "ngay": counted_at.strftime("%Y-%m-%d"),
        "cap_nhat": local_iso(counted_at),
        "khu_vuc": areas,
    }
    return json_bytes(document), JSON
