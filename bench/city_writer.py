"""What the adapters write while a benchmark's screens watch: synthetic entities, or the demo's feed runner.

Each runs in its own process (`bench/screens.py` starts it) on the Redis at IOC_REDIS_URL and the
configuration at IOC_CONFIG_DIR, prints one JSON line when its data is in place, and stops by itself at
`until` (a time.monotonic() value) so nothing outlives the bench.
"""

from __future__ import annotations

import json
import os
import random
import time
from typing import Any

# the demo city's extent (Da Nang), where the synthetic entities stand
WEST, SOUTH, EAST, NORTH = 108.10, 15.98, 108.28, 16.10


def _store() -> Any:
    import redis

    from ioc.config import load_settings
    from ioc.store import Store

    settings = load_settings()
    client = redis.Redis.from_url(os.environ["IOC_REDIS_URL"], decode_responses=True)
    return settings, Store(client, settings.city.id)


def run_writer(until: float, entities: int, changes: int) -> None:
    """Fill `entities` over the enabled feeds (the adapters' full write), then rewrite `changes` of them every
    second, spread over every feed (a pushed update each), until `until`."""
    from ioc.model import Alert, Batch, Entity, Observation, Severity, utcnow

    settings, store = _store()
    feeds = [f for f in settings.feeds if f.enabled]
    rng = random.Random(11)
    per_feed = {f.name: [] for f in feeds}
    for n in range(entities):
        feed = feeds[n % len(feeds)]
        per_feed[feed.name].append(
            (
                f"urn:ioc:{settings.city.id}:{feed.name}:{n}",
                rng.uniform(WEST, EAST),
                rng.uniform(SOUTH, NORTH),
            )
        )

    def write(feed: Any, rows: list[tuple[str, float, float]], replace: bool) -> None:
        now, batch = utcnow(), Batch()
        metric = feed.kpi.metric if feed.kpi and feed.kpi.metric else "value"
        for entity_id, lon, lat in rows:
            value = round(rng.uniform(0, 100), 1)
            batch.entities.append(
                Entity(
                    id=entity_id,
                    type="BenchThing",
                    agency=feed.agency,
                    sector=feed.sector,
                    name=entity_id.rsplit(":", 1)[1],
                    location=(lon, lat),
                    district=None,
                    attributes={metric: value},
                    observed_at=now,
                )
            )
            batch.observations.append(Observation(entity_id, metric, value, "", now))
        store.write_batch(feed.name, batch, replace=replace)
        store.record_success(
            feed.name, records=len(rows), latency_ms=5, interval=feed.interval, stale_factor=feed.stale_factor
        )

    for feed in feeds:
        write(feed, per_feed[feed.name], True)
    if hasattr(store, "raise_alert"):
        for n in range(20):  # open alerts on the panel and the map, as in bench/control_room.py
            store.raise_alert(
                Alert(
                    id="",
                    rule_id="bench",
                    entity_id=f"e{n}",
                    title=f"bench {n}",
                    severity=Severity.SEVERE,
                    sector="environment",
                    agency="bench",
                    value=60.0,
                )
            )
    print(json.dumps({"ready": True, "entities": entities}), flush=True)
    cursor, seconds, late = 0, 0, 0
    tick = time.monotonic()
    while time.monotonic() < until:
        for index, feed in enumerate(feeds):  # every feed changes every second: each layer's version moves
            rows = per_feed[feed.name]
            share = changes // len(feeds) + (1 if index < changes % len(feeds) else 0)
            if rows and share:
                write(feed, [rows[(cursor * share + k) % len(rows)] for k in range(share)], False)
        cursor, seconds = cursor + 1, seconds + 1
        tick += 1.0
        pause = tick - time.monotonic()
        late += pause < 0
        time.sleep(max(0.0, pause))
    print(json.dumps({"seconds": seconds, "late": late}), flush=True)


def run_feeds(until: float, _entities: int = 0, _changes: int = 0) -> None:
    """`ioc demo` minus the dashboard: the feed runner polling the simulator (IOC_SIM_URL), until `until`."""
    from ioc.scheduler import FeedScheduler

    settings, store = _store()
    scheduler = FeedScheduler(settings, store)
    scheduler.start()
    names = [feed.name for feed in settings.feeds if feed.enabled]
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and None in store.all_health(names).values():
        time.sleep(0.5)  # ready once every feed has been polled: the screens open on a filled city
    polled = sum(health is not None for health in store.all_health(names).values())
    print(json.dumps({"ready": True, "feeds": len(names), "polled": polled}), flush=True)
    try:
        time.sleep(max(0.0, until - time.monotonic()))
    finally:
        scheduler.stop()
