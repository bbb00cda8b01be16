"""The control room's refresh as a plain function: map, legend, KPI tiles, alerts, and skipping idle ticks."""

from __future__ import annotations

import dash
import pytest
from flask import Flask
from flask_caching import Cache

from ioc.city_map import district_layer
from ioc.config import Settings
from ioc.control_room import LiveCity
from ioc.i18n import t
from ioc.model import utcnow
from ioc.store import Store
from layouts import control_room
from tests.layouts.city_scene import populate
from tests.layouts.dom import text, with_class


def live_city(store: Store, settings: Settings) -> LiveCity:
    cache = Cache(Flask(__name__), config={"CACHE_TYPE": "SimpleCache"})
    return LiveCity(store=store, settings=settings, cache=cache, base=district_layer(settings.city))


@pytest.fixture
def scene(fake_store: Store, settings: Settings) -> tuple[dict[str, str], LiveCity]:
    return populate(fake_store, settings), live_city(fake_store, settings)


def test_first_tick_draws_everything(scene: tuple[dict[str, str], LiveCity], fake_store: Store,
                                     settings: Settings) -> None:
    _, live = scene
    figure, title, legend, kpis, alerts, seen = control_room.screen_update(live, "vi", {})

    enabled = [feed for feed in settings.feeds if feed.enabled]
    points = [trace for trace in figure["data"] if (trace.get("meta") or {}).get("role") == "detail"]
    assert [trace["meta"]["feed"] for trace in points] == [feed.name for feed in enabled]
    assert str(live.read("vi", utcnow()).state.points_on_map()) in title
    tiles = with_class(kpis, "kpi-tile")
    assert [tile.to_plotly_json()["props"]["data-feed"] for tile in tiles] == [feed.name for feed in enabled]
    assert with_class(legend, "legend-chip")
    rows = with_class(alerts, "alert-row")
    assert len(rows) == len(fake_store.open_alerts())
    assert settings.rules[0].title.vi in text(alerts)


def test_stale_feed_tile_carries_a_badge(scene: tuple[dict[str, str], LiveCity]) -> None:
    parts, live = scene
    kpis = control_room.screen_update(live, "en", {})[3]

    stale = [tile for tile in with_class(kpis, "kpi-tile") if "kpi-tile--stale" in tile.className]
    assert parts["stale"] in [tile.to_plotly_json()["props"]["data-feed"] for tile in stale]
    assert any(t("kpi.stale_since", "en", time="").strip() in text(tile) for tile in stale)


def test_an_idle_tick_sends_nothing(scene: tuple[dict[str, str], LiveCity]) -> None:
    _, live = scene
    *_, seen = control_room.screen_update(live, "vi", {})

    assert control_room.screen_update(live, "vi", seen) == (dash.no_update,) * 6


def test_hiding_a_sector_sends_visibility_not_points(scene: tuple[dict[str, str], LiveCity],
                                                      settings: Settings) -> None:
    _, live = scene
    *_, seen = control_room.screen_update(live, "vi", {})
    sector = settings.feeds[0].sector

    figure, _, legend, *_ = control_room.screen_update(live, "vi", seen, hidden=[sector])

    assert isinstance(figure, dash.Patch)
    operations = figure.to_plotly_json()["operations"]
    assert operations and all(op["location"][-1] == "visible" for op in operations)
    off = [chip for chip in with_class(legend, "legend-chip--off")]
    assert len(off) == 1


def test_switching_language_redraws_in_that_language(scene: tuple[dict[str, str], LiveCity],
                                                     settings: Settings) -> None:
    _, live = scene
    *_, seen = control_room.screen_update(live, "vi", {})

    figure, _, _, kpis, alerts, _ = control_room.screen_update(live, "en", seen)

    assert figure is not dash.no_update
    assert t("control_room.kpis", "en") in text(kpis)
    assert settings.rules[0].title.en in text(alerts)


def test_no_alerts_says_so(fake_store: Store, settings: Settings) -> None:
    live = live_city(fake_store, settings)

    _, _, _, kpis, alerts, _ = control_room.screen_update(live, "vi", {})

    assert with_class(alerts, "alert-row") == []
    assert t("control_room.no_alerts", "vi") in text(alerts)
    assert t("kpi.no_data", "vi") in text(kpis)


def test_a_burst_lists_the_first_alarms_and_counts_every_one(fake_store: Store, settings: Settings) -> None:
    from ioc.control_room import ALERT_LINES
    from ioc.model import Alert, Severity

    populate(fake_store, settings)
    for n in range(40):
        fake_store.alerts.raise_alert(Alert(id="", rule_id="pm25-high", entity_id=f"urn:test:burst-{n}", title="PM2.5",
                                            severity=(Severity.EXTREME, Severity.MINOR)[n % 2], sector="environment",
                                            agency="a", district="Hải Châu", location=(108.2, 16.05)))
    everyone = fake_store.alerts.records(limit=1000)
    live = live_city(fake_store, settings)

    figure, _, _, _, alerts, _ = control_room.screen_update(live, "en", {})

    rows = [row.to_plotly_json()["props"]["data-alert"] for row in with_class(alerts, "alert-row")]
    assert rows == [record.id for record in everyone[:ALERT_LINES]]
    more = [line.to_plotly_json()["props"]["data-more"] for line in with_class(alerts, "alert-more")]
    assert more == [str(len(everyone) - ALERT_LINES)]
    assert text(with_class(alerts, "count-badge")) == str(len(everyone))
    chips = text(with_class(alerts, "severity-chips"))
    extreme = sum(record.alert.severity == Severity.EXTREME for record in everyone)
    assert f"{t('control_room.severity.extreme', 'en')} {extreme}" in chips
    # nothing lost: every open alarm is still a ring on the map
    rings = next(trace for trace in figure["data"] if (trace.get("meta") or {}).get("role") == "alerts")
    located = {record.id for record in everyone if record.alert.location}
    assert located <= set(rings["meta"]["ids"]) and len(located) > ALERT_LINES
