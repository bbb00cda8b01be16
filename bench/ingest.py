"""Ingest benchmark: parse + normalize + place + store of realistic payloads, against bare redis-py pipelines.

Run: python3 bench/ingest.py [--rounds N]
It starts a private redis-server (or uses IOC_BENCH_REDIS_URL), builds a 2,000-vehicle GTFS-Realtime feed
and a 500-station SensorThings page placed in Da Nang, and for each payload measures, in the same run:
  ioc:           observations/s through ioc.runner.ingest_payload (reader parse, district join, privacy scrub,
                 the atomic batch write of entity records, observation streams, versions, and feed health)
  bare old keys: observations/s of a bare redis-py MULTI/EXEC pipeline writing what the key layout before
                 entity records wrote (a 13-field hash per entity, the feed's and the city's id sets, the geo
                 index, one stream entry per observation) with precomputed values, no parsing at all
  bare new keys: the same for today's layout (one HSET of the feed's JSON records, the id -> feed index, the
                 geo index, one stream entry per observation, the feed's version)
and prints the ratios ioc/bare. Pinned to one core where the OS allows it.
Then it reads 10,000 entities of 26 feeds back for a screen, in the same run: the old layout's read (the
feed's id set, then one HGETALL per entity, decoded field by field) against Store.entities_of_feeds (one
HGETALL per feed, in one round trip, orjson-decoded).
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import orjson  # noqa: E402
import redis  # noqa: E402
from google.transit import gtfs_realtime_pb2  # noqa: E402

from bench.common import bench_redis, one_core, stop  # noqa: E402
from ioc.areas import area_index  # noqa: E402
from ioc.config import Feed, load_settings  # noqa: E402
from ioc.model import Batch, Entity, to_iso  # noqa: E402
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


OLD_ENTITY_HASH = {"id": "x", "type": "Bus", "agency": "bench", "sector": "transport", "feed": "bench",
                   "name": "43B-000.00", "lon": "108.2", "lat": "16.0", "geometry": "", "district": "Hải Châu",
                   "attributes": '{"route": "R1", "speed": 7.5, "bearing": 120.0}',
                   "observed_at": "2026-01-01T00:00:00+00:00", "ingested_at": "2026-01-01T00:00:00+00:00"}
OBSERVATION = {"t": "2026-01-01T00:00:00+00:00", "v": "1.0", "u": "m/s"}


def bare_old_layout(client: redis.Redis, entities: int, observations: int) -> float:
    """Seconds for a bare pipeline to write what the layout before entity records wrote per poll."""
    ids = [f"bare-{n}" for n in range(entities)]
    started = time.perf_counter()
    pipe = client.pipeline(transaction=True)
    pipe.delete("bare:feed:entities")
    for entity_id in ids:
        pipe.hset(f"bare:entity:{entity_id}", mapping=OLD_ENTITY_HASH)
    pipe.sadd("bare:feed:entities", *ids)
    pipe.sadd("bare:entities", *ids)
    pipe.geoadd("bare:geo", [v for entity_id in ids for v in (108.2, 16.0, entity_id)])
    for n in range(observations):
        pipe.xadd(f"bare:obs:{ids[n % entities]}:m{n // entities}", OBSERVATION, maxlen=1000, approximate=True)
    pipe.incr("bare:changes")
    pipe.execute()
    return time.perf_counter() - started


def bare_new_layout(client: redis.Redis, entities: int, observations: int) -> float:
    """Seconds for a bare pipeline to write what today's layout writes per poll (docs/redis-keys.md)."""
    ids = [f"bare-{n}" for n in range(entities)]
    record = json.dumps(OLD_ENTITY_HASH | {"lon": 108.2, "lat": 16.0, "geometry": None,
                                           "attributes": {"route": "R1", "speed": 7.5, "bearing": 120.0}})
    started = time.perf_counter()
    pipe = client.pipeline(transaction=True)
    pipe.delete("bare:feed:entity_records")
    pipe.hset("bare:feed:entity_records", items=[v for entity_id in ids for v in (entity_id, record)])
    pipe.hset("bare:entity_feeds", items=[v for entity_id in ids for v in (entity_id, "bench")])
    pipe.geoadd("bare:geo", [v for entity_id in ids for v in (108.2, 16.0, entity_id)])
    for n in range(observations):
        pipe.xadd(f"bare:obs:{ids[n % entities]}:m{n // entities}", OBSERVATION, maxlen=1000, approximate=True)
    pipe.hincrby("bare:versions", "bench", 1)
    pipe.incr("bare:changes")
    pipe.execute()
    return time.perf_counter() - started


def _old_entity_hash(entity: Entity, feed: str, ingested: str) -> dict[str, str]:
    """How the layout before entity records kept an entity: a hash of text fields per entity."""
    return {"id": entity.id, "type": entity.type, "agency": entity.agency, "sector": entity.sector, "feed": feed,
            "name": entity.name, "lon": repr(entity.location[0]) if entity.location else "",
            "lat": repr(entity.location[1]) if entity.location else "", "geometry": "",
            "district": entity.district or "", "attributes": orjson.dumps(entity.attributes).decode(),
            "observed_at": to_iso(entity.observed_at), "ingested_at": ingested}


