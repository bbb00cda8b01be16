"""The control room's refresh callback as a plain function: map, KPI tiles, alerts, and skipping idle ticks."""

from __future__ import annotations

import dash
import pytest

from ioc import web
from ioc.config import Settings
from ioc.i18n import t
from ioc.store import Store
from layouts import control_room
from tests.layouts.city_scene import populate
from tests.layouts.dom import text, with_class


@pytest.fixture
def scene(fake_store: Store, settings: Settings) -> dict[str, str]:
    parts = populate(fake_store, settings)
    web.create_app(fake_store, settings, redis_kind="in-process")
    return parts


def test_first_tick_draws_everything(scene: dict[str, str], fake_store: Store, settings: Settings) -> None:
    figure, title, kpis, alerts, seen = control_room.refresh(0, "vi", None)

    enabled = [feed for feed in settings.feeds if feed.enabled]
    sectors = {feed.sector for feed in enabled}
    layers = [trace for trace in figure.data if trace.mode == "markers" and trace.uid.startswith("sector-")]
    assert {trace.uid for trace in layers} == {f"sector-{sector}" for sector in sectors}
    entity_count = sum(len(fake_store.entities_of_feed(feed.name)) for feed in enabled)
    assert sum(len(trace.x) for trace in layers) == entity_count
    assert str(entity_count) in title
    tiles = with_class(kpis, "kpi-tile")
    assert [tile.to_plotly_json()["props"]["data-feed"] for tile in tiles] == [feed.name for feed in enabled]
    rows = with_class(alerts, "alert-row")
    assert len(rows) == len(fake_store.open_alerts())
    assert settings.rules[0].title.vi in text(alerts)
    assert seen["signature"]["changes"] == fake_store.change_counter()


def test_stale_feed_tile_carries_a_badge(scene: dict[str, str]) -> None:
    _, _, kpis, _, _ = control_room.refresh(0, "en", None)

    stale = [tile for tile in with_class(kpis, "kpi-tile") if "kpi-tile--stale" in tile.className]
    assert scene["stale"] in [tile.to_plotly_json()["props"]["data-feed"] for tile in stale]
    badges = [text(tile) for tile in stale]
    assert any(t("kpi.stale_since", "en", time="").strip() in badge for badge in badges)


def test_an_idle_tick_sends_nothing(scene: dict[str, str]) -> None:
    *_, seen = control_room.refresh(0, "vi", None)

    assert control_room.refresh(1, "vi", seen) == (dash.no_update,) * 5


def test_new_data_redraws_the_map(scene: dict[str, str], fake_store: Store, settings: Settings) -> None:
    *_, seen = control_room.refresh(0, "vi", None)
    feed = settings.feeds[0]
    fake_store.record_success(feed.name, records=3, latency_ms=5, interval=feed.interval,
                              stale_factor=feed.stale_factor)

    figure, _, _, _, seen_after = control_room.refresh(1, "vi", seen)

    assert figure is not dash.no_update
    assert seen_after["signature"]["changes"] > seen["signature"]["changes"]


def test_switching_language_redraws_in_that_language(scene: dict[str, str], settings: Settings) -> None:
    *_, seen = control_room.refresh(0, "vi", None)

    figure, _, kpis, alerts, _ = control_room.refresh(1, "en", seen)

    assert t("control_room.kpis", "en") in text(kpis)
    assert settings.rules[0].title.en in text(alerts)
    assert t("map.alerts_layer", "en") in [trace.name for trace in figure.data]


def test_no_alerts_says_so(fake_store: Store, settings: Settings) -> None:
    web.create_app(fake_store, settings, redis_kind="in-process")

    _, _, kpis, alerts, _ = control_room.refresh(0, "vi", None)

    assert with_class(alerts, "alert-row") == []
    assert t("control_room.no_alerts", "vi") in text(alerts)
    assert t("kpi.no_data", "vi") in text(kpis)
