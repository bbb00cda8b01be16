"""The believable city, seen through the agencies' feeds as the IOC reads them: the day's rhythm, the rain,
the floods it brings, the typhoon warning's life, and the agencies reacting."""

from __future__ import annotations

import statistics
from datetime import UTC, datetime, timedelta

import pytest

from data_adapters.base import get_reader
from ioc.model import Severity
from ioc.runner import feed_context
from simulator.arrivals import arrivals
from simulator.city import SimCity
from simulator.geography import distance_km
from simulator.scenario import DEFAULT_TIMELINE, Scenario
from simulator.traffic import incident_rate

from .agency_feeds import feed_named, fetch, read
from .conftest import MORNING
from .test_feeds_with_readers import PHONE

# 1 March 2025, 00:00 in Da Nang: a quiet day (no scenario) to look at the daily rhythm
LOCAL_MIDNIGHT = datetime(2025, 2, 28, 17, 0, tzinfo=UTC)


def at_local(day: int, hour: float) -> datetime:
    return LOCAL_MIDNIGHT + timedelta(days=day, hours=hour)


def metric(city: SimCity, feed: str, moment: datetime, name: str) -> list[float]:
    return [float(e.attributes[name]) for e in read(feed_named(feed), city, moment).entities if name in e.attributes]


# --- the rain and the floods --------------------------------------------------------------------------------


def test_flood_sensors_rise_with_the_rain_and_fall_after_it(city: SimCity) -> None:
    before = metric(city, "flood-sensors", MORNING, "water_level_cm")
    soon = metric(city, "flood-sensors", MORNING + timedelta(minutes=12), "water_level_cm")
    height = metric(city, "flood-sensors", MORNING + timedelta(hours=1), "water_level_cm")
    after = metric(city, "flood-sensors", MORNING + timedelta(hours=6), "water_level_cm")
    assert max(before) < 5 and max(after) < 5
    # within the first minutes of the demo a new user sees the water rise
    assert max(soon) > max(before)
    assert max(height) > 20 > max(before)
    assert statistics.mean(height) > statistics.mean(before)


def test_rain_gauges_read_the_scenarios_rain(city: SimCity) -> None:
    assert max(metric(city, "weather-stations", MORNING, "rainfall")) == 0
    assert max(metric(city, "weather-stations", MORNING + timedelta(hours=1), "rainfall")) > 20


def test_rain_brings_at_least_as_many_traffic_incidents(city: SimCity, quiet_city: SimCity) -> None:
    since, until = MORNING, MORNING + timedelta(hours=3)
    rainy = arrivals(city, "traffic-incidents", since, until, lambda t: incident_rate(city, t))
    dry = arrivals(quiet_city, "traffic-incidents", since, until, lambda t: incident_rate(quiet_city, t))
    assert len(rainy) > len(dry)
    # and in every ten minutes, never fewer
    for start in range(0, 180, 10):
        window = (since + timedelta(minutes=start), since + timedelta(minutes=start + 10))
        assert sum(window[0] <= a.at < window[1] for a in rainy) >= sum(window[0] <= a.at < window[1] for a in dry)


def test_the_police_map_shows_more_incidents_in_the_rain(city: SimCity, quiet_city: SimCity) -> None:
    feed = feed_named("traffic-incidents")

    def seen(one: SimCity) -> set[str]:
        ids: set[str] = set()
        for minutes in range(20, 200, 10):
            ids |= {e.id for e in read(feed, one, MORNING + timedelta(minutes=minutes)).events}
        return ids

    rainy, dry = seen(city), seen(quiet_city)
    assert len(rainy) > len(dry)
    flooding = [
        e for m in (60, 90) for e in read(feed, city, MORNING + timedelta(minutes=m)).events if e.type == "flooding"
    ]
    assert flooding, "heavy rain floods streets on the police map"


