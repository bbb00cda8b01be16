"""The adapter runner: polls each feed on its interval with a timeout and retries, writes, keeps health.

`poll_feed` is one poll of one feed as a plain function of its inputs; `poll_configured` the same for a
configured feed with the rules and listeners every runner attaches; `poll_job` the same with only
serialisable arguments. `ioc.scheduler.FeedScheduler` runs every feed in its own thread (the demo), so a
failing or hanging feed never delays the others; `ioc.worker` runs the polls as RQ jobs on several machines.
"""

from __future__ import annotations

import gc
import logging
import random
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

import httpx
import redis

from data_adapters.base import FeedContext, PayloadError, Reader, get_reader
from data_adapters.http import MAX_PAYLOAD_BYTES, BoundedTransport
from ioc.areas import AreaIndex, area_index
from ioc.config import Feed, Settings, load_settings
from ioc.credentials import CredentialError, feed_credentials, redact, redact_payload, sent_by
from ioc.model import Batch, utcnow
from ioc.redis_conn import client_from_url
from ioc.rules import RuleEngine
from ioc.store import Store

log = logging.getLogger("ioc.runner")


class BatchListener(Protocol):
    """Anything that wants each stored batch (KPI rollups, ...): called after the write succeeded."""

    def on_batch(self, feed: Feed, batch: Batch) -> None: ...


def default_listeners(settings: Settings, store: Store) -> list[BatchListener]:
    """The listeners every runner (scheduler, job, CLI) attaches. One line per consumer."""
    from ioc.kpis.rollups import rollup_listener  # here, so a consumer is one place to read or remove

    return [listener for listener in (rollup_listener(settings, store),) if listener is not None]

BACKOFF_BASE_S = 0.5
BACKOFF_CAP_S = 8.0


@dataclass(slots=True)
class PollOutcome:
    feed: str
    ok: bool
    records: int = 0
    observations: int = 0
    attempts: int = 0
    latency_ms: float = 0.0
    error: str = ""
    alerts_raised: int = 0
    alerts_cleared: int = 0
    batch: Batch | None = field(default=None, repr=False)

    def to_dict(self) -> dict[str, Any]:
        return {
            "feed": self.feed,
            "ok": self.ok,
            "records": self.records,
            "observations": self.observations,
            "attempts": self.attempts,
            "latency_ms": round(self.latency_ms, 1),
            "error": self.error or None,
            "alerts_raised": self.alerts_raised,
            "alerts_cleared": self.alerts_cleared,
        }


def feed_context(feed: Feed, city: str) -> FeedContext:
    return FeedContext(
        name=feed.name, agency=feed.agency, sector=feed.sector, city=city, url=feed.url, mapping=feed.mapping
    )


def backoff_delay(attempt: int, rng: random.Random | None = None) -> float:
    """Exponential backoff with jitter, so many feeds failing together do not retry in lockstep."""
    delay = min(BACKOFF_CAP_S, BACKOFF_BASE_S * (2**attempt))
    return delay * (0.5 + (rng or random).random() / 2)


def describe_fetch_error(exc: Exception) -> str:
    """What went wrong, with any secret or credential query parameter masked: the text is stored and shown."""
    return redact(_fetch_error_text(exc))


def _fetch_error_text(exc: Exception) -> str:
    if isinstance(exc, CredentialError):
        return f"credentials: {exc}"
    if isinstance(exc, httpx.TimeoutException):
        return f"timeout: {type(exc).__name__} ({exc})"
    if isinstance(exc, httpx.HTTPStatusError):
        return f"HTTP {exc.response.status_code} from {exc.request.url}"
    if isinstance(exc, httpx.HTTPError):
        return f"fetch failed: {type(exc).__name__}: {exc}"
    return f"fetch failed: {type(exc).__name__}: {exc}"


def place_in_areas(batch: Batch, areas: AreaIndex) -> None:
    """Give every located entity and event its administrative area (one vectorised spatial join)."""
    located = [e for e in batch.entities if e.location is not None and e.district is None]
    if located:
        for entity, area in zip(located, areas.assign([e.location for e in located]), strict=True):
            entity.district = area
    for event in batch.events:
        if event.district is None:
            if event.area:
                event.district = areas.assign_geometry(event.area)
            elif event.location:
                event.district = areas.assign([event.location])[0]


