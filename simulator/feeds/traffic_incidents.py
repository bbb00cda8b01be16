"""The traffic police's incident map (GeoJSON): incidents on the roads now, each with when it should clear.

As the police's own map keeps them, features carry the name and phone of whoever reported the incident;
the geojson reader drops both.
"""

from __future__ import annotations

from datetime import datetime

from simulator.city import SimCity
from simulator.feeds.common import FeedRequest, json_bytes, local_iso
from simulator.traffic import traffic_incidents

GEOJSON = "application/geo+json"


def render(city: SimCity, now: datetime, request: FeedRequest) -> tuple[bytes, str]:
    features = []
    for incident in traffic_incidents(city, now):
        properties: dict[str, object] = {
            "incident_id": incident.id,
            "title": incident.title,
            "category": incident.kind.code,
            "severity": incident.severity,
            "reported_at": local_iso(incident.reported_at),
            "expires": local_iso(incident.cleared_at),
            "lanes_closed": incident.lanes_closed,
            "district": incident.district,
            "description": incident.description,
            "status": "actual",
        }
        if incident.reporter_name:
            properties["reporter_name"] = incident.reporter_name
            properties["reporter_phone"] = incident.reporter_phone
        features.append(
            {
                "type": "Feature",
                "id": incident.id,
                "geometry": {"type": "Point", "coordinates": [incident.lon, incident.lat]},
                "properties": properties,
            }
        )
    document = {"type": "FeatureCollection", "name": "danang_traffic_police_incidents", "features": features}
    return json_bytes(document), GEOJSON
