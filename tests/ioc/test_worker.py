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
from tests.waiting import WaitTimeout, wait_until

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
    """The demo city (its city.yaml alone) with two polled feeds of the test agency and no rules."""
    city = folder / "city"
    city.mkdir()
    (city / "city.yaml").write_bytes((DEFAULT_CONFIG_DIR / "city.yaml").read_bytes())
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
        seen: dict[str, object] = {}

        def polled_by_both() -> bool:
            done = [r for r in finished_polls(rq_client, keys) if r.get("ok")]
            seen.update(feeds={r["feed"] for r in done}, workers={r["by"].split(":")[0] for r in done})
            return seen["feeds"] == set(FEEDS) and seen["workers"] == {"w1", "w2"}

        # generous: on a machine running other suites too, each poll's work horse may take a second to start
        try:
            wait_until(polled_by_both, timeout=45, interval=0.2, message="every feed polled, by both workers")
        except WaitTimeout as late:
            raise WaitTimeout(f"{late}; seen: {seen}") from None

        # A poll whose feed another worker is polling is turned away. Whether the two workers' own polls ever
        # meet depends on how busy the machine is, so the test holds the feed's lock itself, as a third worker
        # in the middle of a poll would.
        busy = FEEDS[0]
        redis_client.set(keys.feed_poll_lock(busy), "w9:test", px=int(LOCK_TTL_S * 1000) * 4)

        def turned_away() -> bool:
            return any("skipped" in r and r["feed"] == busy and "w9:test" in r["skipped"]
                       for r in finished_polls(rq_client, keys))

        wait_until(turned_away, timeout=30, interval=0.2, message=f"a poll of {busy} skipped while it was held")
        redis_client.delete(keys.feed_poll_lock(busy))

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


@pytest.mark.integration
def test_a_poll_job_that_failed_shows_in_its_feeds_health_unless_a_later_poll_succeeded(
        redis_server_url, redis_client, tmp_path) -> None:  # noqa: ANN001
    from datetime import timedelta

    from rq.exceptions import AbandonedJobError

    from ioc.model import utcnow
    from ioc.worker import poll_failed, prepare

    city = write_city(tmp_path, "http://127.0.0.1:9")
    setup = prepare(redis_server_url, str(city))
    job = Job.create(poll, args=(FEEDS[0],), connection=redis.Redis.from_url(redis_server_url))
    job.started_at = utcnow()
    # its worker died mid-poll: RQ's clean-up calls the failure callback with AbandonedJobError
    poll_failed(job, job.connection, AbandonedJobError, AbandonedJobError(), None)
    store = Store(redis_client, setup.settings.city.id)
    health = store.feed_health(FEEDS[0])
    assert health is not None and health.last_error == "poll job failed: AbandonedJobError: "
    assert health.consecutive_failures == 1

    # a poll that succeeded after the failed one had started: the late failure changes nothing
    feed = setup.settings.feed(FEEDS[0])
    store.record_success(feed.name, records=1, latency_ms=5, interval=feed.interval, stale_factor=feed.stale_factor,
                         now=job.started_at + timedelta(seconds=1))
    poll_failed(job, job.connection, AbandonedJobError, AbandonedJobError(), None)
    assert store.feed_health(FEEDS[0]).consecutive_failures == 0


