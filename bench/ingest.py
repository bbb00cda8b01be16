"""Ingest benchmark: parse + normalize + place + store of realistic payloads, against a bare redis-py pipeline.

Run: python3 bench/ingest.py [--rounds N]
It starts a private redis-server (or uses IOC_BENCH_REDIS_URL), builds a 2,000-vehicle GTFS-Realtime feed
and a 500-station SensorThings page placed in Da Nang, and for each payload measures, in the same run:
  ioc:      observations/s through ioc.runner.ingest_payload (reader parse, district join, privacy scrub,
            MULTI/EXEC write of entities, observation streams and health)
  baseline: observations/s of a bare redis-py pipeline writing the same number of entity hashes and
            stream entries with precomputed values (no parsing at all)
and prints the ratio ioc/baseline. Pinned to one core where the OS allows it.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import statistics
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import redis  # noqa: E402
from google.transit import gtfs_realtime_pb2  # noqa: E402

from ioc.areas import area_index  # noqa: E402
from ioc.config import Feed, load_settings  # noqa: E402
from ioc.redis_conn import start_redis_server  # noqa: E402
from ioc.runner import ingest_payload  # noqa: E402
from ioc.store import Store  # noqa: E402

WEST, SOUTH, EAST, NORTH = 108.10, 15.98, 108.28, 16.10


def gtfs_vehicle_feed(vehicles: int, rng: random.Random) -> bytes:
    message = gtfs_realtime_pb2.FeedMessage()
    message.header.gtfs_realtime_version = "2.0"
    message.header.timestamp = int(time.time())
    for n in range(vehicles):
        entity = message.entity.add()
        entity.id = f"bus-{n}"
        v = entity.vehicle
        v.trip.trip_id = f"trip-{n}"
        v.trip.route_id = f"R{n % 40}"
        v.vehicle.id = f"veh-{n}"
        v.vehicle.label = f"{n % 40}-{n}"
        v.vehicle.license_plate = f"43B-{n:03d}.{n % 100:02d}"
        v.position.latitude = rng.uniform(SOUTH, NORTH)
        v.position.longitude = rng.uniform(WEST, EAST)
        v.position.bearing = rng.uniform(0, 360)
        v.position.speed = rng.uniform(0, 15)
        v.timestamp = int(time.time())
    return message.SerializeToString()


def sensorthings_page(stations: int, rng: random.Random) -> bytes:
    now = datetime.now(UTC).isoformat(timespec="seconds")
    properties = [("PM2.5", "µg/m³"), ("PM10", "µg/m³"), ("NO2", "µg/m³"), ("Temperature", "°C"),
                  ("Relative humidity", "%")]
    things = []
    for n in range(stations):
        things.append({
            "@iot.id": n,
            "name": f"Station {n}",
            "description": "air quality station",
            "Locations": [{"@iot.id": n, "name": f"loc {n}", "encodingType": "application/geo+json",
                           "location": {"type": "Point",
                                        "coordinates": [rng.uniform(WEST, EAST), rng.uniform(SOUTH, NORTH)]}}],
            "Datastreams": [
                {"@iot.id": f"{n}-{i}", "name": f"{prop} at {n}",
                 "unitOfMeasurement": {"name": unit, "symbol": unit, "definition": ""},
                 "ObservedProperty": {"name": prop, "definition": ""},
                 "Observations": [{"@iot.id": f"{n}-{i}-o", "phenomenonTime": now, "resultTime": now,
                                   "result": round(rng.uniform(5, 80), 1)}]}
                for i, (prop, unit) in enumerate(properties)
            ],
        })
    return json.dumps({"value": things}).encode()


def bare_pipeline(client: redis.Redis, entities: int, observations: int) -> float:
    """Seconds to write `entities` hashes and `observations` stream entries with a plain pipeline."""
    payload = {"id": "x", "type": "T", "lon": "108.2", "lat": "16.0", "attributes": '{"pm25": 1.0}'}
    started = time.perf_counter()
    pipe = client.pipeline(transaction=True)
    for n in range(entities):
        pipe.hset(f"bare:entity:{n}", mapping=payload)
    for n in range(observations):
        pipe.xadd(f"bare:obs:{n % entities}:{n // entities}", {"t": "2026-01-01T00:00:00+00:00", "v": "1.0",
                                                            "u": "µg/m³"}, maxlen=1000, approximate=True)
    pipe.execute()
    return time.perf_counter() - started


def run(rounds: int) -> list[dict[str, object]]:
    settings = load_settings()
    areas = area_index(settings.city)
    url = os.environ.get("IOC_BENCH_REDIS_URL")
    process = None
    if not url:
        binary = shutil.which("redis-server")
        if not binary:
            raise SystemExit("needs redis-server on PATH or IOC_BENCH_REDIS_URL")
        process, url = start_redis_server(binary)
    # Pin this process (not the redis-server started above) to one core: "obs/s on one core".
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})
    client = redis.Redis.from_url(url, decode_responses=True)
    store = Store(client, "bench")
    rng = random.Random(7)
    cases = [
        ("GTFS-RT vehicle positions, 2,000 vehicles", "gtfs-rt", gtfs_vehicle_feed(2000, rng)),
        ("SensorThings Things page, 500 stations x 5 datastreams", "sensorthings", sensorthings_page(500, rng)),
    ]
    results = []
    try:
        for label, reader, payload in cases:
            feed = Feed(name=f"bench-{reader}", agency="bench", agency_name={"vi": "b", "en": "b"},
                        sector="transport", reader=reader, url="http://bench.invalid/", interval=10)
            ioc_rates, bare_rates = [], []
            for _ in range(rounds):
                client.flushdb()
                started = time.perf_counter()
                outcome = ingest_payload(feed, payload, store=store, areas=areas, city="bench")
                elapsed = time.perf_counter() - started
                if not outcome.ok:
                    raise SystemExit(f"{label}: ingest failed: {outcome.error}")
                observations = outcome.observations
                ioc_rates.append(observations / elapsed)
                client.flushdb()
                bare_rates.append(observations / bare_pipeline(client, outcome.records, observations))
            ioc_rate, bare_rate = statistics.median(ioc_rates), statistics.median(bare_rates)
            results.append({"payload": label, "observations": observations, "ioc_obs_per_s": round(ioc_rate),
                            "bare_pipeline_obs_per_s": round(bare_rate), "ratio": round(ioc_rate / bare_rate, 2)})
    finally:
        client.close()
        if process:
            process.terminate()
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    for row in run(args.rounds):
        print(f"{row['payload']}: {row['observations']} observations; ioc {row['ioc_obs_per_s']:,} obs/s; "
              f"bare pipeline {row['bare_pipeline_obs_per_s']:,} obs/s; ratio {row['ratio']}")


if __name__ == "__main__":
    main()
