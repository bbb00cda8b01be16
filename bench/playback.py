"""Playback benchmark: the city of 10,000 entities at a past minute, from a day of archived changes.

Run: python3 bench/playback.py [--minutes 1440] [--asks 20]
It starts a private redis-server (or uses IOC_BENCH_REDIS_URL) and writes a day through Store.write_batch, one
poll a minute: 2,000 buses that all move every minute, and 8,000 sensors of four feeds polled every 5 minutes,
a fifth of them with a new value (and a reading) each poll. ioc.archive.Archiver archives every 5 minutes of
that day, with a snapshot every 15 (as `ioc archive` does), into a fresh folder. Then, one core, for `asks`
minutes of the day picked at random:
  playback:        ioc.playback.PlaybackCity.read at a minute the process has not built yet: the snapshot, the
                   changes after it (DuckDB over the files), the alerts, each feed's layer (its points, clusters
                   and tile number); the first ask of the run is the cold one (nothing of it cached); the same
                   minute asked again at once (another screen playing it) is served from the process's cache;
                   the process's CPU time per ask is given beside it (the wall time follows the machine's load)
  60x play:        the 10 minutes after the last one asked, one after the other, as a screen playing at 60x
                   asks them (most within the snapshot window the last ask decoded)
  live baseline:   the same 10,000 entities read live from Redis (one HGETALL per feed) and built into the same
                   layers: what a screen's first live tick costs
  pandas baseline: the same state from the same files by a pandas scan (every entity row of the day read,
                   those up to the minute kept, the last per entity)
"""

from __future__ import annotations

import argparse
import json
import random
import shutil
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import pandas as pd  # noqa: E402
import redis  # noqa: E402

from bench.common import bench_redis, one_core, stop  # noqa: E402
from ioc.archive import Archiver  # noqa: E402
from ioc.archive.archiver import SNAPSHOT_EVERY  # noqa: E402
from ioc.archive.files import disk_bytes, files_of  # noqa: E402
from ioc.config import Settings, load_settings  # noqa: E402
from ioc.live_map import build_feed_layer  # noqa: E402
from ioc.model import Batch, Entity, Observation  # noqa: E402
from ioc.playback import PlaybackCity  # noqa: E402
from ioc.store import Store  # noqa: E402

T0 = datetime(2026, 3, 1, 0, 0, tzinfo=UTC)
BUSES = 2_000
SENSOR_FEEDS = ("air-stations", "parking", "streetlights", "waste-containers")
SENSORS_PER_FEED = 2_000
SENSOR_EVERY = 5  # minutes between a sensor feed's polls
ARCHIVE_EVERY = 5  # minutes of the day between archiver rounds
PLAYED = 10  # minutes played on at 60x after the last minute asked


