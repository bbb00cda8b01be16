"""Regional view benchmark: reading 10 peer IOCs against reading one, over real HTTP on loopback, in one run.

Run: python3 bench/regional.py [--rounds 7] [--entities 2000]
It starts a private redis-server (or uses IOC_BENCH_REDIS_URL), fills one IOC with N entities and 20 open
alerts, serves it on a free loopback port (werkzeug, a thread per request) and grants 10 peer agreements
(KPIs, open alerts, feed health, ward granularity), each with its own key: the 10 peers are 10 keyed readers
of that IOC. Each round times `Regional.refresh()` (every peer read at once, answers kept in Redis) for:

  1 peer         the baseline
  10 peers       the same IOC read under 10 keys, concurrently
  10, 2 bad      8 of them plus a peer that answers after 5 s (timeout 1 s) and a closed port

Printed: median and max seconds of each, and the ratio to one peer. Target: 10 peers within 1 s. A timing is a
figure here, never a test.
"""

from __future__ import annotations

import argparse
import http.server
import logging
import os
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import redis  # noqa: E402

from bench.common import bench_redis, stop  # noqa: E402
from bench.odata import bench_config, fill  # noqa: E402


class _Late(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:  # noqa: N802 - the standard library's name
        time.sleep(5)
        try:
            self.send_response(200)
            self.end_headers()
        except OSError:
            pass

    def log_message(self, *_args: object) -> None:
        pass


def peer_file(urls: list[str]) -> object:
    from ioc.sharing.peers import PeerFile

    return PeerFile.model_validate({"refresh": 5, "slow_after": 1.5, "peers": [
        {"id": f"peer-{n}", "name": {"vi": f"IOC {n}", "en": f"IOC {n}"}, "base_url": url,
         "auth": {"type": "api_key", "key": {"env": f"BENCH_PEER_KEY_{n}"}}, "centre": [108.2, 16.05],
         "timeout": 1.0} for n, url in enumerate(urls)]})


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--entities", type=int, default=2000)
    args = parser.parse_args()
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    url, process = bench_redis()
    temp = Path(tempfile.mkdtemp(prefix="regional-bench-"))
    late = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Late)
    late.daemon_threads = True
    threading.Thread(target=late.serve_forever, daemon=True).start()
    try:
        os.environ["IOC_CONFIG_DIR"] = str(bench_config(temp))
        from werkzeug.serving import make_server

        from ioc.config import load_settings
        from ioc.keys import Keys
        from ioc.model import Alert, Severity
        from ioc.redis_conn import free_port
        from ioc.regional import Regional
        from ioc.sharing import AgreementBook
        from ioc.store import Store
        from layouts.app import create_app

        settings = load_settings()
        client = redis.Redis.from_url(url, decode_responses=True)
        client.flushdb()
        store = Store(client, "danang")
        fill(store, settings, args.entities)
        for n in range(20):
            store.raise_alert(Alert(id="", rule_id=f"bench-{n}", entity_id=f"urn:ioc:bench:x:{n}", title="bench",
                                    severity=Severity.SEVERE if n % 2 else Severity.MODERATE, sector="environment",
                                    agency="a", district="Hải Châu", location=(108.2, 16.05)))
        app = create_app(store, settings, redis_kind="server", cookie_secure=False)
        users = app.server.extensions["ioc_security"].users
        book = AgreementBook(users.redis, users.keys, users)
        for n in range(10):
            os.environ[f"BENCH_PEER_KEY_{n}"] = book.grant(f"peer-{n}", name=f"IOC {n}", granularity="ward",
                                                           datasets=["kpis", "alerts", "feeds"], actor="bench")
        server = make_server("127.0.0.1", 0, app.server, threaded=True)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        live = f"http://127.0.0.1:{server.server_port}"
        cases = {"1 peer": [live], "10 peers": [live] * 10,
                 "10, 2 bad": [live] * 8 + [f"http://127.0.0.1:{late.server_address[1]}",
                                            f"http://127.0.0.1:{free_port()}"]}
        times: dict[str, list[float]] = {name: [] for name in cases}
        states: dict[str, dict[str, int]] = {}
        for round_ in range(args.rounds + 1):
            for name, urls in cases.items():
                regional = Regional(client, Keys("reader"), peer_file(urls))  # type: ignore[arg-type]
                start = time.perf_counter()
                readings = regional.refresh()
                elapsed = time.perf_counter() - start
                if round_:  # the first round warms connections and caches
                    times[name].append(elapsed)
                counts: dict[str, int] = {}
                for reading in readings.values():
                    counts[reading.state] = counts.get(reading.state, 0) + 1
                states[name] = counts
        base = statistics.median(times["1 peer"])
        print(f"one IOC with {args.entities} entities and 20 open alerts, read by 10 keys; {args.rounds} rounds")
        print(f"{'case':<10} {'median s':>9} {'max s':>7} {'ratio':>6}  states")
        for name in cases:
            median = statistics.median(times[name])
            print(f"{name:<10} {median:>9.3f} {max(times[name]):>7.3f} {median / base:>6.2f}  "
                  + ", ".join(f"{state} {count}" for state, count in sorted(states[name].items())))
        server.shutdown()
    finally:
        late.shutdown()
        stop(process)


if __name__ == "__main__":
    main()