@pytest.mark.integration
def test_a_standby_scheduler_takes_over_from_a_killed_one(redis_server_url, redis_client, tmp_path) -> None:  # noqa: ANN001
    city = write_city(tmp_path, "http://127.0.0.1:9", interval=1)
    keys = Keys(load_settings(str(city)).city.id)
    queue = Queue(keys.poll_queue(), connection=redis.Redis.from_url(redis_server_url))
    lease = ["--lease-ttl", "2"]
    schedulers = {name: start(city, redis_server_url, tmp_path / f"{name}.log", "scheduler", "--name", name, *lease)
                  for name in ("s1", "s2")}
    try:
        active = wait_until(lambda: redis_client.get(keys.scheduler_lease()), timeout=20,
                            message="one scheduler holding the lease")
        standby = "s2" if active == "s1" else "s1"
        wait_until(lambda: queue.count >= len(FEEDS), timeout=20, message="the active scheduler enqueuing")
        os.killpg(schedulers[active].pid, signal.SIGKILL)
        schedulers[active].wait(timeout=10)
        killed_at = time.time()
        wait_until(lambda: redis_client.get(keys.scheduler_lease()) == standby, timeout=20,
                   message=f"{standby} taking the lease over")

        def enqueued_after_the_kill() -> set[str]:
            jobs = [job for job in queue.jobs if job.enqueued_at and job.enqueued_at.timestamp() > killed_at]
            return {job.args[0] for job in jobs} == set(FEEDS)

        wait_until(enqueued_after_the_kill, timeout=20, message="every feed enqueued by the scheduler taking over")
        assert schedulers[standby].poll() is None
    finally:
        for process in schedulers.values():
            stop(process)
    # the scheduler stopping gives the lease back at once
    assert redis_client.get(keys.scheduler_lease()) is None


@pytest.mark.integration
def test_the_active_scheduler_runs_the_pushed_feeds_and_enqueues_only_the_polled(
        mosquitto_url, redis_server_url, redis_client, tmp_path) -> None:  # noqa: ANN001
    """What cannot be a job stays with the scheduler that holds the lease: a pushed (MQTT) feed's subscriber."""
    import paho.mqtt.client as mqtt

    from ioc.mqtt import parse_mqtt_url
    from ioc.worker import QueueScheduler

    city = write_city(tmp_path, "http://127.0.0.1:9", interval=60)
    feeds = yaml.safe_load((city / "agencies.yaml").read_text(encoding="utf-8"))["feeds"]
    feeds.append({"name": "flood-sensors", "agency": "danang-drainage",
                  "agency_name": {"vi": "Thoát nước", "en": "Drainage"}, "sector": "environment",
                  "reader": "mqtt-json", "url": f"{mosquitto_url}/danang/drainage/flood/+", "interval": 0.5,
                  "mapping": {"id": "sensor_id", "lon": "lon", "lat": "lat", "entity_type": "FloodSensor",
                              "metrics": {"water_level_cm": {"field": "water_level_cm", "unit": "cm"}}}})
    (city / "agencies.yaml").write_text(yaml.safe_dump({"feeds": feeds}, allow_unicode=True), encoding="utf-8")
    settings = load_settings(str(city))
    scheduler = QueueScheduler(settings, redis_server_url, name="s1")
    stop_event = threading.Event()
    ended: list[int] = []
    thread = threading.Thread(target=lambda: ended.append(scheduler.run(stop_event)), daemon=True)
    thread.start()
    store = Store(redis_client, settings.city.id)
    address = parse_mqtt_url(mosquitto_url + "/x")
    publisher = mqtt.Client(callback_api_version=mqtt.CallbackAPIVersion.VERSION2)
    publisher.connect(address.host, address.port)
    publisher.loop_start()
    try:
        def stored() -> bool:  # published until the scheduler's subscriber is connected and stores it
            message = {"sensor_id": "FL-01", "lon": 108.2208, "lat": 16.0678, "water_level_cm": 41.0}
            publisher.publish("danang/drainage/flood/FL-01", json.dumps(message), qos=1).wait_for_publish()
            return bool(store.entities_of_feed("flood-sensors"))

        wait_until(stored, timeout=20, interval=0.5, message="the pushed reading stored by the scheduler")
        queue = Queue(scheduler.keys.poll_queue(), connection=redis.Redis.from_url(redis_server_url))
        # the polled feeds, not the pushed one (a feed may have two slots queued if its next slot came meanwhile)
        assert {job.args[0] for job in queue.jobs} == set(FEEDS)
        assert redis_client.get(scheduler.keys.scheduler_lease()) == "s1"
    finally:
        stop_event.set()
        thread.join(15)
        publisher.disconnect()
        publisher.loop_stop()
    assert ended == [0] and redis_client.get(scheduler.keys.scheduler_lease()) is None
    (entity,) = store.entities_of_feed("flood-sensors")
    assert entity["attributes"]["water_level_cm"] == 41.0 and entity["district"] == "Hải Châu"
