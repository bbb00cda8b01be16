"""The demo's typhoon and rain at `--speed 10` through the simulator, the feeds' own readers and the real rule
engine on a real redis-server: at least 100 sensor alarms are raised, the queue an operator reads stays at 15
lines or fewer from start to end, and every alarm behind a line is there to open, with its timeline."""

from __future__ import annotations

from datetime import datetime

from ioc.alert_queue import queue_lines
from ioc.alerts import AlertQuery, select
from ioc.alerts.groups import AlarmGroup, flood_state, members_of
from ioc.config import Settings
from ioc.store import Store
from tests.ioc.alerts.storm import run_storm, sensor_rules
from tests.simulator.conftest import MORNING

# twenty minutes of the demo at ten times real speed: the rain's first three hours and the typhoon building
WALL_MINUTES = 20
QUEUE_LINES = 15


def test_the_typhoon_floods_the_alarms_and_the_queue_stays_readable(store: Store, settings: Settings) -> None:
    book = store.alerts
    seen: list[tuple[datetime, int, int, bool]] = []

    def look(now: datetime) -> None:
        records = select(book, AlertQuery.of())
        flood = flood_state(store.redis, store.keys, settings.grouping, now)
        lines = queue_lines(records, settings.grouping, flood, now)
        # nothing is lost: the lines hold every open alarm, once
        assert sorted(r.id for r in members_of(lines)) == sorted(r.id for r in records)
        seen.append((now, len(lines), len(records), flood.active))

    run = run_storm(settings, store, MORNING, wall_minutes=WALL_MINUTES, speed=10, every_minute=look)

    raised = [r for r in book.records(include_resolved=True, limit=10_000) if r.alert.rule_id in sensor_rules(settings)]
    assert len(raised) >= 100, f"{len(raised)} sensor alarms"
    assert len({r.alert.rule_id for r in raised}) >= 6  # floods, rain, wind, pressure, rivers, cameras
    worst = max(seen, key=lambda look_: look_[1])
    assert worst[1] <= QUEUE_LINES, f"{worst[1]} lines for {worst[2]} open alarms at {worst[0]}"
    assert max(open_count for _, _, open_count, _ in seen) > 3 * QUEUE_LINES  # grouping did the work
    assert any(flood for *_, flood in seen)
    # the flood shows on the page's flag: more than 10 alarms in 10 minutes at the height of the storm
    assert flood_state(store.redis, store.keys, settings.grouping, run.end).count > 10

    final = queue_lines(select(book, AlertQuery.of()), settings.grouping,
                        flood_state(store.redis, store.keys, settings.grouping, run.end), run.end)
    groups = [line for line in final if isinstance(line, AlarmGroup)]
    assert groups and max(g.count for g in groups) >= 10
    for member in members_of(final):
        stored = book.get(member.id)
        assert stored is not None and stored.is_open
        assert book.timeline(member.id)[0]["action"] == "raised"
    # every sensor alarm raised, open or resolved since, is retrievable with its history
    for record in raised:
        assert book.get(record.id) is not None and book.timeline(record.id)
