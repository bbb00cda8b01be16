"""Adapter polls as RQ jobs on the city's queue: the job (`poll`) and the per-feed lock that keeps two workers
off one feed, the cadence that enqueues each polled feed once per slot of its interval (`PollCadence`), and
`QueueScheduler`, the `ioc scheduler` process (one of several holds a lease; the others stand by).

What RQ does here: the queue, the workers and their work horses, job timeouts, a worker's death noticed by
its heartbeat (its job moved to the failed registry as abandoned), and `unique` job ids, so a slot enqueued by
two schedulers is one job. What it does not: keep two jobs of one feed from running at once, which the lock
does, with a TTL renewed while the poll runs, so a dead worker's feed is free again within `LOCK_TTL_S`.
"""

from __future__ import annotations

import contextlib
import logging
import math
import os
import socket
import threading
import time
import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import httpx
import redis
from redis.exceptions import LockError, LockNotOwnedError
from rq import Callback, Queue, Worker, get_current_job
from rq.exceptions import DuplicateJobError
from rq.job import Job

from ioc.areas import area_index
from ioc.config import Feed, Settings, load_settings
from ioc.keys import Keys, poll_job_id
from ioc.redis_conn import client_from_url
from ioc.rules import RuleEngine
from ioc.runner import BACKOFF_CAP_S, BatchListener, default_listeners, make_http_client, poll_configured
from ioc.scheduler import FeedScheduler
from ioc.store import Store

log = logging.getLogger(__name__)

# A dead worker's feed is polled again at most this long after the worker died (its lock expires); a live
# worker renews its lock every third of it, so a renewal may miss twice (a Redis failover) before it lapses.
LOCK_TTL_S = 15.0
# The same for the scheduler: a stand-by takes over at most this long after the active one died.
LEASE_TTL_S = 15.0
# RQ kills a poll that outlives its feed's worst case (every attempt timing out, every backoff) by this much.
JOB_TIMEOUT_MARGIN_S = 60
FAILED_JOBS_KEPT_S = 24 * 3600  # RQ's failed registry keeps a crashed poll's traceback a day


def is_pushed(feed: Feed) -> bool:
    """A feed sensors push over MQTT: held by a subscriber in the scheduler, not polled as jobs."""
    return feed.url.startswith("mqtt://")


class Lease:
    """A Redis key held by one holder at a time, with a TTL, renewed every third of it by a thread while held:
    a holder that dies stops renewing and the key expires. redis-py's Lock does the holding (its scripts set,
    extend and delete the key only for the token that holds it); this adds the renewal."""

    def __init__(self, client: redis.Redis, key: str, ttl: float, holder: str) -> None:
        self.key, self.ttl, self.holder = key, ttl, holder
        self.client = client
        self._lock = client.lock(key, timeout=ttl, blocking=False, thread_local=False)
        self.lost = threading.Event()  # set when the key was found held by someone else at a renewal
        self._stop = threading.Event()
        self._renewer: threading.Thread | None = None

    def acquire(self) -> bool:
        """Take the key if nobody holds it; renewals start at once. False if someone else holds it."""
        if not self._lock.acquire(token=self.holder):
            return False
        self._stop.clear()
        self.lost.clear()
        self._renewer = threading.Thread(target=self._renew, name=f"lease-{self.key}", daemon=True)
        self._renewer.start()
        return True

    def current_holder(self) -> str | None:
        value = self.client.get(self.key)
        return value.decode() if isinstance(value, bytes) else value

    def release(self) -> None:
        self._stop.set()
        if self._renewer is not None:
            self._renewer.join(timeout=self.ttl)
            self._renewer = None
        # expired meanwhile, or Redis gone: the TTL ends it anyway
        with contextlib.suppress(LockError, redis.RedisError):
            self._lock.release()

    def _renew(self) -> None:
        while not self._stop.wait(self.ttl / 3):
            try:
                self._lock.reacquire()
            except LockNotOwnedError:
                log.warning("%s: lost %s to %s", self.holder, self.key, self.current_holder())
                self.lost.set()
                return
            except redis.RedisError as exc:  # Redis restarting or failing over: try again next time
                log.warning("%s: could not renew %s: %s", self.holder, self.key, exc)

    def __enter__(self) -> Lease:
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()


# --- the worker side ------------------------------------------------------------------------------------


@dataclass
class WorkerSetup:
    """What a worker loads once, before RQ forks a work horse per job (each horse inherits it): the city, a
    store, the rules and batch listeners, an HTTP client per feed (as the threaded runner keeps one)."""

    settings: Settings
    url: str
    store: Store  # text replies; RQ has its own connection (it pickles jobs)
    rules: RuleEngine
    listeners: list[BatchListener]
    http: dict[str, httpx.Client]
    lock_ttl: float = LOCK_TTL_S

    @property
    def keys(self) -> Keys:
        return self.store.keys

    @property
    def client(self) -> redis.Redis:
        return self.store.redis


