"""`ioc backfill`: N days of KPI history from the seeded simulator, through the configured readers, no HTTP.

The simulator's part of the history: which feeds it serves, the weather and outages of the past days, and
each feed's payload at each simulated hour. Rolling a payload up is `ioc.kpis.history.HistoryWriter`'s job.

For every hour of the past N days (from the city's midnight N days ago up to now) and every configured feed
the simulator serves, it renders the feed's payload at that simulated time with the feed's own URL query,
parses it with the feed's reader, places it in the city's areas and hands it to the rollups, exactly as the
runner does with a live poll. One sample per feed and hour keeps 90 days to a few minutes on two cores.

The history has weather and the agencies' bad days: on a seeded share of days a rain event passes (the
simulator's flood sensors, traffic, requests and buses react to it as they do live), and a seeded share of
feed-hours are outages (nothing delivered, nothing ingested), so the data scorecard and the integration
rate have something to show. The same seed gives the same history. The backfill replaces the city's KPI rollups: run twice, it gives the same result.
"""

from __future__ import annotations

import contextlib
import math
import multiprocessing
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from urllib.parse import parse_qsl, urlsplit
from zoneinfo import ZoneInfo

from data_adapters.base import PayloadError, get_reader
from ioc.config import Feed, Settings
from ioc.kpis.catalogue import Catalogue, load_catalogue
from ioc.kpis.history import HistoryWriter, RecordSeen
from ioc.kpis.periods import day_start
from ioc.kpis.rollups import KpiRollups, expected_per_hour
from ioc.model import Batch, utcnow
from ioc.runner import feed_context
from ioc.store import Store
from simulator.city import SimCity
from simulator.feeds import FEEDS, FeedRender, FeedRequest
from simulator.scenario import Incident, Scenario

# Where in each hour a feed is sampled: mid-hour, so an hour's sample stands for the hour.
SAMPLE_OFFSET = timedelta(minutes=30)
# A feed read only for records counted once (requests, dossiers, incidents, each with its own time) is
# parsed every few hours: its payloads overlap for days, and a record's time does not depend on the sample.
ONCE_SAMPLE_HOURS = 3
# Outages of the history: on this share of days a feed has one, lasting 1 to MAX_OUTAGE_HOURS hours.
OUTAGE_DAY_SHARE = 0.12
MAX_OUTAGE_HOURS = 6
# Da Nang's rainy season brings a heavy shower to roughly one day in eight: (hours, peak mm/h) ranges.
RAIN_DAY_SHARE = 0.12
RAIN_HOURS = (2.0, 6.0)
RAIN_PEAK_MM_H = (15.0, 55.0)

Progress = Callable[[str], None]
BatchSeen = Callable[[Feed, Batch, datetime], None]


@dataclass(slots=True)
class BackfillResult:
    days: int
    start: datetime
    end: datetime
    feeds: list[str] = field(default_factory=list)
    # configured feeds the simulator does not serve: they get no history
    skipped: list[str] = field(default_factory=list)
    samples: int = 0
    outage_hours: int = 0
    records: int = 0
    refused: int = 0
    removed_keys: int = 0
    seconds: float = 0.0


def simulated_feeds(settings: Settings) -> tuple[list[tuple[Feed, FeedRender, FeedRequest]], list[str]]:
    """The enabled feeds the simulator serves (with their render function and query), and the others."""
    served: list[tuple[Feed, FeedRender, FeedRequest]] = []
    skipped: list[str] = []
    for feed in settings.feeds:
        if not feed.enabled:
            continue
        parts = urlsplit(feed.url)
        render = FEEDS.get(parts.path)
        if render is None and feed.fallback_url:
            # a pushed feed (MQTT) is read from the HTTP fallback the runner polls while the broker is away
            parts = urlsplit(feed.fallback_url)
            render = FEEDS.get(parts.path)
        if render is None:
            skipped.append(feed.name)
            continue
        base = f"{parts.scheme}://{parts.netloc}" if parts.netloc else "http://127.0.0.1"
        served.append((feed, render, FeedRequest(parse_qsl(parts.query, keep_blank_values=True), base_url=base)))
    return served, skipped


