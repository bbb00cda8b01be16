"""Situation view and shift handover benchmark: what one screen's redraw of a situation, and one handover
page's summary, cost the server, each against the alert page's detail of the same alarm in the same run.

Run: python3 bench/situation.py [--entities 10000] [--alarms 200] [--rounds 30]
It starts a private redis-server (or flushes IOC_BENCH_REDIS_URL), writes `--entities` located entities spread
over the city's urban districts across the configured feeds, a CAP warning whose polygon covers the centre
(relayed as an alarm with its procedure), and `--alarms` open alarms at random points with a few timeline
entries each, all inside the current shift. Then, `--rounds` times each, on one core:
  baseline:  the alert page's detail of the warning's alarm (its facts, checklist, timeline and small map:
             ioc.alert_queue and ioc.alert_map, as layouts/alerts.refresh_detail draws it);
  situation: ioc.situation.assemble + situation_map for the same alarm (area, entities and feeds inside,
             related alarms, texts, procedure, timeline, the zoomed map);
  another screen: the page's callback (layouts.situation.refresh) on a second screen of the same situation
             at the same change counter: the drawing the first screen made, read from the dashboard's cache;
  handover:  ioc.handover_summary.shift_summary over the current shift (alarms, the audit trail, feed health).
Printed: p50/p95 in ms and each against the baseline's p50. A timing is a figure here, never a test.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import time
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import redis  # noqa: E402

from bench.common import bench_redis, one_core, stop  # noqa: E402
from ioc import alert_queue, situation  # noqa: E402
from ioc.alert_map import alert_map  # noqa: E402
from ioc.city_map import district_layer  # noqa: E402
from ioc.config import load_settings  # noqa: E402
from ioc.handover import city_zone, notification_settings, window_at  # noqa: E402
from ioc.handover_summary import shift_summary  # noqa: E402
from ioc.model import Alert, Batch, Entity, Event, Severity, utcnow  # noqa: E402
from ioc.store import Store  # noqa: E402
from ioc.web import context_of  # noqa: E402
from layouts import situation as page  # noqa: E402
from layouts.app import create_app  # noqa: E402

URBAN = (108.150, 16.000, 108.250, 16.090)
WARNING = {"type": "Polygon", "coordinates": [[[108.190, 16.030], [108.240, 16.030], [108.240, 16.080],
                                                [108.190, 16.080], [108.190, 16.030]]]}


def populate(store: Store, entities: int, alarms: int, rng: random.Random) -> str:
    settings = load_settings()
    now = utcnow()
    feeds = [feed for feed in settings.feeds if feed.enabled]
    per_feed = max(1, entities // len(feeds))
    for feed in feeds:
        batch = Batch(entities=[Entity(
            id=f"urn:bench:{feed.name}:{n}", type="thing", agency=feed.agency, sector=feed.sector, name=f"{feed.name} {n}",
            location=(rng.uniform(URBAN[0], URBAN[2]), rng.uniform(URBAN[1], URBAN[3])), district=None,
            attributes={"value": 1.0}, observed_at=now, feed=feed.name) for n in range(per_feed)])
        store.write_batch(feed.name, batch, now=now)
        store.record_success(feed.name, records=per_feed, latency_ms=50.0, interval=feed.interval,
                             stale_factor=feed.stale_factor, now=now)
    event_id = "urn:bench:cap:typhoon"
    store.write_batch("civil-defence-warnings", Batch(events=[Event(
        id=event_id, type="typhoon", agency="danang-civil-defence", sector="emergency", headline="Bão số 5",
        description="Gió mạnh cấp 10.", severity=Severity.SEVERE, urgency="expected", certainty="likely",
        area=WARNING, location=(108.215, 16.055), onset=now, expires=now + timedelta(hours=6),
        feed="civil-defence-warnings")]), now=now, replace=False)
    book = store.alerts
    main, _ = book.raise_alert(Alert(
        id="", rule_id="cap-warning", entity_id=event_id, title="Bão số 5", severity=Severity.SEVERE,
        sector="emergency", agency="danang-civil-defence", district="Hải Châu", raised_at=now, updated_at=now,
        location=(108.215, 16.055)), extra={"kind": "relay", "procedure": "typhoon-response",
                                            "area": json.dumps(WARNING), "place": "Bão số 5"})
    for n in range(alarms):
        raised = now - timedelta(minutes=rng.uniform(0, 60))
        alert, _ = book.raise_alert(Alert(
            id="", rule_id="flood-level-high", entity_id=f"urn:bench:flood:{n}", title="Ngập", severity=Severity.MODERATE,
            sector="environment", agency="danang-drainage", district="Hải Châu", raised_at=raised, updated_at=raised,
            location=(rng.uniform(URBAN[0], URBAN[2]), rng.uniform(URBAN[1], URBAN[3]))),
            extra={"procedure": "flood-response", "place": f"FL-{n}"})
        book.comment(alert.id, actor="op", note="đang xử lý")
        if n % 3 == 0:
            book.acknowledge(alert.id, actor="op")
    return main.id


def timed(function: Callable[[], Any], rounds: int) -> list[float]:
    function()  # warm: caches, first imports
    found = []
    for _ in range(rounds):
        start = time.perf_counter()
        function()
        found.append((time.perf_counter() - start) * 1000)
    return found


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--entities", type=int, default=10_000)
    parser.add_argument("--alarms", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=30)
    args = parser.parse_args(argv)
    url, process = bench_redis()
    try:
        client = redis.Redis.from_url(url, decode_responses=True)
        client.flushdb()
        settings = load_settings()
        store = Store(client, settings.city.id)
        alarm = populate(store, args.entities, args.alarms, random.Random(7))
        one_core()
        base = district_layer(settings.city)
        shifts = notification_settings(settings)
        window = window_at(shifts, utcnow(), city_zone(settings)) if shifts else None

        def detail() -> None:
            record = store.alerts.get(alarm)
            alert_queue.detail_facts(record, settings, "vi")
            alert_queue.checklist(record, settings, store.alerts.checklist(alarm), "vi")
            alert_queue.timeline_lines(store.alerts.timeline(alarm), "vi")
            alert_map(record, settings, base, "vi")

        def view() -> None:
            found = situation.assemble(store, settings, "vi", utcnow(), alert=alarm)
            situation.situation_map(found, settings, base, "vi")

        rows = [("alert detail (baseline)", timed(detail, args.rounds)), ("situation view", timed(view, args.rounds))]
        # the page's callback on a second screen of the same situation: the first screen's drawing, shared
        app = create_app(store, settings, redis_kind="server", cookie_secure=False)
        with app.server.test_request_context():
            context = context_of(app.server)
            page.refresh(context, 1, "vi", {"alert": alarm}, 0, None)
            rows.append(("situation, another screen", timed(
                lambda: page.refresh(context, 1, "vi", {"alert": alarm}, 0, None), args.rounds)))
        if window is not None:
            rows.append(("shift summary", timed(lambda: shift_summary(store, settings, window, utcnow()), args.rounds)))
        found = situation.assemble(store, settings, "vi", utcnow(), alert=alarm)
        print(f"{args.entities:,} entities, {args.alarms} open alarms; the warning's area holds "
              f"{found.entity_count:,} entities and {sum(len(g.alerts) for g in found.groups)} related alarms")
        baseline = statistics.median(rows[0][1])
        print(f"{'':26} {'p50 ms':>8} {'p95 ms':>8} {'p50 / baseline':>15}")
        for name, times in rows:
            p50 = statistics.median(times)
            p95 = sorted(times)[max(0, int(len(times) * 0.95) - 1)]
            print(f"{name:26} {p50:8.1f} {p95:8.1f} {p50 / baseline:15.2f}")
    finally:
        stop(process)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
