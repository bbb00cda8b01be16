"""No personal data reaches Redis: every simulated agency's raw payload (names, phones and e-mails of
callers, reporters and patients included) goes through the runner's ingestion into a real redis-server,
and then every string in Redis is searched for them."""

from __future__ import annotations

import re

import pytest
import redis

from ioc.areas import area_index
from ioc.config import Settings
from ioc.runner import ingest_payload
from ioc.store import Store
from simulator.city import SimCity

from .agency_feeds import fetch, simulated_feeds
from .conftest import MORNING

pytestmark = pytest.mark.integration

PHONE = re.compile(r"(?<![\w:])(?:\+84|0)\d{2,3}[ .]?\d{3,4}[ .]?\d{3,4}(?!\w)")
EMAIL = re.compile(r"[\w.+-]+@[\w-]+\.[\w.]+")


def _every_string(client: redis.Redis) -> list[str]:
    """Every value in the Redis, as text. Read as bytes: some values are not UTF-8 (the dashboard's cache keeps
    pickled map layers), and those are searched too, as far as they hold text."""
    raw = redis.Redis(connection_pool=redis.ConnectionPool(**{**client.connection_pool.connection_kwargs,
                                                              "decode_responses": False}))
    found: list[bytes] = []
    for key in raw.scan_iter(count=1000):
        kind = raw.type(key)
        if kind == b"hash":
            found.extend(raw.hgetall(key).values())
        elif kind == b"stream":
            found.extend(v for _, fields in raw.xrange(key) for v in fields.values())
        elif kind == b"list":
            found.extend(raw.lrange(key, 0, -1))
        elif kind == b"string":
            found.append(raw.get(key) or b"")
        elif kind == b"set":
            found.extend(raw.smembers(key))
    raw.close()
    return [value.decode("utf-8", errors="replace") for value in found]


def test_no_phone_or_email_of_any_simulated_agency_reaches_redis(
    city: SimCity, settings: Settings, store: Store, redis_client: redis.Redis
) -> None:
    raw_phones: set[str] = set()
    feeds = simulated_feeds(settings)
    assert len(feeds) >= 20
    for feed in feeds:
        payload = fetch(feed, city, MORNING)
        raw_phones.update(PHONE.findall(payload.decode("utf-8", errors="ignore")))
        outcome = ingest_payload(feed, payload, store=store, areas=area_index(settings.city))
        assert outcome.ok, (feed.name, outcome.error)
    assert raw_phones, "the simulated agencies should hold personal phone numbers in their raw records"
    stored = _every_string(redis_client)
    assert len(stored) > 1000
    leaks = [text for text in stored if PHONE.search(text) or EMAIL.search(text)]
    assert leaks == []
    assert not any(phone in text for phone in raw_phones for text in stored)