def _old_entity_from_hash(raw: dict[str, str]) -> dict[str, Any]:
    return {"id": raw.get("id", ""), "type": raw.get("type", ""), "agency": raw.get("agency", ""),
            "sector": raw.get("sector", ""), "feed": raw.get("feed", ""), "name": raw.get("name", ""),
            "lon": float(raw["lon"]) if raw.get("lon") else None, "lat": float(raw["lat"]) if raw.get("lat") else None,
            "geometry": json.loads(raw["geometry"]) if raw.get("geometry") else None,
            "district": raw.get("district") or None, "attributes": json.loads(raw.get("attributes") or "{}"),
            "observed_at": raw.get("observed_at") or None, "ingested_at": raw.get("ingested_at") or None}


def _old_read(client: redis.Redis, feed: str) -> list[dict[str, Any]]:
    """The store's read before entity records: the feed's id set, then a HGETALL per entity."""
    ids = sorted(client.smembers(f"old:feed:{feed}:entities"))
    pipe = client.pipeline(transaction=False)
    for entity_id in ids:
        pipe.hgetall(f"old:entity:{entity_id}")
    return [_old_entity_from_hash(raw) for raw in pipe.execute() if raw]


def screen_read(client: redis.Redis, store: Store, rounds: int, entities: int = 10_000, feeds: int = 26) -> dict:
    """A screen reading every layer: 10,000 entities of 26 feeds, old layout against entity records."""
    rng = random.Random(11)
    now = datetime.now(UTC).replace(microsecond=0)
    ingested = to_iso(now)
    names = [f"feed-{n:02d}" for n in range(feeds)]
    for index, feed in enumerate(names):
        batch = Batch(entities=[
            Entity(id=f"urn:ioc:bench:{feed}:{n}", type="Thing", agency="bench", sector="transport",
                   name=f"Thing {n}", location=(rng.uniform(WEST, EAST), rng.uniform(SOUTH, NORTH)),
                   district="Hải Châu", attributes={"value": round(rng.uniform(0, 100), 1), "status": "ok",
                                                    "route": f"R{n % 40}", "speed": 7.5},
                   observed_at=now)
            for n in range(index, entities, feeds)
        ])
        store.write_batch(feed, batch, now=now)
        pipe = client.pipeline(transaction=False)
        for entity in batch.entities:
            pipe.hset(f"old:entity:{entity.id}", mapping=_old_entity_hash(entity, feed, ingested))
        pipe.sadd(f"old:feed:{feed}:entities", *[entity.id for entity in batch.entities])
        pipe.execute()
    old = {feed: _old_read(client, feed) for feed in names}
    if old != store.entities_of_feeds(names):
        raise SystemExit("screen read: entity records and the old layout disagree")
    old_s, new_s = [], []
    for _ in range(rounds):
        started = time.perf_counter()
        [_old_read(client, feed) for feed in names]
        old_s.append(time.perf_counter() - started)
        started = time.perf_counter()
        store.entities_of_feeds(names)
        new_s.append(time.perf_counter() - started)
    old_ms, new_ms = statistics.median(old_s) * 1000, statistics.median(new_s) * 1000
    return {"entities": entities, "feeds": feeds, "old_ms": round(old_ms, 1), "new_ms": round(new_ms, 1),
            "speedup": round(old_ms / new_ms, 1)}


def run(rounds: int) -> list[dict[str, object]]:
    settings = load_settings()
    areas = area_index(settings.city)
    url, process = bench_redis()
    one_core()  # this process, not the redis-server it may have started
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
            ioc_rates, old_rates, new_rates = [], [], []
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
                old_rates.append(observations / bare_old_layout(client, outcome.records, observations))
                client.flushdb()
                new_rates.append(observations / bare_new_layout(client, outcome.records, observations))
            ioc_rate, old_rate, new_rate = (statistics.median(r) for r in (ioc_rates, old_rates, new_rates))
            results.append({"payload": label, "observations": observations, "ioc_obs_per_s": round(ioc_rate),
                            "bare_old_obs_per_s": round(old_rate), "bare_new_obs_per_s": round(new_rate),
                            "ratio_old": round(ioc_rate / old_rate, 2), "ratio_new": round(ioc_rate / new_rate, 2)})
        client.flushdb()
        results.append(screen_read(client, store, rounds))
    finally:
        client.close()
        stop(process)
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    for row in run(args.rounds):
        if "entities" in row:
            print(f"screen read, {row['entities']:,} entities of {row['feeds']} feeds: entity records "
                  f"{row['new_ms']} ms; old layout (id set + a hash per entity) {row['old_ms']} ms; "
                  f"{row['speedup']}x faster")
            continue
        print(f"{row['payload']}: {row['observations']} observations; ioc {row['ioc_obs_per_s']:,} obs/s; "
              f"bare pipeline, old keys {row['bare_old_obs_per_s']:,} obs/s (ratio {row['ratio_old']}); "
              f"bare pipeline, new keys {row['bare_new_obs_per_s']:,} obs/s (ratio {row['ratio_new']})")


if __name__ == "__main__":
    main()
