"""A command on a running IOC opens the city's store at IOC_REDIS_URL, and says so plainly when it is not set."""

from __future__ import annotations

import pytest
import redis

from ioc.cli_city import running_city_store
from ioc.config import Settings


def test_without_ioc_redis_url_the_command_stops_naming_what_lives_there(
        settings: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("IOC_REDIS_URL", raising=False)
    with pytest.raises(SystemExit) as stopped:
        running_city_store(settings, "screens live in the IOC's Redis")
    assert "IOC_REDIS_URL" in str(stopped.value) and "screens live in the IOC's Redis" in str(stopped.value)


def test_it_opens_the_citys_store_on_that_redis(settings: Settings, redis_server_url: str,
                                                 redis_client: redis.Redis, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("IOC_REDIS_URL", redis_server_url)
    store, handle = running_city_store(settings, "users live in the IOC's Redis")
    try:
        assert store.keys.city == settings.city.id
        store.redis.set(store.keys.prefix + ":probe", "1")
        assert redis_client.get(store.keys.prefix + ":probe") == "1"
    finally:
        handle.close()
