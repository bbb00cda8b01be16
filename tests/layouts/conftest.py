"""Browser-test fixtures for the pages: headless Chromium at control-room size, and a Dash app served in a thread."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from dash import Dash
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.remote.webdriver import WebDriver
from werkzeug.serving import BaseWSGIServer, make_server

from tests.conftest import missing_service

# Debian's packages: the driver matches the browser's version, which a downloaded driver may not
CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
SCREEN = {"width": 1920, "height": 1080, "deviceScaleFactor": 1, "mobile": False}
CHROMIUM_FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                  "--disable-dev-shm-usage", "--window-size=1920,1080")


@pytest.fixture
def browser_capabilities() -> dict[str, Any]:
    """Extra WebDriver capabilities; a test module overrides this fixture when it needs some (e.g. its logs)."""
    return {}


@pytest.fixture
def browser(tmp_path: Path, browser_capabilities: dict[str, Any]) -> Iterator[WebDriver]:
    """Headless Chromium with a fresh profile and a 1920x1080 viewport, quit after the test."""
    if not (CHROMIUM.exists() and CHROMEDRIVER.exists()):
        missing_service("chromium")
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for argument in (*CHROMIUM_FLAGS, f"--user-data-dir={tmp_path / 'chromium-profile'}"):
        options.add_argument(argument)
    for name, value in browser_capabilities.items():
        options.set_capability(name, value)
    driver = webdriver.Chrome(service=Service(str(CHROMEDRIVER)), options=options)
    # the viewport itself is 1920x1080, as on a control-room screen
    driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", SCREEN)
    try:
        yield driver
    finally:
        driver.quit()


@pytest.fixture
def serve_app() -> Iterator[Callable[[Dash], str]]:
    """Serves a Dash app on a free loopback port in a thread and returns its base URL; stopped after the test."""
    running: list[tuple[BaseWSGIServer, threading.Thread]] = []

    def serve(app: Dash) -> str:
        server = make_server("127.0.0.1", 0, app.server, threaded=True)
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        running.append((server, thread))
        return f"http://127.0.0.1:{server.server_port}"

    try:
        yield serve
    finally:
        for server, thread in running:
            server.shutdown()
            thread.join(timeout=10)
