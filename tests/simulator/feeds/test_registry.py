"""The feed registry: every simulated feed renders deterministically from (seed, simulated time)."""

from __future__ import annotations

import inspect
from datetime import timedelta

import pytest

from simulator.city import SimCity
from simulator.feeds import FEEDS, FeedRequest
from simulator.scenario import Scenario

from ..conftest import MORNING

# catalogues that are the same for any seed and time (the services, the bike-share system's description)
# and the civil defence feed, which follows the scenario's script, not the seed
FIXED = {
    "/open311/v2/services.json",
    "/gbfs/3.0/gbfs.json",
    "/gbfs/3.0/system_information.json",
    "/gbfs/3.0/vehicle_types.json",
    "/cap/pctt/alerts.atom",
}
# the feeds whose content comes from the seeded city
CITY_FEEDS = sorted(set(FEEDS) - FIXED)
# static descriptions of the city's assets: they differ by seed but not over an hour
STATIC = {"/gbfs/3.0/station_information.json"}


def test_registry_holds_the_first_feeds() -> None:
    first = {"/sensorthings/v1.1/Things", "/open311/v2/requests.json", "/gtfs-rt/vehicle-positions.pb"}
    assert first | {"/open311/v2/services.json"} <= set(FEEDS)
    assert len(FEEDS) >= 30
    for path, render in FEEDS.items():
        assert path.startswith("/")
        assert list(inspect.signature(render).parameters) == ["city", "now", "request"]


@pytest.mark.parametrize("path", sorted(FEEDS))
def test_same_seed_and_time_give_identical_bytes(path: str) -> None:
    moment = MORNING + timedelta(minutes=7, seconds=13)
    first = FEEDS[path](SimCity(42, scenario=Scenario(MORNING)), moment, FeedRequest())
    second = FEEDS[path](SimCity(42, scenario=Scenario(MORNING)), moment, FeedRequest())
    assert first == second
    body, content_type = first
    assert body and content_type


@pytest.mark.parametrize("path", CITY_FEEDS)
def test_a_different_seed_gives_a_different_feed(path: str) -> None:
    one = FEEDS[path](SimCity(42), MORNING, FeedRequest())
    other = FEEDS[path](SimCity(43), MORNING, FeedRequest())
    assert one[0] != other[0]


@pytest.mark.parametrize("path", sorted(set(CITY_FEEDS) - STATIC))
def test_the_feed_changes_as_simulated_time_passes(path: str, city: SimCity) -> None:
    now = FEEDS[path](city, MORNING + timedelta(minutes=10), FeedRequest())
    later = FEEDS[path](city, MORNING + timedelta(minutes=70), FeedRequest())
    assert now[0] != later[0]
