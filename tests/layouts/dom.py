"""Reading pages in tests: Dash component trees (text, classes), signing in, and pages in a headless browser."""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from dash.development.base_component import Component

from tests.waiting import WaitTimeout, wait_until


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


def signed_in(app: Any, name: str) -> Any:
    """A Flask test client of the app, signed in as `name` through the real form."""
    client = app.server.test_client()
    assert client_sign_in(client, name).status_code == 302
    return client


def sign_in(driver: Any, base_url: str, username: str, password: str = TEST_PASSWORD, timeout: float = 20) -> None:
    """Sign a browser in at /login and wait until it has left the sign-in page."""
    from selenium.webdriver.common.by import By

    driver.get(base_url.rstrip("/") + "/login")
    driver.find_element(By.NAME, "username").send_keys(username)
    driver.find_element(By.NAME, "password").send_keys(password)
    driver.find_element(By.CSS_SELECTOR, "form.ioc-signin-form button[type=submit]").click()
    wait_for(driver, timeout, f"{username} to leave the sign-in page", lambda d: "/login" not in d.current_url)


# --- reading pages in the browser ---------------------------------------------------------------------------


def css(driver: Any, selector: str) -> list[Any]:
    from selenium.webdriver.common.by import By

    return driver.find_elements(By.CSS_SELECTOR, selector)


def wait_for(driver: Any, seconds: float, what: str, condition: Callable[[Any], object],
             log: Path | None = None, poll: float = 0.2) -> object:
    """Wait for a condition on the page; on timeout, fail saying what was awaited (and the demo's log when
    there is one). An element not there yet, or replaced by the live refresh while read, is "not yet"."""
    from selenium.common.exceptions import NoSuchElementException, StaleElementReferenceException

    try:
        return wait_until(lambda: condition(driver), timeout=seconds, interval=poll, message=what,
                          ignoring=(NoSuchElementException, StaleElementReferenceException))
    except WaitTimeout as timeout:
        tail = log.read_text(errors="replace")[-4000:] if log and log.exists() else ""
        pytest.fail(f"{timeout}" + (f"\n--- demo log ---\n{tail}" if tail else ""))


def screenshot(driver: Any, name: str) -> None:
    """Saves the screen as <name>.png in the folder IOC_SCREENSHOTS names, when it names one."""
    folder = os.environ.get("IOC_SCREENSHOTS")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        # Only when screenshots are asked for: the map's transitions, the charts and the heartbeat settle
        # for the eye; "looks settled" is nothing the page reports, so a pause, not a wait on a condition.
        time.sleep(1.5)
        driver.save_screenshot(str(Path(folder) / f"{name}.png"))
