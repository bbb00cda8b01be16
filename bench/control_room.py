"""Control-room tick benchmark: one screen's server time and bytes per tick at city size, and what a change
costs the first screen that sees it against every other screen.

Run: python3 bench/control_room.py [--entities 1000 10000 50000 100000] [--rounds 20]
It starts a private redis-server, fills it with N located entities spread evenly over the configured feeds
(plus 20 open alerts), and times, in the same run, a screen's tick as the dashboard serves it
(`layouts.control_room.screen_update` plus Dash's own JSON encoding of the six outputs):
  idle:        nothing changed since the screen's last tick;
  one feed:    one feed rewrote all its entities (new positions and values); the dashboard's background
               builder (LiveCity.warm, a thread in every worker) builds the changed layer into the shared
               cache once (`build`, off any screen's request) and another worker's builder fetches it from
               there (`fetch`); then a screen in each worker ticks (`screen, same worker`, `screen, other
               worker`);
  every feed:  every feed rewrote all its entities since the last tick (the worst case), the same four;
and the baseline: reading and decoding the same changed entities from Redis (Store.entities_of_feed), the
least any screen showing them must do. Every screen is zoomed out (the whole city, as a wall shows it).
Printed: p50 and p95 of the server time, the ratio p95/baseline p50, and the bytes each screen receives,
raw JSON and gzip (what flask-compress sends). A timing is a figure here, never a test.
"""

from __future__ import annotations

import argparse
import gzip
import random
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import dash  # noqa: E402
import redis  # noqa: E402
from dash._utils import to_json  # noqa: E402
from flask import Flask  # noqa: E402
from flask_caching import Cache  # noqa: E402

from bench.common import bench_redis, stop  # noqa: E402
from bench.dash_screen import percentile  # noqa: E402
from ioc.city_map import district_layer  # noqa: E402
from ioc.config import Feed, Settings, load_settings  # noqa: E402
from ioc.control_room import LiveCity  # noqa: E402
from ioc.model import Alert, Batch, Entity, Observation, Severity, utcnow  # noqa: E402
from ioc.store import Store  # noqa: E402
from ioc.web import cache_config  # noqa: E402
from layouts.control_room import screen_update  # noqa: E402

WEST, SOUTH, EAST, NORTH = 108.10, 15.98, 108.28, 16.10


def feed_batch(settings: Settings, feed: Feed, count: int, rng: random.Random) -> Batch:
    """`count` located things of the feed, all at new places with new values (a full rewrite)."""
    now = utcnow()
    batch = Batch()
    metric = feed.kpi.metric if feed.kpi and feed.kpi.metric else "value"
    for n in range(count):
        entity = Entity(
            id=f"urn:ioc:{settings.city.id}:{feed.name}:{n}", type="BenchThing", agency=feed.agency,
            sector=feed.sector, name=f"{feed.name} {n}",
            location=(round(rng.uniform(WEST, EAST), 5), round(rng.uniform(SOUTH, NORTH), 5)),
            district="Hải Châu", attributes={metric: round(rng.uniform(0, 100), 1), "status": "open"},
            observed_at=now,
        )
        batch.entities.append(entity)
        batch.observations.append(Observation(entity.id, metric, entity.attributes[metric], "", now))
    return batch


def rewrite(store: Store, settings: Settings, feeds: list[Feed], shares: dict[str, int], rng: random.Random) -> None:
    for feed in feeds:
        store.write_batch(feed.name, feed_batch(settings, feed, shares[feed.name], rng))
        store.record_success(feed.name, records=shares[feed.name], latency_ms=5, interval=feed.interval,
                             stale_factor=feed.stale_factor)


def encoded(outputs: tuple[Any, ...]) -> bytes:
    """The callback's response body as Dash writes it (a Patch as its operations, no_update left out)."""
    response = {"multi": True, "response": {}}
    for index, value in enumerate(outputs):
        if value is dash.no_update:
            continue
        if isinstance(value, dash.Patch):
            value = value.to_plotly_json()
        response["response"][f"output-{index}"] = value
    return to_json(response).encode()


class Screen:
    """One open control room: its own worker (LiveCity) and what it last drew."""

    def __init__(self, store: Store, settings: Settings, cache: Cache) -> None:
        self.live = LiveCity(store=store, settings=settings, cache=cache, base=district_layer(settings.city))
        self.seen: dict[str, Any] = {}

    def tick(self) -> tuple[float, int, int]:
        """Server seconds, raw bytes and gzip bytes of one tick."""
        started = time.perf_counter()
        outputs = screen_update(self.live, "vi", self.seen)
        body = encoded(outputs)
        elapsed = time.perf_counter() - started
        if outputs[-1] is not dash.no_update:
            self.seen = outputs[-1]
        return elapsed, len(body), len(gzip.compress(body, 6))