def test_the_scenarios_collision_is_on_the_police_map_and_slows_the_street(quiet_city: SimCity) -> None:
    accident = next(i for i in DEFAULT_TIMELINE if i.kind == "traffic_accident")
    assert accident.location is not None
    # the collision alone, without the rain, so the slowdown is the collision's
    crash_city = SimCity(42, scenario=Scenario(MORNING, (accident,)))
    during = MORNING + accident.starts_after + timedelta(minutes=10)
    events = read(feed_named("traffic-incidents"), crash_city, during).events
    on_map = [e for e in events if accident.id in e.id]
    assert len(on_map) == 1 and on_map[0].location == accident.location
    assert not any(accident.id in e.id for e in read(feed_named("traffic-incidents"), crash_city, MORNING).events)

    def speeds(one: SimCity) -> dict[str, float]:
        flows = read(feed_named("traffic-flow"), one, during).entities
        return {e.id: float(e.attributes["average_speed"]) for e in flows
                if e.location and distance_km(e.location, accident.location) < 1.0}

    near_crash, usual = speeds(crash_city), speeds(quiet_city)
    assert near_crash and all(near_crash[d] < 0.6 * usual[d] for d in near_crash)


def test_flooded_streets_detour_the_buses(city: SimCity) -> None:
    feed = feed_named("bus-service-alerts")
    dry = read(feed, city, MORNING).events
    flooded = read(feed, city, MORNING + timedelta(hours=1)).events
    assert all("flood" not in e.id for e in dry)
    detours = [e for e in flooded if "flood" in e.id]
    assert detours and all(e.headline.startswith("Tuyến ") for e in detours)
    assert any(e.severity in (Severity.MODERATE, Severity.SEVERE) for e in detours)


def test_buses_run_later_in_the_rush_hour_and_in_the_rain(city: SimCity, quiet_city: SimCity) -> None:
    def delay(one: SimCity, moment: datetime) -> float:
        return statistics.mean(metric(one, "bus-trip-updates", moment, "delay_s"))

    assert delay(quiet_city, at_local(3, 7.5)) > delay(quiet_city, at_local(3, 11.0))
    rainy_hour = MORNING + timedelta(hours=1)
    assert delay(city, rainy_hour) > delay(quiet_city, rainy_hour)


def test_traffic_crawls_in_the_rush_hour_and_the_rain(city: SimCity, quiet_city: SimCity) -> None:
    def speed(one: SimCity, moment: datetime) -> float:
        return statistics.mean(metric(one, "traffic-flow", moment, "average_speed"))

    def flow(one: SimCity, moment: datetime) -> float:
        return statistics.mean(metric(one, "traffic-flow", moment, "intensity"))

    assert speed(quiet_city, at_local(2, 7.25)) < speed(quiet_city, at_local(2, 3.0))
    assert flow(quiet_city, at_local(2, 7.25)) > 3 * flow(quiet_city, at_local(2, 3.0))
    rainy_hour = MORNING + timedelta(hours=1)
    assert speed(city, rainy_hour) < speed(quiet_city, rainy_hour)


# --- the typhoon warning ---------------------------------------------------------------------------------


def test_the_typhoon_warning_is_issued_updated_and_cancelled(city: SimCity) -> None:
    feed = feed_named("civil-defence-warnings")
    warning = city.scenario.timeline()[0]
    assert warning.incident.kind == "typhoon_warning" and warning.updated is not None

    assert read(feed, city, MORNING).events == []
    issued = read(feed, city, warning.onset + timedelta(seconds=30)).events
    assert [e.severity for e in issued] == [Severity.SEVERE]
    assert issued[0].area is not None and issued[0].district is None  # the runner places it, not the reader
    assert issued[0].status == "actual" and issued[0].expires == warning.ends

    updated = read(feed, city, warning.updated + timedelta(minutes=1)).events
    assert [e.severity for e in updated] == [Severity.EXTREME]
    assert updated[0].id != issued[0].id

    cancelled = read(feed, city, warning.ends + timedelta(minutes=1)).events
    # the Cancel withdraws both the alert and its update, by their ids
    assert {e.id for e in cancelled} == {issued[0].id, updated[0].id}
    assert all(e.status == "cancelled" for e in cancelled)
    assert read(feed, city, warning.ends + timedelta(days=2)).events == []


def test_the_warning_arrives_within_the_first_minutes_of_the_demo() -> None:
    start = datetime(2026, 11, 27, 1, 0, tzinfo=UTC)
    city = SimCity(7, scenario=Scenario(start))
    events = read(feed_named("civil-defence-warnings"), city, start + timedelta(seconds=90)).events
    assert events and events[0].severity == Severity.SEVERE


