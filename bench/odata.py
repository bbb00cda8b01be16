"""OData query benchmark: what a $filter over a city-sized entity set costs against the plain open-data route
that answers the same question, measured in the same run over HTTP on loopback.

Run: python3 bench/odata.py [--entities 10000] [--rounds 15]
It starts a private redis-server (or uses IOC_BENCH_REDIS_URL), writes N located entities spread over the
enabled feeds with one observation each, serves the app on a free loopback port in a thread, and times each
pair of requests (same answer, same key) alternately, so both see the same machine:

  type+district   /odata/v4/Entities?$filter=type eq ... and district eq ...  vs /api/v1/entities?type=&district=
  feed+district   /odata/v4/Entities?$filter=feed eq ... and district eq ...  vs /api/v1/entities?feed=&district=
                  (the feed named in the filter is the only hash read)
  observations    /odata/v4/Observations?$filter=district eq ... and value ge 0
                  vs /api/v1/observations/latest?district=  (streams read only for the district's entities)
  count only      /odata/v4/Entities/$count?$filter=district eq ...  vs /api/v1/entities?district=&limit=1

Printed: median and p95 milliseconds of each, and the ratio OData median / baseline median. The API's rate
limit is raised in a temporary copy of the configuration (the bench sends hundreds of requests a minute with
one key). A timing is a figure here, never a test.
"""

from __future__ import annotations

import argparse
import logging
import math
import os
import shutil
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import redis  # noqa: E402
import requests  # noqa: E402
import yaml  # noqa: E402

from bench.common import bench_redis, stop  # noqa: E402

DISTRICTS = ["Hải Châu", "Sơn Trà", "Thanh Khê", "Liên Chiểu", "Cẩm Lệ", "Ngũ Hành Sơn", "Hòa Vang"]


def bench_config(directory: Path) -> Path:
    """A copy of the city's configuration whose API rate limit lets one key send the whole benchmark."""
    from ioc.config import DEFAULT_CONFIG_DIR

    source = Path(os.environ.get("IOC_CONFIG_DIR") or DEFAULT_CONFIG_DIR)
    target = directory / source.name
    shutil.copytree(source, target)
    roles_file = target / "roles.yaml"
    roles = yaml.safe_load(roles_file.read_text(encoding="utf-8"))
    roles.setdefault("api", {})["requests_per_minute"] = 1_000_000
    roles_file.write_text(yaml.safe_dump(roles, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return target


def fill(store: object, settings: object, count: int) -> None:
    from ioc.model import Batch, Entity, Observation, utcnow

    now = utcnow()
    feeds = [feed for feed in settings.feeds if feed.enabled]  # type: ignore[attr-defined]
    for index, feed in enumerate(feeds):
        members = range(index, count, len(feeds))
        entities = [Entity(id=f"urn:ioc:bench:{feed.name}:{n}", type=f"Type{n % 5}", agency=feed.agency,
                           sector=feed.sector, name=f"Thing {n}", location=(108.1 + (n % 100) / 500, 16.0 + n / count / 5),
                           district=DISTRICTS[n % len(DISTRICTS)], attributes={"level": float(n % 97)},
                           observed_at=now, feed=feed.name) for n in members]
        observations = [Observation(e.id, "level", e.attributes["level"], "cm", now) for e in entities]
        store.write_batch(feed.name, Batch(entities=entities, observations=observations), now=now)  # type: ignore[attr-defined]


def query_pairs(feed: str, district: str) -> list[tuple[str, str, str]]:
    """(name, OData path, /api/v1 path) of each pair measured: the two answer the same question
    (tests/bench/test_odata.py checks they give the same rows)."""
    return [
        ("type+district", f"/odata/v4/Entities?$filter=type eq 'Type2' and district eq '{district}'&$top=1000",
         f"/api/v1/entities?type=Type2&district={district}&limit=1000"),
        ("feed+district", f"/odata/v4/Entities?$filter=feed eq '{feed}' and district eq '{district}'&$top=1000",
         f"/api/v1/entities?feed={feed}&district={district}&limit=1000"),
        ("observations", f"/odata/v4/Observations?$filter=district eq '{district}' and value ge 0",
         f"/api/v1/observations/latest?district={district}&limit=5000"),
        ("count only", f"/odata/v4/Entities/$count?$filter=district eq '{district}'",
         f"/api/v1/entities?district={district}&limit=1"),
    ]


def timed(session: requests.Session, url: str) -> tuple[float, int]:
    start = time.perf_counter()
    response = session.get(url)
    elapsed = (time.perf_counter() - start) * 1000
    if response.status_code != 200:
        raise SystemExit(f"error: {url} answered {response.status_code}: {response.text[:300]}")
    return elapsed, len(response.content)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--entities", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=15)
    args = parser.parse_args()
    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # a line per request would drown the table
    url, process = bench_redis()
    temp = Path(tempfile.mkdtemp(prefix="odata-bench-"))
    try:
        os.environ["IOC_CONFIG_DIR"] = str(bench_config(temp))
        from werkzeug.serving import make_server

        from ioc.config import load_settings
        from ioc.store import Store
        from layouts.app import create_app

        settings = load_settings()
        client = redis.Redis.from_url(url, decode_responses=True)
        client.flushdb()
        store = Store(client, "danang")
        fill(store, settings, args.entities)
        app = create_app(store, settings, redis_kind="server", cookie_secure=False)
        security = app.server.extensions["ioc_security"]
        security.users.add("bench-admin", "admin", "bench-password-1", actor="bench")
        key = security.users.issue_api_key("bench-odata", actor="bench-admin")
        server = make_server("127.0.0.1", 0, app.server, threaded=True)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        base = f"http://127.0.0.1:{server.server_port}"
        session = requests.Session()
        session.headers["X-API-Key"] = key
        feed = next(f.name for f in settings.feeds if f.enabled)
        district = DISTRICTS[1]
        pairs = query_pairs(feed, district)
        print(f"{args.entities} entities over {sum(1 for f in settings.feeds if f.enabled)} feeds, "
              f"{args.rounds} timed rounds after 2 warm-ups, alternating")
        print(f"{'query':<15} {'OData p50':>10} {'p95':>8} {'/api/v1 p50':>12} {'p95':>8} {'ratio':>7}  bytes (OData/api)")
        for name, odata, plain in pairs:
            times: dict[str, list[float]] = {"odata": [], "plain": []}
            sizes = {}
            for round_ in range(args.rounds + 2):
                for label, path in (("odata", odata), ("plain", plain)):
                    elapsed, size = timed(session, base + path)
                    sizes[label] = size
                    if round_ >= 2:
                        times[label].append(elapsed)
            p50 = {label: statistics.median(values) for label, values in times.items()}
            # nearest rank: the smallest time at least 95% of the rounds did not exceed
            p95 = {label: sorted(values)[math.ceil(0.95 * len(values)) - 1] for label, values in times.items()}
            print(f"{name:<15} {p50['odata']:>10.1f} {p95['odata']:>8.1f} {p50['plain']:>12.1f} {p95['plain']:>8.1f} "
                  f"{p50['odata'] / p50['plain']:>7.2f}  {sizes['odata']}/{sizes['plain']}")
        server.shutdown()
        client.flushdb()
    finally:
        shutil.rmtree(temp, ignore_errors=True)
        stop(process)


if __name__ == "__main__":
    main()
