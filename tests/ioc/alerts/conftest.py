"""The alert book on a clean database of the real redis-server."""

from __future__ import annotations

import pytest
import redis

from ioc.alerts import AlertBook
from ioc.keys import Keys


@pytest.fixture
def book(redis_client: redis.Redis) -> AlertBook:
    return AlertBook(redis_client, Keys("danang"))
