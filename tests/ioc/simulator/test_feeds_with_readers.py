"""The contract that matters: every configured feed served by the simulator parses with its configured reader.

The readers must not know they talk to a simulator, so this renders each registry path that a feed in
agencies.yaml points at, with that feed's query, and hands the bytes to the reader named for the feed.
"""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import parse_qsl, urlsplit

import pytest

from data_adapters.base import FeedContext, get_reader
from ioc.config import Feed, Settings, load_settings
from ioc.simulator.city import SimCity
from ioc.simulator.feeds import FEEDS, FeedRequest

from .conftest import MORNING


def simulated_feeds() -> list[Feed]:
    return [f for f in load_settings().feeds if urlsplit(f.url).path in FEEDS]


def test_the_demo_feeds_point_at_the_simulator() -> None:
    assert {f.reader for f in simulated_feeds()} >= {"sensorthings", "open311", "gtfs-rt"}


@pytest.mark.parametrize("feed", simulated_feeds(), ids=lambda f: f.name)
def test_the_configured_reader_parses_the_simulated_feed(
    settings: Settings, city: SimCity, feed: Feed
) -> None:
    url = urlsplit(feed.url)
    request = FeedRequest(parse_qsl(url.query), base_url=f"{url.scheme}://{url.netloc}")
    body, _content_type = FEEDS[url.path](city, MORNING + timedelta(minutes=3), request)
    context = FeedContext(
        name=feed.name,
        agency=feed.agency,
        sector=feed.sector,
        city=settings.city.id,
        url=feed.url,
        mapping=feed.mapping,
    )
    batch = get_reader(feed.reader).parse(body, context)
    assert batch.entities
    assert all(e.location is not None for e in batch.entities)
    # the simulator's raw records hold reporters' contacts; nothing of them may come out of a reader
    for entity in batch.entities:
        assert not {"first_name", "last_name", "email", "phone"} & set(entity.attributes)
        assert not any("@example." in str(value) for value in entity.attributes.values())
