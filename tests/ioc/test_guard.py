"""The guard: every route and every registered Dash callback refuses anonymous callers, each role is refused
what it may not do (403), sign-in is throttled, sessions end, headers are set, hrefs from data are checked."""

from __future__ import annotations

import json
import re
import time
from typing import Any

import dash
import pytest
from dash._utils import split_callback_id
from flask.testing import FlaskClient

from ioc import guard
from ioc.auth import EVERYTHING
from ioc.config import Settings
from ioc.store import Store
from layouts.app import create_app
from tests.layouts.dom import add_user, client_sign_in

ROLES = ("operator", "manager", "integrator", "admin")


@pytest.fixture
def app(fake_store: Store, settings: Settings) -> dash.Dash:
    app = create_app(fake_store, settings, redis_kind="in-process", cookie_secure=False)
    for role in ROLES:
        add_user(app, f"{role}-1", role)
    # Dash merges callbacks registered with @dash.callback on the first request
    app.server.test_client().get("/healthz")
    return app


def signed_in(app: dash.Dash, role: str) -> FlaskClient:
    client = app.server.test_client()
    response = client_sign_in(client, f"{role}-1")
    assert response.status_code == 302, response.get_data(as_text=True)
    return client


def concrete(rule: str) -> str:
    """A path that the URL rule matches: each converter replaced by a sample value."""
    return re.sub(r"<(?:[^:>]+:)?([^>]+)>", lambda m: "dash_core_components/x.js" if "path" in m.group(0)
                  else "sample", rule)


def callback_body(app: dash.Dash, key: str, pathname: str = "/") -> dict[str, Any]:
    spec = app.callback_map[key]
    inputs = [{"id": item["id"], "property": item["property"],
               "value": pathname if item["id"] == "_pages_location" and item["property"] == "pathname" else None}
              for item in spec["inputs"]]
    state = [{**item, "value": None} for item in spec["state"]]
    return {"output": key, "outputs": split_callback_id(key), "inputs": inputs, "state": state,
            "changedPropIds": []}


def post_callback(client: FlaskClient, body: dict[str, Any]) -> Any:
    return client.post("/_dash-update-component", data=json.dumps(body), content_type="application/json")


# --- anonymous -------------------------------------------------------------------------------------------


def test_every_route_refuses_an_anonymous_caller(app: dash.Dash) -> None:
    client = app.server.test_client()
    checked = 0
    for rule in app.server.url_map.iter_rules():
        path = concrete(rule.rule)
        if guard.is_public(path):
            continue
        for method in sorted(rule.methods - {"OPTIONS", "HEAD"}):
            response = client.open(path, method=method)
            checked += 1
            if response.status_code == 302:
                assert response.headers["Location"].startswith("/login?next="), (method, path)
                assert method == "GET"
            else:
                assert response.status_code == 401, (method, path, response.status_code)
    assert checked >= 8


def test_public_routes_are_only_sign_in_probe_static_and_api_description() -> None:
    assert {"/login", "/logout", "/healthz", "/api/v1/openapi.json", "/_favicon.ico"} == guard.PUBLIC_PATHS
    assert guard.PUBLIC_PREFIXES == ("/assets/", "/_dash-component-suites/")


def test_every_registered_callback_refuses_an_anonymous_caller(app: dash.Dash) -> None:
    client = app.server.test_client()
    assert app.callback_map
    for key in app.callback_map:
        assert post_callback(client, callback_body(app, key)).status_code == 401, key


def test_every_registered_callback_is_mapped_to_a_permission(app: dash.Dash) -> None:
    unmapped = {}
    for key, spec in app.callback_map.items():
        ids = guard._output_ids(key, spec) + [i["id"] for i in spec["inputs"]] + [s["id"] for s in spec["state"]]
        missing = [component for component in ids if guard.id_permission(component) is None]
        if missing:
            unmapped[key] = missing
        else:
            assert EVERYTHING not in guard.callback_requirement(key, spec)
    assert not unmapped, f"callbacks whose ids ioc.guard.CALLBACK_IDS does not map: {unmapped}"


def test_every_registered_page_is_mapped_to_a_permission(app: dash.Dash) -> None:
    for page in dash.page_registry.values():
        assert page["path"] in guard.PAGE_PERMISSIONS, page["path"]


