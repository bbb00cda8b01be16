"""SimCity: a deterministic world from a seed, and believable state as a pure function of time."""

from __future__ import annotations

import statistics
from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest

from ioc.areas import area_index
from ioc.config import Settings
from ioc.privacy import scrub_text
from simulator.city import SimCity
from simulator.rhythm import local_hour
from simulator.scenario import Scenario
from simulator.transit import effective_hours

from .conftest import MORNING

# Midnight in Da Nang on 1 March 2025, as UTC
LOCAL_MIDNIGHT = datetime(2025, 2, 28, 17, 0, tzinfo=UTC)


def at_local(day: int, hour: float) -> datetime:
    return LOCAL_MIDNIGHT + timedelta(days=day, hours=hour)


def test_local_midnight_helper_is_midnight_in_da_nang() -> None:
    assert local_hour(at_local(0, 0)) == 0
    assert local_hour(at_local(3, 8.5)) == 8.5


# --- the static world ------------------------------------------------------------------------------------


def world(city: SimCity) -> tuple:
    return (
        [(s.code, s.name, s.lon, s.lat, s.pm25_base) for s in city.stations],
        [(r.id, [(b.vehicle_id, b.license_plate, b.offset_km) for b in r.buses]) for r in city.bus_routes],
        {d: [(a.street, a.number, a.lon, a.lat) for a in book] for d, book in city.address_book.items()},
    )


def test_same_seed_builds_the_same_city() -> None:
    assert world(SimCity(7)) == world(SimCity(7))


def test_a_different_seed_builds_a_different_city() -> None:
    one, other = SimCity(7), SimCity(8)
    assert [(s.lon, s.lat) for s in one.stations] != [(s.lon, s.lat) for s in other.stations]
    plates = {b.license_plate for r in one.bus_routes for b in r.buses}
    assert plates != {b.license_plate for r in other.bus_routes for b in r.buses}


def test_stations_cover_every_district_with_vietnamese_names(city: SimCity) -> None:
    assert 12 <= len(city.stations) <= 16
    assert {s.district for s in city.stations} == {d.name for d in city.districts}
    assert len({s.name for s in city.stations}) == len(city.stations)
    assert all(s.name.startswith("Trạm quan trắc ") for s in city.stations)
    assert any("Hòa Khánh" in s.name and s.industrial for s in city.stations)


@pytest.mark.parametrize("seed", [1, 42, 2025])
def test_stations_stand_inside_their_district(settings: Settings, seed: int) -> None:
    stations = SimCity(seed).stations
    placed = area_index(settings.city).assign([(s.lon, s.lat) for s in stations])
    assert placed == [s.district for s in stations]


def test_bus_routes_and_fleet(city: SimCity) -> None:
    assert 5 <= len(city.bus_routes) <= 6
    for route in city.bus_routes:
        assert 4 <= len(route.buses) <= 10
        assert route.length_km > 5
    plates = [b.license_plate for r in city.bus_routes for b in r.buses]
    assert len(set(plates)) == len(plates)
    assert all(p.startswith("43B-") and len(p) == len("43B-012.34") for p in plates)


def test_bus_corridors_run_through_the_city(settings: Settings, city: SimCity) -> None:
    index = area_index(settings.city)
    for route in city.bus_routes:
        samples = [route.point_at(route.length_km * k / 50)[0] for k in range(51)]
        assert None not in index.assign(samples), route.id


def test_service_types_have_vietnamese_names(city: SimCity) -> None:
    names = {s.name for s in city.service_types}
    assert len(city.service_types) == 6
    assert (
        any("Đèn" in n for n in names) and any("Ngập" in n for n in names) and any("Cây" in n for n in names)
    )


# --- air quality -----------------------------------------------------------------------------------------