def test_the_storm_cancels_flights_and_cuts_power(city: SimCity, quiet_city: SimCity) -> None:
    storm = MORNING + timedelta(hours=4)
    statuses = [e.attributes.get("status") for e in read(feed_named("airport-arrivals"), city, storm).entities]
    quiet = [e.attributes.get("status") for e in read(feed_named("airport-arrivals"), quiet_city, storm).entities]
    assert statuses.count("cancelled") > quiet.count("cancelled")

    def cut_off(one: SimCity) -> float:
        entities = read(feed_named("power-outages"), one, storm).entities
        return sum(float(e.attributes["customers_affected"]) for e in entities if e.attributes.get("state") == "active")

    assert cut_off(city) > cut_off(quiet_city)


# --- the day's rhythm ----------------------------------------------------------------------------------------


def test_hospital_beds_follow_a_daily_load(quiet_city: SimCity) -> None:
    for day in range(3):
        afternoon = statistics.mean(metric(quiet_city, "hospital-beds", at_local(day, 14), "bed_occupancy"))
        before_dawn = statistics.mean(metric(quiet_city, "hospital-beds", at_local(day, 4), "bed_occupancy"))
        assert afternoon > before_dawn + 3


def test_the_hospital_export_holds_patient_contacts_the_reader_drops(quiet_city: SimCity) -> None:
    feed = feed_named("hospital-beds")
    payload = fetch(feed, quiet_city, at_local(1, 10)).decode("utf-8-sig")
    assert "patient_contact" in payload.splitlines()[0] and PHONE.search(payload)
    batch = get_reader(feed.reader).parse(payload.encode(), feed_context(feed, "danang"))
    assert all("patient_contact" not in e.attributes for e in batch.entities)


@pytest.mark.parametrize("feed", ["ambulance-dispatches", "fire-rescue", "traffic-incidents"])
def test_emergency_records_carry_callers_phones_in_the_raw(city: SimCity, feed: str) -> None:
    assert PHONE.search(fetch(feed_named(feed), city, MORNING + timedelta(hours=1)).decode())


def test_car_parks_fill_with_the_day(quiet_city: SimCity) -> None:
    assert statistics.mean(metric(quiet_city, "parking", at_local(2, 11), "occupancy")) > 2 * statistics.mean(
        metric(quiet_city, "parking", at_local(2, 3), "occupancy")
    )


def test_waste_containers_fill_through_the_day_and_are_emptied(quiet_city: SimCity) -> None:
    morning = statistics.mean(metric(quiet_city, "waste-containers", at_local(1, 7), "filling_level"))
    evening = statistics.mean(metric(quiet_city, "waste-containers", at_local(1, 18), "filling_level"))
    after_rounds = statistics.mean(metric(quiet_city, "waste-containers", at_local(1, 23.5), "filling_level"))
    assert evening > morning + 20
    assert after_rounds < evening - 20


def test_street_lights_are_on_at_night_and_a_few_are_out(quiet_city: SimCity) -> None:
    feed = feed_named("streetlights")
    night = read(feed, quiet_city, at_local(1, 21)).entities
    noon = read(feed, quiet_city, at_local(1, 12)).entities
    assert all(e.attributes["power_state"] == "off" for e in noon)
    on = [e for e in night if e.attributes["power_state"] == "on"]
    out = [e for e in night if e.attributes["lamp_out"]]
    assert out and len(out) < len(night) / 10
    assert len(on) + len(out) == len(night)


def test_rain_keeps_visitors_from_the_beach(city: SimCity, quiet_city: SimCity) -> None:
    evening = MORNING + timedelta(hours=3)

    def beach(one: SimCity) -> float:
        sites = read(feed_named("tourism-visitors"), one, evening).entities
        return next(float(e.attributes["visitors_total"]) for e in sites if e.id.endswith(":MYKHE"))

    assert beach(city) < beach(quiet_city)


def test_running_totals_grow_through_the_day_and_restart_at_midnight(quiet_city: SimCity) -> None:
    def total(feed: str, name: str, moment: datetime) -> float:
        return sum(metric(quiet_city, feed, moment, name))

    for feed, name in (("police-calls", "calls_113"), ("public-services", "received"), ("tourism-visitors",
                                                                                          "visitors_total")):
        hours = [total(feed, name, at_local(1, h)) for h in (1, 10, 16, 23.5)]
        assert hours == sorted(hours) and hours[-1] > hours[0], feed
        assert total(feed, name, at_local(2, 0.3)) < hours[-1], feed