def test_an_unmapped_callback_or_page_is_for_administrators_only() -> None:
    spec = {"inputs": [{"id": "someone-new-button", "property": "n_clicks"}], "state": []}
    assert guard.callback_requirement("someone-new-output.children", spec) == {EVERYTHING}
    assert guard.id_permission({"type": "unheard-of", "index": 1}) is None
    assert guard.route_permission("/brand-new-export.csv") == EVERYTHING


# --- roles -------------------------------------------------------------------------------------------------

# what the issue gives each role; pages not registered (yet) are skipped
PAGES_ALLOWED = {
    "operator": {"/", "/alerts"},
    "manager": {"/", "/reports"},
    "integrator": {"/feeds"},
    "admin": {"/", "/feeds", "/alerts", "/reports", "/admin"},
}


def registered_pages() -> list[str]:
    return sorted(page["path"] for page in dash.page_registry.values())


@pytest.mark.parametrize("role", ROLES)
def test_each_role_opens_its_pages_and_is_refused_the_others(app: dash.Dash, role: str) -> None:
    client = signed_in(app, role)
    for path in registered_pages():
        response = client.get(path)
        if path in PAGES_ALLOWED[role]:
            assert response.status_code == 200, (role, path)
        else:
            assert response.status_code == 403, (role, path)
            assert "text/html" in response.headers["Content-Type"]
    for path in ("/_dash-layout", "/_dash-dependencies"):
        assert client.get(path).status_code == 200


@pytest.mark.parametrize("role", ROLES)
def test_each_role_is_refused_the_callbacks_of_pages_it_may_not_open(app: dash.Dash, role: str) -> None:
    client = signed_in(app, role)
    roles = app.server.extensions["ioc_roles"]
    refused = 0
    for key, spec in app.callback_map.items():
        needed = guard.callback_requirement(key, spec) - {guard.PAGE}
        if all(item == guard.SIGNED_IN or roles.allows(role, item) for item in needed):
            continue
        assert post_callback(client, callback_body(app, key)).status_code == 403, (role, key)
        refused += 1
    assert (refused == 0) == (role == "admin")


@pytest.mark.parametrize("role", ROLES)
def test_the_page_container_renders_only_pages_the_role_may_open(app: dash.Dash, role: str) -> None:
    client = signed_in(app, role)
    key = next(key for key in app.callback_map if "_pages_content" in key)
    for path in registered_pages():
        status = post_callback(client, callback_body(app, key, pathname=path)).status_code
        assert (status == 200) == (path in PAGES_ALLOWED[role]), (role, path, status)
        assert status in (200, 403)


def test_a_callback_posted_with_a_made_up_output_is_refused_unless_admin(app: dash.Dash) -> None:
    body = {"output": "no-such.children", "inputs": [], "state": [], "changedPropIds": []}
    assert post_callback(signed_in(app, "operator"), body).status_code == 403


def test_the_operator_may_not_read_refused_payloads_through_the_feeds_callbacks(app: dash.Dash) -> None:
    client = signed_in(app, "operator")
    details = next(key for key in app.callback_map if key.startswith("..feeds-details"))
    assert post_callback(client, callback_body(app, details)).status_code == 403
    assert post_callback(signed_in(app, "integrator"), callback_body(app, details)).status_code == 200


def test_healthz_is_status_only_for_anonymous_and_full_for_integrators(app: dash.Dash, settings: Settings) -> None:
    anonymous = app.server.test_client().get("/healthz").get_json()
    assert set(anonymous) == {"redis", "feeds"}
    assert anonymous["redis"] == {"ok": True, "kind": "in-process"}
    assert all(set(feed) == {"stale", "ok"} for feed in anonymous["feeds"].values())
    assert set(anonymous["feeds"]) == {feed.name for feed in settings.feeds}
    manager = signed_in(app, "manager").get("/healthz").get_json()
    assert all(set(feed) == {"stale", "ok"} for feed in manager["feeds"].values())
    full = signed_in(app, "integrator").get("/healthz").get_json()
    assert all("record_count" in feed and "last_error" in feed for feed in full["feeds"].values())