_setup: WorkerSetup | None = None


def prepare(url: str, config_dir: str | None = None, *, lock_ttl: float = LOCK_TTL_S) -> WorkerSetup:
    """Load the city, its areas, rules and listeners, and the feeds' HTTP clients for the jobs this process
    will run (in a work horse each poll then costs its fetch and its write, not their set-up)."""
    global _setup
    settings = load_settings(config_dir)
    area_index(settings.city)  # parsed once here rather than in every work horse
    store = Store(client_from_url(url), settings.city.id)
    http = {feed.name: make_http_client(feed.timeout) for feed in settings.feeds if not is_pushed(feed)}
    _setup = WorkerSetup(settings, url, store, RuleEngine(settings, store), default_listeners(settings, store),
                         http, lock_ttl)
    return _setup


def _current_setup() -> WorkerSetup:
    # a job run by a worker started another way (RQ's own `rq worker`) finds the city in the environment
    return _setup or prepare(os.environ["IOC_REDIS_URL"], os.environ.get("IOC_CONFIG_DIR"))


def poll(feed_name: str) -> dict[str, Any]:
    """The job: one poll of the feed, unless another worker polls it now (then skipped, it is being done)."""
    setup = _current_setup()
    feed = setup.settings.feed(feed_name)
    job = get_current_job()
    holder = f"{job.worker_name}:{job.id}" if job else f"{socket.gethostname()}.{os.getpid()}"
    lock = Lease(setup.client, setup.keys.feed_poll_lock(feed.name), setup.lock_ttl, holder)
    if not lock.acquire():
        return {"feed": feed.name, "ok": None, "skipped": f"being polled by {lock.current_holder()}"}
    with lock:
        started = time.time()
        outcome = poll_configured(feed, setup.settings, setup.store, http=setup.http.get(feed.name),
                                  rules=setup.rules, listeners=setup.listeners)
        ended = time.time()
    # who polled, and when the lock was held (epoch seconds): RQ keeps it with the job's result
    return {**outcome.to_dict(), "by": holder, "polled": [started, ended]}


def poll_failed(job: Job, connection: Any, exc_type: type, exc_value: BaseException, traceback: Any) -> None:
    """RQ's failure callback: a poll that raised (Redis lost mid-poll, RQ's timeout) or was abandoned (its
    worker died) shows in the feed's health, unless a later poll of the feed already succeeded."""
    setup = _current_setup()
    try:
        feed = setup.settings.feed(job.args[0])
    except (KeyError, IndexError):
        return
    store = setup.store
    try:
        health = store.feed_health(feed.name)
        if health and health.last_success and job.started_at and health.last_success > job.started_at:
            return
        store.record_failure(feed.name, error=f"poll job failed: {exc_type.__name__}: {exc_value}",
                             interval=feed.interval, stale_factor=feed.stale_factor)
    except redis.RedisError as exc:  # nothing can be recorded with Redis gone; the job stays failed in RQ
        log.warning("could not record the failed poll of %s: %s", feed.name, exc)


class PollWorker(Worker):
    """RQ's worker, which quits when asked rather than up to a minute later."""

    def unsubscribe(self) -> None:
        # RQ's thread listening for its commands (stop the job, shut down) waits for a message up to 60 s at a
        # time, and one that has just seen the unsubscription waits out the whole minute; redis-py 8 makes
        # RQ's stop() wait for it. The thread is a daemon, so waiting a second for it is enough.
        if self.pubsub_thread:
            self.log.info("Worker %s: unsubscribing from channel %s", self.name, self.pubsub_channel_name)
            self.pubsub.unsubscribe()
            try:
                self.pubsub_thread.stop(timeout=1)
            except TypeError:  # redis-py before 8: stop() does not wait
                self.pubsub_thread.stop()
            self.pubsub.close()


def make_worker(setup: WorkerSetup, *, name: str | None = None) -> Worker:
    """An RQ worker on the city's poll queue; its name (default host.pid) is in each lock it holds."""
    connection = client_from_url(setup.url, decode_responses=False)
    queue = Queue(setup.keys.poll_queue(), connection=connection)
    return PollWorker([queue], connection=connection, name=name or f"{socket.gethostname()}.{os.getpid()}")


# --- the scheduler side -----------------------------------------------------------------------------------


