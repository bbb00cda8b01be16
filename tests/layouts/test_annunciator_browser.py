"""The annunciator in headless Chromium: sound off until a click, the alarm's sound played, stopped when it is
acknowledged, silenced per screen (audited), and absent for a role that does not see alerts."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from dash import Dash
from selenium.webdriver.remote.webdriver import WebDriver

from ioc.audit import AuditQuery, AuditTrail
from ioc.config import Settings
from ioc.model import Alert, Severity
from ioc.store import Store
from layouts import ids
from layouts.app import create_app
from tests.layouts.dom import TEST_PASSWORD, add_user, css, sign_in, wait_for

pytestmark = pytest.mark.browser

PLAYING = "return Array.from(document.querySelectorAll('audio[data-sound]')).filter(a => !a.paused)" \
          ".map(a => a.dataset.sound);"


def popup_open(driver: WebDriver) -> bool:
    found = css(driver, f"#{ids.ANNUNCIATOR}")  # none until the page has drawn
    return bool(found) and "annunciator--open" in (found[0].get_attribute("class") or "")


def raise_(store: Store, name: str, severity: Severity) -> str:
    alert, _ = store.raise_alert(Alert(id="", rule_id=name, entity_id=f"urn:test:{name}",
                                       title=f"Ngập sâu tại {name}", severity=severity, sector="emergency",
                                       agency="danang-drainage", district="Cẩm Lệ"))
    return alert.id


@pytest.fixture
def served(fake_store: Store, settings: Settings, serve_app: Callable[[Dash], str]) -> str:
    app = create_app(fake_store, settings, redis_kind="in-process", cookie_secure=False)
    add_user(app, "operator-1", "operator")
    add_user(app, "manager-1", "manager")
    return serve_app(app)


def test_an_alarm_sounds_once_sound_is_on_and_stops_when_acknowledged(
    browser: WebDriver, served: str, fake_store: Store
) -> None:
    alert = raise_(fake_store, "kiet-1", Severity.SEVERE)
    sign_in(browser, served, "operator-1", TEST_PASSWORD)
    browser.get(served + "/")

    wait_for(browser, 20, "the pop-up naming the alarm", lambda d: popup_open(d) and "kiet-1" in d.find_element(
        "id", ids.ANNUNCIATOR_LIST).text)
    assert "Cẩm Lệ" in browser.find_element("id", ids.ANNUNCIATOR_LIST).text
    assert "sound-notice--shown" in css(browser, f"#{ids.SOUND_NOTICE}")[0].get_attribute("class")
    assert browser.execute_script(PLAYING) == []  # no sound before a click: the screen says so instead

    css(browser, f"#{ids.SOUND_ENABLE}")[0].click()
    wait_for(browser, 10, "the severe alarm's sound playing", lambda d: d.execute_script(PLAYING) == ["high"])

    fake_store.alerts.acknowledge(alert, actor="operator-2")  # acknowledged on another desk
    wait_for(browser, 15, "the sound stopped and the pop-up closed",
             lambda d: d.execute_script(PLAYING) == [] and not popup_open(d))


def test_a_screen_silences_what_it_sounds_and_a_new_alarm_sounds_again(
    browser: WebDriver, served: str, fake_store: Store
) -> None:
    first = raise_(fake_store, "kiet-2", Severity.EXTREME)
    sign_in(browser, served, "operator-1", TEST_PASSWORD)
    browser.get(served + "/")
    wait_for(browser, 20, "the pop-up", popup_open)
    css(browser, f"#{ids.SOUND_ENABLE}")[0].click()
    wait_for(browser, 10, "the extreme alarm's sound", lambda d: d.execute_script(PLAYING) == ["urgent"])

    css(browser, f"#{ids.SILENCE}")[0].click()

    wait_for(browser, 10, "silence on this screen", lambda d: d.execute_script(PLAYING) == [] and not popup_open(d))
    entry = AuditTrail(fake_store.redis, fake_store.keys).search(AuditQuery(action="annunciation.silenced"))[0]
    assert entry.actor == "operator-1" and first in entry.note and entry.object.startswith("screen:")
    assert fake_store.alerts.get(first).acknowledged_by == ""  # silenced here, still unacknowledged

    raise_(fake_store, "kiet-3", Severity.SEVERE)
    wait_for(browser, 15, "the new alarm sounding", lambda d: d.execute_script(PLAYING) == ["high"] and popup_open(d))


def test_a_role_that_does_not_see_alerts_gets_no_annunciator(
    browser: WebDriver, served: str, fake_store: Store
) -> None:
    raise_(fake_store, "kiet-4", Severity.SEVERE)
    sign_in(browser, served, "manager-1", TEST_PASSWORD)
    browser.get(served + "/")
    wait_for(browser, 20, "the control room", lambda d: css(d, ".kpi-panel"))

    assert css(browser, f"#{ids.ANNUNCIATOR}") == []
