"""The contract that matters: every configured feed served by the simulator parses with its configured reader.

The readers must not know they talk to a simulator, so each feed in agencies.yaml that points at the
simulator is fetched with its own reader's fetch (which follows GBFS discovery, SensorThings paging...)
over a transport answered by the registry, and parsed with the feed's own mapping.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest

from ioc.config import Feed, Settings
from ioc.model import Batch
from ioc.privacy import is_personal_field, scrub_batch
from simulator.city import SimCity
from simulator.scenario import Scenario

from .agency_feeds import read, simulated_feeds
from .conftest import MORNING

# standards that describe things without a place: a trip's prediction, a bike being ridden or reserved
UNPLACED_TYPES = {"TripUpdate", "BikeShareVehicle", "BikeShareSystem"}
# during the run: the typhoon warning issued, the rain falling, the morning rush on
RUN_TIMES = [timedelta(minutes=3), timedelta(minutes=45), timedelta(hours=3)]
# a quiet night: no warning in force, few incidents, lamps on
QUIET_NIGHT = datetime(2025, 6, 14, 19, 30, tzinfo=UTC)
# what the simulator puts in raw records: Vietnamese phone numbers (spaced or not) and e-mail addresses
PHONE = re.compile(r"(?<![\w:])(?:\+84|0)\d{2,3}[ .]?\d{3,4}[ .]?\d{3,4}(?!\w)")
EMAIL = re.compile(r"[\w.+-]+@[\w-]+\.[\w.]+")


def test_the_demo_city_has_twenty_agencies_across_eight_sectors(settings: Settings) -> None:
    feeds = simulated_feeds(settings)
    assert len(feeds) >= 20
    assert len({f.agency for f in feeds}) >= 20
    assert {f.sector for f in feeds} >= {
        "transport", "environment", "health", "emergency", "administration", "utilities", "citizen", "tourism",
    }
    assert {f.reader for f in feeds} >= {
        "sensorthings", "open311", "gtfs-rt", "gbfs", "ngsi-ld", "geojson", "cap", "csv", "json", "mqtt-json",
    }


@pytest.mark.parametrize("feed", simulated_feeds(), ids=lambda f: f.name)
def test_every_simulated_feed_has_a_headline_number(feed: Feed) -> None:
    assert feed.kpi is not None
    assert feed.kpi.label.vi and feed.kpi.label.en


def _assert_no_personal_data(batch: Batch) -> None:
    """What the store writes of the batch holds no personal data: readers leave scrubbing to the store's write
    path (ioc.privacy.scrub_batch), the one place the guarantee is kept."""
    batch = scrub_batch(batch)
    for entity in batch.entities:
        assert not [key for key in entity.attributes if is_personal_field(key)], entity.id
        for value in [entity.name, *entity.attributes.values()]:
            if isinstance(value, str):
                assert not PHONE.search(value) and not EMAIL.search(value), (entity.id, value)
    for event in batch.events:
        for text in (event.headline, event.description):
            assert not PHONE.search(text) and not EMAIL.search(text), (event.id, text)


@pytest.mark.parametrize("after", RUN_TIMES, ids=lambda d: f"+{d}")
@pytest.mark.parametrize("feed", simulated_feeds(), ids=lambda f: f.name)
def test_the_configured_reader_reads_the_feed_during_the_run(city: SimCity, feed: Feed, after: timedelta) -> None:
    batch = read(feed, city, MORNING + after)
    assert batch.entities or batch.events, f"{feed.name} is empty at +{after}"
    placed = [e for e in batch.entities if e.type not in UNPLACED_TYPES]
    assert all(e.location is not None for e in placed)
    _assert_no_personal_data(batch)


@pytest.mark.parametrize("feed", simulated_feeds(), ids=lambda f: f.name)
def test_the_configured_reader_reads_the_feed_on_a_quiet_night(quiet_city: SimCity, feed: Feed) -> None:
    batch = read(feed, quiet_city, QUIET_NIGHT)
    _assert_no_personal_data(batch)
    if feed.kpi is not None and feed.kpi.metric and batch.entities:
        # the headline metric is there to aggregate, under the name the kpi block uses
        assert any(feed.kpi.metric in e.attributes for e in batch.entities), feed.name


def test_a_feed_reads_the_same_for_the_same_seed(city: SimCity) -> None:
    moment = MORNING + timedelta(minutes=20)
    again = SimCity(42, scenario=Scenario(MORNING))
    for feed in simulated_feeds():
        one, other = read(feed, city, moment), read(feed, again, moment)
        assert [e.id for e in one.entities] == [e.id for e in other.entities], feed.name
        assert [(o.entity_id, o.metric, o.value) for o in one.observations] == [
            (o.entity_id, o.metric, o.value) for o in other.observations
        ], feed.name
        assert [e.id for e in one.events] == [e.id for e in other.events], feed.name
