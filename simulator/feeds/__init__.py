"""The simulator's one registry of agency feeds: URL path -> render function.

Adding an agency is one module in this package with `render(city, now, request) -> (bytes, content_type)`
and one line below. The path is the one the agency's real server would use (an agency's own prefix where
several agencies speak the same standard, as each runs its own server), so an adapter pointed at the
simulator needs only the host changed to point at the agency.
"""

from __future__ import annotations

from simulator.feeds import (
    airport,
    ambulance,
    cap,
    fire_rescue,
    gbfs,
    gtfs_rt,
    gtfs_rt_alerts,
    gtfs_rt_trips,
    hospital_beds,
    hydromet,
    mqtt,
    open311,
    parking,
    police,
    power_outages,
    public_services,
    seaport,
    sensorthings,
    streetlights,
    tourism,
    traffic_cameras,
    traffic_flow,
    traffic_incidents,
    waste,
    water_quality,
)
from simulator.feeds.common import BadFeedRequest, FeedRender, FeedRequest

FEEDS: dict[str, FeedRender] = {
    "/sensorthings/v1.1/Things": sensorthings.render,
    "/open311/v2/requests.json": open311.render,
    "/open311/v2/services.json": open311.render_services,
    "/gtfs-rt/vehicle-positions.pb": gtfs_rt.render,
    "/gtfs-rt/trip-updates.pb": gtfs_rt_trips.render,
    "/gtfs-rt/service-alerts.pb": gtfs_rt_alerts.render,
    "/transport/ngsi-ld/v1/entities": traffic_flow.render,
    "/traffic-police/incidents.geojson": traffic_incidents.render,
    "/traffic-cameras/api/cameras": traffic_cameras.render,
    "/parking/ngsi-ld/v1/entities": parking.render,
    "/gbfs/3.0/gbfs.json": gbfs.render_discovery,
    "/gbfs/3.0/system_information.json": gbfs.render_system_information,
    "/gbfs/3.0/vehicle_types.json": gbfs.render_vehicle_types,
    "/gbfs/3.0/station_information.json": gbfs.render_station_information,
    "/gbfs/3.0/station_status.json": gbfs.render_station_status,
    "/gbfs/3.0/vehicle_status.json": gbfs.render_vehicle_status,
    "/water-quality/ngsi-ld/v1/entities": water_quality.render,
    "/hydromet/api/v1/observations": hydromet.render,
    "/mqtt/danang/drainage/flood": mqtt.render_flood_sensors,
    "/mqtt/danang/water/pressure": mqtt.render_pressure_sensors,
    "/cap/pctt/alerts.atom": cap.render,
    "/health/beds.csv": hospital_beds.render,
    "/115/api/dispatches": ambulance.render,
    "/114/incidents.geojson": fire_rescue.render,
    "/113/api/daily-stats": police.render,
    "/public-services/api/stats": public_services.render,
    "/power/api/outages": power_outages.render,
    "/sanitation/ngsi-ld/v1/entities": waste.render,
    "/streetlights/ngsi-ld/v1/entities": streetlights.render,
    "/tourism/visitors.csv": tourism.render,
    "/airport/api/arrivals": airport.render,
    "/seaport/api/vessels": seaport.render,
}

__all__ = ["FEEDS", "BadFeedRequest", "FeedRender", "FeedRequest"]
