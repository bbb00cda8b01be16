"""Time playback in headless Chromium: a bus that moved an hour ago; the slider set two hours back shows PLAYBACK
and the bus at its old place, back to live shows it where it is now."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import pytest
from dash import Dash
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.remote.webdriver import WebDriver

from ioc.archive import Archiver
from ioc.config import Settings
from ioc.i18n import t
from ioc.model import Batch, Entity, utcnow
from ioc.playback.controls import SLIDER_MINUTES
from ioc.store import Store
from layouts.app import create_app
from layouts.playback import CLOCK_MS
from tests.layouts.dom import TEST_PASSWORD, add_user, css, sign_in, wait_for

pytestmark = pytest.mark.browser

BUS = "urn:ioc:danang:bus-vehicles:pb-1"
OLD_PLACE, NEW_PLACE = (108.2012, 16.0481), (108.2433, 16.0712)


def _bus(place: tuple[float, float]) -> Batch:
    return Batch(entities=[Entity(BUS, "Vehicle", "dnbus", "transport", name="Xe 1", location=place,
                                  attributes={"route": "R1"})])


def _bus_drawn(driver: WebDriver) -> list[list[float]]:
    return driver.execute_script(
        """const gd = document.querySelector('.city-map .js-plotly-plot');
           if (!gd || !gd.data) { return []; }
           const layer = gd.data.find(t => t.meta && t.meta.feed === 'bus-vehicles' && t.meta.role === 'detail');
           return layer ? Array.from(layer.x).map((x, i) => [x, layer.y[i]]) : [];""")


def _in_playback(driver: WebDriver) -> bool:
    root = css(driver, "#control-room")
    return bool(root) and "control-room--playback" in (root[0].get_attribute("class") or "")


@pytest.fixture
def served(store: Store, settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
           serve_app: Callable[[Dash], str]) -> str:
    """The bus at its old place three hours ago (archived, with a snapshot), at its new place from an hour ago."""
    monkeypatch.setenv("IOC_ARCHIVE_DIR", str(tmp_path))
    now = utcnow()
    archiver = Archiver(store.redis, store.keys, tmp_path)
    store.write_batch("bus-vehicles", _bus(OLD_PLACE), now=now - timedelta(hours=3))
    archiver.archive_once()
    assert archiver.snapshot_if_due() is not None
    store.write_batch("bus-vehicles", _bus(NEW_PLACE), now=now - timedelta(hours=1))
    archiver.archive_once()
    app = create_app(store, settings, redis_kind="redis-server", cookie_secure=False)
    add_user(app, "op-1", "operator")
    return serve_app(app)


def test_slider_shows_the_past_plainly_then_back_to_live(browser: WebDriver, served: str) -> None:
    sign_in(browser, served, "op-1", TEST_PASSWORD)
    browser.get(served + "/")
    wait_for(browser, 30, "the bus where it is now", lambda d: _bus_drawn(d) == [list(NEW_PLACE)])
    assert not _in_playback(browser) and css(browser, ".playback-banner")[0].text == ""

    # a click on the slider two hours back from its right end (now)
    rail = css(browser, ".playback-slider .dash-slider-root")[0]
    width = rail.size["width"]
    offset = ((SLIDER_MINUTES - 120) / SLIDER_MINUTES - 0.5) * width
    ActionChains(browser).move_to_element_with_offset(rail, round(offset), 0).click().perform()

    wait_for(browser, 20, "the bus at its old place", lambda d: _bus_drawn(d) == [list(OLD_PLACE)])
    assert _in_playback(browser)
    banner = css(browser, ".playback-banner")[0].text
    assert banner.startswith(t("playback.banner", "vi", time="", pace="").split("·")[0].strip())
    title = css(browser, "#control-room-map-title")[0].text
    assert title.startswith("XEM LẠI")  # the map's own title says it too, with the moment

    # playing moves the moment on; pausing holds it
    css(browser, '[id*="playback-play"][id*="60"]')[0].click()
    wait_for(browser, 10, "the moment moving", lambda d: css(d, ".playback-banner")[0].text != banner)
    css(browser, "#playback-pause")[0].click()
    paused = t("playback.paused", "vi")
    wait_for(browser, 5, "the pause shown", lambda d: paused in css(d, ".playback-banner")[0].text)
    held = css(browser, ".playback-banner")[0].text
    time.sleep(2 * CLOCK_MS / 1000)  # two ticks of the playback clock
    assert css(browser, ".playback-banner")[0].text == held

    css(browser, "#playback-live")[0].click()
    wait_for(browser, 20, "the bus back where it is now", lambda d: _bus_drawn(d) == [list(NEW_PLACE)])
    wait_for(browser, 10, "live again", lambda d: not _in_playback(d))
    assert css(browser, ".playback-banner")[0].text == ""
