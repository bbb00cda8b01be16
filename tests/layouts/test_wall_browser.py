"""The video wall in headless Chromium, as a paired screen sees it: no header, a playlist that rotates, an
extreme alarm that takes the wall over until it is acknowledged, a revoked screen that blanks, and the
server lost and back on the same port."""

from __future__ import annotations

import shutil
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from dash import Dash
from selenium.webdriver.remote.webdriver import WebDriver
from werkzeug.serving import BaseWSGIServer, make_server

from ioc.config import Settings, load_settings
from ioc.model import Alert, Severity
from ioc.store import Store
from ioc.wall.screens import ScreenBook
from layouts import ids
from layouts.app import create_app
from tests.layouts.dom import css, screenshot, wait_for

pytestmark = pytest.mark.browser

# three short items, so a test sees the playlist come round again
PLAYLIST = """
takeover: {severities: [extreme], return_after_minutes: 10}
playlists:
  default:
    - {page: "/", dwell_seconds: 6}
    - {sector: transport, dwell_seconds: 6}
    - {area: "Hải Châu", dwell_seconds: 6}
screens:
  wall-t: {name: {vi: "Tường thử", en: "Test wall"}}
"""
LABELS = ("Phòng điều hành", "Lĩnh vực: Giao thông", "Khu vực: Hải Châu")


@pytest.fixture(scope="module")
def wall_settings(tmp_path_factory: pytest.TempPathFactory, settings: Settings) -> Settings:
    folder = tmp_path_factory.mktemp("city")
    for path in Path(settings.directory).glob("*.yaml"):
        shutil.copy(path, folder / path.name)
    (folder / "wall.yaml").write_text(PLAYLIST, encoding="utf-8")
    return load_settings(folder)


class Served:
    """The app on a fixed loopback port, which a test may stop and start again (the same port)."""

    def __init__(self, app: Dash) -> None:
        self.app = app
        self.server: BaseWSGIServer | None = None
        self.thread: threading.Thread | None = None
        self.port = 0
        self.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        self.server = make_server("127.0.0.1", self.port, self.app.server, threaded=True)
        self.port = self.server.server_port
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05},
                                       daemon=True)
        self.thread.start()

    def stop(self) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()
            assert self.thread is not None
            self.thread.join(timeout=10)
            self.server = None


@pytest.fixture
def served(store: Store, wall_settings: Settings) -> Iterator[Served]:
    app = create_app(store, wall_settings, redis_kind="redis-server", cookie_secure=False)
    running = Served(app)
    try:
        yield running
    finally:
        running.stop()


@pytest.fixture
def paired(browser: WebDriver, served: Served, store: Store) -> Callable[[], None]:
    """Register the screen and open its key address, as whoever sets the screen up does once."""

    def pair() -> None:
        key = ScreenBook(store.redis, store.keys).add("wall-t", "Test wall", actor="test")
        browser.get(f"{served.url}/wall/wall-t?key={key}")
        wait_for(browser, 20, "the wall, live", lambda d: "wall-beat--live" in classes(d, ids.WALL_BEAT))

    return pair


def classes(driver: WebDriver, element_id: str) -> str:
    found = css(driver, f"#{element_id}")
    return (found[0].get_attribute("class") or "") if found else ""


def wall_classes(driver: WebDriver) -> str:
    return classes(driver, ids.WALL)


def text_of(driver: WebDriver, element_id: str) -> str:
    found = css(driver, f"#{element_id}")
    return found[0].text if found else ""


def label(driver: WebDriver) -> str:
    """The item on show, without where the rotation is ("Khu vực: Hải Châu · 3/3")."""
    return text_of(driver, ids.WALL_LABEL).split(" · ")[0]


