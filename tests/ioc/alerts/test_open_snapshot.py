"""The open alarms shared by every screen and worker: one read of Redis per alerts version (counted by
redis-server itself), the first lines of a long list and the count of the rest."""

from __future__ import annotations

from datetime import timedelta

import pytest
import redis
from flask import Flask
from flask_caching import Cache

from ioc.alerts import AlertBook, AlertRecord
from ioc.alerts.open_snapshot import alerts_version, first_lines, open_alarms
from ioc.config import Settings
from ioc.model import AlertState, Severity
from ioc.store import Store
from ioc.web import cache_config, context_of
from tests.ioc.alerts.scene import T0, flood_alert


def worker_cache(store: Store) -> Cache:
    """One dashboard worker's cache: its own object (and process copy), Redis behind it shared with the others."""
    return Cache(Flask(__name__), config=cache_config(store, "server"))


def raise_many(book: AlertBook, count: int) -> list[str]:
    severities = (Severity.MODERATE, Severity.EXTREME, Severity.SEVERE)
    return [
        book.raise_alert(
            flood_alert(
                f"urn:ioc:danang:flood-sensors:FL-{n:03d}", severities[n % 3], T0 + timedelta(seconds=n)
            )
        )[0].id
        for n in range(count)
    ]


def hgetall_calls(client: redis.Redis) -> int:
    return int(client.info("commandstats").get("cmdstat_hgetall", {}).get("calls", 0))


def test_every_screen_of_every_worker_reads_the_open_alarms_once_per_alerts_version(
    redis_client: redis.Redis,
) -> None:
    store = Store(redis_client, "danang")
    book = store.alerts
    raised = raise_many(book, 30)
    workers = [worker_cache(store) for _ in range(4)]
    builds: list[int] = []
    redis_client.config_resetstat()

    for cache in workers:
        for _ in range(12):  # twelve screens per worker, one tick each
            snapshot = open_alarms(book, cache, on_build=lambda: builds.append(1))
            assert sorted(record.id for record in snapshot.records) == sorted(raised)

    assert len(builds) == 1
    assert hgetall_calls(redis_client) == 30  # each open alarm's hash read once, for all 48 screens

    book.acknowledge(raised[0], actor="operator-1")
    redis_client.config_resetstat()
    for cache in workers:
        snapshot = open_alarms(book, cache, on_build=lambda: builds.append(1))
        assert next(r for r in snapshot.records if r.id == raised[0]).state == AlertState.ACKNOWLEDGED
        assert snapshot.version == alerts_version(book)
    assert len(builds) == 2 and hgetall_calls(redis_client) == 30


def test_the_snapshot_is_in_queue_order_and_leaves_out_resolved_alarms(redis_client: redis.Redis) -> None:
    book = Store(redis_client, "danang").alerts
    raised = raise_many(book, 9)
    book.resolve(raised[1], actor="operator-1", note="cleared")
    cache = worker_cache(Store(redis_client, "danang"))

    snapshot = open_alarms(book, cache)

    assert [record.id for record in snapshot.records] == [record.id for record in book.records(limit=1000)]
    assert raised[1] not in {record.id for record in snapshot.records}
    assert [alert.id for alert in snapshot.alerts] == [record.id for record in snapshot.records]
    assert [record.alert.severity for record in snapshot.records][:2] == [Severity.EXTREME, Severity.EXTREME]
    assert snapshot.severity_counts() == {"extreme": 2, "severe": 3, "moderate": 3}


def test_two_apps_in_one_process_never_see_each_others_alarms(
    redis_client: redis.Redis, fake_store: Store
) -> None:
    real = Store(redis_client, "danang")
    raise_many(real.alerts, 3)
    raise_many(fake_store.alerts, 5)
    # the same city on both, each app with its own cache
    real_cache = worker_cache(real)
    fake_cache = Cache(Flask(__name__), config={"CACHE_TYPE": "SimpleCache"})

    assert len(open_alarms(real.alerts, real_cache).records) == 3
    assert len(open_alarms(fake_store.alerts, fake_cache).records) == 5


def test_the_annunciator_the_queue_and_the_control_room_of_an_app_share_one_read_per_change(
    redis_client: redis.Redis, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    from layouts import alerts as alerts_page
    from layouts import annunciator, control_room
    from layouts.app import create_app

    store = Store(redis_client, "danang")
    raised = raise_many(store.alerts, 30)
    context = context_of(create_app(store, settings, redis_kind="server", cookie_secure=False).server)
    context.live.background = False  # no builder thread reading on its own while this counts
    reads: list[dict[str, object]] = []
    records = AlertBook.records

    def counted(book: AlertBook, **options: object) -> list[AlertRecord]:
        reads.append(options)
        return records(book, **options)

    monkeypatch.setattr(AlertBook, "records", counted)

    def every_screen() -> None:
        for tick in range(3):
            annunciator.refresh(context, tick, "en", None)
            alerts_page.refresh_queue(context, tick, "en", [], [], [], "open", None, 0, [], 0, None, None)
            control_room.screen_update(context.live, "en", {})
        context.live.warm()

    every_screen()
    assert len(reads) == 1
    store.alerts.acknowledge(raised[0], actor="operator-1")
    every_screen()
    assert len(reads) == 2


def test_first_lines_counts_what_it_leaves_out() -> None:
    items = list(range(1020))
    shown, more = first_lines(items, 12)
    assert shown == list(range(12)) and more == 1008
    assert first_lines(items[:5], 12) == (items[:5], 0)
    assert first_lines([], 12) == ([], 0)
