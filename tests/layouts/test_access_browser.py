"""Access control in headless Chromium: sign-in, each role's screens under the Content-Security-Policy with
no violation, injected script and HTML in feed text shown as inert text, the admin page and sign-out.

Set IOC_SCREENSHOTS=<folder> to save screenshots of /login, /admin and the control room of each role.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import Any

import pytest
from dash import Dash
from selenium.common.exceptions import NoAlertPresentException
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver

from ioc.config import Settings
from ioc.model import Alert, Batch, Entity, Event, Severity, utcnow
from ioc.store import Store
from layouts.app import create_app
from tests.layouts.city_scene import populate
from tests.layouts.dom import TEST_PASSWORD, add_user, css, screenshot, sign_in, wait_for
from tests.layouts.test_browser import area_labels, kpi_numbers

pytestmark = pytest.mark.browser

ROLES = ("operator", "manager", "integrator", "admin")
EVIL_NAME = "<img src=x onerror=alert(1)>"
EVIL_HEADLINE = "<script>alert(2)</script>Bão số 5"
# Collects CSP violations from the first moment of every document (scripts added this way bypass the CSP).
VIOLATION_PROBE = """
window.__cspViolations = [];
document.addEventListener('securitypolicyviolation', function (e) {
    window.__cspViolations.push(e.violatedDirective + ' ' + e.blockedURI);
});
"""
# Answers after two drawn frames: whether the document and every image in it have finished loading or failing.
IMAGES_SETTLED = """
const done = arguments[arguments.length - 1];
requestAnimationFrame(() => requestAnimationFrame(() =>
    done(document.readyState === 'complete' && Array.from(document.images).every(img => img.complete))));
