"""Reading Dash component trees in tests: all text, and the components carrying a class."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

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
