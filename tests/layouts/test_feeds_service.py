"""The feed board's out-of-service panel as plain functions: take a feed or a sensor out, declare maintenance,
what is refused, the list with its end buttons, and the board showing the feed as such."""

from __future__ import annotations

import pytest

from ioc.alerts.service import Service
from ioc.config import Settings
from ioc.i18n import t
from ioc.store import Store
from ioc.web import WebContext, context_of
from layouts import feeds as page
from layouts import feeds_service as panel
from layouts import ids
from layouts.app import create_app
from tests.layouts.dom import text, with_class

GAUGE = "urn:ioc:danang:flood-sensors:FL-07"


@pytest.fixture
def app_context(fake_store: Store, settings: Settings) -> WebContext:
    # without the city's recurring maintenance window, which would show on a Sunday night whatever the test does
    quiet = settings.model_copy(update={"maintenance": []})
    return context_of(create_app(fake_store, quiet, redis_kind="in-process").server)


def targets(listed: object) -> list[str]:
    return [line.to_plotly_json()["props"]["data-target"] for line in with_class(listed, "feeds-service-line")]


def test_a_feed_taken_out_of_service_is_listed_and_shown_on_the_board(app_context: WebContext) -> None:
    feedback, version = panel.perform(app_context, "out", ["traffic-cameras"], "", [], "firmware update", 2, "en", 0)

    assert with_class(feedback, "alerts-feedback-line--ok") and version == 1
    listed = panel.listing(app_context, 0, "en", 1, 0)
    assert "feed:traffic-cameras" in targets(listed) and "firmware update" in text(listed)
    _, summary, board = page.refresh_board(app_context, 0, "en", None)
    row = [r for r in with_class(board, "feed-row--out_of_service")]
    assert len(row) == 1 and row[0].to_plotly_json()["props"]["data-feed"] == "traffic-cameras"
    assert t("feeds.summary.out_of_service", "en", n=1) in text(summary)


def test_a_sensor_by_its_id_and_a_maintenance_window_over_an_area(app_context: WebContext,
                                                                 fake_store: Store) -> None:
    panel.perform(app_context, "out", ["air-stations"], GAUGE, [], "cleaning", 0, "vi", 0)
    feedback, _ = panel.perform(app_context, "maintenance", ["water-pressure"], "", ["Cẩm Lệ"], "valve works", 4,
                                "vi", 1)
    assert with_class(feedback, "alerts-feedback-line--ok")

    silenced = Service(fake_store.redis, fake_store.keys, app_context.settings).suppression()
    # the sensor named, not the feeds chosen beside it
    assert silenced.silences(GAUGE) == "out_of_service" and silenced.feed_state("air-stations") is None
    assert silenced.feed_state("water-pressure") == "maintenance"
    assert silenced.silences("urn:ioc:danang:flood-sensors:FL-01", district="Cẩm Lệ") == "maintenance"
    listed = targets(panel.listing(app_context, 0, "vi", 2, 0))
    assert f"entity:{GAUGE}" in listed and any(target.startswith("maintenance:") for target in listed)


@pytest.mark.parametrize(("action", "feeds", "reason", "hours", "says"), [
    ("out", [], "x", 2, "feeds.service.choose"),
    ("out", ["traffic-cameras"], " ", 2, "reason"),
    ("maintenance", ["traffic-cameras"], "x", 0, "feeds.service.window_end"),
    ("maintenance", [], "x", 2, "feeds or areas"),
])
def test_what_is_refused_says_why(app_context: WebContext, action: str, feeds: list[str], reason: str,
                                  hours: int, says: str) -> None:
    feedback, version = panel.perform(app_context, action, feeds, "", [], reason, hours, "en", 3)

    expected = t(says, "en") if says.startswith("feeds.") else says
    assert with_class(feedback, "alerts-feedback-line--refused") and expected in text(feedback)
    assert version is not None and not isinstance(version, int)  # dash.no_update: nothing changed
    assert text(panel.listing(app_context, 0, "en", 3, 0)) == t("alerts.service.none", "en")


def test_only_a_role_with_service_manage_may_take_a_feed_out(fake_store: Store, settings: Settings) -> None:
    from tests.ioc.access.conftest import ROLES, callback_body, key_writing, post_callback, signed_in
    from tests.layouts.dom import add_user

    app = create_app(fake_store, settings, redis_kind="in-process", cookie_secure=False)
    for role in ROLES:
        add_user(app, f"{role}-1", role)
    act = key_writing(app, f"{ids.FEEDS_SERVICE_FEEDBACK}.children")
    body = callback_body(app, act, pathname="/feeds", changed=[f"{ids.FEEDS_SERVICE_OUT}.n_clicks"])

    assert post_callback(signed_in(app, "manager"), body).status_code == 403
    assert post_callback(signed_in(app, "integrator"), body).status_code == 403
    # the operator may: the press reaches the panel, which asks what to take out (nothing chosen)
    answered = post_callback(signed_in(app, "operator"), body)
    assert answered.status_code == 200 and t("feeds.service.choose", "vi") in answered.get_data(as_text=True)
