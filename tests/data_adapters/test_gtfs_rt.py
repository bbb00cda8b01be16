"""Tests of the GTFS-Realtime reader: binary, JSON and text-format FeedMessages; vehicles, trips and alerts."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from google.transit import gtfs_realtime_pb2 as rt

from data_adapters.base import FeedContext, PayloadError, get_reader
from data_adapters.gtfs_rt import GtfsRealtimeReader
from ioc.model import Batch, Severity

FIXTURES = Path(__file__).parents[1] / "fixtures" / "gtfs-rt"
FEED = FeedContext(name="bus-vehicles", agency="danang-bus", sector="transport")


def parse(payload: bytes, feed: FeedContext = FEED) -> Batch:
    return GtfsRealtimeReader().parse(payload, feed)


def fixture(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def feed_message(timestamp: int = 1714550400) -> rt.FeedMessage:
    message = rt.FeedMessage()
    message.header.gtfs_realtime_version = "2.0"
    message.header.incrementality = rt.FeedHeader.FULL_DATASET
    message.header.timestamp = timestamp
    return message


def da_nang_bus(message: rt.FeedMessage, entity_id: str = "bus-07", **position: float) -> rt.VehiclePosition:
    vehicle = message.entity.add(id=entity_id).vehicle
    vehicle.trip.trip_id = "R05-0715"
    vehicle.trip.route_id = "R05"
    vehicle.trip.direction_id = 1
    vehicle.vehicle.id = "xe-43B01234"
    vehicle.vehicle.label = "R05 Xe 12"
    vehicle.vehicle.license_plate = "43B-012.34"
    vehicle.position.latitude = position.get("lat", 16.0678)
    vehicle.position.longitude = position.get("lon", 108.2208)
    vehicle.position.bearing = 87.0
    vehicle.position.speed = position.get("speed", 10.0)
    vehicle.current_status = rt.VehiclePosition.IN_TRANSIT_TO
    vehicle.occupancy_status = rt.VehiclePosition.STANDING_ROOM_ONLY
    vehicle.timestamp = 1714550395
    return vehicle


# --- the published samples -----------------------------------------------------------------------------


def test_caltrain_vehicle_positions() -> None:
    raw = fixture("caltrain-vehicle-positions.pb")
    source = rt.FeedMessage.FromString(raw)
    batch = parse(raw)
    assert len(batch.entities) == len(source.entity) == 14
    first = batch.entities[0]
    assert first.id == f"urn:ioc:danang:bus-vehicles:{source.entity[0].vehicle.vehicle.id}"
    assert first.type == "TransitVehicle"
    assert first.location == pytest.approx((-121.99604, 37.37046), abs=1e-5)
    assert first.attributes["route_id"] == "L1"
    assert first.attributes["direction_id"] == 1
    assert first.observed_at == datetime.fromtimestamp(1699405549, UTC)
    assert first.observed_at.tzinfo is not None
    assert batch.observations == []  # Caltrain publishes no speed


@pytest.mark.parametrize("stem", ["caltrain-vehicle-positions", "caltrain-trip-updates", "bart-alerts"])
def test_json_rendering_reads_like_the_binary(stem: str) -> None:
    from_binary = parse(fixture(f"{stem}.pb")).to_records()
    from_json = parse(fixture(f"{stem}.pb.json")).to_records()
    assert from_json == from_binary
    assert from_binary


def test_caltrain_trip_updates() -> None:
    raw = fixture("caltrain-trip-updates.pb")
    source = rt.FeedMessage.FromString(raw)
    batch = parse(raw)
    assert len(batch.entities) == len(source.entity)
    assert {entity.type for entity in batch.entities} == {"TripUpdate"}
    first = batch.entities[0]
    assert first.id == "urn:ioc:danang:bus-vehicles:trip:124"
    assert first.location is None
    assert first.attributes["start_date"] == "20231107"
    assert first.attributes["next_stop_id"] == source.entity[0].trip_update.stop_time_update[0].stop_id
    assert first.observed_at == datetime.fromtimestamp(source.entity[0].trip_update.timestamp, UTC)
    # Caltrain states predicted times, not delays: no delay is made up
    assert "delay_s" not in first.attributes and batch.observations == []


def test_spec_text_format_trip_updates() -> None:
    batch = parse(fixture("spec-trip-updates-full.asciipb"))
    delays = {entity.attributes["trip_id"]: entity.attributes["delay_s"] for entity in batch.entities}
    assert delays == {"trip-1": 5, "frequency-expanded-trip": -2}
    observation = next(obs for obs in batch.observations if obs.value == -2)
    assert (observation.metric, observation.unit) == ("delay_s", "s")
    assert observation.time == datetime.fromtimestamp(1284457468, UTC)


def test_bart_alert_is_an_event() -> None:
    batch = parse(fixture("bart-alerts.pb"))
    (alert,) = batch.events
    assert alert.id == "urn:ioc:danang:bus-vehicles:BSA_187874"
    assert alert.type == "TransitServiceAlert"
    assert alert.headline.startswith("There is a major delay at Montgomery St.")
    assert alert.headline == alert.headline.strip()
    assert alert.severity is Severity.UNKNOWN  # BART states no severity_level
    assert batch.entities == []


@pytest.mark.parametrize("name", sorted(path.name for path in FIXTURES.iterdir()))
def test_every_sample_through_the_registry(name: str) -> None:
    batch = get_reader("gtfs-rt").parse(fixture(name), FeedContext.for_test("gtfs-rt"))
    assert batch.entities or batch.events


# --- the demo city's buses -----------------------------------------------------------------------------


def test_da_nang_bus() -> None:
    message = feed_message()
    da_nang_bus(message)
    batch = parse(message.SerializeToString())
    (bus,) = batch.entities
    assert bus.id == "urn:ioc:danang:bus-vehicles:xe-43B01234"  # the vehicle's id, not the FeedEntity's
    assert bus.location == pytest.approx((108.2208, 16.0678), abs=1e-5)  # float32 on the wire
    assert bus.name == "R05 Xe 12"
    assert bus.attributes["license_plate"] == "43B-012.34"
    assert bus.attributes["speed"] == bus.attributes["speed_kmh"] == pytest.approx(36.0)
    assert bus.attributes["bearing"] == 87.0
    assert bus.attributes["occupancy"] == "standing_room_only"
    assert bus.attributes["current_status"] == "in_transit_to"
    (speed,) = batch.observations
    assert (speed.metric, speed.unit) == ("speed_kmh", "km/h")
    assert speed.value == pytest.approx(36.0)
    assert speed.time == datetime.fromtimestamp(1714550395, UTC)


def test_mapping_sets_the_vehicle_type() -> None:
    message = feed_message()
    da_nang_bus(message)
    feed = FeedContext(name="bus-vehicles", agency="danang-bus", sector="transport", mapping={"entity_type": "Bus"})
    assert parse(message.SerializeToString(), feed).entities[0].type == "Bus"


def test_vehicle_without_a_fix_has_no_location() -> None:
    message = feed_message()
    da_nang_bus(message, lat=0.0, lon=0.0)
    assert parse(message.SerializeToString()).entities[0].location is None


def test_deleted_entities_are_skipped() -> None:
    message = feed_message()
    da_nang_bus(message)
    message.entity.add(id="gone", is_deleted=True).vehicle.vehicle.id = "old"
    assert [entity.attributes["vehicle_id"] for entity in parse(message.SerializeToString()).entities] == [
        "xe-43B01234"
    ]


def test_the_newer_of_two_reports_of_one_vehicle_wins() -> None:
    message = feed_message()
    da_nang_bus(message, "a", speed=5.0).timestamp = 1714550300
    da_nang_bus(message, "b", speed=8.0).timestamp = 1714550390
    batch = parse(message.SerializeToString())
    assert len(batch.entities) == 1
    assert [obs.value for obs in batch.observations] == [pytest.approx(28.8)]


def test_trip_delay_when_no_stop_states_one() -> None:
    message = feed_message()
    update = message.entity.add(id="t1").trip_update
    update.trip.trip_id = "R05-0715"
    update.delay = 240
    update.stop_time_update.add(stop_sequence=4, stop_id="DN-0042")
    (trip,) = parse(message.SerializeToString()).entities
    assert trip.attributes["delay_s"] == 240
    assert trip.observed_at == datetime.fromtimestamp(1714550400, UTC)  # the header's time


@pytest.mark.parametrize(
    ("level", "severity"),
    [
        (rt.Alert.INFO, Severity.MINOR),
        (rt.Alert.WARNING, Severity.MODERATE),
        (rt.Alert.SEVERE, Severity.SEVERE),
        (rt.Alert.UNKNOWN_SEVERITY, Severity.UNKNOWN),
    ],
)
def test_alert_severity_on_the_cap_scale(level: int, severity: Severity) -> None:
    message = feed_message()
    message.entity.add(id="a1").alert.severity_level = level
    assert parse(message.SerializeToString()).events[0].severity is severity


def test_alert_speaks_vietnamese_when_it_can() -> None:
    message = feed_message()
    alert = message.entity.add(id="flood-R05").alert
    alert.header_text.translation.add(text="Route R05 diverted", language="en")
    alert.header_text.translation.add(text="Tuyến R05 đi đường vòng", language="vi-VN")
    alert.description_text.translation.add(text="Đường Nguyễn Văn Linh ngập", language="vi")
    alert.effect = rt.Alert.DETOUR
    alert.active_period.add(start=1714550400, end=1714564800)
    alert.active_period.add(start=1714557600, end=1714572000)
    (event,) = parse(message.SerializeToString()).events
    assert event.headline == "Tuyến R05 đi đường vòng"
    assert event.description == "Đường Nguyễn Văn Linh ngập"
    assert event.onset == datetime.fromtimestamp(1714550400, UTC)
    assert event.expires == datetime.fromtimestamp(1714572000, UTC)


def test_open_ended_alert_does_not_expire() -> None:
    message = feed_message()
    alert = message.entity.add(id="a1").alert
    alert.active_period.add(start=1714550400)
    alert.effect = rt.Alert.NO_SERVICE
    (event,) = parse(message.SerializeToString()).events
    assert event.expires is None
    assert event.headline == "No service"  # no header_text: the effect says what happens


# --- refused and empty payloads ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "payload",
    [
        b"",  # no header at all
        b"{}",
        b"<html>502 Bad Gateway</html>",
        b'{"header": 5}',
        b'{"header": {"gtfsRealtimeVersion": "2.0"}, "entity": [{"id": "1", "vehicle": {"position": {"latitude": "north"}}}]}',
        b"header { gtfs_realtime_version: 2.0 }",  # a number where text belongs
        b'header { gtfs_realtime_version: "2.0" }\nentity { id: "1" ',
    ],
)
def test_wrong_payloads_are_refused(payload: bytes) -> None:
    with pytest.raises(PayloadError, match="not a GTFS-Realtime FeedMessage"):
        parse(payload)


def test_agency_extensions_and_a_missing_version_are_tolerated() -> None:
    text = (
        b'header { timestamp: 1714550400 [transit_realtime.nyct_feed_header] { nyct_subway_version: "1.0" } }\n'
        b'entity { id: "1" vehicle { vehicle { id: "xe-1" } position { latitude: 16.05 longitude: 108.2 } } }\n'
    )
    (bus,) = parse(text).entities
    assert bus.location == pytest.approx((108.2, 16.05), abs=1e-5)


def test_vehicle_without_any_id_is_refused() -> None:
    message = feed_message()
    position = message.entity.add().vehicle.position  # no FeedEntity id, no vehicle id: nothing to call it
    position.latitude, position.longitude = 16.0, 108.2
    with pytest.raises(PayloadError, match="empty id"):
        parse(message.SerializePartialToString())


def test_speed_that_is_not_a_number_is_refused() -> None:
    message = feed_message()
    da_nang_bus(message, speed=float("nan"))
    with pytest.raises(PayloadError, match=r"entity\[0\]\.vehicle\.position\.speed"):
        parse(message.SerializeToString())


def test_position_off_the_globe_is_refused() -> None:
    message = feed_message()
    da_nang_bus(message, lat=116.0)
    with pytest.raises(PayloadError, match=r"entity\[0\]\.vehicle\.position"):
        parse(message.SerializeToString())


@pytest.mark.parametrize(
    "payload",
    [
        feed_message().SerializeToString(),
        json.dumps({"header": {"gtfsRealtimeVersion": "2.0", "timestamp": "1714550400"}}).encode(),
        b'# nothing running tonight\nheader {\n  gtfs_realtime_version: "2.0"\n}\n',
    ],
)
def test_message_without_entities_is_an_empty_batch(payload: bytes) -> None:
    batch = parse(payload)
    assert batch.entities == [] and batch.observations == [] and batch.events == []


def test_json_with_a_byte_order_mark_reads_like_without() -> None:
    payload = (FIXTURES / "caltrain-vehicle-positions.pb.json").read_bytes()
    feed = FeedContext.for_test("gtfs-rt")
    plain = GtfsRealtimeReader().parse(payload, feed)
    marked = GtfsRealtimeReader().parse(b"\xef\xbb\xbf" + payload, feed)
    assert marked.to_records() == plain.to_records() and plain.record_count