def sample_every(feed: Feed, catalogue: Catalogue) -> int | None:
    """Hours between parsed samples of a feed; None when no KPI reads its records (polls are still counted)."""
    kpis = catalogue.for_feed(feed.name)
    if not kpis:
        return None
    if all(k.source is not None and k.source.records in ("entities", "events") for k in kpis):
        return ONCE_SAMPLE_HOURS
    return 1


def history_scenario(seed: int, start: datetime, end: datetime) -> Scenario:
    """The rain of the backfilled history: seeded per day, so every worker process sees the same weather."""
    incidents = []
    day, number = 0, 0
    while start + timedelta(days=day) < end:
        rng = random.Random(f"{seed}:backfill-rain:{(start + timedelta(days=day)).date().isoformat()}")
        if rng.random() < RAIN_DAY_SHARE:
            number += 1
            begins = timedelta(days=day, hours=rng.uniform(0, 22))
            incidents.append(Incident(
                id=f"history-rain-{number}", kind="rain", title_vi="Mưa lớn", title_en="Heavy rain",
                starts_after=begins, duration=timedelta(hours=rng.uniform(*RAIN_HOURS)), severity="moderate",
                peak=round(rng.uniform(*RAIN_PEAK_MM_H), 1),
            ))
        day += 1
    return Scenario(start, tuple(incidents))


def outage_hours(city: SimCity, feed: str, day: date) -> set[int]:
    """The local hours (0-23) of a day in which a feed delivered nothing in the history."""
    rng = city.rng("backfill-outage", feed, day.isoformat())
    if rng.random() >= OUTAGE_DAY_SHARE:
        return set()
    length = rng.randint(1, MAX_OUTAGE_HOURS)
    first = rng.randint(0, 24 - length)
    return set(range(first, first + length))


