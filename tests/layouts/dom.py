"""Reading pages in tests: Dash component trees (text, classes), signing in, and pages in a headless browser."""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from dash.development.base_component import Component


def walk(node: Any) -> Iterator[Any]:
    yield node
    if isinstance(node, Component):
        yield from walk(getattr(node, "children", None))
    elif isinstance(node, list | tuple):
        for child in node:
            yield from walk(child)


def text(node: Any) -> str:
    """Every string in the tree, space separated."""
    return " ".join(str(part) for part in walk(node) if isinstance(part, str | int | float))


def with_class(node: Any, name: str) -> list[Component]:
    return [
        part for part in walk(node)
        if isinstance(part, Component) and name in (getattr(part, "className", None) or "").split()
    ]


# --- signing in (every page and callback needs a session) -------------------------------------------------

TEST_PASSWORD = "test-password-0123"


def add_user(app: Any, name: str, role: str, password: str = TEST_PASSWORD) -> None:
    """A user in the app's store, for tests that sign in."""
    app.server.extensions["ioc_security"].users.add(name, role, password, actor="test")


def client_sign_in(client: Any, username: str, password: str = TEST_PASSWORD) -> Any:
    """Sign a Flask test client in through the real form (its CSRF token included); returns the response."""
    import re

    form = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf" value="([^"]+)"', form)
    assert token, "the sign-in form has no CSRF token"
    return client.post("/login", data={"username": username, "password": password, "csrf": token.group(1)})


def sign_in(driver: Any, base_url: str, username: str, password: str = TEST_PASSWORD, timeout: float = 20) -> None:
    """Sign a browser in at /login and wait until it has left the sign-in page."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    driver.get(base_url.rstrip("/") + "/login")
    driver.find_element(By.NAME, "username").send_keys(username)
    driver.find_element(By.NAME, "password").send_keys(password)
    driver.find_element(By.CSS_SELECTOR, "form.ioc-signin-form button[type=submit]").click()
    WebDriverWait(driver, timeout, poll_frequency=0.2).until(lambda d: "/login" not in d.current_url)


# --- reading pages in the browser ---------------------------------------------------------------------------


def css(driver: Any, selector: str) -> list[Any]:
    from selenium.webdriver.common.by import By

    return driver.find_elements(By.CSS_SELECTOR, selector)


def wait_for(driver: Any, seconds: float, what: str, condition: Callable[[Any], object],
             log: Path | None = None, poll: float = 0.5) -> object:
    """Wait for a condition; on timeout, fail saying what was awaited (and the demo's log when there is one)."""
    from selenium.common.exceptions import StaleElementReferenceException, TimeoutException
    from selenium.webdriver.support.ui import WebDriverWait

    def _safe(d: Any) -> object:
        try:
            return condition(d)
        except StaleElementReferenceException:
            return False  # the live refresh replaced the element while we read it

    try:
        return WebDriverWait(driver, seconds, poll_frequency=poll).until(_safe)
    except TimeoutException:
        tail = log.read_text(errors="replace")[-4000:] if log and log.exists() else ""
        pytest.fail(f"waited {seconds:g} s for {what}" + (f"\n--- demo log ---\n{tail}" if tail else ""))


def screenshot(driver: Any, name: str) -> None:
    """Saves the screen as <name>.png in the folder IOC_SCREENSHOTS names, when it names one."""
    folder = os.environ.get("IOC_SCREENSHOTS")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        time.sleep(1.5)  # let the map's transitions, the charts and the heartbeat settle
        driver.save_screenshot(str(Path(folder) / f"{name}.png"))
