"""Signed-in sessions: they end on sign-out's causes (disabled user, role change), after the role's idle and
maximum time (live refreshes are not activity), and their cookie is HttpOnly, SameSite and Secure as set."""

from __future__ import annotations

import stat
import time
from pathlib import Path
from typing import Any

import dash
import flask
import pytest
from flask.testing import FlaskClient

from ioc.access import cookie_secure_default
from ioc.config import Settings
from ioc.store import Store
from layouts import ids
from layouts.app import create_app
from tests.ioc.access.conftest import callback_body, csrf_of, key_writing, post_callback, signed_in
from tests.layouts.dom import client_sign_in


def _age_session(client: FlaskClient, *, signed_in_ago: float, active_ago: float) -> None:
    with client.session_transaction() as session:
        now = time.time()
        session["signed_in_at"] = now - signed_in_ago
        session["active_at"] = now - active_ago


def _active_ago(client: FlaskClient) -> float:
    with client.session_transaction() as session:
        return time.time() - session["active_at"]


def test_a_disabled_users_live_session_stops_at_the_next_request(app: dash.Dash) -> None:
    client = signed_in(app, "operator")
    assert client.get("/_dash-layout").status_code == 200
    app.server.extensions["ioc_security"].users.set_disabled("operator-1", True, actor="admin-1")
    assert client.get("/_dash-layout").status_code == 401
    assert client.get("/").status_code == 302
    assert client_sign_in(app.server.test_client(), "operator-1").status_code == 401


def test_a_cookie_copied_before_sign_out_opens_nothing_after_it(app: dash.Dash) -> None:
    """Sign-out ends the session on the server, not only in the browser that signed out."""
    client = signed_in(app, "manager")
    copied = client.get_cookie("ioc_session").value  # type: ignore[union-attr]
    assert client.post("/logout", data={"csrf": csrf_of(client)}).status_code == 302
    replay = app.server.test_client()
    replay.set_cookie("ioc_session", copied)
    assert replay.get("/reports").status_code == 302
    assert replay.get("/api/v1/kpis").status_code == 401
    assert replay.get("/_dash-layout").status_code == 401


def test_each_sign_in_is_its_own_session_and_signing_out_of_one_leaves_the_others(app: dash.Dash) -> None:
    wall, desk = signed_in(app, "operator"), signed_in(app, "operator")
    assert desk.post("/logout", data={"csrf": csrf_of(desk)}).status_code == 302
    assert desk.get("/_dash-layout").status_code == 401
    assert wall.get("/_dash-layout").status_code == 200


@pytest.mark.parametrize("change", ["disable", "role", "password"])
def test_a_user_change_ends_every_session_of_theirs_on_the_server(app: dash.Dash, change: str) -> None:
    users = app.server.extensions["ioc_security"].users
    clients = [signed_in(app, "manager"), signed_in(app, "manager")]
    assert users.session_count("manager-1") == 2
    if change == "disable":
        users.set_disabled("manager-1", True, actor="admin-1")
        users.set_disabled("manager-1", False, actor="admin-1")
    elif change == "role":
        users.set_role("manager-1", "integrator", actor="admin-1")
        users.set_role("manager-1", "manager", actor="admin-1")
    else:
        users.set_password("manager-1", "another-password-1", actor="admin-1")
    assert users.session_count("manager-1") == 0
    assert [client.get("/_dash-layout").status_code for client in clients] == [401, 401]


def test_a_role_change_ends_the_sessions_signed_in_before_it(app: dash.Dash) -> None:
    client = signed_in(app, "manager")
    app.server.extensions["ioc_security"].users.set_role("manager-1", "integrator", actor="admin-1")
    assert client.get("/_dash-layout").status_code == 401


def test_a_session_ends_after_the_roles_inactivity_timeout(app: dash.Dash) -> None:
    roles = app.server.extensions["ioc_roles"]
    client = signed_in(app, "manager")
    idle = roles.idle_seconds("manager")
    _age_session(client, signed_in_ago=idle - 60, active_ago=idle - 60)
    assert client.get("/_dash-layout").status_code == 200
    _age_session(client, signed_in_ago=idle + 60, active_ago=idle + 60)
    assert client.get("/_dash-layout").status_code == 401


def test_live_refreshes_do_not_keep_an_idle_session_alive_but_a_click_does(app: dash.Dash) -> None:
    roles = app.server.extensions["ioc_roles"]
    client = signed_in(app, "manager")
    idle = roles.idle_seconds("manager")
    _age_session(client, signed_in_ago=idle - 30, active_ago=idle - 30)
    heartbeat = key_writing(app, f"{ids.HEARTBEAT_STATE}.data")
    tick = callback_body(app, heartbeat, changed=[f"{ids.HEARTBEAT_TICK}.n_intervals"])
    assert post_callback(client, tick).status_code == 200
    assert _active_ago(client) >= idle - 31

    switch = key_writing(app, f"{ids.LANG}.data")
    click = callback_body(app, switch, changed=[f"{ids.LANG_EN}.n_clicks"])
    assert post_callback(client, click).status_code == 200
    assert _active_ago(client) < 5


def test_a_control_room_shift_outlasts_an_office_session(app: dash.Dash) -> None:
    roles = app.server.extensions["ioc_roles"]
    assert roles.session_seconds("operator") > roles.session_seconds("manager")
    client = signed_in(app, "operator")
    beyond_office = roles.session_seconds("manager") + 60
    _age_session(client, signed_in_ago=beyond_office, active_ago=10)
    assert client.get("/_dash-layout").status_code == 200
    _age_session(client, signed_in_ago=roles.session_seconds("operator") + 60, active_ago=10)
    assert client.get("/_dash-layout").status_code == 401