"""


@pytest.fixture(scope="module")
def browser_capabilities() -> dict[str, Any]:
    # the console log is where Chromium reports a policy violation the probe cannot see
    return {"goog:loggingPrefs": {"browser": "ALL"}}


@pytest.fixture
def chromium(browser: WebDriver) -> Iterator[WebDriver]:
    probe = browser.execute_cdp_cmd("Page.addScriptToEvaluateOnNewDocument", {"source": VIOLATION_PROBE})
    yield browser
    # the browser is the module's: the next test adds its own probe
    browser.execute_cdp_cmd("Page.removeScriptToEvaluateOnNewDocument", {"identifier": probe["identifier"]})


def _inject(store: Store, settings: Settings) -> None:
    """Feed text carrying markup, as a hostile or careless source would send it."""
    now = utcnow()
    feed = settings.feeds[0]
    store.write_batch(feed.name, Batch(entities=[Entity(
        id=f"urn:ioc:danang:{feed.name}:evil", type="station", agency=feed.agency, sector=feed.sector,
        name=EVIL_NAME, location=(108.2153, 16.0581), district="Hải Châu", attributes={"value": 1.0},
        observed_at=now, feed=feed.name)], events=[Event(
        id="urn:ioc:danang:cap:evil", type="typhoon", agency="danang-civil-defence", sector="emergency",
        headline=EVIL_HEADLINE, severity=Severity.SEVERE, expires=now + timedelta(hours=6))]), now=now,
        replace=False)
    for rule_id, title in (("injected-name", EVIL_NAME), ("injected-headline", EVIL_HEADLINE)):
        store.raise_alert(Alert(id="", rule_id=rule_id, entity_id=f"urn:ioc:danang:{rule_id}", title=title,
                                severity=Severity.SEVERE, sector="emergency", agency="danang-civil-defence",
                                district="Hải Châu", raised_at=now, updated_at=now, location=(108.2153, 16.0581)))


@pytest.fixture
def served(fake_store: Store, settings: Settings, serve_app: Callable[[Dash], str]) -> str:
    populate(fake_store, settings)
    _inject(fake_store, settings)
    app = create_app(fake_store, settings, redis_kind="in-process", cookie_secure=False)
    for role in ROLES:
        add_user(app, f"{role}-1", role)
    return serve_app(app)


def violations(driver: WebDriver) -> list[Any]:
    found = list(driver.execute_script("return window.__cspViolations || []") or [])
    found += [entry["message"] for entry in driver.get_log("browser")
              if "Content Security Policy" in entry.get("message", "")]
    return found


def no_dialog(driver: WebDriver) -> bool:
    try:
        text = driver.switch_to.alert.text
    except NoAlertPresentException:
        return True
    driver.switch_to.alert.dismiss()
    pytest.fail(f"a script injected through feed text ran: alert({text})")


def test_sign_in_page_renders_in_the_dark_theme_without_violations(chromium: WebDriver, served: str) -> None:
    chromium.get(served + "/")
    assert "/login?next=/" in chromium.current_url
    background = chromium.execute_script("return getComputedStyle(document.body).backgroundColor")
    assert background == "rgb(5, 10, 20)"  # the control room's --bg
    assert chromium.find_element(By.NAME, "username") and chromium.find_element(By.NAME, "password")
    screenshot(chromium, "login")
    chromium.find_element(By.NAME, "username").send_keys("operator-1")
    chromium.find_element(By.NAME, "password").send_keys("not-the-password")
    chromium.find_element(By.CSS_SELECTOR, "form.ioc-signin-form button[type=submit]").click()
    wait_for(chromium, 10, "the refusal", lambda d: css(d, ".ioc-signin-error"))
    assert "/login" in chromium.current_url
    assert violations(chromium) == []


def test_operator_control_room_renders_and_updates_under_the_policy(chromium: WebDriver, served: str) -> None:
    sign_in(chromium, served, "operator-1", TEST_PASSWORD)
    wait_for(chromium, 30, "the district map", lambda d: "Hải Châu" in area_labels(d))
    wait_for(chromium, 30, "a KPI tile with a number", kpi_numbers)
    wait_for(chromium, 15, "the heartbeat", lambda d: css(d, ".ioc-heartbeat--live"))
    first = chromium.find_element(By.CLASS_NAME, "ioc-clock-time").text
    wait_for(chromium, 10, "the clock to tick", lambda d: d.find_element(By.CLASS_NAME, "ioc-clock-time").text != first)
    # links to pages the operator may not open are hidden; the feed board (read-only) is theirs
    assert not chromium.find_element(By.CSS_SELECTOR, 'a[href="/reports"]').is_displayed()
    assert chromium.find_element(By.CSS_SELECTOR, 'a[href="/feeds"]').is_displayed()
    assert chromium.find_element(By.CLASS_NAME, "ioc-account-name").text == "operator-1"
    assert violations(chromium) == []


def test_injected_markup_in_feed_text_is_inert_text(chromium: WebDriver, served: str) -> None:
    sign_in(chromium, served, "operator-1", TEST_PASSWORD)
    wait_for(chromium, 30, "the injected alert titles as text",
             lambda d: {EVIL_NAME, EVIL_HEADLINE} <= {row.text for row in css(d, ".alert-row .alert-title")})
    # an onerror handler runs as its image fails: once every image on the page has loaded or failed, any such
    # handler has had its chance (a dialog it opened fails the wait itself)
    wait_for(chromium, 10, "every image on the page loaded or failed",
             lambda d: d.execute_async_script(IMAGES_SETTLED))
    assert no_dialog(chromium)
    panel = chromium.find_element(By.ID, "control-room-alerts")
    assert not panel.find_elements(By.CSS_SELECTOR, "img, script")
    titles = [row.get_attribute("innerHTML") for row in css(chromium, ".alert-row .alert-title")]
    assert "&lt;img src=x onerror=alert(1)&gt;" in titles
    assert chromium.execute_script("return typeof window.__injected") == "undefined"
    assert violations(chromium) == []


def test_each_role_sees_its_pages_and_is_refused_the_others(chromium: WebDriver, served: str) -> None:
    landing = {"operator": "/", "manager": "/", "integrator": "/feeds", "admin": "/"}
    for role in ROLES:
        sign_in(chromium, served, f"{role}-1", TEST_PASSWORD)
        assert chromium.current_url == served + landing[role]
        if landing[role] == "/":
            wait_for(chromium, 30, f"the {role}'s map", lambda d: "Hải Châu" in area_labels(d))
            wait_for(chromium, 30, f"the {role}'s KPI tiles", kpi_numbers)
        else:
            wait_for(chromium, 30, "the feed board", lambda d: css(d, ".feed-table .feed-row"))
        wait_for(chromium, 10, "the account menu", lambda d: css(d, ".ioc-account-name"))
        screenshot(chromium, f"{role}-landing")
        if role != "admin":
            chromium.get(served + "/admin")
            assert "403" in chromium.title or css(chromium, ".ioc-signin-title")
            assert not css(chromium, ".admin-page")
        assert violations(chromium) == []
        chromium.get(served + "/logout")
        chromium.find_element(By.CSS_SELECTOR, "form.ioc-signin-form button[type=submit]").click()
        wait_for(chromium, 10, "the sign-in page", lambda d: "/login" in d.current_url)


def test_admin_page_adds_a_user_and_searches_the_audit_trail(chromium: WebDriver, served: str) -> None:
    # a failed sign-in whose name carries markup: the audit page must show it as text
    chromium.get(served + "/login")
    chromium.find_element(By.NAME, "username").send_keys(EVIL_NAME)
    chromium.find_element(By.NAME, "password").send_keys("whatever-password")
    chromium.find_element(By.CSS_SELECTOR, "form.ioc-signin-form button[type=submit]").click()
    wait_for(chromium, 10, "the refusal", lambda d: css(d, ".ioc-signin-error"))
    sign_in(chromium, served, "admin-1", TEST_PASSWORD)
    chromium.get(served + "/admin")
    wait_for(chromium, 30, "the users table", lambda d: css(d, '.admin-user[data-user="operator-1"]'))
    chromium.find_element(By.ID, "admin-new-name").send_keys("duty-officer")
    chromium.find_element(By.ID, "admin-add-user").click()
    wait_for(chromium, 15, "the one-time password", lambda d: css(d, ".admin-secret"))
    assert len(chromium.find_element(By.CLASS_NAME, "admin-secret").text) >= 16
    wait_for(chromium, 15, "the new user listed", lambda d: css(d, '.admin-user[data-user="duty-officer"]'))
    chromium.find_element(By.ID, "admin-audit-search").click()
    wait_for(chromium, 15, "audit rows", lambda d: len(css(d, ".audit-row")) >= 3)
    # read the table's cells in one step in the page: the live table may redraw between two reads
    cells = chromium.execute_script(
        "return Array.from(document.querySelectorAll('.audit-row'))"
        ".map(row => Array.from(row.querySelectorAll('td')).map(td => td.innerText));"
    )
    actions = {row[2] for row in cells}
    assert {"sign_in", "sign_in.failed", "user.added"} <= actions
    actors = {row[1] for row in cells}
    assert EVIL_NAME.lower() in actors
    assert no_dialog(chromium)
    export = chromium.find_element(By.ID, "admin-audit-export").get_attribute("href")
    assert export.startswith(served + "/admin/audit.csv")
    screenshot(chromium, "admin")
    assert violations(chromium) == []


def test_the_headers_sign_out_button_signs_out_in_one_click(chromium: WebDriver, served: str) -> None:
    """The header's form carries the CSRF token sign-out checks, so one click ends the session."""
    sign_in(chromium, served, "manager-1", TEST_PASSWORD)
    wait_for(chromium, 30, "the account menu", lambda d: css(d, ".ioc-signout-button"))
    chromium.find_element(By.CSS_SELECTOR, ".ioc-signout-button").click()
    wait_for(chromium, 10, "the sign-in page", lambda d: "/login" in d.current_url)
    chromium.get(served + "/reports")
    wait_for(chromium, 10, "the sign-in page again", lambda d: "/login" in d.current_url)
