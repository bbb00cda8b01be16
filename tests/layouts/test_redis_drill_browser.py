"""Fault drill in headless Chromium: the city's Redis dies for 20 s under an open control room and comes back."""

from __future__ import annotations

import shutil
import time
from collections.abc import Callable
from pathlib import Path

import pytest
import redis
from dash import Dash
from selenium.webdriver.remote.webdriver import WebDriver

from ioc.config import Settings
from ioc.redis_conn import free_port, start_redis_server
from ioc.store import Store
from layouts.app import create_app
from tests.conftest import missing_service
from tests.layouts.city_scene import populate
from tests.layouts.dom import TEST_PASSWORD, add_user, css, sign_in, wait_for
from tests.layouts.test_browser import kpi_numbers

pytestmark = [pytest.mark.browser, pytest.mark.integration]

DOWN_SECONDS = 20


def heartbeat(driver: WebDriver) -> str:
    chips = css(driver, ".ioc-heartbeat")
    return chips[0].get_attribute("class") if chips else ""


def test_redis_down_is_said_plainly_and_the_room_comes_back_with_nothing_lost(
    browser: WebDriver, settings: Settings, serve_app: Callable[[Dash], str], tmp_path: Path
) -> None:
    binary = shutil.which("redis-server")
    if not binary:
        missing_service("redis-server")
    port = free_port()
    process, url = start_redis_server(str(binary), port, data=tmp_path)  # kept on disk, as `ioc demo` does
    try:
        client = redis.Redis.from_url(url, decode_responses=True, socket_connect_timeout=1, socket_timeout=2)
        store = Store(client, settings.city.id)
        parts = populate(store, settings)
        store.alerts.acknowledge(parts["alert"], actor="operator-1", note="on it")
        app = create_app(store, settings, redis_kind="server", cookie_secure=False)
        add_user(app, "operator-1", "operator")
        base = serve_app(app)
        sign_in(browser, base, "operator-1", TEST_PASSWORD)
        browser.get(base + "/")
        wait_for(browser, 30, "the tiles", kpi_numbers)
        wait_for(browser, 15, "a live heartbeat", lambda d: "ioc-heartbeat--live" in heartbeat(d))

        process.kill()  # the database gone, mid-shift
        process.wait(timeout=10)
        wait_for(browser, 20, "the header saying the room has lost its data",
                 lambda d: "ioc-heartbeat--redis-down" in heartbeat(d) or "ioc-heartbeat--lost" in heartbeat(d))
        # 20 s without its database, as in the drill: the header never claims live data meanwhile
        down_until = time.monotonic() + DOWN_SECONDS
        while time.monotonic() < down_until:
            assert "ioc-heartbeat--live" not in heartbeat(browser)
            time.sleep(1)
        assert kpi_numbers(browser)  # the last numbers stay on screen, under a header that says they are not live
        assert not css(browser, ".dash-fe-error__title")  # no developer error overlay on a control-room screen

        process, _ = start_redis_server(str(binary), port, data=tmp_path)
        wait_for(browser, 30, "the heartbeat live again", lambda d: "ioc-heartbeat--live" in heartbeat(d))
        record = store.alerts.get(parts["alert"])
        assert record is not None and record.acknowledged_by == "operator-1"
        assert len(store.entities_of_feed(settings.feeds[0].name)) > 0
    finally:
        process.terminate()
        process.wait(timeout=10)