def test_sign_in_lands_on_the_first_page_the_role_opens_and_honours_a_safe_next(app: dash.Dash) -> None:
    assert signed_in(app, "integrator").get("/login").headers["Location"] == "/feeds"
    client = app.server.test_client()
    form = client.get("/login?next=/feeds").get_data(as_text=True)
    token = re.search(r'name="csrf" value="([^"]+)"', form).group(1)  # type: ignore[union-attr]
    response = client.post("/login", data={"username": "admin-1", "password": "test-password-0123",
                                           "csrf": token, "next": "/feeds"})
    assert response.headers["Location"] == "/feeds"
    outsider = app.server.test_client()
    form = outsider.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf" value="([^"]+)"', form).group(1)  # type: ignore[union-attr]
    response = outsider.post("/login", data={"username": "admin-1", "password": "test-password-0123",
                                             "csrf": token, "next": "//evil.example/"})
    assert response.headers["Location"] == "/"


def test_a_form_without_its_csrf_token_does_not_sign_in(app: dash.Dash) -> None:
    client = app.server.test_client()
    client.get("/login")
    response = client.post("/login", data={"username": "admin-1", "password": "test-password-0123"})
    assert response.status_code == 400
    assert client.get("/").status_code == 302


# --- sessions ------------------------------------------------------------------------------------------------


def test_sign_out_ends_the_session(app: dash.Dash) -> None:
    client = signed_in(app, "operator")
    assert client.get("/").status_code == 200
    # a GET or HEAD (a link prefetch, a probe) only asks; the form's POST signs out
    assert client.head("/logout").status_code == 200 and client.get("/logout").status_code == 200
    assert client.get("/").status_code == 200
    assert client.head("/login").status_code == 302
    assert client.post("/logout").headers["Location"] == "/login"
    assert client.get("/").status_code == 302
    assert client.get("/_dash-layout").status_code == 401


def test_a_disabled_users_live_session_stops_at_the_next_request(app: dash.Dash) -> None:
    client = signed_in(app, "operator")
    assert client.get("/_dash-layout").status_code == 200
    app.server.extensions["ioc_security"].users.set_disabled("operator-1", True, actor="admin-1")
    assert client.get("/_dash-layout").status_code == 401
    assert client.get("/").status_code == 302
    assert client_sign_in(app.server.test_client(), "operator-1").status_code == 401


def test_a_role_change_ends_the_sessions_signed_in_before_it(app: dash.Dash) -> None:
    client = signed_in(app, "manager")
    app.server.extensions["ioc_security"].users.set_role("manager-1", "integrator", actor="admin-1")
    assert client.get("/_dash-layout").status_code == 401


def _age_session(client: FlaskClient, *, signed_in_ago: float, active_ago: float) -> None:
    with client.session_transaction() as session:
        now = time.time()
        session["signed_in_at"] = now - signed_in_ago
        session["active_at"] = now - active_ago


def test_a_session_ends_after_the_roles_inactivity_timeout(app: dash.Dash) -> None:
    roles = app.server.extensions["ioc_roles"]
    client = signed_in(app, "manager")
    idle = roles.idle_seconds("manager")
    _age_session(client, signed_in_ago=idle - 60, active_ago=idle - 60)
    assert client.get("/_dash-layout").status_code == 200
    _age_session(client, signed_in_ago=idle + 60, active_ago=idle + 60)
    assert client.get("/_dash-layout").status_code == 401


def test_live_refreshes_do_not_keep_an_idle_session_alive(app: dash.Dash) -> None:
    roles = app.server.extensions["ioc_roles"]
    client = signed_in(app, "manager")
    idle = roles.idle_seconds("manager")
    _age_session(client, signed_in_ago=idle - 30, active_ago=idle - 30)
    key = next(key for key in app.callback_map if "control-room-map" in key)
    tick = {**callback_body(app, key), "changedPropIds": ["control-room-tick.n_intervals"]}
    assert post_callback(client, tick).status_code == 200
    with client.session_transaction() as session:
        assert time.time() - session["active_at"] >= idle - 31


def test_a_control_room_shift_outlasts_an_office_session(app: dash.Dash) -> None:
    roles = app.server.extensions["ioc_roles"]
    assert roles.session_seconds("operator") > roles.session_seconds("manager")
    client = signed_in(app, "operator")
    beyond_office = roles.session_seconds("manager") + 60
    _age_session(client, signed_in_ago=beyond_office, active_ago=10)
    assert client.get("/_dash-layout").status_code == 200
    _age_session(client, signed_in_ago=roles.session_seconds("operator") + 60, active_ago=10)
    assert client.get("/_dash-layout").status_code == 401


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


# --- throttling ----------------------------------------------------------------------------------------------


def test_brute_force_on_one_account_is_throttled(app: dash.Dash) -> None:
    policy = app.server.extensions["ioc_roles"].sign_in
    statuses = [client_sign_in(app.server.test_client(), "admin-1", "wrong-password-x").status_code
                for _ in range(policy.failures_per_account + 1)]
    assert statuses[:-1] == [401] * policy.failures_per_account
    assert statuses[-1] == 429
    # throttled even with the right password until the window ends
    right = client_sign_in(app.server.test_client(), "admin-1")
    assert right.status_code == 429 and int(right.headers["Retry-After"]) > 0
    # other accounts are not locked out by it
    assert client_sign_in(app.server.test_client(), "operator-1").status_code == 302


def test_many_attempts_from_one_address_are_throttled(app: dash.Dash) -> None:
    policy = app.server.extensions["ioc_roles"].sign_in
    statuses = [client_sign_in(app.server.test_client(), f"nobody-{n}", "wrong-password-x").status_code
                for n in range(policy.attempts_per_address + 1)]
    assert statuses[-1] == 429 and set(statuses[:-1]) == {401}


# --- headers and links -----------------------------------------------------------------------------------------


def test_security_headers_on_pages_and_sign_in(app: dash.Dash) -> None:
    for response in (signed_in(app, "admin").get("/"), app.server.test_client().get("/login")):
        headers = response.headers
        assert headers["X-Content-Type-Options"] == "nosniff"
        assert headers["X-Frame-Options"] == "DENY"
        assert headers["Referrer-Policy"] == "same-origin"
        policy = headers["Content-Security-Policy"]
        assert "frame-ancestors 'none'" in policy and "object-src 'none'" in policy
        script_src = next(part for part in policy.split("; ") if part.startswith("script-src"))
        assert "'unsafe-inline'" not in script_src and "'unsafe-eval'" not in script_src
        assert "'sha256-" in script_src  # Dash's own inline renderer script, by hash


def test_the_pages_inline_scripts_are_all_covered_by_the_policy(app: dash.Dash) -> None:
    import base64
    import hashlib

    response = signed_in(app, "admin").get("/")
    # scripts inside HTML comments (Dash's note for old Internet Explorer) never run
    page = re.sub(r"<!--.*?-->", "", response.get_data(as_text=True), flags=re.S)
    policy = response.headers["Content-Security-Policy"]
    inline = re.findall(r"<script(?![^>]*\bsrc=)(?![^>]*application/json)[^>]*>(.*?)</script>", page, re.S)
    assert inline
    for script in inline:
        digest = base64.b64encode(hashlib.sha256(script.encode()).digest()).decode()
        assert f"'sha256-{digest}'" in policy


@pytest.mark.parametrize("url", ["javascript:alert(1)", " JavaScript:alert(1)", "java\tscript:alert(1)",
                                 "data:text/html,<script>alert(1)</script>", "vbscript:msgbox(1)",
                                 "//evil.example/x", "\\\\evil.example", "https:evil", "", None, 42])
def test_hrefs_from_data_refuse_anything_but_http_and_relative(url: Any) -> None:
    assert guard.safe_href(url) is None


@pytest.mark.parametrize("url", ["https://danang.gov.vn/canh-bao?id=3", "http://example.org", "/feeds",
                                 "/admin/audit.csv?actor=a", "details?x=1"])
def test_hrefs_from_data_keep_http_and_relative(url: str) -> None:
    assert guard.safe_href(url) == url


def test_an_action_button_needs_the_action_permission_only_when_it_triggers() -> None:
    press = {"inputs": [{"id": "alerts-ack", "property": "n_clicks"}],
             "state": [{"id": "alerts-selected", "property": "data"}, {"id": "alerts-assignee", "property": "value"}]}
    assert guard.callback_requirement("alerts-feedback.children", press) == {"alerts.view", "alerts.act"}
    label = {"inputs": [{"id": "alerts-selected", "property": "data"}], "state": []}
    assert guard.callback_requirement("..alerts-ack.disabled...alerts-ack.children..", label) == {"alerts.view"}
    typing = {"inputs": [{"id": "alerts-assignee", "property": "value"}], "state": []}
    assert guard.callback_requirement("alerts-assignees.children", typing) == {"alerts.view"}
