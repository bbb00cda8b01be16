"""Entity lifecycle on a real redis-server: a silent entity leaves the live map and the indexes, the archive keeps
it and says when it went, it comes back when its feed delivers it again; lifecycle.yaml is validated."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from ioc.archive import Archiver, history
from ioc.config import ConfigError, Settings
from ioc.lifecycle import LifecycleSettings, last_seen, load_lifecycle, sweep
from ioc.model import Batch, Entity
from ioc.store import Store

T0 = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
WIDE = {"start": datetime(2026, 1, 1, tzinfo=UTC), "end": datetime(2027, 1, 1, tzinfo=UTC)}
BUS = "urn:ioc:danang:bus:{}"


def _buses(*numbers: int, at: datetime, lon: float = 108.2) -> Batch:
    return Batch(entities=[Entity(BUS.format(n), "Vehicle", "dnbus", "transport", name=f"Xe {n}",
                                  location=(lon + n / 1000, 16.05), attributes={"route": "R1"}, observed_at=at)
                           for n in numbers])


def _on_map(store: Store, feed: str) -> set[str]:
    return {entity["id"] for entity in store.entities_of_feed(feed)}


def test_config_defaults_per_feed_and_errors(settings: Settings, tmp_path: Path) -> None:
    assert load_lifecycle(tmp_path) == LifecycleSettings()  # no file: the defaults
    loaded = load_lifecycle(settings.directory, settings.feeds)
    buses, air = settings.feed("bus-vehicles"), settings.feed("air-stations")
    assert loaded.window(buses) == loaded.feeds["bus-vehicles"] * buses.interval
    assert loaded.window(air) == loaded.gone_after * air.interval
    (tmp_path / "lifecycle.yaml").write_text("gone_after: 0.5\nfeeds:\n  no-such-feed: 4\n  air-stations: x\n")
    with pytest.raises(ConfigError) as raised:
        load_lifecycle(tmp_path, settings.feeds)
    message = str(raised.value)
    assert f"{tmp_path / 'lifecycle.yaml'}: gone_after: Input should be greater than or equal to 1" in message
    assert "feeds.air-stations: Input should be a valid number" in message
    (tmp_path / "lifecycle.yaml").write_text("feeds:\n  no-such-feed: 4\n  air-stations: 0\n")
    with pytest.raises(ConfigError) as raised:
        load_lifecycle(tmp_path, settings.feeds)
    assert "feeds.no-such-feed: 'no-such-feed' is not a feed of agencies.yaml" in str(raised.value)
    assert "feeds.air-stations: must be at least 1" in str(raised.value)


def test_silent_entity_leaves_the_map_stays_in_the_archive_and_comes_back(
        store: Store, settings: Settings, tmp_path: Path) -> None:
    feed = settings.feed("flood-sensors")  # pushed: each message adds its devices, nothing replaces them
    lifecycle = LifecycleSettings(gone_after=3)
    window = lifecycle.window(feed)
    store.write_batch(feed.name, _buses(1, 2, at=T0), now=T0, replace=False)
    later = T0 + timedelta(seconds=window - 1)
    store.write_batch(feed.name, _buses(2, at=later, lon=108.3), now=later, replace=False)
    version = store.layer_versions()[feed.name]
    # within the window nothing is gone
    assert sweep(store, settings, lifecycle, now=T0 + timedelta(seconds=window)) == []
    swept = sweep(store, settings, lifecycle, now=T0 + timedelta(seconds=window + 1))
    assert [(s.feed, s.silent, s.dropped) for s in swept] == [(feed.name, (BUS.format(1),), ())]
    assert _on_map(store, feed.name) == {BUS.format(2)}
    assert store.entity(BUS.format(1)) is None
    assert store.redis.geopos(store.keys.geo(), BUS.format(1)) == [None]
    assert store.redis.geopos(store.keys.geo(), BUS.format(2)) != [None]
    assert store.layer_versions()[feed.name] == version + 1  # the screens redraw the layer
    Archiver(store.redis, store.keys, tmp_path).archive_once()
    rows = history(tmp_path, "entities", **WIDE, entity=BUS.format(1))
    assert [(r["lon"] is not None, '"gone":true' in r["record"]) for r in rows] == [(True, False), (False, True)]
    assert rows[-1]["ingested_at"] == (T0 + timedelta(seconds=window + 1)).isoformat()
    # back: its next message puts it on the map again, and the archive has the record again (even unchanged)
    back = T0 + timedelta(seconds=window + 5)
    store.write_batch(feed.name, _buses(1, at=T0), now=back, replace=False)
    assert _on_map(store, feed.name) == {BUS.format(1), BUS.format(2)}
    Archiver(store.redis, store.keys, tmp_path).archive_once()
    rows = history(tmp_path, "entities", **WIDE, entity=BUS.format(1))
    assert ['"gone":true' in r["record"] for r in rows] == [False, True, False]


def test_entity_a_full_poll_dropped_is_archived_gone_at_that_poll(
        store: Store, settings: Settings, tmp_path: Path) -> None:
    feed = settings.feed("bus-vehicles")
    archiver = Archiver(store.redis, store.keys, tmp_path)
    store.write_batch(feed.name, _buses(1, 2, 3, at=T0), now=T0)
    dropped_at = T0 + timedelta(seconds=5)
    store.write_batch(feed.name, _buses(2, 3, at=dropped_at, lon=108.25), now=dropped_at)
    archiver.archive_once()
    assert _on_map(store, feed.name) == {BUS.format(2), BUS.format(3)}  # the full poll replaced the records
    rows = history(tmp_path, "entities", **WIDE, entity=BUS.format(1))
    assert [('"gone":true' in r["record"], r["ingested_at"]) for r in rows] == [
        (False, T0.isoformat()), (True, dropped_at.isoformat())]
    # the sweep takes it out of the indexes the poll left it in
    assert store.redis.hget(store.keys.entity_feeds(), BUS.format(1)) == feed.name
    swept = sweep(store, settings, LifecycleSettings(), now=dropped_at)
    assert [(s.silent, s.dropped) for s in swept] == [((), (BUS.format(1),))]
    assert store.redis.hget(store.keys.entity_feeds(), BUS.format(1)) is None
    assert store.redis.geopos(store.keys.geo(), BUS.format(1)) == [None]


def test_last_seen_reads_the_stamp_of_a_stored_record(store: Store) -> None:
    store.write_batch("bus-vehicles", _buses(7, at=T0), now=T0 + timedelta(seconds=3))
    raw = store.redis.hget(store.keys.entities_of_feed("bus-vehicles"), BUS.format(7))
    assert last_seen(raw) == T0 + timedelta(seconds=3)
    assert last_seen(b'{"id":"x"}') is None
