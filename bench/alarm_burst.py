"""Alarm burst benchmark: 1,000 alarms raised in one burst through the rule engine, and what it costs the alert
page and the control room, each against the same page or screen on a quiet day measured in the same run.

Run: python3 bench/alarm_burst.py [--entities 10000] [--burst 1000] [--rounds 20]
It starts a private redis-server (or flushes IOC_BENCH_REDIS_URL), writes `--entities` located entities over the
configured feeds (as bench/control_room.py does), then:
  quiet day:  144 alarms over the last 24 hours, one every 10 minutes (EEMUA 191's acceptable rate), each
              raised by the real rule engine (`RuleEngine.evaluate` on an air-station batch past the PM2.5
              limit, rule `pm25-high`), all but 20 resolved;
  burst:      one poll of `--burst` air stations, every one past the limit, stored (`Store.write_batch`) and
              judged by the rule engine: `--burst` new alarms at once (the time this takes is printed).
In each state it measures, `--rounds` times:
  alert page: after an alert changed (a comment on the oldest open alarm), the open alarms read once as the
              worker's background builder reads them for every screen (ioc.alerts.open_snapshot, timed on its
              own line; without a builder the first screen after a change pays it), then the server time of every callback the alert page runs on its 2 s
              tick (the queue, detail, buttons, shelf, alarm-system panel, annunciator, and whatever else
              listens to the page's tick), each posted to /_dash-update-component through the Flask test
              client as a signed-in operator, drawn from scratch (no "seen" state), the detail on the alarm at
              the top of the queue; p95 of a round's total and of each callback;
  control room: one screen's tick (layouts.control_room.screen_update plus Dash's JSON encoding, as
              bench/control_room.py) after an alert changed (a comment on one alarm), its layers and the open
              alarms read by the worker's background builder first;
and, as the city-scale reference of the same run, the control room's tick after every feed rewrote all its
entities (bench/control_room.py's worst case). Printed: p50/p95 and the ratios burst / quiet day, and the
control room's burst tick against the city-scale tick. A timing is a figure here, never a test.
"""

from __future__ import annotations

import argparse
import json
import random
import re
import statistics
import sys
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import redis  # noqa: E402
from flask import Flask  # noqa: E402
from flask_caching import Cache  # noqa: E402

from bench.common import bench_redis, stop  # noqa: E402
from bench.control_room import EAST, NORTH, SOUTH, WEST, Screen, measure, rewrite  # noqa: E402
from bench.dash_screen import percentile  # noqa: E402
from ioc.alerts.metrics import alarm_metrics  # noqa: E402
from ioc.alerts.open_snapshot import open_alarms  # noqa: E402
from ioc.config import Feed, Settings, load_settings  # noqa: E402
from ioc.model import Batch, Entity, Observation, utcnow  # noqa: E402
from ioc.rules.engine import RuleEngine  # noqa: E402
from ioc.store import Store  # noqa: E402
from ioc.web import cache_config  # noqa: E402
from layouts import ids  # noqa: E402

PASSWORD = "bench-password-0123"
RULE = "pm25-high"
QUIET_ALARMS, QUIET_OPEN = 144, 20
PAGE_TICKS = (ids.ALERTS_TICK, ids.ANNUNCIATION_TICK)


def stations(settings: Settings, feed: Feed, first: int, count: int, rng: random.Random, at: Any) -> Batch:
    """`count` air stations (numbered from `first`), every one past the PM2.5 limit."""
    batch = Batch()
    for n in range(first, first + count):
        entity = Entity(
            id=f"urn:ioc:{settings.city.id}:{feed.name}:burst-{n}",
            type="AirQualityObserved",
            agency=feed.agency,
            sector=feed.sector,
            name=f"Trạm {n}",
            location=(round(rng.uniform(WEST, EAST), 5), round(rng.uniform(SOUTH, NORTH), 5)),
            district="Hải Châu",
            attributes={"pm25": 80.0},
            observed_at=at,
        )
        batch.entities.append(entity)
        batch.observations.append(Observation(entity.id, "pm25", 80.0, "µg/m³", at))
    return batch


def quiet_day(store: Store, settings: Settings, engine: RuleEngine, feed: Feed, rng: random.Random) -> None:
    """One alarm every 10 minutes over the last day, through the engine; all but the last 20 resolved."""
    now = utcnow()
    raised = []
    for n in range(QUIET_ALARMS):
        at = now - timedelta(minutes=10 * (QUIET_ALARMS - n))
        engine.evaluate(feed, stations(settings, feed, 100_000 + n, 1, rng, at), now=at)
        raised.append(
            store.alerts.open_alert_for(RULE, f"urn:ioc:{settings.city.id}:{feed.name}:burst-{100_000 + n}")
        )
    for n, alert_id in enumerate(raised[:-QUIET_OPEN]):
        store.alerts.resolve(
            alert_id, actor="bench", note="cleared", now=now - timedelta(minutes=10 * (QUIET_ALARMS - n) - 5)
        )


# --- the alert page through the Dash endpoint ------------------------------------------------------------------


