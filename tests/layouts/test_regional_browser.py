"""The regional page in headless Chromium: a peer IOC served on a real port beside a port nobody answers on
(the live one's card fills in, the dead one says "down since"), and `ioc demo --cities danang,hue`: two IOCs,
each its own process and Redis, each seeing the other on its regional view through the other's API."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest
from dash import Dash
from selenium.webdriver.remote.webdriver import WebDriver

from ioc.config import PROJECT_ROOT, Settings
from ioc.model import Alert, Severity
from ioc.redis_conn import free_port
from ioc.sharing import AgreementBook
from ioc.store import Store
from layouts.app import create_app
from tests.layouts.dom import add_user, css, sign_in, wait_for
from tests.waiting import WaitTimeout, wait_until

pytestmark = pytest.mark.integration
DEMO_PASSWORD = "demo-password-for-tests"


def card_state(driver: WebDriver, peer: str) -> str | None:
    found = css(driver, f'.regional-card[data-peer="{peer}"]')
    return found[0].get_attribute("data-state") if found else None


def test_a_live_and_a_dead_peer_side_by_side(browser: WebDriver, store: Store, settings: Settings,
                                             serve_app: Callable[[Dash], str], tmp_path: Path,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    store.raise_alert(Alert(id="", rule_id="pm25-high", entity_id="urn:x:1", title="PM2.5 cao",
                            severity=Severity.SEVERE, sector="environment", agency="a", district="Hải Châu",
                            location=(108.2, 16.05)))
    peer = create_app(store, settings, redis_kind="server", cookie_secure=False)
    users = peer.server.extensions["ioc_security"].users
    key = AgreementBook(users.redis, users.keys, users).grant("danang", name="Đà Nẵng", granularity="ward",
                                                              datasets=["kpis", "alerts", "feeds"], actor="admin")
    peer_url = serve_app(peer)
    dead = f"http://127.0.0.1:{free_port()}"
    peers = tmp_path / "peers.yaml"
    peers.write_text(
        "refresh: 2\npeers:\n"
        f"  - {{id: hue, name: {{vi: Huế, en: Hue}}, base_url: '{peer_url}', centre: [107.59, 16.46],\n"
        "     auth: {type: api_key, key: {env: IOC_TEST_PEER_KEY}}}\n"
        f"  - {{id: quangngai, name: {{vi: Quảng Ngãi, en: Quang Ngai}}, base_url: '{dead}', centre: [108.8, 15.12],"
        " timeout: 1}\n", encoding="utf-8")
    monkeypatch.setenv("IOC_PEERS_FILE", str(peers))
    monkeypatch.setenv("IOC_TEST_PEER_KEY", key)
    # the reading city: its own store under another city id in the same Redis
    reader = create_app(Store(store.redis, "danang-reader"), settings, redis_kind="server", cookie_secure=False)
    add_user(reader, "op", "operator")
    url = serve_app(reader)
    sign_in(browser, url, "op")
    browser.get(url + "/regional")
    wait_for(browser, 40, "the peer's card connected", lambda d: card_state(d, "hue") == "ok")
    wait_for(browser, 20, "the dead peer down", lambda d: card_state(d, "quangngai") == "down")
    hue = css(browser, '.regional-card[data-peer="hue"]')[0].text
    assert "Huế" in hue and "Cảnh báo đang mở\n1" in hue
    assert "Mất kết nối từ" in css(browser, '.regional-card[data-peer="quangngai"]')[0].text
    # the region map draws every IOC's centre with its name
    assert {"Huế", "Quảng Ngãi"} <= {node.text for node in css(browser, ".regional-map text")}
    AgreementBook(users.redis, users.keys, users).revoke("danang", actor="admin")
    wait_for(browser, 30, "the revoked peer refused", lambda d: card_state(d, "hue") == "refused")


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is not None:
        return
    os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=40)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)


def test_two_city_demo_each_sees_the_other(browser: WebDriver, tmp_path: Path) -> None:
    port, sim_port = 8196, 8200  # the cities take port and port+1, their simulators sim_port to sim_port+3
    log = tmp_path / "demo.log"
    with log.open("wb") as output:
        process = subprocess.Popen(
            [sys.executable, "-m", "ioc", "demo", "--cities", "danang,hue", "--port", str(port), "--sim-port",
             str(sim_port), "--mqtt-url", ""],
            cwd=PROJECT_ROOT, stdout=output, stderr=subprocess.STDOUT, start_new_session=True,
            env={**os.environ, "IOC_DEMO_PASSWORD": DEMO_PASSWORD, "IOC_DATA_DIR": str(tmp_path / "data")})
    urls = {"danang": f"http://127.0.0.1:{port}", "hue": f"http://127.0.0.1:{port + 1}"}

    def both_answer() -> bool:
        if process.poll() is not None:
            pytest.fail(f"the demo exited with {process.returncode}:\n{log.read_text(errors='replace')[-4000:]}")
        return all(httpx.get(url + "/healthz", timeout=2).status_code == 200 for url in urls.values())

    try:
        try:
            wait_until(both_answer, timeout=80, interval=0.5, message="both cities to answer",
                       ignoring=(httpx.HTTPError,))
        except WaitTimeout as timeout:
            pytest.fail(f"{timeout}:\n{log.read_text(errors='replace')[-4000:]}")
        for city, other in (("danang", "hue"), ("hue", "danang")):
            sign_in(browser, urls[city], "operator", DEMO_PASSWORD)
            browser.get(urls[city] + "/regional")
            wait_for(browser, 30, f"{city} reading {other}", lambda d, o=other: card_state(d, o) == "ok", log)
            card = css(browser, f'.regional-card[data-peer="{other}"]')[0].text
            assert "Nguồn dữ liệu" in card and "bình thường" in card, card
            browser.delete_all_cookies()
        printed = log.read_text(errors="replace")
        assert "sharing: danang lets hue read kpis, alerts, feeds by ward" in printed
        assert "[hue] adapters: 5 feeds polling" in printed
    finally:
        _stop(process)
