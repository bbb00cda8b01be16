"""A wall screen's way in, through the real app on a real Redis: its key exchanged once for a device cookie,
view-only whatever it asks for, blank (never a sign-in form) once revoked, every pairing audited."""

from __future__ import annotations

import dash
import pytest
import redis
from flask.testing import FlaskClient

from ioc.access import screens as screen_access
from ioc.access.screens import COOKIE
from ioc.audit import AuditQuery, AuditTrail
from ioc.config import Settings
from ioc.store import Store
from ioc.wall.screens import ScreenBook
from layouts.app import create_app
from tests.ioc.access.conftest import callback_body, key_writing, post_callback

pytestmark = pytest.mark.integration


@pytest.fixture
def app(store: Store, settings: Settings) -> dash.Dash:
    app = create_app(store, settings, redis_kind="redis-server", cookie_secure=False)
    app.server.test_client().get("/healthz")  # Dash merges its own callbacks on the first request
    return app


@pytest.fixture
def screens(store: Store) -> ScreenBook:
    return ScreenBook(store.redis, store.keys)


def paired(app: dash.Dash, screens: ScreenBook, screen: str = "wall-1") -> FlaskClient:
    key = screens.add(screen, actor="admin-1")
    client = app.server.test_client()
    response = client.get(f"/wall/{screen}?key={key}")
    assert response.status_code == 302 and response.headers["Location"] == f"/wall?screen={screen}"
    return client


def test_the_key_is_exchanged_once_for_a_device_cookie_and_leaves_the_address(
    app: dash.Dash, screens: ScreenBook, store: Store
) -> None:
    key = screens.add("wall-1", actor="admin-1")
    client = app.server.test_client()
    response = client.get(f"/wall/wall-1?key={key}")
    cookie = response.headers["Set-Cookie"]
    assert cookie.startswith(f"{COOKIE}=") and "HttpOnly" in cookie and "Path=/" in cookie
    assert key not in cookie and "key=" not in response.headers["Location"]
    assert client.get("/wall?screen=wall-1").status_code == 200
    entry = AuditTrail(store.redis, store.keys).search(AuditQuery(action="screen.paired"))[0]
    assert entry.actor == "screen:wall-1" and key not in str(entry)


def test_a_wrong_key_gets_a_blank_refusal_and_is_audited(app: dash.Dash, screens: ScreenBook, store: Store) -> None:
    screens.add("wall-1", actor="admin-1")
    response = app.server.test_client().get("/wall/wall-1?key=ioc_screen_guess")
    assert response.status_code == 401 and "wall-refused" in response.get_data(as_text=True)
    assert AuditTrail(store.redis, store.keys).search(AuditQuery(action="screen.pair_refused"))


def test_guessing_keys_from_one_address_is_slowed_down(app: dash.Dash, screens: ScreenBook) -> None:
    screens.add("wall-1", actor="admin-1")
    client = app.server.test_client()
    codes = [client.get(f"/wall/wall-1?key=ioc_screen_guess{n}").status_code for n in range(25)]
    assert codes[0] == 401 and codes[-1] == 429


def test_a_screen_only_looks(app: dash.Dash, screens: ScreenBook) -> None:
    client = paired(app, screens)
    for path in ("/", "/alerts", "/wall"):
        assert client.get(path).status_code == 200, path
    for path in ("/admin", "/reports", "/feeds"):
        assert client.get(path).status_code == 403, path
    assert client.get("/admin/audit.csv").status_code == 403
    assert client.get("/api/v1/entities").status_code == 401  # no open-data API for a screen
    # no callback that changes anything: acknowledging an alarm, managing users or screens
    for output in ("alerts-feedback.children", "admin-users.children", "admin-screens.children"):
        key = key_writing(app, output)
        response = post_callback(client, callback_body(app, key, changed=[key]))
        assert response.status_code == 403, output


def test_a_screen_sees_its_own_state_whatever_screen_it_names(app: dash.Dash, screens: ScreenBook) -> None:
    screens.add("wall-2", actor="admin-1")
    client = paired(app, screens)
    state = client.get("/wall/state?screen=wall-2").get_json()
    assert state["screen"] == "wall-1" and state["name"] == "Tường chính"
    assert screens.get("wall-1").last_seen is not None


def test_a_revoked_screen_is_refused_and_blank_never_a_sign_in_form(app: dash.Dash, screens: ScreenBook) -> None:
    client = paired(app, screens)
    screens.revoke("wall-1", actor="admin-1")
    state = client.get("/wall/state")
    assert state.status_code == 403 and state.get_json()["error"] == "this screen was revoked"
    page = client.get("/wall?screen=wall-1")
    assert page.status_code == 401 and "wall-refused" in page.get_data(as_text=True)
    assert "Location" not in page.headers
    key = key_writing(app, "wall-content.children")
    assert post_callback(client, callback_body(app, key, changed=[key])).status_code == 403


def test_a_forged_or_foreign_cookie_is_nobody(app: dash.Dash, screens: ScreenBook) -> None:
    screens.add("wall-1", actor="admin-1")
    client = app.server.test_client()
    client.set_cookie(COOKIE, "eyJzY3JlZW4iOiJ3YWxsLTEiLCJnZW5lcmF0aW9uIjoxfQ.forged.signature")
    response = client.get("/wall?screen=wall-1")
    assert response.status_code == 302 and response.headers["Location"].startswith("/login")
    assert client.get("/wall/state?screen=wall-1").status_code == 401


def test_redis_away_greys_a_screen_and_never_blanks_it(
    app: dash.Dash, screens: ScreenBook, monkeypatch: pytest.MonkeyPatch
) -> None:
    client = paired(app, screens)
    assert client.get("/wall/state").status_code == 200

    def away(*_args: object) -> None:
        raise redis.ConnectionError("Redis is away")

    monkeypatch.setattr(ScreenBook, "principal", away)
    # verified a moment ago: the screen keeps its wall through a short outage
    assert client.get("/wall/state").status_code == 200
    screen_access._recently_verified.clear()  # as after OUTAGE_GRACE_SECONDS
    response = client.get("/wall/state")
    assert response.status_code == 503  # not 403: the wall says "connection lost", it does not blank
