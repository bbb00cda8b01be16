"""The public administration service centres' daily statistics (JSON): dossiers received, resolved on time
and late, in progress, per one-stop shop, as the city's administrative-procedure system reports them.
"""

from __future__ import annotations

from datetime import datetime

from ioc.i18n import CITY_ZONE
from simulator.city import SimCity
from simulator.feeds.common import JSON, FeedRequest, json_bytes, local_iso
from simulator.services import office_day, service_offices

UPDATE_INTERVAL_S = 300


def render(city: SimCity, now: datetime, request: FeedRequest) -> tuple[bytes, str]:
    counted_at = datetime.fromtimestamp(int(now.timestamp()) // UPDATE_INTERVAL_S * UPDATE_INTERVAL_S, CITY_ZONE)
    units = []
    for office in service_offices(city):
        day = office_day(city, office, counted_at)
        units.append(
            {
                "ma_don_vi": office.id,
                "ten_don_vi": office.name,
                "dia_chi": office.address,
                "lat": office.lat,
                "lon": office.lon,
                "tiep_nhan": day.received,
                "tiep_nhan_truc_tuyen": day.received_online,
                "da_giai_quyet": day.resolved,
                "dung_han": day.resolved_on_time,
                "tre_han": day.resolved_late,
                "dang_xu_ly": day.in_progress,
                "qua_han": day.overdue,
                "ty_le_dung_han": day.on_time_pct,
            }
        )
    document = {
        "nguon": "Hệ thống thông tin giải quyết thủ tục hành chính thành phố Đà Nẵng",
        "ky_bao_cao": counted_at.strftime("%Y-%m-%d"),
        "cap_nhat": local_iso(counted_at),
        "don_vi": units,
    }
    return json_bytes(document), JSON
