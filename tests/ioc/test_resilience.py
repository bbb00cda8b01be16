"""A Redis restart under a running runner: nothing crashes, polls resume, the gap shows in health."""

from __future__ import annotations

import shutil
import time

import pytest
import redis

from ioc.redis_conn import free_port, start_redis_server
from ioc.scheduler import FeedScheduler
from ioc.store import Store
from tests.ioc.test_runner import AgencyServer, _feed

pytestmark = pytest.mark.integration


def test_runner_survives_a_redis_restart(settings) -> None:  # noqa: ANN001
    binary = shutil.which("redis-server")
    if not binary:
        from tests.conftest import missing_service

        missing_service("redis-server")
    port = free_port()
    process, url = start_redis_server(binary, port)
    agency = AgencyServer()
    agency.thread.start()
    client = redis.Redis.from_url(url, decode_responses=True, socket_connect_timeout=1, socket_timeout=2)
    store = Store(client, "danang")
    scheduler = FeedScheduler(settings, store, feeds=[_feed("good", f"{agency.url}/good")])
    scheduler.start()
    try:
        time.sleep(1.0)
        assert store.feed_health("good").record_count == 2
        process.kill()
        process.wait()
        time.sleep(1.5)  # polls fail against the dead Redis; the thread must live on
        assert all(t.is_alive() for t in scheduler._threads)
        process, _ = start_redis_server(binary, port)  # a restart without persistence: an empty Redis
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                health = store.feed_health("good")
                if health and health.record_count == 2:
                    break
            except redis.ConnectionError:
                pass
            time.sleep(0.2)
        health = store.feed_health("good")
        assert health is not None and health.record_count == 2 and health.last_error == ""
        assert len(store.entities_of_feed("good")) == 2
    finally:
        scheduler.stop()
        agency.server.shutdown()
        process.terminate()
        process.wait()
