"""The regional hydro-meteorological centre's JSON API: the latest 10-minute observation of every station.

Like most national met services' station APIs it reports wind in m/s and rain as the last hour's rate,
with local times; the IOC's json reader maps the fields (see agencies.yaml, feed `weather-stations`).
"""

from __future__ import annotations

from datetime import datetime

from simulator.city import SimCity
from simulator.feeds.common import JSON, FeedRequest, json_bytes, local_iso
from simulator.weather import read_station, reading_time, stations

NETWORK = "Đài Khí tượng Thủy văn khu vực Trung Trung Bộ"


def render(city: SimCity, now: datetime, request: FeedRequest) -> tuple[bytes, str]:
    observations = []
    for station in stations(city):
        reading = read_station(city, station, now)
        observations.append(
            {
                "station_id": station.code,
                "station_name": station.name,
                "lat": station.lat,
                "lon": station.lon,
                "elevation_m": station.elevation_m,
                "obs_time": local_iso(reading.observed_at),
                "rain_1h_mm": reading.rainfall_mm_h,
                "temp_c": reading.temperature_c,
                "rh_pct": reading.humidity_pct,
                "wind_speed_ms": reading.wind_speed_ms,
                "wind_gust_ms": reading.wind_gust_ms,
                "wind_dir_deg": reading.wind_direction_deg,
                "mslp_hpa": reading.pressure_hpa,
            }
        )
    document = {
        "network": NETWORK,
        "generated_at": local_iso(reading_time(now)),
        "count": len(observations),
        "observations": observations,
    }
    return json_bytes(document), JSON
