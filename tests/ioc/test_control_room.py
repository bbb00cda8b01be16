"""The shared control-room tick: one build per change for every screen, deltas that equal a full rebuild,
nothing read or sent when nothing changed."""

from __future__ import annotations

import random
from collections import Counter
from typing import Any

import pytest
from flask import Flask
from flask_caching import Cache

from ioc.city_map import district_layer
from ioc.config import Settings
from ioc.control_room import LiveCity, tiles
from ioc.live_map import apply_delta, figure_delta
from ioc.model import Batch, Entity, utcnow
from ioc.store import Store
from tests.layouts.city_scene import populate
from tests.waiting import wait_until


def shared_cache() -> Cache:
    return Cache(Flask(__name__), config={"CACHE_TYPE": "SimpleCache"})


@pytest.fixture(scope="module")
def base(settings: Settings) -> list[dict[str, Any]]:
    return district_layer(settings.city)


def screen(store: Store, settings: Settings, cache: Cache, base: list[dict[str, Any]],
           builds: Counter[str]) -> LiveCity:
    """One dashboard worker process: its own decoded copies, the shared cache in common."""
    return LiveCity(store=store, settings=settings, cache=cache, base=base, on_build=lambda name: builds.update([name]))


def move_buses(store: Store, settings: Settings, seed: int) -> str:
    """A poll of the first feed with every one of its things moved: new data on one layer."""
    feed = next(f for f in settings.feeds if f.enabled)
    rng = random.Random(seed)
    entities = [
        Entity(id=e["id"], type=e["type"], agency=e["agency"], sector=e["sector"], name=e["name"],
               location=(e["lon"] + rng.uniform(-0.001, 0.001), e["lat"]), district=e["district"],
               attributes=e["attributes"], feed=feed.name)
        for e in store.entities_of_feed(feed.name)
    ]
    store.write_batch(feed.name, Batch(entities=entities))
    return feed.name


def test_a_change_is_built_once_for_every_screen_and_worker(
    fake_store: Store, settings: Settings, base: list[dict[str, Any]]
) -> None:
    populate(fake_store, settings)
    cache, builds = shared_cache(), Counter[str]()
    workers = [screen(fake_store, settings, cache, base, builds) for _ in range(4)]
    for worker in workers:
        for _ in range(12):  # twelve screens per worker
            worker.read("vi", utcnow())
    enabled = [f.name for f in settings.feeds if f.enabled]
    assert builds == Counter(enabled)

    changed = move_buses(fake_store, settings, seed=1)
    for worker in workers:
        for _ in range(12):
            worker.read("vi", utcnow())

    assert builds[changed] == 2
    assert all(builds[name] == 1 for name in enabled if name != changed)


def test_a_poll_that_brings_nothing_new_moves_no_version(fake_store: Store, settings: Settings) -> None:
    populate(fake_store, settings)
    feed = next(f for f in settings.feeds if f.enabled)
    before = fake_store.layer_versions()
    again = [Entity(id=e["id"], type=e["type"], agency=e["agency"], sector=e["sector"], name=e["name"],
                    location=(e["lon"], e["lat"]), district=e["district"], attributes=e["attributes"],
                    feed=feed.name, ingested_at=utcnow())
             for e in fake_store.entities_of_feed(feed.name)]
    for entity, original in zip(again, fake_store.entities_of_feed(feed.name), strict=True):
        entity.observed_at = None if original["observed_at"] is None else entity.observed_at

    fake_store.write_batch(feed.name, Batch(entities=again))
    first = fake_store.layer_versions()
    fake_store.write_batch(feed.name, Batch(entities=again))

    assert fake_store.layer_versions() == first
    assert first[feed.name] == before[feed.name] + 1  # the first rewrite dropped the observed times


def test_a_delta_applied_to_the_old_figure_equals_a_full_rebuild(
    fake_store: Store, settings: Settings, base: list[dict[str, Any]]
) -> None:
    populate(fake_store, settings)
    live = screen(fake_store, settings, shared_cache(), base, Counter())
    before = live.read("vi", utcnow())
    old_figure = live.figure(before)
    seen = before.state.signatures()

    changed = move_buses(fake_store, settings, seed=2)
    after = live.read("vi", utcnow())
    delta = figure_delta(settings, after.state, seen)

    plan = after.state.plan
    assert set(delta.traces) == {plan.cluster_index(changed), plan.detail_index(changed), plan.alert_index}
    assert apply_delta(old_figure, delta) == live.figure(after)