def measure(store: Store, settings: Settings, cache: Cache, feeds: list[Feed], shares: dict[str, int],
            changed: Callable[[], list[Feed]], rounds: int, rng: random.Random) -> dict[str, list[Any]]:
    """`rounds` times: rewrite the changed feeds, let the builder build, tick a screen in the builder's worker,
    then one in another worker; plus idle ticks."""
    first, other = Screen(store, settings, cache), Screen(store, settings, cache)
    first.tick(), other.tick()  # both screens have drawn the city once
    out: dict[str, list[Any]] = {"build": [], "fetch": [], "first": [], "other": [], "idle": [], "baseline": []}
    for _ in range(rounds):
        now_changed = changed()
        rewrite(store, settings, now_changed, shares, rng)
        started = time.perf_counter()
        first.live.warm()
        out["build"].append((time.perf_counter() - started, 0, 0))
        started = time.perf_counter()
        other.live.warm()
        out["fetch"].append((time.perf_counter() - started, 0, 0))
        out["first"].append(first.tick())
        out["other"].append(other.tick())
        out["idle"].append(first.tick())
        started = time.perf_counter()
        for feed in now_changed:
            store.entities_of_feed(feed.name)
        out["baseline"].append(time.perf_counter() - started)
    return out


def row(label: str, samples: list[tuple[float, int, int]], baseline_p50: float | None) -> str:
    seconds = [s for s, _, _ in samples]
    p50, p95 = percentile(seconds, 50) or 0.0, percentile(seconds, 95) or 0.0
    raw = statistics.median(b for _, b, _ in samples)
    zipped = statistics.median(z for _, _, z in samples)
    ratio = f"{p95 / baseline_p50:5.2f}" if baseline_p50 else "    -"
    sizes = f"{raw / 1024:7.1f} KB raw  {zipped / 1024:6.1f} KB gzip" if raw else ""
    return f"  {label:<32} p50 {p50 * 1000:7.1f} ms  p95 {p95 * 1000:7.1f} ms  ratio {ratio}  {sizes}"


def print_case(name: str, out: dict[str, list[Any]], baseline_p50: float) -> None:
    print(row(f"{name}: build (background)", out["build"], baseline_p50))
    print(row(f"{name}: fetch (background)", out["fetch"], baseline_p50))
    print(row(f"{name}: screen, same worker", out["first"], baseline_p50))
    print(row(f"{name}: screen, other worker", out["other"], baseline_p50))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--entities", type=int, nargs="+", default=[1000, 10000, 50000, 100000])
    parser.add_argument("--rounds", type=int, default=20)
    args = parser.parse_args()
    url, process = bench_redis()
    settings = load_settings()
    feeds = [f for f in settings.feeds if f.enabled]
    busiest = feeds[2]  # the buses: the feed that moves most in a real city
    try:
        for count in args.entities:
            client = redis.Redis.from_url(url, decode_responses=True)
            client.flushdb()
            store = Store(client, settings.city.id)
            rng = random.Random(count)
            shares = {f.name: count // len(feeds) + (1 if i < count % len(feeds) else 0) for i, f in enumerate(feeds)}
            rewrite(store, settings, feeds, shares, rng)
            for n in range(20):
                store.raise_alert(Alert(id="", rule_id="bench", entity_id=f"urn:ioc:danang:{busiest.name}:{n}",
                                        title=f"bench {n}", severity=Severity.SEVERE, sector="environment",
                                        agency="bench", value=60.0))
            # the dashboard's own shared cache: flask-caching on this Redis, as every worker uses it
            cache = Cache(Flask(__name__), config=cache_config(store, "server"))
            print(f"{count} entities over {len(feeds)} feeds ({count // len(feeds)} a feed), {args.rounds} rounds:")
            one = measure(store, settings, cache, feeds, shares, lambda: [busiest], args.rounds, rng)
            base_one = statistics.median(one["baseline"])
            print(f"  baseline: reading one feed's {shares[busiest.name]} entities p50 {base_one * 1000:.1f} ms")
            print_case("one feed", one, base_one)
            every = measure(store, settings, cache, feeds, shares, lambda: feeds, args.rounds, rng)
            base_all = statistics.median(every["baseline"])
            print(f"  baseline: reading all {count} entities p50 {base_all * 1000:.1f} ms")
            print_case("every feed", every, base_all)
            print(row("nothing changed", one["idle"] + every["idle"], None))
            client.close()
    finally:
        stop(process)


if __name__ == "__main__":
    main()
