"""Scenario: the demo's incidents on a timeline relative to the simulator's start."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from simulator.scenario import Scenario

START = datetime(2025, 6, 12, 1, 0, tzinfo=UTC)


def test_rain_starts_about_two_minutes_after_start_and_lasts_hours() -> None:
    scenario = Scenario(START)
    assert scenario.rain_intensity(START) == 0
    assert scenario.rain_intensity(START + timedelta(minutes=1)) == 0
    assert scenario.rain_intensity(START + timedelta(minutes=3)) > 0
    assert scenario.rain_intensity(START + timedelta(hours=1)) > 20  # heavy rain at its height
    assert scenario.rain_intensity(START + timedelta(hours=2, minutes=30)) > 0
    assert scenario.rain_intensity(START + timedelta(days=1)) == 0


def test_rain_builds_up_rather_than_switching_on() -> None:
    scenario = Scenario(START)
    early = scenario.rain_intensity(START + timedelta(minutes=4))
    later = scenario.rain_intensity(START + timedelta(minutes=20))
    assert 0 < early < later


def test_typhoon_warning_is_in_force_early_in_the_run() -> None:
    scenario = Scenario(START)
    assert scenario.typhoon_warning(START) is None
    warning = scenario.typhoon_warning(START + timedelta(minutes=5))
    assert warning is not None
    assert warning.incident.severity == "severe"
    assert warning.onset <= START + timedelta(minutes=5) < warning.ends


def test_timeline_is_relative_to_the_start() -> None:
    later = START + timedelta(days=30)
    assert Scenario(later).rain_intensity(later + timedelta(hours=1)) > 0
    assert Scenario(START).rain_intensity(later + timedelta(hours=1)) == 0


def test_without_a_start_the_city_is_quiet() -> None:
    scenario = Scenario.quiet()
    assert scenario.timeline() == []
    assert scenario.rain_intensity(START + timedelta(hours=1)) == 0
    assert scenario.active(START + timedelta(hours=1)) == []


def test_the_demo_starts_eventful() -> None:
    # a new user at speed 1 sees the warning within a minute and the rain within two
    scenario = Scenario(START)
    warning = scenario.typhoon_warning(START + timedelta(minutes=1, seconds=1))
    assert warning is not None and warning.onset - START <= timedelta(minutes=1)
    rain = next(a for a in scenario.timeline() if a.incident.kind == "rain")
    assert rain.onset - START <= timedelta(minutes=2)


def test_the_typhoon_warning_is_updated_before_it_ends() -> None:
    warning = Scenario(START).timeline()[0]
    assert warning.incident.kind == "typhoon_warning"
    assert warning.updated is not None and warning.onset < warning.updated < warning.ends
    rain = next(a for a in Scenario(START).timeline() if a.incident.kind == "rain")
    assert rain.updated is None


def test_issued_keeps_incidents_that_have_ended() -> None:
    scenario = Scenario(START)
    later = START + timedelta(days=1)
    assert scenario.typhoon_warning(later) is None
    assert [a.incident.kind for a in scenario.issued(later, "typhoon_warning")] == ["typhoon_warning"]
    assert scenario.issued(START, "typhoon_warning") == []
