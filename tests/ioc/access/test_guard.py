"""The request guard: every route and every registered Dash callback refuses anonymous callers, and each role
is refused (403) the pages and callbacks its permissions do not cover, by what the pages declare."""

from __future__ import annotations

import re

import dash
import pytest

from ioc import access
from ioc.access.permissions import is_page_content
from ioc.auth import EVERYTHING
from ioc.config import Settings
from ioc.pages import SIGNED_IN
from layouts import ids
from tests.ioc.access.conftest import ROLES, access_of, callback_body, key_writing, post_callback, signed_in

# what the issue gives each role
PAGES_ALLOWED = {
    # the operator reads feed health (not the raw payloads: see the feeds callbacks)
    "operator": {"/", "/alerts", "/feeds", "/situation", "/handover", "/regional"},
    "manager": {"/", "/reports", "/situation", "/handover", "/regional"},
    "integrator": {"/feeds"},
    "admin": {"/", "/feeds", "/alerts", "/reports", "/admin", "/situation", "/handover", "/wall",
              "/regional"},
}


def concrete(rule: str) -> str:
    """A path that the URL rule matches: each converter replaced by a sample value."""
    return re.sub(r"<(?:[^:>]+:)?([^>]+)>", lambda m: "dash_core_components/x.js" if "path" in m.group(0)
                  else "sample", rule)


def declared_pages(app: dash.Dash) -> list[str]:
    return sorted(page.path for page in access_of(app).pages)


# --- anonymous -------------------------------------------------------------------------------------------


def test_every_route_refuses_an_anonymous_caller(app: dash.Dash) -> None:
    client = app.server.test_client()
    checked = 0
    for rule in app.server.url_map.iter_rules():
        path = concrete(rule.rule)
        if access.is_public(path):
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
    assert {"/login", "/logout", "/healthz", "/api/v1/openapi.json", "/_favicon.ico"} == access.PUBLIC_PATHS
    assert access.PUBLIC_PREFIXES == ("/assets/", "/_dash-component-suites/")


def test_every_registered_callback_refuses_an_anonymous_caller(app: dash.Dash) -> None:
    client = app.server.test_client()
    assert app.callback_map
    for key in app.callback_map:
        assert post_callback(client, callback_body(app, key)).status_code == 401, key


def test_every_server_callback_has_declared_needs_short_of_administrators_only(app: dash.Dash) -> None:
    declared = access_of(app).callbacks
    # a clientside callback (no server function) never reaches the server; the page container is per page
    served = [key for key, spec in app.callback_map.items() if "callback" in spec and not is_page_content(key)]
    assert served
    undeclared = [key for key in served if key not in declared]
    assert not undeclared, f"registered callbacks no page or frame declared: {undeclared}"
    assert all(declared[key] and EVERYTHING not in declared[key] for key in served)
    assert set(declared) <= set(app.callback_map)


# --- roles -------------------------------------------------------------------------------------------------


def test_every_declared_page_has_its_expected_roles(app: dash.Dash) -> None:
    assert set(declared_pages(app)) == set().union(*PAGES_ALLOWED.values())


@pytest.mark.parametrize("role", ROLES)
def test_each_role_opens_its_pages_and_is_refused_the_others(app: dash.Dash, role: str) -> None:
    client = signed_in(app, role)
    for path in declared_pages(app):
        response = client.get(path)
        if path in PAGES_ALLOWED[role]:
            assert response.status_code == 200, (role, path)
        elif path == "/":  # the site's own address takes a role that may not open it to its first page
            assert response.status_code == 302, role
            assert response.headers["Location"] in PAGES_ALLOWED[role], role
        else:
            assert response.status_code == 403, (role, path)
            assert "text/html" in response.headers["Content-Type"]
    for path in ("/_dash-layout", "/_dash-dependencies"):
        assert client.get(path).status_code == 200


@pytest.mark.parametrize("role", ROLES)
def test_each_role_is_refused_the_callbacks_its_permissions_do_not_cover(app: dash.Dash, role: str) -> None:
    client = signed_in(app, role)
    roles = app.server.extensions["ioc_roles"]
    refused = 0
    for key, needed in access_of(app).callbacks.items():
        if all(item == SIGNED_IN or roles.allows(role, item) for item in needed):
            continue
        assert post_callback(client, callback_body(app, key)).status_code == 403, (role, key)
        refused += 1
    assert (refused == 0) == (role == "admin")


def test_a_callback_posted_with_a_made_up_output_is_refused_even_to_administrators(app: dash.Dash) -> None:
    body = {"output": "no-such.children", "inputs": [], "state": [], "changedPropIds": []}
    assert post_callback(signed_in(app, "operator"), body).status_code == 403
    assert post_callback(signed_in(app, "admin"), body).status_code == 403


def test_the_operator_may_not_read_refused_payloads_through_the_feeds_callbacks(app: dash.Dash) -> None:
    details = key_writing(app, f"{ids.FEEDS_DETAILS}.children")
    assert post_callback(signed_in(app, "operator"), callback_body(app, details)).status_code == 403
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