def test_pm25_is_higher_in_the_rush_hours_than_at_3am(quiet_city: SimCity) -> None:
    rush, night = [], []
    for day in range(14):
        for hour in (7.0, 7.5, 8.0, 17.5, 18.0):
            rush.extend(r.values["pm25"] for r in quiet_city.air_quality(at_local(day, hour)))
        night.extend(r.values["pm25"] for r in quiet_city.air_quality(at_local(day, 3.0)))
    assert statistics.mean(rush) > 1.3 * statistics.mean(night)


@pytest.mark.parametrize("seed", [0, 42, 1234])
def test_the_industrial_zone_station_is_above_50_at_every_hour(seed: int) -> None:
    city = SimCity(seed)
    industrial = [s for s in city.stations if s.industrial]
    assert len(industrial) == 1
    for day in range(7):
        for minute in range(0, 24 * 60, 20):
            readings = city.air_quality(at_local(day, minute / 60))
            [reading] = [r for r in readings if r.station.industrial]
            assert reading.values["pm25"] > 50, (day, minute)


def test_most_stations_stay_below_50(quiet_city: SimCity) -> None:
    for day in range(3):
        for hour in range(24):
            readings = quiet_city.air_quality(at_local(day, hour))
            above = [r for r in readings if r.values["pm25"] > 50]
            assert len(above) <= 3
            assert any(r.station.industrial for r in above)


def test_readings_have_every_metric_in_believable_ranges(quiet_city: SimCity) -> None:
    for hour in range(0, 24, 3):
        for reading in quiet_city.air_quality(at_local(0, hour)):
            v = reading.values
            assert set(v) == {"pm25", "pm10", "no2", "temperature", "humidity"}
            assert 0 < v["pm25"] < v["pm10"] < 250
            assert 0 < v["no2"] < 150
            assert 15 < v["temperature"] < 40
            assert 35 <= v["humidity"] <= 100


def test_a_reading_is_the_same_whatever_was_asked_before() -> None:
    moment = at_local(2, 9.25)
    fresh = SimCity(5)
    used = SimCity(5)
    for day in range(3):
        used.air_quality(at_local(day, 4))
    assert [r.values for r in fresh.air_quality(moment)] == [r.values for r in used.air_quality(moment)]


def test_rain_cools_the_air_and_raises_humidity() -> None:
    wet = SimCity(42, scenario=Scenario(MORNING))
    dry = SimCity(42)
    moment = MORNING + timedelta(hours=1)
    for w, d in zip(wet.air_quality(moment), dry.air_quality(moment), strict=True):
        assert w.values["humidity"] > d.values["humidity"]
        assert w.values["temperature"] < d.values["temperature"]


# --- buses -----------------------------------------------------------------------------------------------


def test_fewer_buses_at_2am_than_at_8am(city: SimCity) -> None:
    for day in range(3):
        night = len(city.vehicles(at_local(day, 2)))
        morning = len(city.vehicles(at_local(day, 8)))
        assert night < morning
        assert morning == sum(len(r.buses) for r in city.bus_routes)


def test_buses_move_along_their_routes(settings: Settings, city: SimCity) -> None:
    before = {v.bus.vehicle_id: v for v in city.vehicles(at_local(0, 10))}
    after = {v.bus.vehicle_id: v for v in city.vehicles(at_local(0, 10) + timedelta(minutes=5))}
    moved = [bid for bid in before if (before[bid].lon, before[bid].lat) != (after[bid].lon, after[bid].lat)]
    assert len(moved) == len(before)
    placed = area_index(settings.city).assign([(v.lon, v.lat) for v in after.values()])
    assert None not in placed


def test_buses_are_slower_in_the_rush_hour() -> None:
    ten_minutes = 600

    def covered(hour: float) -> float:
        start = at_local(0, hour).timestamp() + 7 * 3600
        return effective_hours(start + ten_minutes) - effective_hours(start)

    assert covered(7.2) < 0.7 * covered(11.0)
    assert covered(17.7) < 0.7 * covered(14.0)


