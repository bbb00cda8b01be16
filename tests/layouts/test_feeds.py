"""The feeds page callbacks as plain functions: the board, row selection and the details panel."""

from __future__ import annotations

import dash
import pytest

from ioc.config import Settings
from ioc.i18n import t
from ioc.store import Store
from ioc.web import WebContext, context_of
from layouts import feeds
from layouts.app import create_app
from tests.layouts.city_scene import populate
from tests.layouts.dom import text, with_class


@pytest.fixture
def scene(fake_store: Store, settings: Settings) -> dict[str, str]:
    return populate(fake_store, settings)


@pytest.fixture
def context(fake_store: Store, settings: Settings) -> WebContext:
    return context_of(create_app(fake_store, settings, redis_kind="in-process").server)


def row_feeds(board: object) -> list[str]:
    return [row.to_plotly_json()["props"]["data-feed"] for row in with_class(board, "feed-row")]


def test_board_lists_every_feed_worst_first(context: WebContext, scene: dict[str, str], settings: Settings
                                              ) -> None:
    title, summary, board = feeds.refresh_board(context, 0, "en", None)

    listed = row_feeds(board)
    assert sorted(listed) == sorted(feed.name for feed in settings.feeds)
    assert listed[:2] == [scene["failing"], scene["stale"]]
    assert title == t("feeds.title", "en")
    assert t("feeds.summary.failing", "en", n=1) in text(summary)
    assert "PayloadError" in text(board)


def test_selected_row_is_marked(context: WebContext, scene: dict[str, str]) -> None:
    _, _, board = feeds.refresh_board(context, 0, "vi", scene["stale"])

    selected = with_class(board, "feed-row--selected")
    assert row_feeds(selected) == [scene["stale"]]


def test_details_show_the_refused_payload_once(context: WebContext, scene: dict[str, str]) -> None:
    panel, seen = feeds.refresh_details(context, scene["failing"], "en", 0, None)

    assert '{"error": "maintenance", "retry_after": 120}' in text(panel)
    assert t("feeds.details.rejected", "en", n=1) in text(panel)
    assert feeds.refresh_details(context, scene["failing"], "en", 1, seen) == (dash.no_update, dash.no_update)


def test_details_follow_a_new_failure(context: WebContext, scene: dict[str, str], fake_store: Store,
                                      settings: Settings) -> None:
    _, seen = feeds.refresh_details(context, scene["failing"], "en", 0, None)
    feed = settings.feed(scene["failing"])
    fake_store.record_failure(feed.name, error="HTTP 503", payload=b"busy", interval=feed.interval,
                              stale_factor=feed.stale_factor)

    panel, _ = feeds.refresh_details(context, scene["failing"], "en", 1, seen)

    assert "HTTP 503" in text(panel)
    assert t("feeds.details.rejected", "en", n=2) in text(panel)


def test_details_of_a_healthy_feed_and_of_none(context: WebContext, scene: dict[str, str], settings: Settings
                                               ) -> None:
    healthy = next(f.name for f in settings.feeds if f.name not in (scene["failing"], scene["stale"]))

    panel, _ = feeds.refresh_details(context, healthy, "vi", 0, None)
    empty, seen = feeds.refresh_details(context, None, "vi", 0, None)

    assert t("feeds.details.no_rejected", "vi") in text(panel)
    assert t("feeds.details.choose", "vi") in text(empty)
    assert feeds.refresh_details(context, None, "vi", 1, seen) == (dash.no_update, dash.no_update)


def test_a_second_click_closes_the_details() -> None:
    assert feeds.toggle_selection("bus-vehicles", None) == "bus-vehicles"
    assert feeds.toggle_selection("bus-vehicles", "air-stations") == "bus-vehicles"
    assert feeds.toggle_selection("bus-vehicles", "bus-vehicles") is None


def test_refused_records_are_counted_on_the_board_and_named_in_the_details(
    context: WebContext, scene: dict[str, str], fake_store: Store, settings: Settings
) -> None:
    from ioc.model import RecordProblem

    feed = settings.feed(scene["stale"])
    fake_store.record_success(feed.name, records=3, latency_ms=50.0, interval=feed.interval,
                              stale_factor=feed.stale_factor,
                              problems=[RecordProblem("entity[7].vehicle.position", "no latitude")])

    _, _, board = feeds.refresh_board(context, 0, "en", None)
    (row,) = [row for row in with_class(board, "feed-row") if row.to_plotly_json()["props"]["data-feed"] == feed.name]
    assert t("feeds.records.problems", "en", refused=1, repaired=0) in text(row)

    panel, seen = feeds.refresh_details(context, feed.name, "en", 0, None)
    assert t("feeds.details.problems", "en", n=1) in text(panel)
    assert "entity[7].vehicle.position: no latitude" in text(panel)
    assert feeds.refresh_details(context, feed.name, "en", 1, seen) == (dash.no_update, dash.no_update)