def test_an_expired_session_is_written_to_the_audit_trail(app: dash.Dash) -> None:
    from ioc.audit import AuditQuery

    roles = app.server.extensions["ioc_roles"]
    client = signed_in(app, "manager")
    _age_session(client, signed_in_ago=60, active_ago=roles.idle_seconds("manager") + 60)
    assert client.get("/_dash-layout").status_code == 401
    entries = app.server.extensions["ioc_security"].audit.search(AuditQuery(action="session.expired"))
    assert [(entry.actor, entry.note) for entry in entries] == [("manager-1", "inactivity")]


def test_session_cookie_is_httponly_samesite_and_secure_when_configured(fake_store: Store, settings: Settings
                                                                        ) -> None:
    secure = create_app(fake_store, settings, redis_kind="in-process")
    assert secure.server.config["SESSION_COOKIE_SECURE"] is True  # the default outside the demo
    assert secure.server.config["SESSION_COOKIE_HTTPONLY"] is True
    assert secure.server.config["SESSION_COOKIE_SAMESITE"] in ("Lax", "Strict")
    assert secure.server.debug is False
    cookie = secure.server.test_client().get("/login").headers["Set-Cookie"]
    assert "Secure" in cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie


def test_cookie_secure_follows_the_environment(monkeypatch: pytest.MonkeyPatch, fake_store: Store,
                                               settings: Settings) -> None:
    monkeypatch.setenv("IOC_COOKIE_SECURE", "0")
    assert create_app(fake_store, settings, redis_kind="in-process").server.config["SESSION_COOKIE_SECURE"] is False


@pytest.mark.parametrize(("override", "env", "expected"), [
    (None, None, True), (None, "off", False), (None, "1", True), (False, "1", False), (True, "0", True)])
def test_cookie_secure_default_the_caller_then_the_environment_then_roles_yaml(
    monkeypatch: pytest.MonkeyPatch, app: dash.Dash, override: bool | None, env: str | None, expected: bool
) -> None:
    roles = app.server.extensions["ioc_roles"]
    assert roles.session.cookie_secure is True
    if env is None:
        monkeypatch.delenv("IOC_COOKIE_SECURE", raising=False)
    else:
        monkeypatch.setenv("IOC_COOKIE_SECURE", env)
    assert cookie_secure_default(roles, override) is expected


def _every_string_in(client: Any) -> list[str]:
    """Whatever read access to Redis shows: every key, field, member and value of every type."""
    seen: list[str] = []
    for key in client.scan_iter():
        seen.append(key)
        kind = client.type(key)
        if kind == "string":
            seen.append(client.get(key))
        elif kind == "hash":
            seen.extend(part for pair in client.hgetall(key).items() for part in pair)
        elif kind == "set":
            seen.extend(client.smembers(key))
        elif kind == "zset":
            seen.extend(client.zrange(key, 0, -1))
        elif kind == "list":
            seen.extend(client.lrange(key, 0, -1))
        elif kind == "stream":
            seen.extend(part for _, fields in client.xrange(key) for pair in fields.items() for part in pair)
    return seen


def _forged_cookie(secret: str, fields: dict[str, Any]) -> str:
    """A session cookie signed with `secret` the way Flask signs them."""
    forger = flask.Flask("forger")
    forger.secret_key = secret
    serializer = forger.session_interface.get_signing_serializer(forger)  # type: ignore[attr-defined]
    return str(serializer.dumps(fields))


def test_reading_redis_gives_nothing_that_signs_a_session(app: dash.Dash) -> None:
    admin = signed_in(app, "admin")  # whatever a signed-in session leaves in Redis is there too
    with admin.session_transaction() as session:
        genuine = dict(session)
    redis_client = app.server.extensions["ioc_security"].users.redis
    secret = app.server.secret_key
    candidates = _every_string_in(redis_client)
    assert not any(secret in value for value in candidates)
    for candidate in filter(None, candidates):  # Flask signs nothing with an empty key
        intruder = app.server.test_client()
        intruder.set_cookie("ioc_session", _forged_cookie(candidate, genuine))
        assert intruder.get("/_dash-layout").status_code == 401, candidate


def test_the_generated_secret_is_kept_in_a_private_file_that_every_worker_reads(
    fake_store: Store, settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "config" / "secret_key"
    monkeypatch.delenv("IOC_SECRET_KEY", raising=False)
    monkeypatch.setenv("IOC_SECRET_KEY_FILE", str(path))
    first = create_app(fake_store, settings, redis_kind="in-process").server.secret_key
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert path.read_text(encoding="utf-8").strip() == first and len(first) >= 43  # 256 bits or more
    assert create_app(fake_store, settings, redis_kind="in-process").server.secret_key == first
    monkeypatch.setenv("IOC_SECRET_KEY", "from-the-environment-" + "x" * 32)
    assert create_app(fake_store, settings, redis_kind="in-process").server.secret_key.startswith("from-the-env")


def test_a_secret_file_others_may_read_is_refused(
    fake_store: Store, settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "secret_key"
    path.write_text("k" * 64, encoding="utf-8")
    path.chmod(0o644)
    monkeypatch.delenv("IOC_SECRET_KEY", raising=False)
    monkeypatch.setenv("IOC_SECRET_KEY_FILE", str(path))
    with pytest.raises(RuntimeError, match=str(path)):
        create_app(fake_store, settings, redis_kind="in-process")
