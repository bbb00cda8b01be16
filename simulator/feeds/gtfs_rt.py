"""The bus operator's GTFS-Realtime VehiclePositions feed: one binary FeedMessage, every bus in service."""

from __future__ import annotations

from datetime import datetime

from google.transit import gtfs_realtime_pb2

from simulator.city import SimCity
from simulator.feeds.common import FeedRequest

CONTENT_TYPE = "application/x-protobuf"
_STATUS = gtfs_realtime_pb2.VehiclePosition.VehicleStopStatus
_OCCUPANCY = gtfs_realtime_pb2.VehiclePosition.OccupancyStatus


def render(city: SimCity, now: datetime, request: FeedRequest) -> tuple[bytes, str]:
    message = gtfs_realtime_pb2.FeedMessage()
    message.header.gtfs_realtime_version = "2.0"
    message.header.incrementality = gtfs_realtime_pb2.FeedHeader.FULL_DATASET
    message.header.timestamp = int(now.timestamp())
    for state in sorted(city.vehicles(now), key=lambda s: s.bus.vehicle_id):
        entity = message.entity.add()
        entity.id = state.bus.vehicle_id
        vehicle = entity.vehicle
        vehicle.trip.trip_id = state.trip_id
        vehicle.trip.route_id = state.route.id
        vehicle.trip.direction_id = state.direction_id
        vehicle.vehicle.id = state.bus.vehicle_id
        vehicle.vehicle.label = state.bus.label
        vehicle.vehicle.license_plate = state.bus.license_plate
        vehicle.position.latitude = state.lat
        vehicle.position.longitude = state.lon
        vehicle.position.bearing = state.bearing
        vehicle.position.speed = state.speed_mps
        vehicle.current_stop_sequence = state.stop_sequence
        vehicle.stop_id = state.stop_id
        vehicle.current_status = _STATUS.Value("STOPPED_AT" if state.stopped else "IN_TRANSIT_TO")
        vehicle.timestamp = int(state.timestamp.timestamp())
        vehicle.occupancy_status = _OCCUPANCY.Value(state.occupancy)
    # deterministic serialisation: same city and time, same bytes
    return message.SerializeToString(deterministic=True), CONTENT_TYPE