def poll_feed(
    feed: Feed,
    *,
    store: Store,
    http: httpx.Client,
    areas: AreaIndex,
    rules: RuleEngine | None = None,
    city: str = "danang",
    sleep: Callable[[float], None] = time.sleep,
    listeners: Sequence[BatchListener] = (),
) -> PollOutcome:
    """Fetch (with retries), parse, place, write atomically, record health, evaluate rules. Never raises
    for a feed's own failure: the failure is the outcome, and it is in the feed's health."""
    if feed.url.startswith("mqtt://") and feed.fallback_url:
        # a pushed feed polled on demand (`ioc adapters run`, a queued job) reads its HTTP fallback
        feed = feed.model_copy(update={"url": feed.fallback_url})
    reader = get_reader(feed.reader)
    context = feed_context(feed, city)
    outcome = PollOutcome(feed=feed.name, ok=False)
    health_args = {"interval": feed.interval, "stale_factor": feed.stale_factor}

    payload: bytes | None = None
    try:
        credentials = feed_credentials(feed)
    except CredentialError as exc:  # a variable unset or a secret file unreadable: this feed's error, no crash
        credentials, outcome.error = None, describe_fetch_error(exc)
    attempts = 0 if outcome.error else feed.retries + 1  # nothing is sent without its credentials
    for attempt in range(attempts):
        outcome.attempts = attempt + 1
        started = time.perf_counter()
        try:
            # a paged reader parses what it fetches to find the next page
            with _collector_hold(), sent_by(http, credentials):
                payload = reader.fetch(http, context)
            outcome.latency_ms = (time.perf_counter() - started) * 1000
            break
        except (httpx.HTTPError, OSError, PayloadError, CredentialError) as exc:
            outcome.error = describe_fetch_error(exc)
            if attempt < feed.retries:
                sleep(backoff_delay(attempt))
    if payload is None:
        store.record_failure(feed.name, error=outcome.error, **health_args)
        _log_failure(feed.name, outcome.error)
        return outcome

    return ingest_payload(
        feed, payload, store=store, areas=areas, rules=rules, city=city, outcome=outcome, reader=reader,
        listeners=listeners,
    )


