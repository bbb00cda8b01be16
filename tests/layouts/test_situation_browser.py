"""The situation view in headless Chromium on a real redis-server: its link opens the same view for anyone
whose role allows it (after signing in, too), an operator ticks a procedure step there, a manager only reads,
an integrator is refused, and `&wall=1` drops the header.

Set IOC_SCREENSHOTS=<folder> to save screenshots of the view.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
import redis
from dash import Dash
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver

from ioc.config import Settings
from ioc.situation import link
from ioc.store import Store
from layouts.app import create_app
from tests.ioc.test_situation import scene
from tests.layouts.dom import TEST_PASSWORD, add_user, css, screenshot, sign_in, wait_for

pytestmark = [pytest.mark.browser, pytest.mark.integration]

USERS = {"operator": "minh", "manager": "hoa", "integrator": "tuan"}


@pytest.fixture
def served(redis_client: redis.Redis, settings: Settings, serve_app: Callable[[Dash], str]
           ) -> tuple[str, Store, dict[str, str]]:
    store = Store(redis_client, settings.city.id)
    app = create_app(store, settings, redis_kind="server", cookie_secure=False)
    for role, name in USERS.items():
        add_user(app, name, role)
    return serve_app(app), store, scene(store, settings)


def drawn(driver: WebDriver, alert_id: str) -> None:
    wait_for(driver, 30, "the situation drawn",
             lambda d: css(d, f'.situation-title[data-alert="{alert_id}"]') and css(d, ".situation-step"))


def test_the_link_opens_the_situation_and_an_operator_ticks_a_step(
    browser: WebDriver, served: tuple[str, Store, dict[str, str]]
) -> None:
    url, store, ids = served
    address = url + link(alert=ids["main"])
    # a shared link opened by someone not signed in: the sign-in form, then the situation itself
    browser.get(address)
    wait_for(browser, 15, "the sign-in form", lambda d: "/login" in d.current_url)
    browser.find_element(By.NAME, "username").send_keys(USERS["operator"])
    browser.find_element(By.NAME, "password").send_keys(TEST_PASSWORD)
    browser.find_element(By.CSS_SELECTOR, "form.ioc-signin-form button[type=submit]").click()
    drawn(browser, ids["main"])
    assert browser.current_url == address

    assert [text.get_attribute("lang") for text in css(browser, ".situation-text")] == ["vi", "en"]
    assert "Disaster warning (CAP)" in css(browser, ".situation-text--en")[0].text
    groups = css(browser, ".situation-group")
    assert [g.get_attribute("data-rule") for g in groups] == ["flood-depth"]
    assert ids["near"] in groups[0].text and ids["far"] not in groups[0].text
    feeds = {item.get_attribute("data-feed") for item in css(browser, ".situation-feed")}
    assert {ids["feed_a"], ids["feed_b"]} <= feeds
    assert css(browser, ".situation-step-who")[0].text  # who does the first step is named
    # the map draws the warning's area and the entities inside it
    wait_for(browser, 15, "the map drawn", lambda d: css(d, ".situation-map .scatterlayer .trace"))
    screenshot(browser, "situation")

    first = css(browser, ".situation-step-box")[0]
    assert first.is_enabled()
    first.click()
    wait_for(browser, 15, "the step ticked", lambda d: css(d, ".situation-step--done"))
    ticked = store.alerts.checklist(ids["main"])
    assert ticked[0]["by"] == USERS["operator"]
    wait_for(browser, 15, "the tick on the timeline",
             lambda d: css(d, '.situation-timeline .tl-entry[data-action="step_done"]'))


def test_a_manager_reads_an_integrator_is_refused_and_a_wall_has_no_header(
    browser: WebDriver, served: tuple[str, Store, dict[str, str]]
) -> None:
    url, _store, ids = served
    sign_in(browser, url, USERS["manager"])
    browser.get(url + link(alert=ids["main"]))
    drawn(browser, ids["main"])
    assert not any(box.is_enabled() for box in css(browser, ".situation-step-box"))
    assert css(browser, ".ioc-header")[0].is_displayed()

    browser.get(url + link(alert=ids["main"], wall=True))
    drawn(browser, ids["main"])
    assert not css(browser, ".ioc-header")[0].is_displayed()
    assert css(browser, ".situation-page--wall")
    screenshot(browser, "situation-wall")

    browser.delete_all_cookies()
    sign_in(browser, url, USERS["integrator"])
    browser.get(url + link(alert=ids["main"]))
    wait_for(browser, 15, "the refusal page", lambda d: css(d, ".ioc-signin-title"))
    assert not css(browser, ".situation-page")