def test_bus_state_is_consistent(city: SimCity) -> None:
    moment = at_local(1, 8)
    for state in city.vehicles(moment):
        assert state.direction_id in (0, 1)
        assert 0 <= state.bearing < 360
        assert moment - timedelta(seconds=15) <= state.timestamp <= moment
        assert (state.speed_mps == 0) == state.stopped
        assert state.speed_mps < 20  # m/s: a city bus, not a train
        assert state.trip_id.startswith(state.route.id)


# --- citizen requests ------------------------------------------------------------------------------------


def test_requests_arrive_more_in_the_daytime(quiet_city: SimCity) -> None:
    by_hour: Counter[int] = Counter()
    requests = quiet_city.citizen_requests(at_local(0, 0), at_local(7, 0) - timedelta(seconds=1))
    for r in requests:
        by_hour[int(local_hour(r.requested_at))] += 1
    day = sum(by_hour[h] for h in range(9, 17)) / 8
    night = sum(by_hour[h] for h in range(1, 5)) / 4
    assert day > 3 * night
    assert 50 < len(requests) / 7 < 300  # a day's reports to a city hotline


def test_requests_are_the_same_whatever_was_asked_before() -> None:
    window = (at_local(3, 0), at_local(4, 0))
    fresh = SimCity(11).citizen_requests(*window)
    used_city = SimCity(11)
    used_city.citizen_requests(at_local(0, 0), at_local(5, 0))
    assert fresh == used_city.citizen_requests(*window)
    assert fresh  # a day in a city always has reports


def test_requests_move_from_open_to_closed_and_never_reopen(quiet_city: SimCity) -> None:
    now = at_local(5, 12)
    requests = quiet_city.citizen_requests(now - timedelta(days=1), now)
    assert any(r.status(now) == "open" for r in requests)
    assert any(r.status(now) == "closed" for r in requests)
    checkpoints = [now + timedelta(hours=h) for h in range(0, 24 * 14, 6)]
    for r in requests:
        statuses = [r.status(t) for t in checkpoints]
        assert statuses == sorted(statuses, key=["open", "closed"].index), r.id
        assert statuses[-1] == "closed"
        assert r.requested_at < r.acknowledged_at
        assert r.requested_at < r.closed_at


def test_rain_brings_flooding_reports() -> None:
    rainy = SimCity(42, scenario=Scenario(MORNING))
    dry = SimCity(42)
    window = (MORNING + timedelta(minutes=30), MORNING + timedelta(hours=3, minutes=30))
    flooding = sum(r.service.code == "NGAP" for r in rainy.citizen_requests(*window))
    usual = sum(r.service.code == "NGAP" for r in dry.citizen_requests(*window))
    assert flooding > usual + 10


def test_request_coordinates_fall_inside_their_district(settings: Settings, quiet_city: SimCity) -> None:
    requests = quiet_city.citizen_requests(at_local(0, 0), at_local(3, 0))
    placed = area_index(settings.city).assign([(r.address.lon, r.address.lat) for r in requests])
    assert placed == [r.address.district for r in requests]


def test_raw_requests_hold_reporters_personal_data(quiet_city: SimCity) -> None:
    requests = quiet_city.citizen_requests(at_local(0, 0), at_local(3, 0))
    reporters = [r.reporter for r in requests if r.reporter is not None]
    assert len(reporters) > len(requests) / 2
    assert any(p.email and "@" in p.email for p in reporters)
    assert any(p.phone and p.phone.isdigit() and len(p.phone) == 10 for p in reporters)
    assert all(p.first_name and p.last_name for p in reporters)
    # some people leave their number in the text: what the readers' scrubbing must catch
    with_number = [r for r in requests if scrub_text(r.description) != r.description]
    assert 0 < len(with_number) < len(requests)


def test_a_request_can_be_found_by_its_id(quiet_city: SimCity) -> None:
    requests = quiet_city.citizen_requests(at_local(1, 0), at_local(2, 0))
    for r in requests[:20]:
        assert quiet_city.citizen_request(r.id) == r
    assert quiet_city.citizen_request("not-an-id") is None
    assert quiet_city.citizen_request("PA-250301-0399") is None
