"""Both pages in headless Chromium: on a scene in fakeredis served in a thread, and on the running demo.

Set IOC_SCREENSHOTS=<folder> to save 1920x1080 screenshots of the pages (docs/screenshots holds the
published ones).
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest
from dash import Dash
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver

from ioc.config import PROJECT_ROOT, Settings
from ioc.i18n import t
from ioc.model import Batch, Entity, utcnow
from ioc.redis_conn import free_port
from ioc.store import Store
from layouts.app import create_app
from tests.layouts.city_scene import populate
from tests.layouts.dom import TEST_PASSWORD, add_user, css, screenshot, sign_in, wait_for
from tests.waiting import WaitTimeout, wait_until

pytestmark = pytest.mark.browser

NUMBER = re.compile(r"\d")
DEMO_PASSWORD = "demo-password-for-tests"  # IOC_DEMO_PASSWORD: `ioc demo` gives its seeded users this one


@pytest.fixture
def served_scene(
    fake_store: Store, settings: Settings, serve_app: Callable[[Dash], str]
) -> tuple[str, dict[str, str]]:
    parts = populate(fake_store, settings)
    app = create_app(fake_store, settings, redis_kind="in-process", cookie_secure=False)
    add_user(app, "admin-1", "admin")  # both pages need a role that opens both
    return serve_app(app), parts


def area_labels(driver: WebDriver) -> set[str]:
    return {label.text for label in css(driver, ".city-map .annotation-text")}


def kpi_numbers(driver: WebDriver) -> list[str]:
    return [value.text for value in css(driver, ".kpi-tile .kpi-value") if NUMBER.search(value.text)]


def feeds_listed(driver: WebDriver) -> set[str]:
    return {row.get_attribute("data-feed") for row in css(driver, ".feed-table .feed-row")}


def test_control_room_and_feeds_pages(
    browser: WebDriver, served_scene: tuple[str, dict[str, str]], settings: Settings
) -> None:
    url, parts = served_scene
    sign_in(browser, url, "admin-1", TEST_PASSWORD)
    browser.get(url + "/")

    wait_for(browser, 30, "the district map", lambda d: "Hải Châu" in area_labels(d))
    wait_for(browser, 30, "a KPI tile with a number", kpi_numbers)
    rule_title = settings.rules[0].title.vi
    wait_for(browser, 30, "the PM2.5 alert", lambda d: any(rule_title in r.text for r in css(d, ".alert-row")))
    stale_tile = css(browser, f'.kpi-tile[data-feed="{parts["stale"]}"]')[0]
    assert "kpi-tile--stale" in stale_tile.get_attribute("class")
    assert t("kpi.stale_since", "vi", time="").strip() in stale_tile.text
    wait_for(browser, 10, "the heartbeat", lambda d: css(d, ".ioc-heartbeat--live"))
    screenshot(browser, "control-room")

    css(browser, 'a[href="/feeds"]')[0].click()
    every_feed = {feed.name for feed in settings.feeds}
    wait_for(browser, 30, "every feed on the board", lambda d: feeds_listed(d) == every_feed)
    first = css(browser, ".feed-table .feed-row")[0]
    assert first.get_attribute("data-feed") == parts["failing"]
    first.find_element(By.CSS_SELECTOR, ".details-button").click()
    wait_for(browser, 15, "the refused payload", lambda d: any("maintenance" in p.text
                                                                 for p in css(d, ".rejected-payload")))
    screenshot(browser, "feeds")

    css(browser, "#ioc-lang-en")[0].click()
    wait_for(browser, 15, "the English board", lambda d: t("feeds.title", "en") in d.find_element(
        By.CLASS_NAME, "feeds-title").text)
    css(browser, 'a[href="/"]')[0].click()
    wait_for(browser, 30, "the English control room",
             lambda d: any(settings.rules[0].title.en in r.text for r in css(d, ".alert-row")))


def _stop(process: subprocess.Popen[bytes]) -> None:
    """Stop the demo and whatever it started (it runs in its own process group)."""
    if process.poll() is not None:
        return
    os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)


@pytest.mark.integration
def test_demo_end_to_end(
    browser: WebDriver, redis_client: object, redis_server_url: str, settings: Settings, tmp_path: Path
) -> None:
    port, sim_port = free_port(), free_port()
    log = tmp_path / "demo.log"
    with log.open("wb") as output:
        process = subprocess.Popen(
            [sys.executable, "-m", "ioc", "demo", "--port", str(port), "--sim-port", str(sim_port)],
            cwd=PROJECT_ROOT,
            env={**os.environ, "IOC_REDIS_URL": redis_server_url, "IOC_DEMO_PASSWORD": DEMO_PASSWORD},
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    url = f"http://127.0.0.1:{port}"

    def answers() -> bool:
        if process.poll() is not None:
            pytest.fail(f"the demo exited with {process.returncode}:\n{log.read_text(errors='replace')[-4000:]}")
        return httpx.get(url + "/healthz", timeout=2).status_code in (200, 503)

    try:
        try:
            wait_until(answers, timeout=60, interval=0.2, message=f"the demo to answer on {url}",
                       ignoring=(httpx.HTTPError,))
        except WaitTimeout as timeout:
            pytest.fail(f"{timeout}:\n{log.read_text(errors='replace')[-4000:]}")

        printed = log.read_text(errors="replace")
        for role in ("operator", "manager", "integrator", "admin"):
            assert f"demo user: {role} ({role}) password: {DEMO_PASSWORD}" in printed
        sign_in(browser, url, "admin", DEMO_PASSWORD)
        browser.get(url + "/")
        wait_for(browser, 60, "the district map", lambda d: "Hải Châu" in area_labels(d), log)
        wait_for(browser, 60, "a KPI tile with a number", kpi_numbers, log)
        titles = {rule.title.vi for rule in settings.rules if rule.id.startswith("pm25")}
        wait_for(browser, 90, "the PM2.5 alert raised by the rule",
                 lambda d: any(title in row.text for row in css(d, ".alert-row") for title in titles), log)

        browser.get(url + "/feeds")
        every_feed = {feed.name for feed in settings.feeds}
        wait_for(browser, 30, "every feed on the board", lambda d: feeds_listed(d) == every_feed, log)
    finally:
        _stop(process)


def test_a_change_reaches_the_open_map_and_tiles(
    browser: WebDriver, served_scene: tuple[str, dict[str, str]], fake_store: Store, settings: Settings
) -> None:
    url, _ = served_scene
    sign_in(browser, url, "admin-1", TEST_PASSWORD)
    browser.get(url + "/")
    wait_for(browser, 30, "the district map", lambda d: "Hải Châu" in area_labels(d))
    feed = settings.feeds[0]  # the air stations: their tile is the mean PM2.5
    assert feed.kpi and feed.kpi.metric and feed.kpi.aggregate == "mean"
    before = {e["id"]: e for e in fake_store.entities_of_feed(feed.name)}
    moved = [
        Entity(id=e["id"], type=e["type"], agency=e["agency"], sector=e["sector"], name=e["name"],
               location=(round(e["lon"] + 0.002, 5), round(e["lat"] - 0.001, 5)), district=e["district"],
               attributes={**e["attributes"], feed.kpi.metric: 88.8}, feed=feed.name, observed_at=utcnow())
        for e in before.values()
    ]

    fake_store.write_batch(feed.name, Batch(entities=moved))
    fake_store.record_success(feed.name, records=len(moved), latency_ms=5, interval=feed.interval,
                              stale_factor=feed.stale_factor)

    tile = f'.kpi-tile[data-feed="{feed.name}"] .kpi-value'
    wait_for(browser, 15, "the new mean on the tile", lambda d: css(d, tile) and css(d, tile)[0].text == "88.8")
    drawn = browser.execute_script(
        """const gd = document.querySelector('.city-map .js-plotly-plot');
           const layer = gd.data.find(t => t.meta && t.meta.feed === arguments[0] && t.meta.role === 'detail');
           return layer.x.map((x, i) => [x, layer.y[i]]);""", feed.name)
    assert sorted(map(tuple, drawn)) == sorted(entity.location for entity in moved)
