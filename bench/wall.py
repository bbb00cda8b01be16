"""Video wall benchmark: how long a paired wall screen takes to show what happened, in a real browser.

Run: python3 bench/wall.py [--runs N] [--json]
It starts a private redis-server (or uses IOC_BENCH_REDIS_URL), serves the dashboard in a thread on a fixed
loopback port, registers a screen and pairs headless Chromium with it (its key address), as a kiosk does.
Then, N times, in the same run:
  lost:      the server is stopped; time until the screen says "connection lost" (target: 10 s)
  back:      the server is started again on the same port; time until the screen is live again
  takeover:  an extreme alarm is raised in Redis; time until the screen shows its takeover
  return:    the alarm is acknowledged; time until the screen is back on its playlist
  blank:     (once) the screen is revoked; time until it is blank
  baseline:  the time the same browser takes to pair and show the wall live from scratch
Each time is read in the page by a MutationObserver on the wall's class (same machine clock as the
action); medians and maxima, and each median's ratio to the baseline, are printed.
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import redis  # noqa: E402
from werkzeug.serving import BaseWSGIServer, make_server  # noqa: E402

from bench.common import bench_redis, chromium, stop  # noqa: E402
from ioc.config import load_settings  # noqa: E402
from ioc.model import Alert, Severity  # noqa: E402
from ioc.store import Store  # noqa: E402
from ioc.wall.screens import ScreenBook  # noqa: E402
from layouts.app import create_app  # noqa: E402

SCREEN = "bench-wall"
# notes, in the page, the moment (Date.now()) the wall's root first carries each class of interest
OBSERVER = """
window.iocWallSeen = {};
const wall = document.getElementById('wall');
const was = {};
const note = () => {
  const classes = wall.className.split(' ');
  for (const name of ['wall--lost', 'wall--takeover', 'wall--revoked']) {
    const on = classes.includes(name);
    if (was[name] !== on) {  // a change: the moment it turned on (+) or off (-)
      was[name] = on;
      window.iocWallSeen[(on ? '+' : '-') + name] = {on: on, at: Date.now()};
    }
  }
};
note();
new MutationObserver(note).observe(wall, {attributes: true, attributeFilter: ['class']});
"""


class Served:
    """The app on one loopback port, stopped and started again on that port."""

    def __init__(self, app: Any) -> None:
        self.app, self.port, self.server = app, 0, None
        self.start()

    def start(self) -> None:
        self.server: BaseWSGIServer | None = make_server("127.0.0.1", self.port, self.app.server, threaded=True)
        self.port = self.server.server_port
        threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()

    def stop(self) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()
            self.server = None


def wait_class(driver: Any, name: str, on: bool, since_ms: float, timeout: float = 30) -> float:
    """Seconds from `since_ms` (Date.now() of the action) until the wall's class `name` turned `on`."""
    deadline = time.monotonic() + timeout
    key = ("+" if on else "-") + name
    while time.monotonic() < deadline:
        seen = driver.execute_script("return (window.iocWallSeen || {})[arguments[0]] || null;", key)
        if seen and seen["at"] >= since_ms and seen["on"] == on:
            return (seen["at"] - since_ms) / 1000
        time.sleep(0.05)
    raise SystemExit(f"error: the wall did not turn {key} within {timeout} s")


def now_ms(driver: Any) -> float:
    return float(driver.execute_script("return Date.now();"))


def pair(driver: Any, base: str, key: str) -> float:
    """Seconds from opening the key address to the wall live, the observer then installed."""
    started = time.monotonic()
    driver.get(f"{base}/wall/{SCREEN}?key={key}")
    while not driver.execute_script(
            "const b = document.getElementById('wall-beat'); return !!b && b.className.includes('live');"):
        if time.monotonic() - started > 30:
            raise SystemExit("error: the wall did not go live")
        time.sleep(0.02)
    elapsed = time.monotonic() - started
    driver.execute_script(OBSERVER)
    return elapsed


def summary(values: list[float], baseline: float) -> dict[str, float]:
    median = statistics.median(values)
    return {"median_s": round(median, 2), "max_s": round(max(values), 2), "ratio": round(median / baseline, 2)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    url, process = bench_redis()
    profile = tempfile.mkdtemp(prefix="wall-bench-")
    served = driver = None
    try:
        client = redis.Redis.from_url(url, decode_responses=True)
        client.flushdb()
        settings = load_settings()
        store = Store(client, settings.city.id)
        served = Served(create_app(store, settings, redis_kind="server", cookie_secure=False))
        base = f"http://127.0.0.1:{served.port}"
        book = ScreenBook(store.redis, store.keys)
        key = book.add(SCREEN, "bench", actor="bench")
        driver = chromium(1920, 1080, profile)
        baseline = [pair(driver, base, key)]
        times: dict[str, list[float]] = {"lost": [], "back": [], "takeover": [], "return": []}
        for run in range(args.runs):
            since = now_ms(driver)
            served.stop()
            times["lost"].append(wait_class(driver, "wall--lost", True, since))
            since = now_ms(driver)
            served.start()
            times["back"].append(wait_class(driver, "wall--lost", False, since))
            since = now_ms(driver)
            alert, _ = store.raise_alert(Alert(id="", rule_id="bench", entity_id=f"urn:bench:{run}",
                                               title=f"Ngập sâu {run}", severity=Severity.EXTREME,
                                               sector="emergency", agency="bench", district="Hải Châu"))
            times["takeover"].append(wait_class(driver, "wall--takeover", True, since))
            since = now_ms(driver)
            store.alerts.acknowledge(alert.id, actor="bench")
            times["return"].append(wait_class(driver, "wall--takeover", False, since))
            driver.get("about:blank")
            baseline.append(pair(driver, base, key))
        since = now_ms(driver)
        book.revoke(SCREEN, actor="bench")
        blank = wait_class(driver, "wall--revoked", True, since)
        page_load = statistics.median(baseline)
        result = {"runs": args.runs, "baseline_pair_and_live_s": round(page_load, 2),
                  **{name: summary(values, page_load) for name, values in times.items()},
                  "blank": {"s": round(blank, 2), "ratio": round(blank / page_load, 2)}}
    finally:
        if driver is not None:
            driver.quit()
        if served is not None:
            served.stop()
        stop(process)
        shutil.rmtree(profile, ignore_errors=True)
    if args.json:
        print(json.dumps(result, indent=2))
        return 0
    print(f"baseline: pairing a screen and showing its wall live: {result['baseline_pair_and_live_s']} s "
          f"(median of {args.runs + 1})")
    for name in ("lost", "back", "takeover", "return"):
        item = result[name]
        print(f"{name:<9} median {item['median_s']} s, max {item['max_s']} s, ratio {item['ratio']}")
    print(f"blank     {result['blank']['s']} s, ratio {result['blank']['ratio']}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
