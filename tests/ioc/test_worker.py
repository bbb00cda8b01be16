"""Adapters as RQ jobs: real `ioc scheduler` and `ioc worker` processes on a real redis-server poll every feed,
never one feed twice at once, and a worker killed with -9 mid-poll has its feed polled again by another."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis
import yaml
from rq import Queue
from rq.job import Job
from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response

from ioc.config import DEFAULT_CONFIG_DIR, load_settings
from ioc.keys import Keys
from ioc.redis_conn import free_port
from ioc.store import Store
from ioc.worker import PollCadence, poll
from tests.waiting import wait_until

FEEDS = ["roadworks-a", "roadworks-b"]
FETCH_S = 1.5  # longer than the feeds' 1 s interval: a feed's next slot comes while its poll still runs
LOCK_TTL_S = 3.0  # the test's; a dead worker's feed is free again within it


class SlowAgency:
    """GeoJSON endpoints that answer after FETCH_S, noting when each fetch of each feed began and ended."""

    def __init__(self) -> None:
        self.fetches: dict[str, list[tuple[float, float]]] = defaultdict(list)
        self.lock = threading.Lock()

    def __call__(self, environ, start_response):  # noqa: ANN001, ANN204 - WSGI
        feed = Request(environ).path.strip("/")
        began = time.time()
        time.sleep(FETCH_S)
        with self.lock:
            self.fetches[feed].append((began, time.time()))
        body = {"type": "FeatureCollection", "features": [{
            "type": "Feature", "id": f"{feed}-1", "geometry": {"type": "Point", "coordinates": [108.22, 16.07]},
            "properties": {"name": f"works on {feed}", "time": "2026-03-01T08:00:00+07:00"}}]}
        return Response(json.dumps(body), mimetype="application/geo+json")(environ, start_response)


@pytest.fixture
def agency() -> Iterator[tuple[SlowAgency, str]]:
    app = SlowAgency()
    server = make_server("127.0.0.1", free_port(), app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield app, f"http://127.0.0.1:{server.server_port}"
    server.shutdown()


def write_city(folder: Path, base_url: str, interval: float = 1) -> Path:
    """The demo city with two polled feeds of the test agency and no rules."""
    city = folder / "city"
    import shutil

    shutil.copytree(DEFAULT_CONFIG_DIR, city)
    feeds = [{"name": name, "agency": "test-roads", "agency_name": {"vi": "Sở Xây dựng", "en": "Roads"},
              "sector": "transport", "reader": "geojson", "url": f"{base_url}/{name}", "interval": interval,
              "timeout": 5, "retries": 0} for name in FEEDS]
    (city / "agencies.yaml").write_text(yaml.safe_dump({"feeds": feeds}, allow_unicode=True), encoding="utf-8")
    (city / "rules.yaml").write_text(yaml.safe_dump({"rules": []}), encoding="utf-8")
    return city


def start(city: Path, url: str, log: Path, *command: str) -> subprocess.Popen[bytes]:
    """An `ioc` process in its own session, so a kill of its group takes its work horse too."""
    return subprocess.Popen(
        [sys.executable, "-m", "ioc", "--config", str(city), *command],
        env={**os.environ, "IOC_REDIS_URL": url}, stdout=log.open("wb"), stderr=subprocess.STDOUT,
        start_new_session=True,
    )


def stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)


def finished_polls(client: redis.Redis, keys: Keys) -> list[dict]:
    """Every poll job's result RQ keeps (their ids from its finished registry)."""
    queue = Queue(keys.poll_queue(), connection=client)
    jobs = Job.fetch_many(queue.finished_job_registry.get_job_ids(), connection=client)
    return [job.return_value() for job in jobs if job is not None and job.return_value() is not None]


def overlapping(intervals: list[tuple[float, float]]) -> list[tuple[tuple[float, float], tuple[float, float]]]:
    ordered = sorted(intervals)
    return [(a, b) for a, b in zip(ordered, ordered[1:], strict=False) if b[0] < a[1]]


