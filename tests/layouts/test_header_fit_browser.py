"""The header fits a control-room screen for every role in both languages: no page link, clock, account
button or language switch falls off the right edge at 1920x1080 or 3840x2160 (the admin sees the most links)."""

from __future__ import annotations

from collections.abc import Callable

import pytest
import redis
from dash import Dash
from selenium.webdriver.remote.webdriver import WebDriver

from ioc.config import Settings
from ioc.store import Store
from layouts.app import create_app
from tests.layouts.city_scene import populate
from tests.layouts.dom import add_user, css, sign_in, wait_for

pytestmark = [pytest.mark.browser, pytest.mark.integration]

ROLES = ("admin", "operator", "manager", "integrator")
SIZES = ((1920, 1080), (3840, 2160))

# what sticks out past the viewport or past its own header box; empty when everything fits
OVERFLOW = """
const header = document.querySelector('.ioc-header');
const width = document.documentElement.clientWidth;
const out = [];
for (const node of header.querySelectorAll('*')) {
  const box = node.getBoundingClientRect();
  if (box.width === 0 || getComputedStyle(node).visibility === 'hidden') continue;
  if (box.right > width + 0.5 || box.left < -0.5) out.push((node.id || node.className || node.tagName) + ' ' +
      Math.round(box.left) + '..' + Math.round(box.right));
}
if (header.scrollWidth > header.clientWidth + 1) out.push('header scrolls: ' + header.scrollWidth + ' > ' +
    header.clientWidth);
return out;
"""


@pytest.fixture
def served(redis_client: redis.Redis, settings: Settings, serve_app: Callable[[Dash], str]) -> str:
    store = Store(redis_client, settings.city.id)
    populate(store, settings)
    app = create_app(store, settings, redis_kind="server", cookie_secure=False)
    for role in ROLES:
        add_user(app, role, role)
    return serve_app(app)


@pytest.mark.parametrize("language", ["vi", "en"])
def test_every_role_sees_the_whole_header(browser: WebDriver, served: str, language: str) -> None:
    problems = []
    try:
        for role in ROLES:
            browser.delete_all_cookies()
            browser.get(f"{served}/login?lang={language}")
            sign_in(browser, served, role)
            wait_for(browser, 30, f"{role}'s header", lambda d: css(d, ".ioc-header .ioc-lang-button--active"))
            for width, height in SIZES:
                browser.execute_cdp_cmd("Emulation.setDeviceMetricsOverride",
                                        {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": False})
                browser.refresh()
                wait_for(browser, 30, f"{role}'s header at {width}",
                         lambda d: css(d, ".ioc-header .ioc-lang-button--active"))
                active = css(browser, ".ioc-lang-button--active")[0].text.strip().lower()
                assert active == language, f"{role} at {width}: {active} shown, {language} chosen"
                problems += [f"{role} {language} {width}: {item}" for item in browser.execute_script(OVERFLOW)]
    finally:
        browser.execute_cdp_cmd("Emulation.setDeviceMetricsOverride",
                                {"width": 1920, "height": 1080, "deviceScaleFactor": 1, "mobile": False})
    assert not problems, "\n".join(problems)
