"""A Redis restart under a running runner: nothing crashes, polls resume, the gap shows in health."""

from __future__ import annotations

import shutil

import pytest
import redis

from ioc.redis_conn import free_port, start_redis_server
from ioc.scheduler import FeedScheduler
from ioc.store import Store
from tests.ioc.test_runner import AgencyServer, _feed
from tests.waiting import wait_until

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

    def good_records() -> int:
        health = store.feed_health("good")
        return health.record_count if health else 0

    try:
        wait_until(lambda: good_records() == 2, timeout=10, message="the first poll's two records")
        assert store.feed_health("good").record_count == 2
        process.kill()
        process.wait()
        # polls fail against the dead Redis; the thread must live on through several of them
        polls_at_kill = scheduler.polls
        wait_until(lambda: scheduler.polls >= polls_at_kill + 3, timeout=15,
                   message="three polls against the stopped Redis")
        assert all(t.is_alive() for t in scheduler._threads)
        process, _ = start_redis_server(binary, port)  # a restart without persistence: an empty Redis
        wait_until(lambda: good_records() == 2, timeout=10, interval=0.1, ignoring=(redis.ConnectionError,),
                   message="the two records written again after the restart")
        health = store.feed_health("good")
        assert health is not None and health.record_count == 2 and health.last_error == ""
        assert len(store.entities_of_feed("good")) == 2
    finally:
        scheduler.stop()
        agency.server.shutdown()
        process.terminate()
        process.wait()


WRITER = """
import sys
import redis
from ioc.model import Batch, Entity
from ioc.store import Store

store = Store(redis.Redis.from_url(sys.argv[1], decode_responses=True), "danang")
print("writing", flush=True)
round_ = 0
while True:  # every batch rewrites all 2,000 things of the feed with its round number
    round_ += 1
    store.write_batch("drill", Batch(entities=[
        Entity(id=f"urn:ioc:danang:drill:{n}", type="Drill", agency="drill", sector="environment",
               location=(108.2 + n * 1e-5, 16.05), attributes={"round": round_}, feed="drill")
        for n in range(2000)]))
"""


def test_sigterm_during_ingestion_leaves_no_half_written_batch(redis_server_url: str, redis_client) -> None:  # noqa: ANN001
    """Kill a writer with SIGTERM at several moments: the feed always holds one whole batch, never a mix."""
    import signal
    import subprocess
    import sys
    import time

    from ioc.config import PROJECT_ROOT

    whole = 0
    for delay in (0.3, 0.55, 0.8, 1.05):
        redis_client.flushdb()
        writer = subprocess.Popen([sys.executable, "-c", WRITER, redis_server_url], cwd=PROJECT_ROOT,
                                  stdout=subprocess.PIPE, text=True)
        assert writer.stdout is not None and writer.stdout.readline().strip() == "writing"
        time.sleep(delay)  # a moment somewhere inside a batch: the batches take a few hundred ms each
        writer.send_signal(signal.SIGTERM)
        writer.wait(timeout=10)

        things = Store(redis_client, "danang").entities_of_feed("drill")
        rounds = {thing["attributes"]["round"] for thing in things}
        assert len(things) in (0, 2000) and len(rounds) <= 1, f"after {delay} s: {len(things)}, rounds {rounds}"
        whole += len(things) == 2000
    assert whole  # the writer did get batches in before its SIGTERM: the drill really cut into a stream
