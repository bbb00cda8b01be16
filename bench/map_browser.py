"""Map-in-the-browser benchmark: the longest main-thread task an open control room suffers while its map
takes ticks at city size, in headless Chromium.

Run: python3 bench/map_browser.py [--entities 10000] [--seconds 30]
It starts a private redis-server, fills it with N located entities over the configured feeds
(bench/control_room.py's writer), serves the dashboard in a thread and opens the control room at 1920x1080
in headless Chromium (/usr/bin/chromium, software WebGL: no GPU here, so a wall's GPU does better). A
PerformanceObserver in the page records every `longtask` (a main-thread task over 50 ms). In the same run:
  baseline:    the page's first load (every layer and tile drawn from nothing), its longest task;
  no new data: --seconds of ticks with nothing written (the feeds turn stale and their layers fade);
  one feed:    --seconds while one feed rewrites all its things every 2 s;
  every feed:  --seconds while every feed rewrites all its things every 2 s (the worst case);
  zoom in:     the map zoomed to a 4 km window, where clustered layers send and draw all their points;
and prints, for each, the number of long tasks, the longest, and the longest as a ratio to the baseline's.
Target: no long task over 200 ms during a tick at 10,000 entities.
"""

from __future__ import annotations

import argparse
import logging
import random
import shutil
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import redis  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.remote.webdriver import WebDriver  # noqa: E402
from selenium.webdriver.support.ui import WebDriverWait  # noqa: E402

from bench.common import BENCH_USER, bench_redis, chromium, serve_dashboard, sign_in, stop  # noqa: E402
from bench.control_room import rewrite  # noqa: E402
from ioc.config import Feed, load_settings  # noqa: E402
from ioc.store import Store  # noqa: E402

TICK_SECONDS = 2.0
# installed before the page's own scripts run, so the first load's tasks are caught too
OBSERVER = """
window.iocLongTasks = [];
new PerformanceObserver(list => list.getEntries().forEach(entry => window.iocLongTasks.push(entry.duration)))
    .observe({type: 'longtask', buffered: true});
"""


def take_tasks(driver: WebDriver) -> list[float]:
    return driver.execute_script("const t = window.iocLongTasks.splice(0); return t;") or []


def during(seconds: float, write: Callable[[], None] | None) -> None:
    """Let the page tick for `seconds`, calling `write` once per tick period when given."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if write is not None:
            write()
        time.sleep(max(0.0, min(TICK_SECONDS, deadline - time.monotonic())))


def report(label: str, tasks: list[float], baseline: float) -> None:
    longest = max(tasks, default=0.0)
    ratio = f"{longest / baseline:.2f}" if baseline else "-"
    print(f"  {label:<34} {len(tasks):>3} long tasks, longest {longest:6.0f} ms  ratio to first load {ratio}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--entities", type=int, default=10000)
    parser.add_argument("--seconds", type=float, default=30.0)
    args = parser.parse_args()
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    url, process = bench_redis()
    settings = load_settings()
    client = redis.Redis.from_url(url, decode_responses=True)
    client.flushdb()
    store = Store(client, settings.city.id)
    feeds = [f for f in settings.feeds if f.enabled]
    shares = {f.name: args.entities // len(feeds) + (1 if i < args.entities % len(feeds) else 0)
              for i, f in enumerate(feeds)}
    rng = random.Random(5)
    rewrite(store, settings, feeds, shares, rng)

    base, server, password = serve_dashboard(store, settings)
    profile = tempfile.mkdtemp(prefix="ioc-bench-chromium-")
    driver = chromium(1920, 1080, profile)

    def writer(changing: list[Feed]) -> Callable[[], None]:
        return lambda: rewrite(store, settings, changing, shares, rng)

    try:
        sign_in(driver, base, BENCH_USER, password)
        driver.execute_cdp_cmd("Page.addScriptToEvaluateOnNewDocument", {"source": OBSERVER})
        driver.get(base + "/")
        WebDriverWait(driver, 60, poll_frequency=0.1).until(
            lambda d: d.find_elements(By.CSS_SELECTOR, ".city-map .scatterlayer, .city-map canvas"))
        time.sleep(3 * TICK_SECONDS)  # the first figure drawn and settled
        first_load = take_tasks(driver)
        baseline = max(first_load, default=0.0)
        print(f"{args.entities} entities over {len(feeds)} feeds, {args.seconds:.0f} s per case, 1920x1080:")
        report("first load (baseline)", first_load, baseline)
        during(args.seconds, None)
        report("no new data (feeds turn stale)", take_tasks(driver), baseline)
        during(args.seconds, writer([feeds[2]]))
        report("one feed rewritten every 2 s", take_tasks(driver), baseline)
        during(args.seconds, writer(feeds))
        report("every feed rewritten every 2 s", take_tasks(driver), baseline)
        driver.execute_script("""
            const gd = document.querySelector('.city-map .js-plotly-plot');
            window.Plotly.relayout(gd, {'xaxis.range': [108.19, 108.23], 'yaxis.range': [16.03, 16.07]});""")
        during(args.seconds, writer(feeds))
        points = driver.execute_script("""
            const gd = document.querySelector('.city-map .js-plotly-plot');
            return gd.data.filter(t => t.meta && t.meta.role === 'detail' && t.visible !== false)
                          .reduce((n, t) => n + t.x.length, 0);""")
        report(f"zoomed in ({points} points drawn), every feed", take_tasks(driver), baseline)
    finally:
        driver.quit()
        server.shutdown()
        shutil.rmtree(profile, ignore_errors=True)
        stop(process)
    return 0


if __name__ == "__main__":
    sys.exit(main())
