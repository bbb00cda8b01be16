"""Read the simulator's feeds the way the IOC does: each configured feed's own reader, fetch and mapping,
over an HTTP transport that renders the simulator's registry at a chosen simulated time (no sockets)."""

from __future__ import annotations

from datetime import datetime
from urllib.parse import urlsplit

import httpx

from data_adapters.base import get_reader
from ioc.config import Feed, Settings, load_settings
from ioc.model import Batch
from ioc.runner import feed_context
from simulator.city import SimCity
from simulator.feeds import FEEDS, BadFeedRequest, FeedRequest


def http_url(feed: Feed) -> str:
    """Where the feed is polled over HTTP: its URL, or for a pushed (mqtt://) feed its fallback."""
    return feed.fallback_url if feed.url.startswith("mqtt") and feed.fallback_url else feed.url


def simulated_feeds(settings: Settings | None = None) -> list[Feed]:
    """The configured feeds the simulator serves."""
    return [f for f in (settings or load_settings()).feeds if urlsplit(http_url(f)).path in FEEDS]


def simulator_client(city: SimCity, now: datetime) -> httpx.Client:
    """An HTTP client whose every request is answered by the simulator's registry at `now`."""

    def handle(request: httpx.Request) -> httpx.Response:
        render = FEEDS.get(request.url.path)
        if render is None:
            return httpx.Response(404, json={"error": f"no feed at {request.url.path}"})
        base_url = f"{request.url.scheme}://{request.url.netloc.decode()}"
        feed_request = FeedRequest(request.url.params.multi_items(), base_url=base_url)
        try:
            body, content_type = render(city, now, feed_request)
        except BadFeedRequest as exc:
            return httpx.Response(400, content=exc.body, headers={"content-type": exc.content_type})
        return httpx.Response(200, content=body, headers={"content-type": content_type})

    return httpx.Client(transport=httpx.MockTransport(handle))


def fetch(feed: Feed, city: SimCity, now: datetime) -> bytes:
    """The payload the runner would hand the feed's reader at simulated time `now`."""
    reader = get_reader(feed.reader)
    with simulator_client(city, now) as client:
        if feed.url.startswith("mqtt"):
            response = client.get(http_url(feed))
            response.raise_for_status()
            return response.content
        return reader.fetch(client, feed_context(feed, "danang"))


def read(feed: Feed, city: SimCity, now: datetime) -> Batch:
    """The feed at `now`, fetched and parsed by its configured reader with its configured mapping."""
    return get_reader(feed.reader).parse(fetch(feed, city, now), feed_context(feed, "danang"))


def feed_named(name: str) -> Feed:
    return load_settings().feed(name)