def test_a_paired_screen_rotates_through_its_playlist_without_chrome(
    browser: WebDriver, served: Served, paired: Callable[[], None]
) -> None:
    paired()
    assert "key=" not in browser.current_url  # the key does not stay in the address
    assert not css(browser, ".ioc-header")[0].is_displayed()
    assert not css(browser, ".ioc-nav-link")[0].is_displayed()
    # a touch on the wall follows no link: what is under the centre of the screen is the wall's own frame
    assert browser.execute_script("return document.elementFromPoint(960, 540).closest('#wall-content') === null"
                                  " && getComputedStyle(document.getElementById('wall-content')).pointerEvents"
                                  " === 'none';")
    seen = []
    for _ in range(4):  # every item, and the first again: the playlist comes round
        wait_for(browser, 20, "the next item", lambda d: label(d) in LABELS and (not seen or label(d) != seen[-1]))
        seen.append(label(browser))
    assert set(seen) == set(LABELS)
    name, where = text_of(browser, ids.WALL_LABEL).split(" · ")  # one read: the rotation may move on
    assert where == f"{LABELS.index(name) + 1}/3"
    assert seen[3] == seen[0]
    # the sector item hides every other sector on the map; the area item zooms the map in
    wait_for(browser, 30, "the area item's map zoomed in", lambda d: label(d) == LABELS[2] and d.execute_script(
        "const g = document.querySelector('.wall .city-map .js-plotly-plot');"
        "return !!(g && g.layout && g.layout.xaxis && !g.layout.xaxis.autorange"
        " && g.layout.xaxis.range[1] - g.layout.xaxis.range[0] < 0.2);"))


def test_an_extreme_alarm_takes_the_wall_over_until_it_is_acknowledged(
    browser: WebDriver, served: Served, paired: Callable[[], None], store: Store
) -> None:
    paired()
    alert, _ = store.raise_alert(Alert(id="", rule_id="flood", entity_id="urn:test:flood-1",
                                       title="Ngập sâu đường Hoàng Diệu", severity=Severity.EXTREME,
                                       sector="emergency", agency="danang-drainage", district="Hải Châu"))
    wait_for(browser, 15, "the takeover", lambda d: "wall--takeover" in wall_classes(d))
    banner = css(browser, f"#{ids.WALL_BANNER}")[0].text
    assert "Ngập sâu đường Hoàng Diệu" in banner and "Hải Châu" in banner
    wait_for(browser, 15, "the alarm's own view", lambda d: "Hoàng Diệu" in text_of(d, ids.WALL_CONTENT))
    screenshot(browser, "wall-takeover")

    store.alerts.acknowledge(alert.id, actor="operator-1")

    wait_for(browser, 15, "the playlist again", lambda d: "wall--takeover" not in wall_classes(d)
             and label(d) in LABELS and not text_of(d, ids.WALL_BANNER))


def test_a_revoked_screen_blanks_at_its_next_tick(
    browser: WebDriver, served: Served, paired: Callable[[], None], store: Store
) -> None:
    paired()
    ScreenBook(store.redis, store.keys).revoke("wall-t", actor="admin")
    wait_for(browser, 10, "the screen blanked", lambda d: "wall--revoked" in wall_classes(d))
    assert not css(browser, f"#{ids.WALL_CONTENT}")[0].is_displayed()
    assert not css(browser, f"#{ids.WALL_LABEL}")[0].is_displayed()
    assert css(browser, f"#{ids.WALL_BLANK}")[0].is_displayed()
    screenshot(browser, "wall-revoked")
    # reloaded, it stays blank: no sign-in form on a wall, nothing of the city
    browser.get(f"{served.url}/wall?screen=wall-t")
    assert css(browser, "body.wall-refused") and "/login" not in browser.current_url


def test_a_screen_that_loses_the_server_says_so_and_recovers_by_itself(
    browser: WebDriver, served: Served, paired: Callable[[], None]
) -> None:
    paired()
    served.stop()
    wait_for(browser, 12, "connection lost on screen", lambda d: "wall--lost" in wall_classes(d))
    lost = css(browser, f"#{ids.WALL_LOST}")[0]
    assert lost.is_displayed() and "Mất kết nối" in lost.text and "dữ liệu lúc" in lost.text
    assert "wall-beat--lost" in classes(browser, ids.WALL_BEAT)
    screenshot(browser, "wall-lost")

    served.start()  # the same port, as a restarted service

    wait_for(browser, 15, "live again", lambda d: "wall--lost" not in wall_classes(d)
             and "wall-beat--live" in classes(d, ids.WALL_BEAT))
    assert not css(browser, f"#{ids.WALL_LOST}")[0].is_displayed()
