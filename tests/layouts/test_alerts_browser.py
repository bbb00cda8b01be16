"""The alerts page in headless Chromium on a real redis-server: an alert raised while the page is open appears,
and is acknowledged, assigned and resolved through the buttons, each step on its timeline.

Set IOC_SCREENSHOTS=<folder> to save 1920x1080 screenshots of the page.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial

import pytest
import redis
from dash import Dash
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.remote.webdriver import WebDriver

from ioc.config import Settings
from ioc.model import Alert, AlertState, Severity, utcnow
from ioc.store import Store
from layouts.app import create_app
from tests.layouts import dom
from tests.layouts.dom import add_user, css, screenshot, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.integration]

OPERATOR = "lan"
# the queue and the timeline are read step by step, each soon after the click
wait_for = partial(dom.wait_for, poll=0.2)


@pytest.fixture
def served(redis_client: redis.Redis, settings: Settings, serve_app: Callable[[Dash], str]) -> tuple[str, Store]:
    """The dashboard on the real redis-server, served in a thread, with an operator who can sign in."""
    store = Store(redis_client, settings.city.id)
    app = create_app(store, settings, redis_kind="server", cookie_secure=False)
    add_user(app, OPERATOR, "operator")
    return serve_app(app), store


def timeline_actions(driver: WebDriver) -> list[str]:
    return [entry.get_attribute("data-action") for entry in css(driver, ".alerts-timeline .tl-entry")]


def type_into(driver: WebDriver, selector: str, text: str) -> None:
    field = css(driver, selector)[0]
    # select and overwrite: clear() does not reach React's state, so the old value would come back
    field.send_keys(Keys.CONTROL, "a")
    field.send_keys(Keys.DELETE)
    field.send_keys(text)


def press(driver: WebDriver, element_id: str) -> None:
    wait_for(driver, 15, f"{element_id} enabled", lambda d: d.find_element(By.ID, element_id).is_enabled())
    driver.find_element(By.ID, element_id).click()


def test_an_alert_arrives_and_is_acknowledged_assigned_and_resolved(
    browser: WebDriver, served: tuple[str, Store]
) -> None:
    url, store = served
    sign_in(browser, url, OPERATOR)
    browser.get(url + "/alerts")
    wait_for(browser, 30, "the empty queue", lambda d: css(d, ".aq-empty"))

    # raised in Redis while the page is open, as the rule engine would
    now = utcnow()
    alert, _ = store.alerts.raise_alert(
        Alert(id="", rule_id="flood-level-high", entity_id="urn:ioc:danang:flood-sensors:FL-07",
              title="Ngập sâu tại cảm biến — FL-07", severity=Severity.EXTREME, sector="emergency",
              agency="danang-drainage", district="Hải Châu", value=48.0, message="water_level_cm = 48 cm > 30 cm",
              raised_at=now, updated_at=now, location=(108.2119, 16.0412)),
        extra={"kind": "threshold", "place": "FL-07", "procedure": "flood-response"},
    )
    row = f'.aq-row[data-alert="{alert.id}"]'
    wait_for(browser, 15, "the new alert in the queue", lambda d: css(d, row))
    assert "aq-row--pulse" in css(browser, row)[0].get_attribute("class")
    screenshot(browser, "alerts-queue")

    css(browser, row)[0].click()
    wait_for(browser, 15, "the alert's detail", lambda d: css(d, f'.detail-title[data-alert="{alert.id}"]'))
    wait_for(browser, 15, "the raise on the timeline", lambda d: timeline_actions(d) == ["raised"])

    type_into(browser, "#alerts-note", "Camera xác nhận ngập sâu")
    press(browser, "alerts-ack")
    wait_for(browser, 15, "the acknowledgement", lambda d: timeline_actions(d)[:1] == ["acknowledged"])
    wait_for(browser, 15, "the cleared note field", lambda d: d.find_element(By.ID, "alerts-note")
             .get_attribute("value") == "")
    assert "aq-row--pulse" not in css(browser, row)[0].get_attribute("class") or wait_for(
        browser, 10, "the pulse to stop", lambda d: "aq-row--pulse" not in css(d, row)[0].get_attribute("class"))

    type_into(browser, "#alerts-assignee", "Đội thoát nước số 3")
    type_into(browser, "#alerts-note", "Điều xe hút nước")
    press(browser, "alerts-assign")
    wait_for(browser, 15, "the assignment", lambda d: timeline_actions(d)[:1] == ["assigned"])

    css(browser, ".cl-step .cl-box")[0].click()
    wait_for(browser, 15, "the ticked step", lambda d: css(d, ".cl-step--done"))
    screenshot(browser, "alerts-detail")

    type_into(browser, "#alerts-note", "Nước đã rút, cống thông")
    press(browser, "alerts-resolve")
    wait_for(browser, 15, "the resolve", lambda d: timeline_actions(d)[:1] == ["resolved"])
    # the default filter shows open alerts: the resolved one leaves the queue
    wait_for(browser, 15, "the queue without it", lambda d: not css(d, row))

    assert timeline_actions(browser) == ["resolved", "step_done", "assigned", "acknowledged", "raised"]
    notes = [entry.text for entry in css(browser, ".alerts-timeline .tl-note")]
    assert notes[0] == "Nước đã rút, cống thông" and "Camera xác nhận ngập sâu" in notes
    record = store.alerts.get(alert.id)
    assert record.state == AlertState.RESOLVED and record.assignee == "Đội thoát nước số 3"
    assert (record.acknowledged_by, record.assigned_by, record.resolved_by) == (OPERATOR, OPERATOR, OPERATOR)
    assert all(button.get_attribute("disabled") for button in css(browser, ".alerts-button"))


def test_an_alarm_is_shelved_with_the_note_as_reason_and_brought_back(
    browser: WebDriver, served: tuple[str, Store]
) -> None:
    url, store = served
    alert, _ = store.alerts.raise_alert(
        Alert(id="", rule_id="flood-level-high", entity_id="urn:ioc:danang:flood-sensors:FL-09",
              title="Ngập sâu tại cảm biến — FL-09", severity=Severity.SEVERE, sector="emergency",
              agency="danang-drainage", district="Cẩm Lệ"))
    sign_in(browser, url, OPERATOR)
    browser.get(url + "/alerts")
    row = f'.aq-row[data-alert="{alert.id}"]'
    wait_for(browser, 30, "the alert in the queue", lambda d: css(d, row))
    css(browser, row)[0].click()
    wait_for(browser, 15, "the alert's detail", lambda d: css(d, f'.detail-title[data-alert="{alert.id}"]'))

    press(browser, "alerts-shelve")  # no reason yet: refused, and nothing shelved
    wait_for(browser, 10, "the reason asked for", lambda d: css(d, "#alerts-shelf-feedback .alerts-feedback-line--problem"))
    type_into(browser, "#alerts-note", "Đội thoát nước đang ở hiện trường")
    press(browser, "alerts-shelve")

    shelved = f'.alerts-shelved-line[data-alert="{alert.id}"]'
    wait_for(browser, 15, "the alarm on the shelved list", lambda d: css(d, shelved))
    assert "Đội thoát nước đang ở hiện trường" in css(browser, shelved)[0].text
    assert timeline_actions(browser)[:1] == ["shelved"] or wait_for(
        browser, 10, "the shelving on the timeline", lambda d: timeline_actions(d)[:1] == ["shelved"])

    css(browser, f"{shelved} .alerts-button--unshelve")[0].click()
    wait_for(browser, 15, "the alarm back", lambda d: not css(d, shelved))
    assert [e["action"] for e in store.alerts.timeline(alert.id)][-1] == "unshelved"