def page_bodies(app: Any, selected: str | None) -> list[tuple[str, str]]:
    """(label, request body) of every callback the alert page runs on its tick, drawn from scratch."""
    from dash._utils import split_callback_id

    values = {
        f"{ids.ALERTS_TICK}.n_intervals": 1,
        f"{ids.ANNUNCIATION_TICK}.n_intervals": 1,
        f"{ids.LANG}.data": "vi",
        f"{ids.ALERTS_FILTER_SEVERITY}.value": [],
        f"{ids.ALERTS_FILTER_SECTOR}.value": [],
        f"{ids.ALERTS_FILTER_DISTRICT}.value": [],
        f"{ids.ALERTS_FILTER_STATE}.value": "open",
        f"{ids.ALERTS_SELECTED}.data": selected,
        f"{ids.ALERTS_VERSION}.data": 0,
    }
    bodies = []
    for key, spec in app.callback_map.items():
        ticks = [i for i in spec["inputs"] if i["id"] in PAGE_TICKS and i["property"] == "n_intervals"]
        if not ticks or any(i["id"].startswith("{") for i in (*spec["inputs"], *spec["state"])):
            continue
        body = {
            "output": key,
            "outputs": split_callback_id(key),
            "inputs": [{**i, "value": values.get(f"{i['id']}.{i['property']}")} for i in spec["inputs"]],
            "state": [{**i, "value": values.get(f"{i['id']}.{i['property']}")} for i in spec["state"]],
            "changedPropIds": [f"{ticks[0]['id']}.n_intervals"],
        }
        label = ",".join(
            sorted(
                {
                    o["id"]
                    for o in (body["outputs"] if isinstance(body["outputs"], list) else [body["outputs"]])
                }
            )
        )[:60]
        bodies.append((label, json.dumps(body)))
    return bodies


