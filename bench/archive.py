"""Archive benchmark: how fast the archiver copies ingested batches to Parquet, and the bytes per observation.

Run: python3 bench/archive.py [--rounds N]
It starts a private redis-server (or uses IOC_BENCH_REDIS_URL), writes the polls of two feeds through
Store.write_batch (500 stations x 5 readings, and 2,000 buses with a position and a record each), then
drains the archive stream with ioc.archive.Archiver into a fresh folder. In the same run, one core:
  archive:        observations/s of Archiver.archive_once (XREADGROUP, decoding the batch entries, rows by
                  day and feed, Parquet files with zstd, XACK), entity records included
  ingest:         observations/s of Store.write_batch for the same polls (archiving must keep up with it)
  pyarrow direct: observations/s of writing the same observation rows, already Python column lists, to one
                  Parquet file with pyarrow: the floor of the file-writing part alone
and bytes on disk per observation, against the same rows as plain CSV (entity, metric, time, value, unit) and
the bytes Redis holds per observation in the per-entity streams (MEMORY USAGE; a stream holds only this
run's polls, so its fixed overhead weighs more than at its cap of 1,000).
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

import pyarrow as pa  # noqa: E402
import pyarrow.parquet as pq  # noqa: E402
import redis  # noqa: E402

from bench.common import bench_redis, one_core, stop  # noqa: E402
from ioc.archive import Archiver  # noqa: E402
from ioc.archive.files import disk_bytes  # noqa: E402
from ioc.model import Batch, Entity, Observation  # noqa: E402
from ioc.store import Store  # noqa: E402

T0 = datetime(2026, 3, 1, 8, 0, tzinfo=UTC)
METRICS = (("pm25", "µg/m³"), ("pm10", "µg/m³"), ("no2", "µg/m³"), ("temperature", "Cel"), ("humidity", "%"))


def station_polls(polls: int, rng: random.Random) -> list[Batch]:
    """500 air stations, five readings each, a poll a minute."""
    batches = []
    for poll in range(polls):
        at = T0 + timedelta(minutes=poll)
        entities = [Entity(f"urn:ioc:bench:air:{s}", "AirQualityObserved", "tnmt", "environment",
                           name=f"Trạm {s}", location=(108.1 + s / 5000, 16.0 + s / 7000), observed_at=at)
                    for s in range(500)]
        batches.append(Batch(entities=entities, observations=[
            Observation(e.id, metric, round(rng.uniform(5, 80), 1), unit, at)
            for e in entities for metric, unit in METRICS]))
    return batches


def bus_polls(polls: int, rng: random.Random) -> list[Batch]:
    """2,000 buses, each a speed reading and a moved position (so every poll's records are archived)."""
    batches = []
    for poll in range(polls):
        at = T0 + timedelta(seconds=5 * poll)
        entities = [Entity(f"urn:ioc:bench:bus:{b}", "Vehicle", "transit", "transport", name=f"Xe {b}",
                           location=(108.1 + rng.random() / 5, 16.0 + rng.random() / 5),
                           attributes={"route": f"R{b % 40}"}, observed_at=at) for b in range(2000)]
        batches.append(Batch(entities=entities, observations=[
            Observation(e.id, "speed", round(rng.uniform(0, 60), 1), "km/h", at) for e in entities]))
    return batches


def pyarrow_direct(batches: list[Batch], folder: Path) -> float:
    """Seconds to write the batches' observation rows, given as Python columns, to one zstd Parquet file."""
    rows = [(o.entity_id, o.metric, o.time, float(o.value), o.unit) for b in batches for o in b.observations]
    columns = [list(c) for c in zip(*rows, strict=True)]
    started = time.perf_counter()
    table = pa.table({"entity": columns[0], "metric": columns[1],
                      "time": pa.array(columns[2], pa.timestamp("s", tz="UTC")), "value": columns[3],
                      "unit": columns[4]})
    pq.write_table(table, folder / "direct.parquet", compression="zstd", use_dictionary=True)
    return time.perf_counter() - started


def csv_bytes_per_observation(batches: list[Batch]) -> float:
    rows = [f"{o.entity_id},{o.metric},{o.time.isoformat()},{o.value},{o.unit}\n" for b in batches
            for o in b.observations]
    return len("".join(rows).encode()) / len(rows)


def redis_bytes_per_observation(client: redis.Redis, batches: list[Batch], store: Store) -> float:
    keys = {store.keys.observations(o.entity_id, o.metric) for o in batches[0].observations}
    pipe = client.pipeline(transaction=False)
    for key in keys:
        pipe.memory_usage(key, samples=0)
    return sum(pipe.execute()) / sum(client.xlen(key) for key in keys)


def one_case(client: redis.Redis, store: Store, feed: str, batches: list[Batch], rounds: int) -> dict[str, Any]:
    observations = sum(len(b.observations) for b in batches)
    archive, ingest, direct, on_disk = [], [], [], []
    redis_bytes = 0.0
    for _ in range(rounds):
        client.flushdb()
        folder = Path(tempfile.mkdtemp(prefix="ioc-archive-bench-"))
        try:
            started = time.perf_counter()
            for batch in batches:
                store.write_batch(feed, batch, now=T0)
            ingest.append(observations / (time.perf_counter() - started))
            redis_bytes = redis_bytes_per_observation(client, batches, store)
            archiver = Archiver(client, store.keys, folder)
            started = time.perf_counter()
            done = archiver.archive_once()
            archive.append(observations / (time.perf_counter() - started))
            if done.rows["observations"] != observations:
                raise SystemExit(f"{feed}: archived {done.rows['observations']} of {observations} observations")
            on_disk.append(disk_bytes(folder, ["observations"]) / observations)
            direct.append(observations / pyarrow_direct(batches, folder))
        finally:
            shutil.rmtree(folder, ignore_errors=True)
    rate, ingest_rate, direct_rate = (statistics.median(r) for r in (archive, ingest, direct))
    return {"feed": feed, "observations": observations, "archive_obs_per_s": round(rate),
            "ingest_obs_per_s": round(ingest_rate), "pyarrow_direct_obs_per_s": round(direct_rate),
            "ratio_ingest": round(rate / ingest_rate, 2), "ratio_direct": round(rate / direct_rate, 2),
            "parquet_bytes_per_obs": round(statistics.median(on_disk), 1),
            "csv_bytes_per_obs": round(csv_bytes_per_observation(batches), 1),
            "redis_stream_bytes_per_obs": round(redis_bytes, 1)}


def run(rounds: int) -> list[dict[str, Any]]:
    url, process = bench_redis()
    one_core()  # this process, not the redis-server it may have started
    client = redis.Redis.from_url(url, decode_responses=True)
    store = Store(client, "bench")
    rng = random.Random(7)
    try:
        return [one_case(client, store, "bench-stations", station_polls(20, rng), rounds),
                one_case(client, store, "bench-buses", bus_polls(25, rng), rounds)]
    finally:
        client.flushdb()
        client.close()
        stop(process)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    results = run(args.rounds)
    if args.json:
        print(json.dumps(results, indent=2))
        return
    for r in results:
        print(f"{r['feed']}, {r['observations']:,} observations: archive {r['archive_obs_per_s']:,} obs/s; "
              f"ingest of the same polls {r['ingest_obs_per_s']:,} obs/s (ratio {r['ratio_ingest']}); "
              f"pyarrow writing the rows directly {r['pyarrow_direct_obs_per_s']:,} obs/s "
              f"(ratio {r['ratio_direct']}); {r['parquet_bytes_per_obs']} bytes on disk per observation "
              f"(CSV {r['csv_bytes_per_obs']}, Redis streams {r['redis_stream_bytes_per_obs']})")


if __name__ == "__main__":
    main()