def test_a_stale_feed_resends_only_its_layer_faded(
    fake_store: Store, settings: Settings, base: list[dict[str, Any]]
) -> None:
    parts = populate(fake_store, settings)
    live = screen(fake_store, settings, shared_cache(), base, Counter())
    tick = live.read("en", utcnow())
    seen = {**tick.state.signatures(), parts["stale"]: "0:0:en"}  # as if the screen drew it fresh

    delta = figure_delta(settings, tick.state, seen)

    plan = tick.state.plan
    assert plan.detail_index(parts["stale"]) in delta.traces
    assert delta.traces[plan.detail_index(parts["stale"])]["opacity"] < 1
    assert len(delta.traces) == 3  # its points, its clusters, and the alert rings that sit on them


def test_nothing_changed_means_no_delta(fake_store: Store, settings: Settings, base: list[dict[str, Any]]) -> None:
    populate(fake_store, settings)
    live = screen(fake_store, settings, shared_cache(), base, Counter())
    seen = live.read("vi", utcnow()).state.signatures()

    assert figure_delta(settings, live.read("vi", utcnow()).state, seen).traces == {}


def test_tiles_come_from_the_shared_layers(fake_store: Store, settings: Settings, base: list[dict[str, Any]]) -> None:
    parts = populate(fake_store, settings)
    live = screen(fake_store, settings, shared_cache(), base, Counter())

    shown = tiles(settings, live.read("vi", utcnow()))

    enabled = [f for f in settings.feeds if f.enabled]
    assert [tile.feed for tile in shown] == [f.name for f in enabled]
    assert next(tile for tile in shown if tile.feed == parts["stale"]).stale
    first = enabled[0]
    assert shown[0].records == len(fake_store.entities_of_feed(first.name)) + len(fake_store.events_of_feed(first.name))
    assert shown[0].agency == first.agency_short.vi


def test_the_background_builder_has_a_change_ready_before_any_screen_ticks(
    fake_store: Store, settings: Settings, base: list[dict[str, Any]]
) -> None:
    populate(fake_store, settings)
    builds = Counter[str]()
    worker = screen(fake_store, settings, shared_cache(), base, builds)
    assert worker.warm() == 0  # no screen has watched yet: nothing is built for nobody
    worker.read("vi", utcnow())
    builds.clear()

    changed = move_buses(fake_store, settings, seed=3)
    assert worker.warm() == 1  # the one changed layer, in the one language a screen watches
    assert builds == Counter([changed])
    worker.read("vi", utcnow())

    assert builds == Counter([changed])  # the screen's tick built nothing: it was ready
    assert worker.warm() == 0


def test_the_background_builder_runs_while_screens_watch(
    fake_store: Store, settings: Settings, base: list[dict[str, Any]]
) -> None:
    populate(fake_store, settings)
    builds = Counter[str]()
    worker = LiveCity(store=fake_store, settings=settings, cache=shared_cache(), base=base, background=True,
                      on_build=lambda name: builds.update([name]))
    worker.read("en", utcnow())
    builds.clear()

    changed = move_buses(fake_store, settings, seed=4)

    wait_until(lambda: builds[changed] == 1, timeout=10, message="the changed layer built in the background")


def test_the_builder_reads_the_open_alarms_of_a_change_before_an_alert_screen_asks(
    fake_store: Store, settings: Settings, base: list[dict[str, Any]], monkeypatch: pytest.MonkeyPatch
) -> None:
    from ioc.alerts import AlertBook
    from ioc.alerts.open_snapshot import open_alarms
    from ioc.model import Alert, Severity

    cache = shared_cache()
    worker = screen(fake_store, settings, cache, base, Counter[str]())
    reads: list[int] = []
    records = AlertBook.records
    monkeypatch.setattr(AlertBook, "records", lambda book, **options: reads.append(1) or records(book, **options))
    worker.warm()
    assert reads == []  # nobody watches alarms yet: nothing read

    worker.watch_alerts()  # an annunciator ticked on some page
    raised = fake_store.alerts.raise_alert(Alert(id="", rule_id="r", entity_id="e1", title="Ngập sâu",
                                                 sector="emergency", severity=Severity.SEVERE, agency="a"))[0]
    worker.warm()
    assert reads == [1]

    # the screen's tick finds them read: the alarm just raised, no read of its own
    assert [record.id for record in open_alarms(fake_store.alerts, cache).records] == [raised.id]
    assert reads == [1]
