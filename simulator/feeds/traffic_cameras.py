"""The traffic surveillance cameras' status API (JSON): online or offline, and when each was last seen."""

from __future__ import annotations

from datetime import datetime

from simulator.city import SimCity
from simulator.feeds.common import JSON, FeedRequest, json_bytes, local_iso
from simulator.traffic import camera_status, cameras


def render(city: SimCity, now: datetime, request: FeedRequest) -> tuple[bytes, str]:
    statuses = [camera_status(city, camera, now) for camera in cameras(city)]
    records = [
        {
            "camera_id": s.camera.id,
            "name": s.camera.name,
            "lat": s.camera.lat,
            "lon": s.camera.lon,
            "status": "online" if s.online else "offline",
            "last_seen": local_iso(s.last_seen),
            "offline_since": local_iso(s.offline_since) if s.offline_since else None,
            "resolution": "1920x1080" if s.camera.installed_year >= 2021 else "1280x720",
            "installed": s.camera.installed_year,
            "stream": f"rtsp://camera.danang.example.org/{s.camera.id.lower()}/main",
        }
        for s in statuses
    ]
    document = {"total": len(records), "online": sum(s.online for s in statuses), "cameras": records}
    return json_bytes(document), JSON
