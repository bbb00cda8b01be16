"""The bus operator's GTFS-Realtime VehiclePositions feed: a valid FeedMessage with every bus in service."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

from google.protobuf.message import Message
from google.transit import gtfs_realtime_pb2

from ioc.areas import area_index
from ioc.config import Settings
from simulator.city import SimCity
from simulator.feeds import FeedRequest
from simulator.feeds.gtfs_rt import render

from ..conftest import MORNING

SPEC = Path(__file__).parents[2] / "fixtures" / "gtfs-rt"
PLATE = re.compile(r"^43B-\d{3}\.\d{2}$")


def feed(city: SimCity, now: datetime) -> gtfs_realtime_pb2.FeedMessage:
    body, content_type = render(city, now, FeedRequest())
    assert content_type == "application/x-protobuf"
    message = gtfs_realtime_pb2.FeedMessage()
    message.ParseFromString(body)
    return message


def field_paths(message: Message, prefix: str = "") -> set[str]:
    paths = set()
    for descriptor, value in message.ListFields():
        path = prefix + descriptor.name
        paths.add(path)
        if isinstance(value, Message):
            paths |= field_paths(value, path + ".")
    return paths


def test_header_is_a_full_dataset_of_version_2(city: SimCity) -> None:
    message = feed(city, MORNING)
    assert message.header.gtfs_realtime_version == "2.0"
    assert message.header.incrementality == gtfs_realtime_pb2.FeedHeader.FULL_DATASET
    assert message.header.timestamp == int(MORNING.timestamp())


def test_one_vehicle_position_per_bus_in_service(city: SimCity) -> None:
    message = feed(city, MORNING)
    ids = [e.id for e in message.entity]
    assert len(ids) == len(set(ids)) == sum(len(r.buses) for r in city.bus_routes)
    routes = {r.id for r in city.bus_routes}
    for entity in message.entity:
        vehicle = entity.vehicle
        assert entity.HasField("vehicle") and vehicle.vehicle.id == entity.id
        assert vehicle.trip.route_id in routes and vehicle.trip.trip_id
        assert vehicle.trip.direction_id in (0, 1)
        assert vehicle.vehicle.label and PLATE.match(vehicle.vehicle.license_plate)
        assert 0 <= vehicle.position.bearing < 360 and vehicle.position.speed >= 0
        assert vehicle.timestamp <= message.header.timestamp
        assert vehicle.current_status in (
            gtfs_realtime_pb2.VehiclePosition.STOPPED_AT,
            gtfs_realtime_pb2.VehiclePosition.IN_TRANSIT_TO,
        )
        assert vehicle.HasField("occupancy_status")


def test_carries_every_field_a_real_agency_feed_does(city: SimCity) -> None:
    real = gtfs_realtime_pb2.FeedMessage()
    real.ParseFromString((SPEC / "caltrain-vehicle-positions.pb").read_bytes())
    expected = field_paths(real.entity[0])
    for entity in feed(city, MORNING).entity:
        assert expected <= field_paths(entity)


def test_fewer_buses_at_2am_than_at_8am(city: SimCity) -> None:
    # 02:00 and 08:00 on 13 June 2025 in Da Nang
    night = feed(city, datetime(2025, 6, 12, 19, 0, tzinfo=UTC))
    morning = feed(city, datetime(2025, 6, 13, 1, 0, tzinfo=UTC))
    assert 0 < len(night.entity) < len(morning.entity) / 3


def test_buses_are_inside_the_city(settings: Settings, city: SimCity) -> None:
    message = feed(city, MORNING + timedelta(minutes=17))
    points = [(e.vehicle.position.longitude, e.vehicle.position.latitude) for e in message.entity]
    assert None not in area_index(settings.city).assign(points)
