"""The tourism department's visitor counts (CSV): visitors at each site since it opened today.

A plain export: ',' between columns, '.' decimals, ISO dates, LF line ends, like the department's
open-data portal.
"""

from __future__ import annotations

import csv
import io
from datetime import datetime

from ioc.i18n import CITY_ZONE
from simulator.city import SimCity
from simulator.feeds.common import FeedRequest, local_iso
from simulator.services import tourist_sites, visitors_today

CSV = "text/csv; charset=utf-8"
HEADER = ("site_id", "site_name", "lon", "lat", "date", "visitors_domestic", "visitors_international",
          "visitors_total", "ticketed", "updated_at")
UPDATE_INTERVAL_S = 900


def render(city: SimCity, now: datetime, request: FeedRequest) -> tuple[bytes, str]:
    counted_at = datetime.fromtimestamp(int(now.timestamp()) // UPDATE_INTERVAL_S * UPDATE_INTERVAL_S, CITY_ZONE)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(HEADER)
    for site in tourist_sites(city):
        domestic, international = visitors_today(city, site, counted_at)
        writer.writerow(
            (site.id, site.name, f"{site.lon:.4f}", f"{site.lat:.4f}", counted_at.strftime("%Y-%m-%d"), domestic,
             international, domestic + international, "true" if site.ticketed else "false", local_iso(counted_at))
        )
    return out.getvalue().encode("utf-8"), CSV
