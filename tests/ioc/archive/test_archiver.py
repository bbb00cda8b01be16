"""The history archive on a real redis-server: batches and alert transitions archived, queried back equal,
caught up after downtime, nothing duplicated by a re-delivery, old days deleted."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
import redis

from ioc.archive import Archiver, apply_retention, history, start_archiver
from ioc.archive.files import compact, files_of
from ioc.keys import Keys
from ioc.model import Alert, Batch, Entity, Event, Observation, Severity
from ioc.store import Store

T0 = datetime(2026, 3, 1, 23, 59, 50, tzinfo=UTC)
WIDE = {"start": datetime(2026, 1, 1, tzinfo=UTC), "end": datetime(2027, 1, 1, tzinfo=UTC)}


def _batch(poll: int, stations: int = 4) -> Batch:
    """Readings of `stations` air stations at one poll, ten seconds apart: polls cross midnight at poll 1."""
    at = T0 + timedelta(seconds=10 * poll)
    entities = [Entity(f"urn:ioc:danang:air:{s}", "AirQualityObserved", "tnmt", "environment",
                       name=f"Trạm {s}", location=(108.2 + s / 100, 16.05), attributes={"pm25": poll + s},
                       observed_at=at) for s in range(stations)]
    observations = [Observation(e.id, metric, value, unit, at) for s, e in enumerate(entities)
                    for metric, value, unit in (("pm25", 10.5 + poll + s, "µg/m³"), ("status", "ok", ""))]
    return Batch(entities=entities, observations=observations)


def _expected(polls: range, stations: int = 4) -> list[tuple[str, str, str, float | None, str | None]]:
    rows = []
    for poll in polls:
        for o in _batch(poll, stations).observations:
            number = float(o.value) if o.metric == "pm25" else None
            rows.append((o.entity_id, o.metric, o.time.isoformat(), number, None if number is not None else o.value))
    return sorted(rows)


def _archived(root: Path, **filters: str) -> list[tuple[str, str, str, float | None, str | None]]:
    rows = history(root, "observations", **WIDE, **filters)
    return sorted((r["entity"], r["metric"], r["time"], r["value"], r["text"]) for r in rows)


@pytest.fixture
def store(redis_client: redis.Redis) -> Store:
    return Store(redis_client, "danang")


def test_archived_observations_read_back_equal_across_days(store: Store, tmp_path: Path) -> None:
    for poll in range(3):
        store.write_batch("air-stations", _batch(poll))
    done = Archiver(store.redis, store.keys, tmp_path).archive_once()
    assert done.rows["observations"] == 24
    assert _archived(tmp_path) == _expected(range(3))
    # partitioned by the observation's day and the feed: poll 0 is on 1 March, polls 1 and 2 on 2 March
    days = sorted(p.name for p in (tmp_path / "observations").iterdir())
    assert days == ["day=2026-03-01", "day=2026-03-02"]
    assert (tmp_path / "observations" / "day=2026-03-02" / "feed=air-stations").is_dir()
    one = history(tmp_path, "observations", start=T0 + timedelta(seconds=5), end=T0 + timedelta(seconds=15),
                  feed="air-stations", entity="urn:ioc:danang:air:2")
    assert [(r["metric"], r["value"], r["text"], r["unit"]) for r in one] == [
        ("pm25", 13.5, None, "µg/m³"), ("status", None, "ok", "")]
    assert history(tmp_path, "observations", **WIDE, feed="no-such-feed") == []


def test_entity_records_and_events_are_archived_when_they_change(store: Store, tmp_path: Path) -> None:
    store.write_batch("air-stations", _batch(0), now=T0)
    store.write_batch("air-stations", _batch(0), now=T0)  # the same poll again: nothing changed
    store.write_batch("air-stations", _batch(1), now=T0)
    warning = Event("w1", "flood", "pctt", "safety", "Lũ trên sông Hàn", severity=Severity.SEVERE,
                    expires=T0 + timedelta(hours=6))
    store.write_batch("warnings", Batch(events=[warning]), now=T0)
    Archiver(store.redis, store.keys, tmp_path).archive_once()
    entities = history(tmp_path, "entities", **WIDE, entity="urn:ioc:danang:air:1")
    assert [r["record"].count("Trạm 1") for r in entities] == [1, 1]  # the unchanged poll left no row
    assert [(r["lon"], r["lat"]) for r in entities] == [(108.2 + 1 / 100, 16.05)] * 2
    events = history(tmp_path, "events", **WIDE, feed="warnings")
    assert [(r["event"], r["expires"]) for r in events] == [("w1", "2026-03-02T05:59:50+00:00")]
    assert "Lũ trên sông Hàn" in events[0]["record"]


def test_alert_transitions_are_archived(store: Store, tmp_path: Path) -> None:
    alert, _ = store.raise_alert(Alert("", "pm25-high", "urn:ioc:danang:air:1", "PM2.5 cao", Severity.SEVERE,
                                       "environment", "tnmt"))
    store.alerts.acknowledge(alert.id, actor="lan")
    store.resolve_alert(alert.id, actor="lan", note="đã xử lý")
    Archiver(store.redis, store.keys, tmp_path).archive_once()
    rows = history(tmp_path, "alerts", start=datetime(2000, 1, 1, tzinfo=UTC),
                   end=datetime.now(UTC) + timedelta(days=1), entity=alert.id)
    assert [(r["action"], r["actor"]) for r in rows] == [("raised", "system"), ("acknowledged", "lan"),
                                                         ("resolved", "lan")]
    assert rows[-1]["note"] == "đã xử lý"


def test_an_archiver_that_was_down_catches_up_with_nothing_missing_or_twice(store: Store, tmp_path: Path) -> None:
    store.write_batch("air-stations", _batch(0))
    Archiver(store.redis, store.keys, tmp_path).archive_once()
    for poll in range(1, 40):  # ingest goes on while no archiver runs
        store.write_batch("air-stations", _batch(poll))
    later = Archiver(store.redis, store.keys, tmp_path, count=7)  # a new process, reading in small steps
    done = later.archive_once()
    assert done.entries == 39 and not done.missed
    assert _archived(tmp_path) == _expected(range(40))
    assert later.archive_once().entries == 0  # everything was acknowledged
    assert store.redis.xpending(store.keys.archive(), "archiver")["pending"] == 0


def test_a_crash_between_files_and_acknowledgement_redelivers_without_duplicates(
        store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for poll in range(5):
        store.write_batch("air-stations", _batch(poll))
    crashing = Archiver(store.redis, store.keys, tmp_path, count=3)
    monkeypatch.setattr(crashing, "_acknowledge", _crash)
    with pytest.raises(SystemExit):
        crashing.archive_once()  # the first three batches are on disk, not acknowledged
    assert store.redis.xpending(store.keys.archive(), "archiver")["pending"] == 3
    written = files_of(tmp_path, "observations", date(2026, 3, 1), date(2026, 3, 2))
    assert written
    for poll in range(5, 8):
        store.write_batch("air-stations", _batch(poll))
    restarted = Archiver(store.redis, store.keys, tmp_path, count=2)  # other steps than before the crash
    assert restarted.archive_once().entries == 8
    assert _archived(tmp_path) == _expected(range(8))  # each row once


def test_a_redelivered_range_rewrites_the_same_file(store: Store, tmp_path: Path) -> None:
    store.write_batch("air-stations", _batch(3))
    store.redis.xgroup_create(store.keys.archive(), "archiver", id="0")
    Archiver(store.redis, store.keys, tmp_path).archive_once()
    names = sorted(p.name for p in files_of(tmp_path, "observations", date(2026, 3, 2), date(2026, 3, 2)))
    # the group is set back to the stream's start, as after a lost acknowledgement log
    store.redis.xgroup_setid(store.keys.archive(), "archiver", id="0")
    Archiver(store.redis, store.keys, tmp_path).archive_once()
    assert sorted(p.name for p in files_of(tmp_path, "observations", date(2026, 3, 2), date(2026, 3, 2))) == names
    assert _archived(tmp_path) == _expected(range(3, 4))


def test_entries_trimmed_before_archiving_are_reported(store: Store, tmp_path: Path) -> None:
    Archiver(store.redis, store.keys, tmp_path).ensure_groups()
    for poll in range(3):
        store.write_batch("air-stations", _batch(poll))
    store.redis.xtrim(store.keys.archive(), maxlen=1, approximate=False)  # the cap, reached while no archiver ran
    done = Archiver(store.redis, store.keys, tmp_path).archive_once()
    assert done.missed and done.entries == 1
    assert not Archiver(store.redis, store.keys, tmp_path).archive_once().missed  # said once, not forever


def test_retention_deletes_day_partitions_older_than_their_kind_keeps(tmp_path: Path) -> None:
    for kind, day in (("observations", "2026-01-01"), ("observations", "2026-03-01"), ("alerts", "2026-01-01")):
        folder = tmp_path / kind / f"day={day}" / "feed=x"
        folder.mkdir(parents=True)
        (folder / "part-1-0_1-0.parquet").write_bytes(b"")
    removed = apply_retention(tmp_path, {"observations": 30, "alerts": 3650}, date(2026, 3, 10))
    assert removed == [tmp_path / "observations" / "day=2026-01-01"]
    assert (tmp_path / "observations" / "day=2026-03-01").is_dir()
    assert (tmp_path / "alerts" / "day=2026-01-01").is_dir()


def _crash(*_: object) -> None:
    raise SystemExit("the archiver stopped before XACK")


def test_keys_used_are_the_citys(store: Store) -> None:
    assert store.keys == Keys("danang") and store.keys.archive() == "ioc:{danang}:archive"


def test_the_archiver_thread_archives_what_came_before_it_was_stopped(store: Store, tmp_path: Path) -> None:
    thread, stop = start_archiver(store.redis, store.keys, tmp_path, interval=3600, retention={"alerts": 1})
    store.write_batch("air-stations", _batch(0))
    stop.set()
    thread.join(timeout=30)
    assert not thread.is_alive()
    assert _archived(tmp_path) == _expected(range(1))


def test_the_in_process_redis_is_archived_too(fake_redis: redis.Redis, tmp_path: Path) -> None:
    store = Store(fake_redis, "danang")  # no scripting: the batch goes through MULTI/EXEC
    for poll in range(2):
        store.write_batch("air-stations", _batch(poll))
    assert Archiver(fake_redis, store.keys, tmp_path).archive_once().rows["entities"] == 8
    assert _archived(tmp_path) == _expected(range(2))


def test_archived_entries_leave_redis_and_the_audit_trail_stays_whole(store: Store, tmp_path: Path) -> None:
    for poll in range(250):
        store.write_batch("air-stations", _batch(poll, stations=1))
    store.raise_alert(Alert("", "pm25-high", "urn:ioc:danang:air:0", "PM2.5 cao", Severity.SEVERE, "environment",
                            "tnmt"))
    Archiver(store.redis, store.keys, tmp_path).archive_once()
    # trimmed by whole stream nodes (approximate, as cheap as trimming gets): what is left is under a node
    assert store.redis.xlen(store.keys.archive()) < 100
    assert store.redis.xlen(store.keys.audit()) == 1
    assert _archived(tmp_path) == _expected(range(250), stations=1)


def test_only_the_records_that_changed_are_archived(store: Store, tmp_path: Path) -> None:
    first = _batch(0)
    store.write_batch("air-stations", first, now=T0)
    second = _batch(0)
    second.entities[1].attributes = {"pm25": 99}  # one station changed, three did not
    store.write_batch("air-stations", second, now=T0 + timedelta(seconds=10))
    archiver = Archiver(store.redis, store.keys, tmp_path, count=1)
    assert archiver.archive_once().rows["entities"] == 4 + 1
    rows = history(tmp_path, "entities", **WIDE)
    assert [r["entity"] for r in rows[4:]] == ["urn:ioc:danang:air:1"] and '"pm25":99' in rows[4]["record"]
    store.write_batch("air-stations", second, now=T0 + timedelta(seconds=20))  # only the ingest time moved
    assert archiver.archive_once().rows["entities"] == 0


def test_a_days_files_are_merged_into_one_and_read_the_same(store: Store, tmp_path: Path) -> None:
    for poll in range(6):
        store.write_batch("air-stations", _batch(poll))
    Archiver(store.redis, store.keys, tmp_path, count=1).archive_once()  # a file per batch
    folder = tmp_path / "observations" / "day=2026-03-02" / "feed=air-stations"
    parts = sorted(folder.iterdir())
    assert len(parts) == 5
    leftover = parts[0].read_bytes()
    merged = [path for path in compact(tmp_path, before=date(2026, 3, 3)) if path.parent == folder]
    assert len(merged) == 1 and list(folder.iterdir()) == merged
    assert _archived(tmp_path) == _expected(range(6))
    # a merge that stopped before deleting what it merged: the merged file wins, the next merge tidies up
    parts[0].write_bytes(leftover)
    assert _archived(tmp_path) == _expected(range(6))
    compact(tmp_path, before=date(2026, 3, 3))
    assert len(list(folder.iterdir())) == 1
    # a later poll of that day lands after the merged file, nothing twice
    store.write_batch("air-stations", _batch(6))
    Archiver(store.redis, store.keys, tmp_path).archive_once()
    assert _archived(tmp_path) == _expected(range(7))
