"""Alert latency benchmark: how long a new alert takes to reach an already open page, in a real browser.

Run: python3 bench/alert_latency.py [--page control-room|alerts] [--alerts N] [--queue N] [--json]
It starts a private redis-server (or uses IOC_BENCH_REDIS_URL), fills the alert queue with a realistic
backlog, serves the dashboard in a thread and opens the control room (/) or the alert queue (/alerts) in
headless Chromium (/usr/bin/chromium with
/usr/bin/chromedriver). Then, in the same run:
  latency:  an alert is raised in Redis (as the rule engine does) and the time until its row is in the
            page's DOM is taken by a MutationObserver in the page (same machine clock as the raise);
            repeated N times at random moments against the page's 2 s poll; median and max
  baseline: the time the same browser takes to load and render /alerts from scratch (navigation to the
            queue's rows on screen), median of 5
and prints both and their ratio. Target: a new alert on screen within 3 s.
"""

from __future__ import annotations

import argparse
import json
import logging
import random
import shutil
import statistics
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import redis  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.remote.webdriver import WebDriver  # noqa: E402
from selenium.webdriver.support.ui import WebDriverWait  # noqa: E402

from bench.common import BENCH_USER, bench_redis, chromium, serve_dashboard, sign_in, stop  # noqa: E402
from ioc.config import load_settings  # noqa: E402
from ioc.model import Alert, Severity, utcnow  # noqa: E402
from ioc.store import Store  # noqa: E402

DISTRICTS = ("Hải Châu", "Thanh Khê", "Sơn Trà", "Ngũ Hành Sơn", "Liên Chiểu", "Cẩm Lệ", "Hòa Vang")
# records, in the page, when each alert row first appears (Date.now(), the clock the raise is timed on)
PAGES = {  # page -> (path, the CSS selector of one alert row carrying data-alert)
    "control-room": ("/", ".alert-row[data-alert]"),
    "alerts": ("/alerts", ".aq-row[data-alert]"),
}
OBSERVER = """
window.iocSeen = window.iocSeen || {};
const note = () => document.querySelectorAll(arguments[0]).forEach(row => {
    const id = row.getAttribute('data-alert');
    if (!(id in window.iocSeen)) { window.iocSeen[id] = Date.now(); }
});
note();
new MutationObserver(note).observe(document.body, {childList: true, subtree: true});
"""


def alert(number: int, rng: random.Random) -> Alert:
    now = utcnow() - timedelta(minutes=rng.uniform(0, 90))
    return Alert(id="", rule_id="flood-level-high", entity_id=f"urn:ioc:danang:flood-sensors:bench-{number}",
                 title=f"Ngập sâu tại cảm biến — FL-{number:03d}", severity=rng.choice(list(Severity)[:4]),
                 sector="emergency", agency="danang-drainage", district=rng.choice(DISTRICTS),
                 value=round(rng.uniform(30, 60), 1), message="water_level_cm > 30 cm", raised_at=now,
                 updated_at=now, location=(rng.uniform(108.15, 108.25), rng.uniform(16.0, 16.09)))


def load_time(driver: WebDriver, url: str, row_selector: str, rows: int) -> float:
    """Seconds from navigation to the queue's rows on screen, from a blank page."""
    driver.get("about:blank")
    started = time.perf_counter()
    driver.get(url)
    WebDriverWait(driver, 60, poll_frequency=0.02).until(
        lambda d: len(d.find_elements(By.CSS_SELECTOR, row_selector)) >= rows)
    return time.perf_counter() - started


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--page", choices=sorted(PAGES), default="control-room")
    parser.add_argument("--alerts", type=int, default=10, help="alerts raised while the page is open")
    parser.add_argument("--queue", type=int, default=40, help="alerts already in the queue")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # one line per request would bury the figures

    url, process = bench_redis()
    client = redis.Redis.from_url(url, decode_responses=True)
    client.flushdb()
    settings = load_settings()
    store = Store(client, settings.city.id)
    rng = random.Random(7)
    for number in range(args.queue):
        store.alerts.raise_alert(alert(number, rng))

    base, server, password = serve_dashboard(store, settings)
    profile = tempfile.mkdtemp(prefix="ioc-bench-chromium-")
    driver = chromium(1920, 1080, profile)
    try:
        sign_in(driver, base, BENCH_USER, password)
        path, row_selector = PAGES[args.page]
        load_time(driver, base + path, row_selector, args.queue)  # warm: assets cached as on a wall screen
        loads = [load_time(driver, base + path, row_selector, args.queue) for _ in range(5)]

        driver.execute_script(OBSERVER, row_selector)
        latencies = []
        for number in range(args.alerts):
            time.sleep(rng.uniform(0.3, 2.3))  # raise at any moment of the page's 2 s poll
            raised, _ = store.alerts.raise_alert(alert(10_000 + number, rng))
            raised_ms = time.time() * 1000
            seen = WebDriverWait(driver, 30, poll_frequency=0.05).until(
                lambda d, a=raised.id: d.execute_script("return window.iocSeen[arguments[0]]", a))
            latencies.append(max(0.0, (seen - raised_ms) / 1000))
    finally:
        driver.quit()
        server.shutdown()
        shutil.rmtree(profile, ignore_errors=True)
        stop(process)

    result = {
        "page": args.page,
        "alerts_raised": args.alerts,
        "queue_size": args.queue,
        "latency_median_s": round(statistics.median(latencies), 2),
        "latency_max_s": round(max(latencies), 2),
        "page_load_median_s": round(statistics.median(loads), 2),
        "ratio_latency_to_load": round(statistics.median(latencies) / statistics.median(loads), 2),
        "within_3_s": all(latency <= 3.0 for latency in latencies),
    }
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        print(f"new alert on an open {PAGES[args.page][0]} page ({args.alerts} alerts, queue of {args.queue}):")
        print(f"  latency   median {result['latency_median_s']:.2f} s, max {result['latency_max_s']:.2f} s"
              f"  ({'all' if result['within_3_s'] else 'NOT all'} within 3 s)")
        print(f"  baseline  page load and render from scratch, median {result['page_load_median_s']:.2f} s")
        print(f"  ratio     latency / load = {result['ratio_latency_to_load']:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