def _history(
    store: Store,
    settings: Settings,
    catalogue: Catalogue,
    feeds: list[tuple[Feed, FeedRender, FeedRequest]],
    *,
    seed: int,
    start: datetime,
    end: datetime,
    result: BackfillResult,
    progress: Progress | None = None,
    on_batch: BatchSeen | None = None,
    on_record: RecordSeen | None = None,
) -> None:
    """Roll the history of some feeds from `start` to `end` into the store (the rollups are not cleared)."""
    started = time.perf_counter()
    zone = ZoneInfo(settings.city.timezone)
    first_day = start.astimezone(zone).date()
    writer = HistoryWriter(store, settings, catalogue, (feed for feed, _, _ in feeds), on_record=on_record)
    city = SimCity(seed, scenario=history_scenario(seed, start, end))
    cadence = {feed.name: sample_every(feed, catalogue) for feed, _, _ in feeds}
    total_days = (end.astimezone(zone).date() - first_day).days + 1

    hour = start
    day_index, outages = -1, {}
    total_hours = max(1, math.ceil((end - start).total_seconds() / 3600))
    while hour < end:
        local = hour.astimezone(zone)
        if local.hour == 0 or day_index < 0:
            day_index = (local.date() - first_day).days
            outages = {feed.name: outage_hours(city, feed.name, local.date()) for feed, _, _ in feeds}
        sample = min(hour + SAMPLE_OFFSET, end)
        # the hour still running is credited with the polls due so far, not a whole hour's
        elapsed = min(timedelta(hours=1), end - hour).total_seconds() / 3600
        for feed, render, request in feeds:
            if local.hour in outages[feed.name]:
                result.outage_hours += 1
                continue
            polls = max(1, round(expected_per_hour(feed) * elapsed))
            every = cadence[feed.name]
            if every is None or local.hour % every:
                writer.polls(feed, sample, polls)
                continue
            body, _ = render(city, sample, request)
            try:
                batch, counted = writer.payload(feed, body, sample, polls)
            except PayloadError:
                result.refused += 1
                continue
            result.records += counted
            result.samples += 1
            if on_batch is not None:
                on_batch(feed, batch, sample)
        hour += timedelta(hours=1)
        if progress is not None and (local.hour == 23 or hour >= end):
            done = int((hour - start).total_seconds() // 3600)
            progress(
                f"{local.date().isoformat()}  day {day_index + 1}/{total_days}  {100 * done / total_hours:5.1f}%  "
                f"{result.records:,} records  {time.perf_counter() - started:6.1f} s"
            )


def _worker(url: str, config_dir: str, feed_names: list[str], seed: int, start: datetime, end: datetime
            ) -> BackfillResult:
    """One worker process's share: the named feeds' history, into the Redis at `url`."""
    import redis

    from ioc.config import load_settings

    settings = load_settings(config_dir)
    client = redis.Redis.from_url(url, decode_responses=True)
    served, _ = simulated_feeds(settings)
    mine = [entry for entry in served if entry[0].name in feed_names]
    result = BackfillResult(days=0, start=start, end=end)
    _history(Store(client, settings.city.id), settings, load_catalogue(settings), mine, seed=seed, start=start,
             end=end, result=result)
    client.close()
    return result


def _shares(feeds: list[tuple[Feed, FeedRender, FeedRequest]], catalogue: Catalogue, city: SimCity,
            moment: datetime, workers: int) -> list[list[tuple[Feed, FeedRender, FeedRequest]]]:
    """Feeds split into `workers` shares of about equal work (one timed render and parse of each)."""
    costs = []
    for entry in feeds:
        feed, render, request = entry
        every = sample_every(feed, catalogue)
        if every is None:
            costs.append((0.0, entry))
            continue
        began = time.perf_counter()
        with contextlib.suppress(PayloadError):
            get_reader(feed.reader).parse(render(city, moment, request)[0], feed_context(feed, "cost"))
        costs.append(((time.perf_counter() - began) / every, entry))
    shares: list[list[tuple[Feed, FeedRender, FeedRequest]]] = [[] for _ in range(workers)]
    loads = [0.0] * workers
    for cost, entry in sorted(costs, key=lambda c: c[0], reverse=True):
        lightest = loads.index(min(loads))
        shares[lightest].append(entry)
        loads[lightest] += cost
    return [share for share in shares if share]


def backfill(
    store: Store,
    settings: Settings,
    *,
    days: int,
    seed: int = 42,
    end: datetime | None = None,
    catalogue: Catalogue | None = None,
    progress: Progress | None = None,
    on_batch: BatchSeen | None = None,
    on_record: RecordSeen | None = None,
    workers: int = 1,
) -> BackfillResult:
    """Replace the KPI rollups with `days` days of simulated history ending at `end` (default now).

    With `workers` > 1 (and a Redis server other processes can reach) the feeds are shared among worker
    processes; rollups are increments, so their writes commute. `on_batch` (every parsed batch) and
    `on_record` (every record counted) keep the backfill in this one process, where they can see everything.
    """
    if days < 1:
        raise ValueError("days must be at least 1")
    started = time.perf_counter()
    zone = ZoneInfo(settings.city.timezone)
    end = (end or utcnow()).astimezone(zone)
    start = day_start(end.date() - timedelta(days=days), zone)
    catalogue = catalogue or load_catalogue(settings)
    result = BackfillResult(days=days, start=start, end=end)
    result.removed_keys = KpiRollups(store, settings, catalogue).clear()
    feeds, result.skipped = simulated_feeds(settings)
    result.feeds = [feed.name for feed, _, _ in feeds]

    from ioc.redis_conn import redis_url  # the same rule the dashboard uses to open a second connection

    # fork, not spawn: a spawned worker re-runs the program's main module, and `python -m ioc` has no guard
    can_fork = "fork" in multiprocessing.get_all_start_methods()
    hooked = on_batch is not None or on_record is not None
    url = redis_url(store.redis) if workers > 1 and not hooked and can_fork else None
    if url is None:
        _history(store, settings, catalogue, feeds, seed=seed, start=start, end=end, result=result,
                 progress=progress, on_batch=on_batch, on_record=on_record)
    else:
        shares = _shares(feeds, catalogue, SimCity(seed), start, workers)
        context = multiprocessing.get_context("fork")
        with context.Pool(len(shares) - 1) as pool:
            pending = [
                pool.apply_async(_worker, (url, str(settings.directory), [f.name for f, _, _ in share], seed,
                                           start, end))
                for share in shares[1:]
            ]
            _history(store, settings, catalogue, shares[0], seed=seed, start=start, end=end, result=result,
                     progress=progress)
            for job in pending:
                part = job.get()
                result.samples += part.samples
                result.records += part.records
                result.outage_hours += part.outage_hours
                result.refused += part.refused
        if progress is not None:
            progress(f"{len(shares)} processes done  {result.records:,} records  "
                     f"{time.perf_counter() - started:6.1f} s")
    result.seconds = time.perf_counter() - started
    return result
