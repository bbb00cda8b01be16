"""The shift handover in headless Chromium on a real redis-server, by two people: the outgoing operator writes
notes and hands over (and may not accept their own handover), the incoming one accepts; both in the audit
trail; the past handovers list it with its PDF.

Set IOC_SCREENSHOTS=<folder> to save screenshots of the page.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
import redis
import requests
from dash import Dash
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver

from ioc.audit import AuditQuery, AuditTrail
from ioc.config import Settings
from ioc.handover import HandoverBook
from ioc.model import Alert, Severity, utcnow
from ioc.store import Store
from layouts.app import create_app
from layouts.handover import PDF_PATH
from tests.layouts.dom import add_user, css, screenshot, sign_in, wait_for

pytestmark = [pytest.mark.browser, pytest.mark.integration]

OUTGOING, INCOMING = "an-ca-sang", "binh-ca-chieu"
NOTE = "Cống Lê Duẩn còn tắc; đội thoát nước hẹn 15:00"


@pytest.fixture
def served(redis_client: redis.Redis, settings: Settings, serve_app: Callable[[Dash], str]) -> tuple[str, Store]:
    store = Store(redis_client, settings.city.id)
    app = create_app(store, settings, redis_kind="server", cookie_secure=False)
    add_user(app, OUTGOING, "operator")
    add_user(app, INCOMING, "operator")
    now = utcnow()
    store.alerts.raise_alert(Alert(
        id="", rule_id="flood-level-high", entity_id="urn:ioc:danang:flood-sensors:FL-07", title="Ngập — FL-07",
        severity=Severity.SEVERE, sector="emergency", agency="danang-drainage", district="Hải Châu",
        raised_at=now, updated_at=now, location=(108.2119, 16.0412)),
        extra={"place": "FL-07", "procedure": "flood-response"})
    return serve_app(app), store


def state(driver: WebDriver) -> str:
    found = css(driver, ".handover-state-text")
    return found[0].get_attribute("data-state") if found else ""


def test_one_operator_hands_over_and_another_accepts(browser: WebDriver, served: tuple[str, Store]) -> None:
    url, store = served
    sign_in(browser, url, OUTGOING)
    browser.get(url + "/handover")
    wait_for(browser, 30, "the shift's summary", lambda d: css(d, '.handover-count[data-count="open"]'))
    assert state(browser) == "open"
    assert css(browser, '.handover-count[data-count="open"] .handover-count-number')[0].text == "1"
    assert "FL-07" in css(browser, ".handover-section--open")[0].text
    assert css(browser, ".handover-section--steps tbody tr")  # the flood procedure's steps are all left
    screenshot(browser, "handover-open")
    assert not browser.find_element(By.ID, "handover-accept").is_enabled()
    browser.find_element(By.ID, "handover-notes").send_keys(NOTE)
    browser.find_element(By.ID, "handover-hand").click()
    wait_for(browser, 15, "handed over", lambda d: state(d) == "handed_over")
    assert css(browser, ".handover-feedback-line--ok")
    # whoever handed over cannot accept it too: the button stays off for them
    assert not browser.find_element(By.ID, "handover-accept").is_enabled()
    assert not browser.find_element(By.ID, "handover-hand").is_enabled()

    browser.delete_all_cookies()
    sign_in(browser, url, INCOMING)
    browser.get(url + "/handover")
    wait_for(browser, 30, "the handed-over shift", lambda d: state(d) == "handed_over")
    assert NOTE in css(browser, ".handover-handed-notes")[0].text
    wait_for(browser, 15, "accept enabled", lambda d: d.find_element(By.ID, "handover-accept").is_enabled())
    browser.find_element(By.ID, "handover-notes").send_keys("Đã nắm tình hình")
    browser.find_element(By.ID, "handover-accept").click()
    wait_for(browser, 15, "accepted", lambda d: state(d) == "accepted")
    past = css(browser, ".handover-past-item")
    assert len(past) == 1 and OUTGOING in past[0].text and INCOMING in past[0].text
    screenshot(browser, "handover-accepted")

    key = past[0].get_attribute("data-shift")
    record = HandoverBook(store.redis, store.keys).get(key)
    assert (record.handed_by, record.accepted_by, record.notes) == (OUTGOING, INCOMING, NOTE)
    trail = AuditTrail(store.redis, store.keys).search(AuditQuery(action="handover"))
    assert [(e.actor, e.action) for e in reversed(trail)] == [(OUTGOING, "handover.handed_over"),
                                                                (INCOMING, "handover.accepted")]

    # the PDF of that handover, with this browser's session
    cookies = {cookie["name"]: cookie["value"] for cookie in browser.get_cookies()}
    pdf = requests.get(url + PDF_PATH, params={"shift": key, "lang": "en"}, cookies=cookies, timeout=30)
    assert pdf.status_code == 200 and pdf.headers["Content-Type"] == "application/pdf"
    assert pdf.content.startswith(b"%PDF")
    # and nobody's without a session
    assert requests.get(url + PDF_PATH, params={"shift": key}, timeout=30, allow_redirects=False).status_code == 401
