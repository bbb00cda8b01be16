"""The city switch in headless Chromium, two cities served by one app (IOC_CITIES=danang,hue): a user with
roles in both switches to Hue and the header, the map's areas and the KPI tiles become Hue's; a user of one
city sees no switch.

Set IOC_SCREENSHOTS=<folder> to save the control room before and after the switch."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from dash import Dash
from selenium.webdriver.remote.webdriver import WebDriver

from ioc.cities import CITIES_ENV
from ioc.config import PROJECT_ROOT, Settings, load_settings
from ioc.store import Store
from layouts import ids
from layouts.app import create_app
from tests.ioc.access.test_city_isolation import write_city
from tests.layouts.dom import add_user, css, screenshot, sign_in, wait_for

pytestmark = pytest.mark.browser


@pytest.fixture
def two_city_app(
    fake_store: Store, settings: Settings, serve_app: Callable[[Dash], str], monkeypatch: pytest.MonkeyPatch
) -> str:
    monkeypatch.setenv(CITIES_ENV, "danang,hue")
    hue = load_settings(PROJECT_ROOT / "config" / "hue")
    write_city(fake_store, settings)
    write_city(Store(fake_store.redis, hue.city.id), hue)
    app = create_app(fake_store, settings, redis_kind="in-process", cookie_secure=False)
    add_user(app, "both-cities", "operator")
    add_user(app, "one-city", "operator")
    app.server.extensions["ioc_security"].users.set_role("both-cities", "operator", actor="test", city="hue")
    return serve_app(app)


# every x (longitude) the map draws, to 2 decimals: the areas' outlines and the entities' markers
MAP_LONGITUDES = """
const graph = document.querySelector('.city-map .js-plotly-plot');
if (!graph || !graph.data) { return []; }
const seen = new Set();
for (const trace of graph.data) {
    for (const x of (trace.x || [])) { if (typeof x === 'number') { seen.add(x.toFixed(2)); } }
}
return Array.from(seen);
"""


def map_longitudes(driver: WebDriver) -> set[str]:
    return set(driver.execute_script(MAP_LONGITUDES) or [])


def city_name(driver: WebDriver) -> str:
    found = css(driver, f"#{ids.CITY_NAME}")
    return found[0].text if found else ""


def tile_mark(driver: WebDriver) -> set[str]:
    return {tile.get_attribute("data-feed") for tile in css(driver, ".kpi-tile")}


def test_a_user_with_roles_in_two_cities_switches_and_the_map_and_tiles_follow(
    browser: WebDriver, two_city_app: str, settings: Settings
) -> None:
    hue = load_settings(PROJECT_ROOT / "config" / "hue")
    sign_in(browser, two_city_app, "both-cities")
    wait_for(browser, 30, "Da Nang's entities on the map", lambda d: "108.21" in map_longitudes(d))
    wait_for(browser, 30, "Da Nang's tiles", tile_mark)
    assert city_name(browser) == settings.city.name.vi
    danang_map, danang_tiles = map_longitudes(browser), tile_mark(browser)
    buttons = css(browser, f"#{ids.CITY_SWITCH} button")
    assert [button.text for button in buttons] == ["Đà Nẵng", "Huế"]  # the header's short names
    assert [button.get_attribute("value") for button in buttons] == ["danang", "hue"]
    assert "ioc-lang-button--active" in buttons[0].get_attribute("class")
    screenshot(browser, "city-switch-danang")
    buttons[1].click()
    wait_for(browser, 30, "Hue's name in the header", lambda d: city_name(d) == hue.city.name.vi)
    wait_for(browser, 30, "Hue's entities on the map", lambda d: "107.58" in map_longitudes(d))
    wait_for(browser, 30, "Hue's tiles", lambda d: tile_mark(d) == {f.name for f in hue.feeds if f.kpi})
    assert "108.21" not in map_longitudes(browser) and map_longitudes(browser) != danang_map
    assert tile_mark(browser) != danang_tiles
    active = css(browser, f"#{ids.CITY_SWITCH} .ioc-lang-button--active")
    assert [button.text for button in active] == ["Huế"]
    screenshot(browser, "city-switch-hue")


def test_a_user_of_one_city_sees_no_switch(browser: WebDriver, two_city_app: str, settings: Settings) -> None:
    sign_in(browser, two_city_app, "one-city")
    wait_for(browser, 30, "Da Nang's entities on the map", lambda d: "108.21" in map_longitudes(d))
    assert city_name(browser) == settings.city.name.vi
    assert css(browser, f"#{ids.CITY_SWITCH}") == []
