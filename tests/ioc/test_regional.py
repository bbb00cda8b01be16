"""The regional reader against real local HTTP servers: a peer IOC (the app on a real port over a real
redis-server, reading with the key of its agreement), a peer that answers too late and a port nobody listens
on. Each is read on its own terms: the live peer's values arrive whatever the others do, the slow one is
"slow", the dead one "down" with its last good values kept, a revoked agreement "refused" and audited here."""

from __future__ import annotations

import http.server
import threading
import time
from collections.abc import Iterator
from datetime import timedelta

import dash
import pytest
from werkzeug.serving import make_server

from ioc.audit import AuditQuery, AuditTrail
from ioc.config import ConfigError, Settings
from ioc.keys import Keys
from ioc.model import Alert, Batch, Entity, Severity, utcnow
from ioc.regional import Regional, alert_summary
from ioc.sharing import AgreementBook
from ioc.sharing.peers import PeerFile, load_peers
from ioc.store import Store
from layouts.app import create_app
from tests.layouts.dom import add_user

pytestmark = pytest.mark.integration


class _Slow(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:  # noqa: N802 - the standard library's name
        time.sleep(3)
        try:
            self.send_response(200)
            self.end_headers()
            self.wfile.write(b'{"items": []}')
        except OSError:
            pass  # the reader gave up on us long ago, as it should

    def log_message(self, *_args: object) -> None:
        pass


@pytest.fixture
def peer_app(store: Store, settings: Settings) -> dash.Dash:
    now = utcnow()
    feed = settings.feeds[0]
    entity = Entity(id=f"urn:ioc:danang:{feed.name}:st-1", type="AirQualityObserved", agency=feed.agency,
                    sector=feed.sector, name="Trạm 1", location=(108.2, 16.05), district="Hải Châu",
                    attributes={"pm25": 42.0}, observed_at=now, feed=feed.name)
    store.write_batch(feed.name, Batch(entities=[entity]), now=now)
    store.raise_alert(Alert(id="", rule_id="pm25-high", entity_id=entity.id, title="PM2.5 cao",
                            severity=Severity.SEVERE, sector="environment", agency=feed.agency,
                            district="Hải Châu", location=(108.2, 16.05)))
    app = create_app(store, settings, redis_kind="server", cookie_secure=False)
    add_user(app, "admin-1", "admin")
    return app


@pytest.fixture
def servers(peer_app: dash.Dash) -> Iterator[dict[str, str]]:
    live = make_server("127.0.0.1", 0, peer_app.server, threaded=True)
    slow = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Slow)
    slow.daemon_threads = True
    dead = http.server.HTTPServer(("127.0.0.1", 0), _Slow)
    dead_port = dead.server_address[1]
    dead.server_close()  # nothing listens there any more
    for server in (live, slow):
        threading.Thread(target=server.serve_forever, daemon=True).start()
    yield {"live": f"http://127.0.0.1:{live.server_port}", "slow": f"http://127.0.0.1:{slow.server_address[1]}",
           "dead": f"http://127.0.0.1:{dead_port}"}
    live.shutdown()
    slow.shutdown()
    slow.server_close()


def peers(urls: dict[str, str], timeout: float = 1.0) -> PeerFile:
    auth = {"type": "api_key", "key": {"env": "IOC_TEST_PEER_KEY"}}
    return PeerFile.model_validate({"refresh": 5, "slow_after": 0.8, "peers": [
        {"id": name, "name": {"vi": name, "en": name}, "base_url": url, "auth": auth, "centre": [108.2, 16.05],
         "timeout": timeout} for name, url in urls.items()]})


def grant(peer_app: dash.Dash, granularity: str = "ward") -> tuple[AgreementBook, str]:
    users = peer_app.server.extensions["ioc_security"].users
    book = AgreementBook(users.redis, users.keys, users)
    return book, book.grant("hue", name="Huế", datasets=["kpis", "alerts", "feeds"], granularity=granularity,
                            actor="admin-1")