class PollCadence:
    """Enqueues each polled feed once per slot of its interval. Slots are counted on the wall clock from a
    phase of the feed's own (so feeds of one interval do not all start together), so every scheduler computes
    the same slot and job id, and RQ refuses the second enqueue of an id (`unique=True`)."""

    def __init__(self, settings: Settings, queue: Queue, feeds: Sequence[Feed] | None = None) -> None:
        self.keys = Keys(settings.city.id)
        self.queue = queue
        self.feeds = [f for f in (settings.feeds if feeds is None else feeds) if f.enabled and not is_pushed(f)]
        self._enqueued: dict[str, int] = {}

    @staticmethod
    def phase(feed: Feed) -> float:
        return (zlib.crc32(feed.name.encode()) % 1000) / 1000 * feed.interval

    def slot(self, feed: Feed, now: float) -> int:
        return math.floor((now - self.phase(feed)) / feed.interval)

    def next_due(self, now: float) -> float:
        """When the next slot of any feed starts (epoch seconds)."""
        return min((self.phase(f) + (self.slot(f, now) + 1) * f.interval for f in self.feeds), default=now + 1)

    def enqueue_due(self, now: float) -> list[str]:
        """Enqueue every feed whose current slot has not been enqueued yet; the feeds enqueued (by us)."""
        enqueued = []
        for feed in self.feeds:
            slot = self.slot(feed, now)
            if self._enqueued.get(feed.name) == slot:
                continue
            if self.enqueue(feed, slot):
                enqueued.append(feed.name)
            self._enqueued[feed.name] = slot
        return enqueued

    def enqueue(self, feed: Feed, slot: int) -> bool:
        """One poll of the feed for the slot; False when that slot's job exists already."""
        interval = max(1, math.ceil(feed.interval))
        try:
            self.queue.enqueue(
                poll, feed.name, job_id=poll_job_id(self.keys.city, feed.name, slot), unique=True,
                description=f"poll {feed.name}",
                # a poll still queued when its feed's next slot comes is dropped: the next one replaces it
                ttl=interval,
                job_timeout=math.ceil(feed.timeout * (feed.retries + 1) + BACKOFF_CAP_S * feed.retries)
                + JOB_TIMEOUT_MARGIN_S,
                # kept past its slot, so a second scheduler's enqueue of the slot is refused, then gone
                result_ttl=max(60, 2 * interval), failure_ttl=FAILED_JOBS_KEPT_S,
                on_failure=Callback(poll_failed),
            )
        except DuplicateJobError:
            return False
        return True


class QueueScheduler:
    """`ioc scheduler`: while it holds the city's scheduler lease, enqueues the polls, and runs what cannot
    be a job: the subscribers of pushed (MQTT) feeds and the rules' timer (staleness, escalation, expiry).
    Without the lease it stands by, and takes over when the active scheduler's lease expires."""

    def __init__(self, settings: Settings, url: str, *, lease_ttl: float = LEASE_TTL_S,
                 name: str | None = None) -> None:
        self.settings = settings
        self.keys = Keys(settings.city.id)
        self.client = client_from_url(url)
        self.queue = Queue(self.keys.poll_queue(), connection=client_from_url(url, decode_responses=False))
        self.cadence = PollCadence(settings, self.queue)
        self.name = name or f"{socket.gethostname()}.{os.getpid()}"
        self.lease = Lease(self.client, self.keys.scheduler_lease(), lease_ttl, self.name)

    def run(self, stop: threading.Event) -> int:
        """Until `stop` is set (0), or until another scheduler took the lease over (1: restart to stand by)."""
        said = None
        while not stop.is_set():
            try:
                if self.lease.acquire():
                    break
                holder = self.lease.current_holder()
            except redis.RedisError as exc:
                holder = f"nobody known (Redis: {exc})"
            if holder != said:
                log.warning("scheduler %s standing by: %s schedules", self.name, holder)
                said = holder
            stop.wait(self.lease.ttl / 3)
        if stop.is_set():
            return 0
        log.warning("scheduler %s: enqueuing %d polled feeds", self.name, len(self.cadence.feeds))
        pushed = FeedScheduler(self.settings, Store(self.client, self.settings.city.id),
                               feeds=[f for f in self.settings.feeds if is_pushed(f)])
        pushed.start()
        try:
            while not stop.is_set() and not self.lease.lost.is_set():
                try:
                    self.cadence.enqueue_due(time.time())
                except redis.RedisError as exc:  # Redis failing over: the next pass enqueues what is due
                    log.warning("scheduler %s could not enqueue: %s", self.name, exc)
                stop.wait(min(1.0, max(0.05, self.cadence.next_due(time.time()) - time.time())))
        finally:
            pushed.stop()
            self.lease.release()
        return 1 if self.lease.lost.is_set() else 0
