"""Playback on a real redis-server and a real archive: a known ten minutes written through the store, archived by
the archiver (snapshots included), and the city asked at several minutes equals what was live then; the last
minutes, not archived yet, come from Redis."""

from __future__ import annotations

import gc
import multiprocessing
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from ioc.archive import Archiver
from ioc.config import Settings
from ioc.control_room import tiles
from ioc.lifecycle import LifecycleSettings, sweep
from ioc.map_view import WHOLE_CITY
from ioc.model import Alert, Batch, Entity, Event, Severity
from ioc.playback import PlaybackCity, alerts_at, records_at
from ioc.playback.records import close_database
from ioc.store import Store

T0 = datetime(2026, 3, 2, 23, 55, tzinfo=UTC)  # the ten minutes cross midnight (UTC)
MINUTES = 10
BUS = "urn:ioc:danang:bus-vehicles:{}"
FLOOD = "urn:ioc:danang:flood-sensors:{}"


def _minute(m: int) -> datetime:
    return T0 + timedelta(minutes=m)


def _buses(m: int) -> Batch:
    """Buses 1-4 drive east a little each minute; bus 2 leaves service at minute 4, bus 5 starts at minute 6."""
    numbers = [n for n in (1, 2, 3, 4, 5) if not (n == 2 and m >= 4) and not (n == 5 and m < 6)]
    return Batch(entities=[Entity(BUS.format(n), "Vehicle", "dnbus", "transport", name=f"Xe {n}",
                                  location=(108.20 + n / 100 + m / 1000, 16.05), attributes={"speed": 20 + n + m},
                                  observed_at=_minute(m)) for n in numbers])


