"""Browser-test fixtures for the pages: one headless Chromium per module at control-room size, and a Dash app
served in a thread."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from dash import Dash
from selenium import webdriver
from selenium.common.exceptions import NoAlertPresentException, WebDriverException
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


@pytest.fixture(scope="module")
def browser_capabilities() -> dict[str, Any]:
    """Extra WebDriver capabilities; a test module overrides this fixture when it needs some (e.g. its logs)."""
    return {}


class ModuleChromium:
    """The one headless Chromium of a test module: starting one costs seconds, so tests share it and each
    leaves it clean (see `browser`). A test that killed it gets a new one instead of failing the rest."""

    def __init__(self, profiles: pytest.TempPathFactory, capabilities: dict[str, Any]) -> None:
        self.profiles = profiles
        self.capabilities = capabilities
        self.driver: WebDriver | None = None

    def get(self) -> WebDriver:
        if self.driver is not None and not _responds(self.driver):
            self.quit()
        if self.driver is None:
            self.driver = self._start()
        return self.driver

    def _start(self) -> WebDriver:
        options = webdriver.ChromeOptions()
        options.binary_location = str(CHROMIUM)
        profile = self.profiles.mktemp("chromium-profile")
        for argument in (*CHROMIUM_FLAGS, f"--user-data-dir={profile}"):
            options.add_argument(argument)
        for name, value in self.capabilities.items():
            options.set_capability(name, value)
        driver = webdriver.Chrome(service=Service(str(CHROMEDRIVER)), options=options)
        # the viewport itself is 1920x1080, as on a control-room screen
        driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", SCREEN)
        return driver

    def quit(self) -> None:
        driver, self.driver = self.driver, None
        if driver is not None:
            with contextlib.suppress(WebDriverException):  # already gone
                driver.quit()


def _responds(driver: WebDriver) -> bool:
    try:
        driver.current_url  # noqa: B018 - any round trip to the browser will do
    except WebDriverException:
        return False
    return True


def _reset(driver: WebDriver) -> None:
    """Leave the browser as a fresh one would be: no dialog, no page, no cookies, no stored state, no log."""
    with contextlib.suppress(NoAlertPresentException):
        driver.switch_to.alert.dismiss()
    # storage belongs to the page's origin, so clear it before leaving the page
    driver.execute_script("try { window.localStorage.clear(); window.sessionStorage.clear(); } catch (e) {}")
    driver.get("about:blank")
    driver.execute_cdp_cmd("Network.clearBrowserCookies", {})
    driver.get_log("browser")  # read the console log empty: the next test reads only its own


@pytest.fixture(scope="module")
def module_chromium(
    tmp_path_factory: pytest.TempPathFactory, browser_capabilities: dict[str, Any]
) -> Iterator[ModuleChromium]:
    if not (CHROMIUM.exists() and CHROMEDRIVER.exists()):
        missing_service("chromium")
    chromium = ModuleChromium(tmp_path_factory, browser_capabilities)
    try:
        yield chromium
    finally:
        chromium.quit()


@pytest.fixture
def browser(module_chromium: ModuleChromium) -> Iterator[WebDriver]:
    """Headless Chromium with a 1920x1080 viewport: the module's one, reset after the test (dialog dismissed,
    local and session storage cleared, page left, cookies deleted, console log read), so each test starts as
    on a fresh browser."""
    driver = module_chromium.get()
    yield driver
    try:
        _reset(driver)
    except WebDriverException:
        module_chromium.quit()  # the next test starts a new one


@pytest.fixture
def serve_app() -> Iterator[Callable[[Dash], str]]:
    """Serves a Dash app on a free loopback port in a thread and returns its base URL; stopped after the test."""
    running: list[tuple[BaseWSGIServer, threading.Thread]] = []

    def serve(app: Dash) -> str:
        server = make_server("127.0.0.1", 0, app.server, threaded=True)
        # shutdown() waits for the serve loop's next poll: 0.5 s by default, after every test
        thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        thread.start()
        running.append((server, thread))
        return f"http://127.0.0.1:{server.server_port}"

    try:
        yield serve
    finally:
        for server, thread in running:
            server.shutdown()
            thread.join(timeout=10)
