"""The alert page's alarm-system panel in headless Chromium on a real redis-server: its tiles show the measures
of the alarms raised, and opening it lists the chattering alarm."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from functools import partial

import pytest
import redis
from dash import Dash
from selenium.webdriver.remote.webdriver import WebDriver

from ioc.config import Settings
from ioc.model import Alert, Severity, utcnow
from ioc.store import Store
from layouts.app import create_app
from tests.layouts import dom
from tests.layouts.dom import add_user, css, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.integration]

OPERATOR = "mai"
wait_for = partial(dom.wait_for, poll=0.2)


@pytest.fixture
def served(
    redis_client: redis.Redis, settings: Settings, serve_app: Callable[[Dash], str]
) -> tuple[str, Store]:
    store = Store(redis_client, settings.city.id)
    app = create_app(store, settings, redis_kind="server", cookie_secure=False)
    add_user(app, OPERATOR, "operator")
    return serve_app(app), store


def test_the_panel_shows_the_measures_and_opens_onto_the_alarms(
    browser: WebDriver, served: tuple[str, Store]
) -> None:
    url, store = served
    now = utcnow()
    for k in range(3):  # one gauge raised three times within a minute, cleared in between: it chatters
        at = now - timedelta(seconds=50 - 20 * k)
        alert, _ = store.alerts.raise_alert(
            Alert(
                id="",
                rule_id="flood-level-high",
                entity_id="urn:ioc:danang:flood-sensors:FL-07",
                title="FL-07",
                severity=Severity.SEVERE,
                sector="emergency",
                agency="danang-drainage",
                district="Hải Châu",
                raised_at=at,
                updated_at=at,
            ),
            extra={"kind": "threshold", "place": "FL-07"},
        )
        if k < 2:
            store.alerts.resolve(alert.id, actor="system", note="cleared", now=at + timedelta(seconds=5))

    sign_in(browser, url, OPERATOR)
    browser.get(url + "/alerts")
    tile = '.am-tile[data-measure="chattering"]'
    wait_for(browser, 30, "the panel's tiles", lambda d: css(d, tile))
    assert css(browser, tile)[0].get_attribute("data-status") == "missed"
    assert css(browser, f"{tile} .am-value")[0].text == "1"
    assert len(css(browser, ".alerts-metrics-tiles .am-tile")) == 7
    assert not css(browser, ".am-list--chattering")[0].is_displayed()  # closed until asked

    css(browser, ".alerts-metrics-summary")[0].click()
    wait_for(browser, 10, "the lists", lambda d: css(d, ".am-list--chattering")[0].is_displayed())
    assert "FL-07" in css(browser, ".am-list--chattering")[0].text
    dom.screenshot(browser, "alerts-metrics-open")
