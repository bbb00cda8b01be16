"""The bus operator's GTFS-Realtime TripUpdates feed: every trip in progress, its delay and its next stops."""

from __future__ import annotations

from datetime import datetime

from google.transit import gtfs_realtime_pb2

from ioc.i18n import CITY_ZONE
from simulator.bus_service import trip_delays
from simulator.city import SimCity
from simulator.feeds.common import FeedRequest
from simulator.feeds.gtfs_rt import CONTENT_TYPE

_SCHEDULED = gtfs_realtime_pb2.TripDescriptor.ScheduleRelationship.Value("SCHEDULED")


def render(city: SimCity, now: datetime, request: FeedRequest) -> tuple[bytes, str]:
    message = gtfs_realtime_pb2.FeedMessage()
    message.header.gtfs_realtime_version = "2.0"
    message.header.incrementality = gtfs_realtime_pb2.FeedHeader.FULL_DATASET
    message.header.timestamp = int(now.timestamp())
    for prediction in sorted(trip_delays(city, now), key=lambda p: p.state.trip_id):
        state = prediction.state
        entity = message.entity.add()
        entity.id = f"tu-{state.trip_id}"
        update = entity.trip_update
        update.trip.trip_id = state.trip_id
        update.trip.route_id = state.route.id
        update.trip.direction_id = state.direction_id
        update.trip.start_date = state.timestamp.astimezone(CITY_ZONE).strftime("%Y%m%d")
        update.trip.schedule_relationship = _SCHEDULED
        update.vehicle.id = state.bus.vehicle_id
        update.vehicle.label = state.bus.label
        update.timestamp = int(state.timestamp.timestamp())
        update.delay = prediction.delay_s
        for stop in prediction.next_stops:
            stop_time = update.stop_time_update.add()
            stop_time.stop_sequence = stop.stop_sequence
            stop_time.stop_id = stop.stop_id
            stop_time.arrival.delay = prediction.delay_s
            stop_time.arrival.time = int(stop.arrival.timestamp())
    return message.SerializeToString(deterministic=True), CONTENT_TYPE
