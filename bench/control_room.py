"""Control-room refresh benchmark: server time to rebuild the screen with thousands of live entities.

Run: python3 bench/control_room.py [--entities 1000 5000] [--rounds N]
It starts a private redis-server, fills it with N located entities spread over the configured feeds (plus
open alerts), and times, in the same run:
  refresh:  the control room's refresh callback (layouts.control_room.refresh) when new data arrived: reads
            health, entities and alerts, computes every KPI tile, builds the map figure and the alert panel;
  baseline: reading the same entities from Redis and decoding them (Store.entities_of_feed for every feed),
            the least any screen showing them must do;
and prints the medians and the ratio refresh/baseline. The idle tick (nothing changed) is timed as well.
"""

from __future__ import annotations

import argparse
import random
import shutil
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import redis  # noqa: E402

from ioc.config import load_settings  # noqa: E402
from ioc.model import Alert, Batch, Entity, Observation, Severity, utcnow  # noqa: E402
from ioc.redis_conn import start_redis_server  # noqa: E402
from ioc.store import Store  # noqa: E402
from layouts.app import create_app  # noqa: E402

WEST, SOUTH, EAST, NORTH = 108.10, 15.98, 108.28, 16.10


def fill(store: Store, settings, count: int, rng: random.Random) -> None:  # noqa: ANN001
    feeds = [f for f in settings.feeds if f.enabled]
    now = utcnow()
    for index, feed in enumerate(feeds):
        share = count // len(feeds) + (1 if index < count % len(feeds) else 0)
        batch = Batch()
        metric = feed.kpi.metric if feed.kpi and feed.kpi.metric else "value"
        for n in range(share):
            entity = Entity(
                id=f"urn:ioc:danang:{feed.name}:{n}", type="BenchThing", agency=feed.agency, sector=feed.sector,
                name=f"{feed.name} {n}", location=(rng.uniform(WEST, EAST), rng.uniform(SOUTH, NORTH)),
                district="Hải Châu", attributes={metric: round(rng.uniform(0, 100), 1), "status": "open"},
                observed_at=now,
            )
            batch.entities.append(entity)
            batch.observations.append(Observation(entity.id, metric, entity.attributes[metric], "", now))
        store.write_batch(feed.name, batch)
        store.record_success(feed.name, records=share, latency_ms=5, interval=feed.interval,
                             stale_factor=feed.stale_factor)
    for n in range(20):
        store.raise_alert(Alert(id="", rule_id="bench", entity_id=f"e{n}", title=f"bench {n}",
                                severity=Severity.SEVERE, sector="environment", agency="bench", value=60.0))


def timed(fn, rounds: int) -> float:  # noqa: ANN001
    samples = []
    for _ in range(rounds):
        started = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - started)
    return statistics.median(samples)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--entities", type=int, nargs="+", default=[1000, 5000])
    parser.add_argument("--rounds", type=int, default=7)
    args = parser.parse_args()
    binary = shutil.which("redis-server")
    if not binary:
        raise SystemExit("needs redis-server on PATH")
    process, url = start_redis_server(binary)
    settings = load_settings()
    from layouts import control_room

    try:
        for count in args.entities:
            client = redis.Redis.from_url(url, decode_responses=True)
            client.flushdb()
            store = Store(client, settings.city.id)
            fill(store, settings, count, random.Random(count))
            app = create_app(store, settings, redis_kind="server")
            feeds = [f.name for f in settings.feeds if f.enabled]
            with app.server.test_request_context("/"):
                control_room.refresh(0, "vi", None)  # warm the base-layer cache
                refresh_s = timed(lambda: control_room.refresh(0, "vi", None), args.rounds)
                seen = control_room.refresh(0, "vi", None)[-1]
                idle_s = timed(lambda seen=seen: control_room.refresh(1, "vi", seen), args.rounds)
            baseline_s = timed(lambda store=store, feeds=feeds: [store.entities_of_feed(f) for f in feeds],
                               args.rounds)
            print(f"{count:>6} entities: refresh {refresh_s * 1000:.0f} ms; idle tick {idle_s * 1000:.1f} ms; "
                  f"baseline read {baseline_s * 1000:.0f} ms; ratio refresh/baseline {refresh_s / baseline_s:.2f}")
            client.close()
    finally:
        process.terminate()


if __name__ == "__main__":
    main()