def _flood(m: int) -> Batch:
    """Sensors 1 and 2 push levels; sensor 2 goes silent after minute 2 (gone at the sweep of minute 3)."""
    numbers = [1] if m > 2 else [1, 2]
    # sensor 1's level changes only every other minute: an unchanged record is not archived again
    return Batch(entities=[Entity(FLOOD.format(n), "FloodSensor", "pctt", "environment", name=f"Cảm biến {n}",
                                  location=(108.22, 16.03 + n / 100), attributes={"level": 10 * n + m // 2},
                                  observed_at=_minute(m)) for n in numbers])


def _warning(m: int) -> Batch:
    events = [] if m < 2 else [Event("cap-1", "flood", "pctt", "safety", "Cảnh báo lũ", severity=Severity.SEVERE,
                                     location=(108.21, 16.06), expires=_minute(8))]
    return Batch(events=events)


def _live(store: Store, at: datetime) -> dict[str, Any]:
    return {
        "entities": {feed: {e["id"]: _without_ingest(e) for e in store.entities_of_feed(feed)}
                     for feed in ("bus-vehicles", "flood-sensors")},
        "events": [e["id"] for e in store.events_of_feed("civil-defence-warnings", at)],
        "alerts": [(a.id, str(a.state), str(a.severity)) for a in store.open_alerts()],
    }


def _without_ingest(record: dict[str, Any]) -> dict[str, Any]:
    # an unchanged record is archived once: its ingest time is its first poll's, not the last one's
    return {key: value for key, value in record.items() if key != "ingested_at"}


@pytest.fixture
def recorded(store: Store, tmp_path: Path) -> dict[int, dict[str, Any]]:
    """Ten minutes written, swept and acted on; what was live at the end of each minute. The archiver runs
    (with a snapshot) at minutes 0, 4 and 7; minutes 8 and 9 stay in Redis only."""
    archiver = Archiver(store.redis, store.keys, tmp_path)
    lifecycle = LifecycleSettings(gone_after=3)  # flood sensors every 10 s: gone after 30 s unseen
    from ioc.config import load_settings

    settings = load_settings()
    live: dict[int, dict[str, Any]] = {}
    alert_id = ""
    for m in range(MINUTES):
        at = _minute(m)
        store.write_batch("bus-vehicles", _buses(m), now=at)
        store.write_batch("flood-sensors", _flood(m), now=at + timedelta(seconds=1), replace=False)
        store.write_batch("civil-defence-warnings", _warning(m), now=at + timedelta(seconds=2))
        sweep(store, settings, lifecycle, now=at + timedelta(seconds=3))
        if m == 3:
            alert, _ = store.raise_alert(Alert("", "flood-high", FLOOD.format(1), "Nước lên", Severity.MODERATE,
                                               "environment", "pctt", updated_at=at + timedelta(seconds=4)))
            alert_id = alert.id
        if m == 7:
            store.alerts.acknowledge(alert_id, actor="op", now=at + timedelta(seconds=4))
        if m == 6:
            store.alerts.escalate(alert_id, after=timedelta(minutes=1), now=at + timedelta(seconds=4))
        if m == 8:
            store.alerts.resolve(alert_id, actor="op", now=at + timedelta(seconds=4))
        if m in (0, 4, 7):
            archiver.archive_once()
            archiver.snapshot_if_due(now=float(m * 1000))  # a snapshot each time (the period is minutes)
        live[m] = _live(store, at + timedelta(seconds=30))
    return live


def _past(store: Store, root: Path, at: datetime) -> dict[str, Any]:
    past = records_at(root, at, client=store.redis, keys=store.keys)
    return {
        "entities": {feed: {i: _without_ingest(r) for i, r in past.entities.get(feed, {}).items()}
                     for feed in ("bus-vehicles", "flood-sensors")},
        "events": [e["id"] for e in past.events.get("civil-defence-warnings", [])],
        "alerts": [(a.id, str(a.state), str(a.severity))
                   for a in alerts_at(root, store.redis, store.keys, at)],
    }


def test_the_city_at_each_past_minute_equals_what_was_live(
        store: Store, tmp_path: Path, recorded: dict[int, dict[str, Any]]) -> None:
    for m in range(MINUTES):
        assert _past(store, tmp_path, _minute(m) + timedelta(seconds=30)) == recorded[m], f"minute {m}"
    # the sequence did what it says: moves, a bus gone and one new, a sensor gone, an alert's life
    assert recorded[3]["entities"]["bus-vehicles"].keys() != recorded[6]["entities"]["bus-vehicles"].keys()
    assert FLOOD.format(2) in recorded[2]["entities"]["flood-sensors"]
    assert FLOOD.format(2) not in recorded[3]["entities"]["flood-sensors"]
    assert [len(recorded[m]["alerts"]) for m in (2, 3, 8)] == [0, 1, 0]
    # escalated at minute 6, acknowledged at 7: before that it was new and moderate
    assert [recorded[m]["alerts"][0][1:] for m in (5, 6, 7)] == [
        ("new", "moderate"), ("new", "severe"), ("acknowledged", "severe")]
    assert recorded[7]["events"] == ["cap-1"] and recorded[8]["events"] == []


def test_from_the_archive_alone_and_the_redis_part_said(
        store: Store, tmp_path: Path, recorded: dict[int, dict[str, Any]]) -> None:
    archived = records_at(tmp_path, _minute(5) + timedelta(seconds=30))  # no Redis: the files alone
    assert archived.snapshot is not None and archived.from_redis == 0
    assert {i: _without_ingest(r) for i, r in archived.entities["bus-vehicles"].items()} == \
        recorded[5]["entities"]["bus-vehicles"]
    recent = records_at(tmp_path, _minute(9) + timedelta(seconds=30), client=store.redis, keys=store.keys)
    assert recent.from_redis > 0  # minutes 8 and 9 were never archived



def _archived_buses(root: Path, at: datetime, answer: Any) -> None:
    buses = sorted(records_at(root, at).entities["bus-vehicles"])
    close_database()  # as the worker's own fork or exit would: hangs on a database inherited from the parent
    answer.put(buses)


def test_a_forked_worker_reads_with_a_database_of_its_own_and_the_collector_is_left_on(
        store: Store, tmp_path: Path, recorded: dict[int, dict[str, Any]]) -> None:
    at = _minute(5) + timedelta(seconds=30)
    assert gc.isenabled()
    here = sorted(records_at(tmp_path, at).entities["bus-vehicles"])  # opens this process's DuckDB
    assert gc.isenabled()  # paused while the moment was built, then on again
    assert here == sorted(recorded[5]["entities"]["bus-vehicles"])
    context = multiprocessing.get_context("fork")  # as a web server's forked workers start
    answer = context.Queue()
    child = context.Process(target=_archived_buses, args=(tmp_path, at, answer))
    child.start()
    try:
        assert answer.get(timeout=60) == here  # freeing an inherited database would hang the child
    finally:
        child.join(timeout=10)
        if child.is_alive():
            child.kill()
    assert child.exitcode == 0

def test_a_moved_bus_is_drawn_at_its_old_place_with_its_tiles(
        store: Store, settings: Settings, tmp_path: Path, recorded: dict[int, dict[str, Any]]) -> None:
    city = PlaybackCity(store=store, settings=settings, base=[], root=tmp_path)
    early, late = (city.read("en", _minute(m) + timedelta(seconds=30)) for m in (1, 9))
    bus = BUS.format(1)
    points = early.state.points(), late.state.points()
    assert points[0][bus] == (round(108.21 + 1 / 1000, 5), 16.05)
    assert points[1][bus] == (round(108.21 + 9 / 1000, 5), 16.05)
    flood_tile = next(tile for tile in tiles(settings, early) if tile.feed == "flood-sensors")
    assert flood_tile.records == 2
    assert early.state.layers["bus-vehicles"].version != late.state.layers["bus-vehicles"].version
    figure = city.figure(early, WHOLE_CITY)
    assert bus not in str(figure["layout"])  # the layout is the live one's; points travel in the traces
    assert len(figure["data"]) == 2 * len(city.plan.feeds) + 1
