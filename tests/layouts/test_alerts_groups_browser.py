"""The alerts page in a flood, in headless Chromium on a real redis-server: the flood banner, one group line
with its count instead of a line per alarm, the line opening onto its alarms (each opens in the detail), and
the group's acknowledge button acknowledging every member.

Set IOC_SCREENSHOTS=<folder> to save 1920x1080 screenshots of the page.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from functools import partial

import pytest
import redis
from dash import Dash
from selenium.webdriver.remote.webdriver import WebDriver

from ioc.config import Settings
from ioc.model import Alert, AlertState, Severity, utcnow
from ioc.store import Store
from layouts.app import create_app
from tests.layouts import dom
from tests.layouts.dom import add_user, css, screenshot, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.integration]

OPERATOR = "lan"
wait_for = partial(dom.wait_for, poll=0.2)
GROUP = '.aq-group[data-group="rule=flood-level-high"]'


@pytest.fixture
def served(redis_client: redis.Redis, settings: Settings, serve_app: Callable[[Dash], str]) -> tuple[str, Store]:
    store = Store(redis_client, settings.city.id)
    app = create_app(store, settings, redis_kind="server", cookie_secure=False)
    add_user(app, OPERATOR, "operator")
    return serve_app(app), store


def raise_storm(store: Store, count: int) -> list[str]:
    """Flood sensors over their limit within the last few minutes in three districts, as the rules raise them."""
    start = utcnow() - timedelta(minutes=5)
    ids = []
    for number in range(count):
        at = start + number * timedelta(seconds=15)
        alert, _ = store.alerts.raise_alert(
            Alert(id="", rule_id="flood-level-high", entity_id=f"urn:ioc:danang:flood-sensors:FL-{number:02d}",
                  title=f"Ngập sâu tại cảm biến — FL-{number:02d}", severity=Severity.SEVERE, sector="emergency",
                  agency="danang-drainage", district=("Hải Châu", "Cẩm Lệ", "Thanh Khê")[number % 3],
                  value=40.0 + number, message=f"water_level_cm = {40 + number} cm > 30 cm", raised_at=at,
                  updated_at=at, location=(108.2119, 16.0412)),
            extra={"kind": "threshold", "place": f"FL-{number:02d}", "procedure": "flood-response"})
        ids.append(alert.id)
    return ids


def test_a_flood_reads_as_one_group_line_that_opens_and_is_acknowledged(
    browser: WebDriver, served: tuple[str, Store]
) -> None:
    url, store = served
    sign_in(browser, url, OPERATOR)
    members = raise_storm(store, 14)
    browser.get(url + "/alerts")

    wait_for(browser, 30, "the group line", lambda d: css(d, GROUP))
    assert css(browser, GROUP)[0].get_attribute("data-count") == "14"
    banner = wait_for(browser, 15, "the flood banner", lambda d: css(d, ".aq-flood[data-flood='1']"))
    assert "BÃO CẢNH BÁO" in banner[0].text and "14" in banner[0].text
    # one line for fourteen alarms: none of them is a line of its own while the group is closed
    assert not css(browser, ".aq-row[data-alert]")
    screenshot(browser, "alerts-flood")

    css(browser, GROUP)[0].click()
    wait_for(browser, 15, "the members under the line",
             lambda d: len(css(d, ".aq-group-members .aq-row[data-alert]")) == 14)
    shown = sorted(row.get_attribute("data-alert") for row in css(browser, ".aq-group-members .aq-row[data-alert]"))
    assert shown == sorted(members)
    screenshot(browser, "alerts-flood-open")

    # a member opens in the detail like any alarm
    css(browser, f'.aq-group-members .aq-row[data-alert="{members[3]}"]')[0].click()
    wait_for(browser, 15, "the member's detail",
             lambda d: css(d, f'.detail-title[data-alert="{members[3]}"]'))

    css(browser, ".aq-group-ack")[0].click()
    wait_for(browser, 15, "every member acknowledged",
             lambda _d: all(store.alerts.get(i).state == AlertState.ACKNOWLEDGED for i in members))  # type: ignore[union-attr]
    assert {store.alerts.get(i).acknowledged_by for i in members} == {OPERATOR}  # type: ignore[union-attr]
    wait_for(browser, 15, "the feedback", lambda d: "14" in d.find_element("id", "alerts-group-feedback").text)