class _CollectorHold:
    """Holds off Python's cyclic garbage collector while payloads are parsed and written.

    A large payload parses into a million small dicts and lists with no cycles among them, and the collector,
    set off by every few hundred allocations, walks them again and again: more than half the parse time of a
    20,000-observation SensorThings collection (bench/nodered.py). Reference counting still frees all of it;
    the collector resumes (unless someone else had turned it off) when the last ingest of the process ends.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._holders = 0
        self._resume = False

    @contextmanager
    def __call__(self) -> Iterator[None]:
        with self._lock:
            if self._holders == 0:
                self._resume = gc.isenabled()
                gc.disable()
            self._holders += 1
        try:
            yield
        finally:
            with self._lock:
                self._holders -= 1
                if self._holders == 0 and self._resume:
                    gc.enable()


_collector_hold = _CollectorHold()


def ingest_payload(
    feed: Feed,
    payload: bytes,
    *,
    store: Store,
    areas: AreaIndex,
    rules: RuleEngine | None = None,
    city: str = "danang",
    outcome: PollOutcome | None = None,
    reader: Reader | None = None,
    listeners: Sequence[BatchListener] = (),
    replace: bool = True,
) -> PollOutcome:
    """Parse, place, write atomically, record health, evaluate rules: the path every payload takes,
    whether polled over HTTP or pushed over MQTT."""
    reader = reader or get_reader(feed.reader)
    outcome = outcome or PollOutcome(feed=feed.name, ok=False, attempts=1)
    health_args = {"interval": feed.interval, "stale_factor": feed.stale_factor}
    with _collector_hold():
        stored = _parse_and_write(feed, payload, store=store, areas=areas, city=city, outcome=outcome,
                                  reader=reader, replace=replace)
    if stored is not None:
        batch, now = stored
        store.record_success(
            feed.name, records=batch.record_count, latency_ms=outcome.latency_ms, now=now, problems=batch.problems,
            **health_args,
        )
        outcome.ok, outcome.error = True, ""
        outcome.records, outcome.observations, outcome.batch = (
            batch.record_count, len(batch.observations), batch,
        )
        if rules is not None:
            outcome.alerts_raised, outcome.alerts_cleared = rules.evaluate(feed, batch)
        for listener in listeners:
            try:
                listener.on_batch(feed, batch)
            except redis.ConnectionError:
                raise
            except Exception:  # a consumer's bug must not turn a stored batch into a failed poll
                log.exception("listener %r failed on feed %s", listener, feed.name)
        return outcome

    # a refusal may quote the request (a URL with its key) or echo a secret back: masked before it is kept
    outcome.error = redact(outcome.error)
    store.record_failure(feed.name, error=outcome.error, payload=redact_payload(payload), **health_args)
    _log_failure(feed.name, outcome.error)
    return outcome


def _parse_and_write(
    feed: Feed, payload: bytes, *, store: Store, areas: AreaIndex, city: str, outcome: PollOutcome, reader: Reader,
    replace: bool,
) -> tuple[Batch, datetime] | None:
    """The batch and its ingest time once written; None, with the reason in `outcome.error`, when refused."""
    try:
        batch = reader.parse(payload, feed_context(feed, city))
    except PayloadError as exc:
        outcome.error = f"payload refused: {exc}"
        return None
    except Exception as exc:  # a reader bug must not take the runner down; the payload is kept to debug it
        log.exception("reader %s crashed on feed %s", feed.reader, feed.name)
        outcome.error = f"reader error: {type(exc).__name__}: {exc}"
        return None
    place_in_areas(batch, areas)
    now = utcnow()
    for entity in batch.entities:
        entity.ingested_at = now
    try:
        store.write_batch(feed.name, batch, now=now, replace=replace)
    except redis.ResponseError as exc:  # Redis refused a command (wrong key type, out of memory)
        outcome.error = f"store refused the batch: {exc}"
        return None
    return batch, now


_last_logged: dict[str, str] = {}


def _log_failure(feed: str, error: str) -> None:
    # Log once when a feed goes down (or its error changes), not on every poll.
    if _last_logged.get(feed) != error:
        log.warning("feed %s failing: %s", feed, error)
        _last_logged[feed] = error


def _log_recovery(feed: str) -> None:
    if _last_logged.pop(feed, None) is not None:
        log.warning("feed %s recovered", feed)


def make_http_client(timeout: float, max_bytes: int = MAX_PAYLOAD_BYTES) -> httpx.Client:
    """A feed's HTTP client: `timeout` per network phase and for the whole of each answer, at most
    `max_bytes` an answer."""
    return httpx.Client(
        timeout=httpx.Timeout(timeout),
        transport=BoundedTransport(httpx.HTTPTransport(), deadline=timeout, max_bytes=max_bytes),
        follow_redirects=True,
        headers={"User-Agent": "city-ioc/0.1 (+https://example.org/city-ioc)"},
    )


def poll_configured(
    feed: Feed, settings: Settings, store: Store, *, http: httpx.Client | None = None,
    rules: RuleEngine | None = None, listeners: Sequence[BatchListener] | None = None,
) -> PollOutcome:
    """One poll of a configured feed with what every runner attaches (areas, rules, batch listeners): the
    unit `poll_job`, `ioc adapters run` and the RQ worker's job (ioc.worker) share. A process that polls
    again and again passes its own HTTP client (a new one's TLS set-up costs tens of milliseconds), rules and
    listeners."""
    with ExitStack() as owned:
        if http is None:
            http = owned.enter_context(make_http_client(feed.timeout))
        return poll_feed(
            feed, store=store, http=http, areas=area_index(settings.city),
            rules=rules if rules is not None else RuleEngine(settings, store), city=settings.city.id,
            listeners=default_listeners(settings, store) if listeners is None else listeners,
        )


def poll_job(feed_name: str, redis_url: str, config_dir: str | None = None) -> dict[str, Any]:
    """One poll with serialisable arguments only: the unit of work for a Redis-backed job queue. `redis_url`
    may be a Sentinel URL (ioc.redis_conn.client_from_url)."""
    settings = load_settings(config_dir)
    feed = settings.feed(feed_name)
    client = client_from_url(redis_url)
    try:
        return poll_configured(feed, settings, Store(client, settings.city.id)).to_dict()
    finally:
        client.close()