def _bus(n: int, minute: int) -> Entity:
    angle = (n * 7 + minute) / 40
    return Entity(f"urn:ioc:bench:bus:{n}", "Vehicle", "dnbus", "transport", name=f"Xe {n}",
                  location=(108.15 + (n % 50) / 400 + 0.01 * (angle % 1), 16.0 + (n // 50) / 400),
                  attributes={"route": f"R{n % 30}", "speed": round(20 + 10 * ((n + minute) % 7) / 7, 1)})


def _sensor(feed: str, n: int, value: float) -> Entity:
    return Entity(f"urn:ioc:bench:{feed}:{n}", "Device", "bench", "environment", name=f"{feed} {n}",
                  location=(108.12 + (n % 45) / 300, 15.95 + (n // 45) / 300), attributes={"value": value})


def write_day(store: Store, archiver: Archiver, minutes: int, rng: random.Random) -> dict[str, Any]:
    """A day of polls through the store, archived every few minutes with a snapshot every 15."""
    values = {feed: [round(rng.uniform(0, 100), 1) for _ in range(SENSORS_PER_FEED)] for feed in SENSOR_FEEDS}
    started = time.perf_counter()
    for minute in range(minutes):
        at = T0 + timedelta(minutes=minute)
        store.write_batch("bus-vehicles", Batch(entities=[_bus(n, minute) for n in range(BUSES)]), now=at)
        if minute % SENSOR_EVERY == 0:
            for feed in SENSOR_FEEDS:
                changed = rng.sample(range(SENSORS_PER_FEED), SENSORS_PER_FEED // 5)
                for n in changed:
                    values[feed][n] = round(rng.uniform(0, 100), 1)
                entities = [_sensor(feed, n, value) for n, value in enumerate(values[feed])]
                readings = [Observation(entities[n].id, "value", values[feed][n], "", at) for n in changed]
                store.write_batch(feed, Batch(entities=entities, observations=readings), now=at)
        if minute % ARCHIVE_EVERY == ARCHIVE_EVERY - 1 or minute == minutes - 1:
            archiver.archive_once()
            archiver.snapshot_if_due(now=minute * 60.0)
    return {"write_and_archive_s": round(time.perf_counter() - started, 1)}


def live_read(store: Store, settings: Settings) -> float:
    """Seconds to read the 10,000 live entities from Redis and build their layers (a first live tick)."""
    feeds = [settings.feed(name) for name in ("bus-vehicles", *SENSOR_FEEDS)]
    started = time.perf_counter()
    by_feed = store.entities_of_feeds(feed.name for feed in feeds)
    for feed in feeds:
        build_feed_layer(settings, feed, 1, by_feed[feed.name], "en")
    return time.perf_counter() - started


def pandas_state(root: Path, at: datetime) -> tuple[float, int]:
    """Seconds for a pandas scan of the day's entity rows to the last record per entity at `at`, and how many."""
    started = time.perf_counter()
    files = files_of(root, "entities", at.date() - timedelta(days=1), at.date())
    frame = pd.concat([pd.read_parquet(path, columns=["sid", "n", "feed", "entity", "ingested_at", "record"])
                       for path in files], ignore_index=True)
    frame = frame[frame["ingested_at"] <= pd.Timestamp(at)]
    parts = frame["sid"].str.split("-", expand=True).astype("int64")
    frame = frame.assign(ms=parts[0], seq=parts[1]).sort_values(["ms", "seq", "n"])
    last = frame.groupby(["feed", "entity"], sort=False).tail(1)
    last = last[~last["record"].str.contains('"gone":true', regex=False)]
    return time.perf_counter() - started, len(last)


def run(minutes: int, asks: int) -> dict[str, Any]:
    one_core()
    url, process = bench_redis()
    client = redis.Redis.from_url(url, decode_responses=True)
    client.flushdb()
    settings = load_settings()
    store = Store(client, "bench")
    folder = Path(tempfile.mkdtemp(prefix="ioc-bench-playback-"))
    rng = random.Random(11)
    try:
        archiver = Archiver(client, store.keys, folder)
        result: dict[str, Any] = write_day(store, archiver, minutes, rng)
        result["archive_mb"] = round(disk_bytes(folder) / 1e6, 1)
        result["snapshot_every_s"] = SNAPSHOT_EVERY
        moments = [T0 + timedelta(minutes=rng.randrange(1, minutes), seconds=rng.randrange(60)) for _ in range(asks)]
        city = PlaybackCity(store=store, settings=settings, base=[], root=folder)
        firsts, cpus, agains, counts = [], [], [], []
        for at in moments:
            started, cpu = time.perf_counter(), time.process_time()
            tick = city.read("en", at)
            firsts.append(time.perf_counter() - started)
            cpus.append(time.process_time() - cpu)
            counts.append(sum(len(layer.ids) for layer in tick.state.layers.values()))
            started = time.perf_counter()
            city.read("en", at)  # another screen playing the same minute
            agains.append(time.perf_counter() - started)
        plays = []  # 60x play: the next minutes after one asked, each a second apart on the screen
        for minute in range(1, PLAYED + 1):
            started = time.perf_counter()
            city.read("en", moments[-1] + timedelta(minutes=minute))
            plays.append(time.perf_counter() - started)
        lives = [live_read(store, settings) for _ in range(asks)]
        scans = [pandas_state(folder, at) for at in moments[:5]]
        assert all(count == n for (_, count), n in zip(scans, counts, strict=False)), (scans, counts)
        result.update(
            entities=int(statistics.median(counts)),
            cold_ms=round(firsts[0] * 1000, 1),
            playback_median_ms=round(statistics.median(firsts) * 1000, 1),
            playback_p95_ms=round(sorted(firsts)[max(0, round(0.95 * len(firsts)) - 1)] * 1000, 1),
            playback_max_ms=round(max(firsts) * 1000, 1),
            playback_cpu_median_ms=round(statistics.median(cpus) * 1000, 1),
            same_minute_again_ms=round(statistics.median(agains) * 1000, 3),
            play_60x_median_ms=round(statistics.median(plays) * 1000, 1),
            live_median_ms=round(statistics.median(lives) * 1000, 1),
            pandas_median_ms=round(statistics.median(s for s, _ in scans) * 1000, 1),
        )
        result["ratio_live"] = round(result["playback_median_ms"] / result["live_median_ms"], 2)
        result["ratio_pandas"] = round(result["playback_median_ms"] / result["pandas_median_ms"], 3)
        return result
    finally:
        shutil.rmtree(folder, ignore_errors=True)
        client.flushdb()
        client.close()
        stop(process)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=int, default=1440, help="minutes of the day written and archived")
    parser.add_argument("--asks", type=int, default=20, help="past minutes asked")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    r = run(args.minutes, args.asks)
    if args.json:
        print(json.dumps(r, indent=2))
        return
    print(f"{r['entities']:,} entities, {args.minutes} minutes archived ({r['archive_mb']} MB, written and archived "
          f"in {r['write_and_archive_s']} s): the city at a past minute cold {r['cold_ms']} ms, median "
          f"{r['playback_median_ms']} ms (process CPU {r['playback_cpu_median_ms']} ms), p95 {r['playback_p95_ms']} ms, "
          f"max {r['playback_max_ms']} ms; the same minute again {r['same_minute_again_ms']} ms; the next minutes "
          f"at 60x play {r['play_60x_median_ms']} ms; live read of the same entities and layers "
          f"{r['live_median_ms']} ms (ratio {r['ratio_live']}); pandas scan of the same files "
          f"{r['pandas_median_ms']} ms (ratio {r['ratio_pandas']})")


if __name__ == "__main__":
    main()