def test_a_slow_and_a_dead_peer_never_hold_the_live_one_back(peer_app: dash.Dash, servers: dict[str, str],
                                                            store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    _, key = grant(peer_app, "city")
    monkeypatch.setenv("IOC_TEST_PEER_KEY", key)
    regional = Regional(store.redis, Keys("hue"), peers(servers))
    readings = regional.refresh()
    live, slow, dead = readings["live"], readings["slow"], readings["dead"]
    assert live.state == "ok", live
    assert live.alerts["counts"] == {"severe": 1} and live.alerts["markers"][0]["lon"] == 108.2
    assert any(row["unit"] == "µg/m³" or row["value"] is not None for row in live.kpis)
    # each KPI's label in both interface languages, from the peer's own catalogue
    air = next(row for row in live.kpis if row["id"] == f"feed:{peer_app.server.extensions['ioc'].settings.feeds[0].name}")
    assert (air["label"], air["label_en"]) == ("PM2.5 trung bình", "Mean PM2.5")
    assert sum(live.feeds.values()) == len(peer_app.server.extensions["ioc"].settings.feeds)
    assert slow.state == "slow" and "within 1 s" in slow.error and slow.good_at is None
    assert dead.state == "down" and dead.error == "ConnectError"
    # kept in Redis for every screen: the page reads these without asking any peer
    assert regional.readings()["live"].alerts == live.alerts


def test_a_peer_that_goes_down_keeps_its_last_good_values(peer_app: dash.Dash, servers: dict[str, str],
                                                          store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    _, key = grant(peer_app)
    monkeypatch.setenv("IOC_TEST_PEER_KEY", key)
    first = Regional(store.redis, Keys("hue"), peers({"danang": servers["live"]})).refresh()["danang"]
    assert first.state == "ok" and first.alerts["total"] == 1
    # at ward granularity the alert is placed at its area's centre, not at the station
    assert (first.alerts["markers"][0]["lon"], first.alerts["markers"][0]["lat"]) != (108.2, 16.05)
    later = utcnow().replace(microsecond=0) + timedelta(minutes=2)
    gone = Regional(store.redis, Keys("hue"), peers({"danang": servers["dead"]})).refresh(now=later)["danang"]
    assert gone.state == "down" and gone.since == later
    assert gone.alerts == first.alerts and gone.kpis == first.kpis and gone.good_at == first.good_at
    again = Regional(store.redis, Keys("hue"), peers({"danang": servers["dead"]})).refresh(
        now=later + timedelta(minutes=1))["danang"]
    assert again.since == later  # "down since" stays where it began


def test_a_revoked_agreement_shows_refused_and_is_audited_on_the_reading_side(
        peer_app: dash.Dash, servers: dict[str, str], store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    book, key = grant(peer_app)
    monkeypatch.setenv("IOC_TEST_PEER_KEY", key)
    regional = Regional(store.redis, Keys("hue"), peers({"danang": servers["live"]}))
    assert regional.refresh()["danang"].state == "ok"
    book.revoke("hue", actor="admin-1")
    refused = regional.refresh()["danang"]
    assert refused.state == "refused" and refused.error == "HTTP 401"
    ours = [(e.action, e.object) for e in AuditTrail(store.redis, Keys("hue")).search(AuditQuery())]
    assert ours == [("sharing.peer_refused", "peer:danang")]
    theirs = [e.action for e in AuditTrail(store.redis, store.keys).search(AuditQuery(action="sharing"))]
    assert theirs == ["sharing.revoked", "sharing.granted"]


def test_a_missing_credential_is_said_not_sent(servers: dict[str, str], store: Store,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("IOC_TEST_PEER_KEY", raising=False)
    reading = Regional(store.redis, Keys("hue"), peers({"danang": servers["live"]})).refresh()["danang"]
    assert reading.state == "unconfigured" and "IOC_TEST_PEER_KEY" in reading.error


def test_the_snapshot_never_waits_for_a_peer(servers: dict[str, str], store: Store,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("IOC_TEST_PEER_KEY", "ioc_x")
    regional = Regional(store.redis, Keys("hue"), peers({"slow": servers["slow"]}, timeout=2.0))
    first = regional.snapshot()
    assert first["slow"].state == "never"  # the reading runs in the background
    assert store.redis.exists(Keys("hue").regional_refresh())  # one process holds the refresh
    for _ in range(100):
        if regional.readings()["slow"].state != "never":
            break
        time.sleep(0.1)
    assert regional.readings()["slow"].state == "slow"


def test_alert_rollups_become_counts_and_area_markers() -> None:
    summary = alert_summary({"items": [
        {"severity": "severe", "sector": "environment", "area": "Phú Xuân", "lon": 107.58, "lat": 16.46, "count": 3},
        {"severity": "extreme", "sector": "emergency", "count": 2}, {"severity": "odd"}]})
    assert summary["counts"] == {"extreme": 2, "severe": 3, "unknown": 1} and summary["total"] == 6
    assert summary["markers"] == [{"lon": 107.58, "lat": 16.46, "severity": "severe", "count": 3,
                                   "title": "Phú Xuân"}]


def test_peers_yaml_errors_name_the_file_the_entry_and_the_field(tmp_path: object) -> None:
    from pathlib import Path

    folder = Path(str(tmp_path))
    (folder / "peers.yaml").write_text("peers:\n  - id: hue\n    name: {vi: Huế, en: Hue}\n"
                                       "    base_url: ftp://x\n    centre: [107.6, 16.46]\n"
                                       "    auth: {type: api_key, key: ioc_secret}\n", encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load_peers(folder)
    message = str(caught.value)
    assert "peers.yaml: peers[0]" in message and "base_url" in message and "auth" in message
    assert "ioc_secret" not in message  # a secret written in by mistake is not repeated
    assert load_peers(folder / "none").peers == []
    # the demo cities' own files: each reads the other
    from ioc.config import PROJECT_ROOT

    assert [peer.id for peer in load_peers(PROJECT_ROOT / "config" / "danang").peers] == ["hue"]
    assert [peer.id for peer in load_peers(PROJECT_ROOT / "config" / "hue").peers] == ["danang"]