def sign_in(client: Any, name: str) -> None:
    form = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf" value="([^"]+)"', form)
    response = client.post("/login", data={"username": name, "password": PASSWORD, "csrf": token.group(1)})
    if response.status_code != 302:
        raise SystemExit(f"sign-in failed: HTTP {response.status_code}")


SHARED_READ = "the open alarms, read once per change for every screen"


def page_rounds(
    http: Any, bodies: list[tuple[str, str]], rounds: int, store: Store, cache: Any
) -> dict[str, list[float]]:
    """Each round changes an alert (a comment on the oldest open alarm: the alerts version moves), reads the
    open alarms once as the worker's background builder does for every screen (ioc.alerts.open_snapshot, timed
    on its own), then posts every callback once; seconds per callback and per round ("total")."""
    out: dict[str, list[float]] = {label: [] for label, _ in bodies}
    out["total"], out[SHARED_READ] = [], []
    alert_id = store.redis.zrange(store.keys.alerts_open(), 0, 0)[0]
    for n in range(rounds):
        store.alerts.comment(alert_id, actor="bench", note=f"page round {n}")
        began = time.perf_counter()
        open_alarms(store.alerts, cache)
        out[SHARED_READ].append(time.perf_counter() - began)
        total = 0.0
        for label, body in bodies:
            began = time.perf_counter()
            response = http.post("/_dash-update-component", data=body, content_type="application/json")
            seconds = time.perf_counter() - began
            if response.status_code not in (200, 204):
                raise SystemExit(f"{label}: HTTP {response.status_code} {response.get_data()[:300]!r}")
            out[label].append(seconds)
            total += seconds
        out["total"].append(total)
    return out


# --- the control room ------------------------------------------------------------------------------------------


def screen_rounds(store: Store, screen: Screen, rounds: int) -> list[float]:
    """A screen's tick after an alert changed (a comment on the oldest open alarm), its builder run first."""
    alert_id = store.redis.zrange(store.keys.alerts_open(), 0, 0)[0]
    samples = []
    for n in range(rounds):
        store.alerts.comment(alert_id, actor="bench", note=f"round {n}")
        screen.live.warm()
        samples.append(screen.tick()[0])
    return samples


def measure_rounds(store: Store, settings: Settings, rounds: int) -> list[float]:
    """The alarm system's measures of the last 24 hours taken from Redis, without the shared cache."""
    samples = []
    for _ in range(rounds):
        began = time.perf_counter()
        alarm_metrics(store.redis, store.keys, settings.alarm_system)
        samples.append(time.perf_counter() - began)
    return samples


def ms(values: list[float], q: float) -> float:
    return (percentile(values, q) or 0.0) * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--entities", type=int, default=10_000)
    parser.add_argument("--burst", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=20)
    args = parser.parse_args()
    url, process = bench_redis()
    try:
        client = redis.Redis.from_url(url, decode_responses=True)
        client.flushdb()
        settings = load_settings()
        store = Store(client, settings.city.id)
        rng = random.Random(7)
        feeds = [f for f in settings.feeds if f.enabled]
        shares = {
            f.name: args.entities // len(feeds) + (1 if i < args.entities % len(feeds) else 0)
            for i, f in enumerate(feeds)
        }
        rewrite(store, settings, feeds, shares, rng)
        air = settings.feed("air-stations")
        engine = RuleEngine(settings, store)
        quiet_day(store, settings, engine, air, rng)

        from layouts.app import create_app

        app = create_app(store, settings, redis_kind="server", cookie_secure=False)
        app.server.extensions["ioc_security"].users.add("bench-operator", "operator", PASSWORD, actor="bench")
        http = app.server.test_client()
        sign_in(http, "bench-operator")
        cache = Cache(Flask(__name__), config=cache_config(store, "server"))
        screen = Screen(store, settings, cache)
        screen.tick()

        def selected() -> str | None:
            records = store.alerts.records(limit=1)
            return records[0].id if records else None

        bodies = page_bodies(app, selected())
        app_cache = app.server.extensions["ioc"].cache
        # the worker's background builder reads the open alarms after each change (ioc.control_room.watch_alerts);
        # here page_rounds does that read itself, timed on its own line, so no thread races the figures
        app.server.extensions["ioc"].live.background = False
        page_rounds(http, bodies, 2, store, app_cache)  # a fresh app's first draws: imports, caches
        quiet_page = page_rounds(http, bodies, args.rounds, store, app_cache)
        quiet_screen = screen_rounds(store, screen, args.rounds)
        quiet_measures = measure_rounds(store, settings, args.rounds)

        began = time.perf_counter()
        now = utcnow()
        batch = stations(settings, air, 0, args.burst, rng, now)
        store.write_batch(air.name, batch)
        raised, _ = engine.evaluate(air, batch, now=now)
        burst_seconds = time.perf_counter() - began
        open_now = client.zcard(store.keys.alerts_open())

        bodies = page_bodies(app, selected())
        burst_page = page_rounds(http, bodies, args.rounds, store, app_cache)
        burst_screen = screen_rounds(store, screen, args.rounds)
        burst_measures = measure_rounds(store, settings, args.rounds)
        city = measure(store, settings, cache, feeds, shares, lambda: feeds, max(5, args.rounds // 4), rng)
        city_ticks = [s for s, _, _ in city["other"] + city["first"]]

        print(
            f"{args.entities} entities over {len(feeds)} feeds; quiet day: {QUIET_ALARMS} alarms in 24 h, "
            f"{QUIET_OPEN} open; burst: {raised} alarms raised by the rule engine in {burst_seconds:.2f} s "
            f"(stored poll included), {open_now} open; {args.rounds} rounds"
        )
        print("alert page, server time of the callbacks on its tick (drawn from scratch):")
        for label in [*(label for label, _ in bodies), "total", SHARED_READ]:
            quiet, burst = quiet_page.get(label, []), burst_page[label]
            ratio = ms(burst, 95) / ms(quiet, 95) if quiet and ms(quiet, 95) else float("nan")
            print(
                f"  {label:<62} quiet p95 {ms(quiet, 95):7.1f} ms  burst p50 {ms(burst, 50):7.1f} ms "
                f"p95 {ms(burst, 95):7.1f} ms  ratio {ratio:5.2f}"
            )
        print(
            f"  the alarm measures themselves, from Redis without the panel's shared cache: quiet p95 "
            f"{ms(quiet_measures, 95):6.1f} ms, burst p50 {ms(burst_measures, 50):6.1f} ms p95 "
            f"{ms(burst_measures, 95):6.1f} ms, ratio {ms(burst_measures, 95) / ms(quiet_measures, 95):5.2f}"
        )
        print("control room, one screen's tick after an alert changed:")
        print(
            f"  quiet day p50 {ms(quiet_screen, 50):6.1f} ms p95 {ms(quiet_screen, 95):6.1f} ms; "
            f"burst p50 {ms(burst_screen, 50):6.1f} ms p95 {ms(burst_screen, 95):6.1f} ms; "
            f"ratio {ms(burst_screen, 95) / ms(quiet_screen, 95):5.2f}"
        )
        print(
            f"  city-scale reference (every feed rewrote its entities) p95 {ms(city_ticks, 95):6.1f} ms; "
            f"burst / city-scale {ms(burst_screen, 95) / ms(city_ticks, 95):5.2f}"
        )
        print(f"  median tick, burst {statistics.median(burst_screen) * 1000:.1f} ms")
        page_p95 = ms(burst_page["total"], 95)
        first_p95 = ms([a + b for a, b in zip(burst_page["total"], burst_page[SHARED_READ], strict=True)], 95)
        print(
            f"targets: alert page tick p95 {page_p95:.0f} ms against 300 ms: {'met' if page_p95 <= 300 else 'missed'}"
            f" (a screen paying the shared read too: {first_p95:.0f} ms), "
            f"{page_p95 / ms(quiet_page['total'], 95):.2f} x the quiet day's; control room tick p95 "
            f"{ms(burst_screen, 95) / ms(city_ticks, 95):.2f} x the city-scale tick: "
            f"{'met' if ms(burst_screen, 95) <= ms(city_ticks, 95) else 'missed'}"
        )
        client.close()
    finally:
        stop(process)


if __name__ == "__main__":
    main()
