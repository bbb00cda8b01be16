"""Archive snapshots on a real redis-server: every feed's records at one stream position, found by time."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pyarrow.parquet as pq

from ioc.archive import Archiver
from ioc.archive.archiver import SNAPSHOT_EVERY
from ioc.archive.snapshots import snapshot_around, take_snapshot
from ioc.model import Batch, Entity, Event, Severity
from ioc.store import Store

T0 = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)


def _stations(n: int) -> Batch:
    return Batch(entities=[Entity(f"urn:ioc:danang:air:{s}", "AirQualityObserved", "tnmt", "environment",
                                  location=(108.2 + s / 100, 16.05), attributes={"pm25": s}) for s in range(n)])


def test_a_snapshot_holds_every_record_at_its_stream_position(store: Store, tmp_path: Path) -> None:
    assert take_snapshot(store.redis, store.keys, tmp_path) is None  # nothing written yet
    store.write_batch("air-stations", _stations(3), now=T0)
    store.write_batch("warnings", Batch(events=[Event("w1", "flood", "pctt", "safety", "Lũ", severity=Severity.SEVERE,
                                                      expires=T0 + timedelta(hours=1))]), now=T0 + timedelta(seconds=5))
    first = take_snapshot(store.redis, store.keys, tmp_path)
    assert first is not None and first.at == T0 + timedelta(seconds=5)  # the newest write's ingest time
    rows = pq.read_table(first.path).to_pylist()
    assert sorted((r["feed"], r["entity"], r["event"]) for r in rows) == [
        ("air-stations", f"urn:ioc:danang:air:{s}", False) for s in range(3)] + [("warnings", "w1", True)]
    assert first.path.parent.name == "day=2026-03-02"
    store.write_batch("air-stations", _stations(1), now=T0 + timedelta(minutes=20))
    second = take_snapshot(store.redis, store.keys, tmp_path)
    assert second is not None and second.sid > first.sid
    assert len(pq.read_table(second.path)) == 2  # the full poll left one station, and the warning
    assert snapshot_around(tmp_path, T0 + timedelta(minutes=10)) == (first, second)
    assert snapshot_around(tmp_path, T0 + timedelta(minutes=30)) == (second, None)
    assert snapshot_around(tmp_path, T0) == (None, first)


def test_the_archiver_snapshots_once_a_period(store: Store, tmp_path: Path) -> None:
    archiver = Archiver(store.redis, store.keys, tmp_path)
    assert archiver.snapshot_if_due(now=0.0) is None  # an empty stream: tried again next round
    store.write_batch("air-stations", _stations(2), now=T0)
    assert archiver.snapshot_if_due(now=1.0) is not None
    assert archiver.snapshot_if_due(now=SNAPSHOT_EVERY - 1.0) is None
    assert archiver.snapshot_if_due(now=SNAPSHOT_EVERY + 2.0) is not None