@pytest.mark.integration
def test_two_workers_poll_every_feed_never_one_twice_at_once_and_take_over_a_killed_one(
        agency, redis_server_url, redis_client, tmp_path) -> None:  # noqa: ANN001
    app, base_url = agency
    city = write_city(tmp_path, base_url)
    keys = Keys(load_settings(str(city)).city.id)
    rq_client = redis.Redis.from_url(redis_server_url)
    processes = {
        "scheduler": start(city, redis_server_url, tmp_path / "scheduler.log", "scheduler"),
        "w1": start(city, redis_server_url, tmp_path / "w1.log", "worker", "--name", "w1",
                    "--lock-ttl", str(LOCK_TTL_S)),
        "w2": start(city, redis_server_url, tmp_path / "w2.log", "worker", "--name", "w2",
                    "--lock-ttl", str(LOCK_TTL_S)),
    }
    try:
        def polled_by_both_and_once_turned_away() -> bool:
            results = finished_polls(rq_client, keys)
            done = [r for r in results if r.get("ok")]
            return ({r["feed"] for r in done} == set(FEEDS) and {r["by"].split(":")[0] for r in done} == {"w1", "w2"}
                    # a feed's next slot came while its poll ran, and the other worker was turned away
                    and any("skipped" in r for r in results))

        wait_until(polled_by_both_and_once_turned_away, timeout=30, interval=0.2,
                   message="every feed polled, by both workers, and a poll skipped as its feed was being polled")

        def w1_polling() -> list[str]:
            return [feed for feed in FEEDS if (redis_client.get(keys.feed_poll_lock(feed)) or "").startswith("w1:")]

        held = wait_until(w1_polling, timeout=20, interval=0.05, message="w1 in the middle of a poll")
        os.killpg(processes["w1"].pid, signal.SIGKILL)  # the worker and its work horse, mid-poll
        processes["w1"].wait(timeout=10)
        killed_at = time.time()

        def every_feed_polled_again() -> bool:
            after = [r for r in finished_polls(rq_client, keys) if r.get("ok") and r["polled"][0] > killed_at]
            return {r["feed"] for r in after} == set(FEEDS)

        wait_until(every_feed_polled_again, timeout=30, interval=0.2, message="every feed polled after the kill")
    finally:
        for process in processes.values():
            stop(process)

    results = finished_polls(rq_client, keys)
    polls = [r for r in results if r.get("ok")]
    by_feed: dict[str, list[tuple[float, float]]] = defaultdict(list)
    for result in polls:
        by_feed[result["feed"]].append(tuple(result["polled"]))
    # never two polls of one feed at once: neither as the workers held them nor as the agency saw the fetches
    for feed in FEEDS:
        assert overlapping(by_feed[feed]) == [], feed
        assert overlapping(app.fetches[feed]) == [], feed
    # the feed w1 died polling was polled again, by the worker left
    assert all(r["by"].startswith("w2:") for r in polls if r["polled"][0] > killed_at)
    assert any(r["feed"] in held and r["polled"][0] > killed_at for r in polls)
    # results show in the feeds' health as with the threaded runner
    health = Store(redis_client, keys.city).all_health(FEEDS)
    assert all(health[feed] is not None and health[feed].record_count == 1 for feed in FEEDS)


@pytest.mark.integration
def test_every_scheduler_enqueues_a_slot_once(settings, redis_server_url, redis_client) -> None:  # noqa: ANN001
    """Two schedulers (an active one and one taking over) compute the same slots and job ids; RQ refuses the
    second enqueue of an id, so a slot is one job."""
    connection = redis.Redis.from_url(redis_server_url)
    queue = Queue(Keys(settings.city.id).poll_queue(), connection=connection)
    feeds = [f for f in settings.feeds if not f.url.startswith("mqtt://")][:3]
    first, second = PollCadence(settings, queue, feeds), PollCadence(settings, queue, feeds)
    now = time.time()
    assert sorted(first.enqueue_due(now)) == sorted(f.name for f in feeds)
    assert second.enqueue_due(now) == []  # the same slots: refused
    assert first.enqueue_due(now) == []  # and nothing twice from one scheduler either
    assert queue.count == len(feeds)
    later = now + max(f.interval for f in feeds)  # every feed's next slot
    assert sorted(second.enqueue_due(later)) == sorted(f.name for f in feeds)
    assert queue.count == 2 * len(feeds)
    assert queue.jobs[0].func is poll
