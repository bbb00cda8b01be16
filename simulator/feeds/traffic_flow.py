"""The transport department's NGSI-LD broker: a TrafficFlowObserved entity per detector, updated every 5 min.

Entities follow the FIWARE Smart Data Model (dataModel.Transportation/TrafficFlowObserved): intensity in
vehicles per hour over the window dateObservedFrom..dateObservedTo, averageVehicleSpeed in km/h (KMH),
occupancy 0..1, congested. Served normalized, or keyValues with `options=keyValues`.
"""

from __future__ import annotations

from datetime import datetime

from simulator.city import SimCity
from simulator.feeds.common import FeedRequest
from simulator.feeds.ngsi import Entity, address, point, prop, relationship, render_entities, when
from simulator.geography import district_of, slug
from simulator.traffic import TrafficFlow, detectors, read_detector

ENTITY_TYPE = "TrafficFlowObserved"
CONTEXT = "https://raw.githubusercontent.com/smart-data-models/dataModel.Transportation/master/context.jsonld"


def render(city: SimCity, now: datetime, request: FeedRequest) -> tuple[bytes, str]:
    entities = [_entity(read_detector(city, detector, now)) for detector in detectors(city)]
    return render_entities(entities, ENTITY_TYPE, CONTEXT, request)


def _entity(flow: TrafficFlow) -> Entity:
    detector = flow.detector
    district = district_of(detector.lon, detector.lat) or ""
    return {
        "id": f"urn:ngsi-ld:TrafficFlowObserved:danang:{detector.id}",
        "type": ENTITY_TYPE,
        "name": prop(detector.name),
        "address": address(detector.street, district),
        "location": point(detector.lon, detector.lat),
        "laneDirection": prop("forward"),
        "dateObserved": when(flow.window_end),
        "dateObservedFrom": when(flow.window_start),
        "dateObservedTo": when(flow.window_end),
        "intensity": prop(flow.intensity_veh_h, unit_code="E32"),
        "averageVehicleSpeed": prop(flow.average_speed_kmh, unit_code="KMH"),
        "occupancy": prop(flow.occupancy),
        "congested": prop(flow.congested),
        "refRoadSegment": relationship(f"urn:ngsi-ld:RoadSegment:danang:{slug(detector.street)}"),
    }
