"""What a new user meets in headless Chromium (an English-speaking browser): the sign-in page in the city's
language, a choice of English kept through sign-in, reloads, the refusal page and sign-out; an operator on the
feed board read-only; an integrator landing on the feeds page, also from the site's address."""

from __future__ import annotations

from collections.abc import Callable

import pytest
import redis
from dash import Dash
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver

from ioc.config import Settings
from ioc.store import Store
from layouts.app import create_app
from tests.layouts.city_scene import populate
from tests.layouts.dom import TEST_PASSWORD, add_user, css, sign_in, wait_for

pytestmark = [pytest.mark.browser, pytest.mark.integration]

OPERATOR, INTEGRATOR = "thu", "khoa"


@pytest.fixture
def served(redis_client: redis.Redis, settings: Settings, serve_app: Callable[[Dash], str]) -> str:
    store = Store(redis_client, settings.city.id)
    populate(store, settings)
    app = create_app(store, settings, redis_kind="server", cookie_secure=False)
    add_user(app, OPERATOR, "operator")
    add_user(app, INTEGRATOR, "integrator")
    return serve_app(app)


def active_language(driver: WebDriver) -> str:
    return css(driver, ".ioc-lang-button--active")[0].text.strip().lower()


def test_the_language_chosen_at_sign_in_stays(browser: WebDriver, served: str) -> None:
    assert "en" in browser.execute_script("return navigator.language").lower()  # the browser prefers English
    browser.get(served + "/login")
    assert browser.find_element(By.TAG_NAME, "html").get_attribute("lang") == "vi"
    assert active_language(browser) == "vi"
    css(browser, '.ioc-signin-lang a[href*="lang=en"]')[0].click()
    wait_for(browser, 10, "the English form", lambda d: d.find_element(By.TAG_NAME, "html").get_attribute("lang")
             == "en")
    browser.find_element(By.NAME, "username").send_keys(OPERATOR)
    browser.find_element(By.NAME, "password").send_keys(TEST_PASSWORD)
    browser.find_element(By.CSS_SELECTOR, "form.ioc-signin-form button[type=submit]").click()
    wait_for(browser, 30, "the dashboard in English",
             lambda d: css(d, "#ioc-nav-alerts") and d.find_element(By.ID, "ioc-nav-alerts").text == "Alerts")
    assert active_language(browser) == "en"
    browser.refresh()
    wait_for(browser, 30, "still English after a reload",
             lambda d: css(d, "#ioc-nav-alerts") and d.find_element(By.ID, "ioc-nav-alerts").text == "Alerts")
    browser.get(served + "/admin")
    wait_for(browser, 10, "the refusal page", lambda d: css(d, ".ioc-signin-title"))
    assert browser.find_element(By.TAG_NAME, "html").get_attribute("lang") == "en"
    # back to Vietnamese on the dashboard's switch: the sign-in page follows after signing out
    browser.get(served + "/alerts")
    wait_for(browser, 30, "the switch", lambda d: css(d, "#ioc-lang-vi"))
    browser.find_element(By.ID, "ioc-lang-vi").click()
    wait_for(browser, 15, "Vietnamese", lambda d: d.find_element(By.ID, "ioc-nav-alerts").text == "Cảnh báo")
    browser.find_element(By.CSS_SELECTOR, ".ioc-signout-button").click()
    wait_for(browser, 15, "signed out", lambda d: "/login" in d.current_url)
    assert browser.find_element(By.TAG_NAME, "html").get_attribute("lang") == "vi"


def test_an_operator_opens_the_feed_behind_a_stale_tile_read_only(browser: WebDriver, served: str) -> None:
    sign_in(browser, served, OPERATOR)
    # sign-in returns once the browser has left /login; the page's header is drawn by Dash after that
    wait_for(browser, 30, "the header's page links", lambda d: css(d, "#ioc-nav-alerts"))
    assert css(browser, "#ioc-nav-feeds")[0].is_displayed()
    wait_for(browser, 30, "a stale tile", lambda d: css(d, ".kpi-tile--stale a.kpi-stale-badge"))
    tile = css(browser, ".kpi-tile--stale")[0]
    feed = tile.get_attribute("data-feed")
    tile.find_element(By.CSS_SELECTOR, "a.kpi-stale-badge").click()
    wait_for(browser, 30, "the feed board with that feed marked",
             lambda d: css(d, f'.feed-row--selected[data-feed="{feed}"]'))
    assert "feed-row--stale" in css(browser, f'.feed-row[data-feed="{feed}"]')[0].get_attribute("class")
    assert not css(browser, ".details-button") and not css(browser, "#feeds-details")


def test_an_integrator_lands_on_the_feeds_even_from_the_site_address(browser: WebDriver, served: str) -> None:
    sign_in(browser, served, INTEGRATOR)
    wait_for(browser, 15, "the feeds page", lambda d: d.current_url.rstrip("/").endswith("/feeds"))
    browser.get(served + "/")
    wait_for(browser, 15, "the feeds page again", lambda d: d.current_url.rstrip("/").endswith("/feeds"))
    wait_for(browser, 30, "the board", lambda d: css(d, ".feed-row"))
    assert css(browser, ".details-button")
