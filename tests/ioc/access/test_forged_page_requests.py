"""The page container renders only pages the caller's role opens, however the request is dressed up.

Reproduces issue 10's walk-around: signed in as an operator, a POST to /_dash-update-component for the page
container with inputs `[_pages_location.search="/admin", _pages_location.pathname=""]` answered 200 with the
admin layout, because the guard read the first input *named* pathname while Dash hands inputs to the
callback by position. Every forged variant below must be refused (400 or 403) for every page and every role
that may not open it; the honest request still renders for roles that may.
"""

from __future__ import annotations

import json
from typing import Any

import dash
import pytest
from flask.testing import FlaskClient

from ioc.config import Settings
from ioc.store import Store
from layouts.app import create_app
from tests.layouts.dom import add_user, client_sign_in

ROLES = ("operator", "manager", "integrator", "admin")
OPENS = {
    # the operator reads feed health (not the raw payloads: see the feeds callbacks)
    "operator": {"/", "/alerts", "/feeds", "/situation", "/handover"},
    "manager": {"/", "/reports", "/situation", "/handover"},
    "integrator": {"/feeds"},
    "admin": {"/", "/feeds", "/alerts", "/reports", "/admin", "/situation", "/handover"},
}
PATHS = ("/", "/feeds", "/alerts", "/reports", "/admin", "/situation", "/handover")


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> dash.Dash:
    import fakeredis

    from ioc.config import load_settings

    settings: Settings = load_settings()
    store = Store(fakeredis.FakeRedis(decode_responses=True), settings.city.id)
    app = create_app(store, settings, redis_kind="in-process", cookie_secure=False)
    for role in ROLES:
        add_user(app, f"{role}-1", role)
    app.server.test_client().get("/healthz")  # Dash registers the page container on the first request
    return app


def signed_in(app: dash.Dash, role: str) -> FlaskClient:
    client = app.server.test_client()
    assert client_sign_in(client, f"{role}-1").status_code == 302
    return client


def content_key(app: dash.Dash) -> str:
    return next(key for key in app.callback_map if "_pages_content" in key)


def post(client: FlaskClient, app: dash.Dash, inputs: list[dict[str, Any]]) -> int:
    key = content_key(app)
    body = {"output": key, "outputs": [{"id": "_pages_content", "property": "children"},
                                       {"id": "_pages_store", "property": "data"}],
            "inputs": inputs, "state": [], "changedPropIds": ["_pages_location.pathname"]}
    return client.post("/_dash-update-component", data=json.dumps(body), content_type="application/json").status_code


def location(prop: str, value: Any) -> dict[str, Any]:
    return {"id": "_pages_location", "property": prop, "value": value}


def honest(path: str) -> list[dict[str, Any]]:
    return [location("pathname", path), location("search", "")]


def forgeries(path: str) -> dict[str, list[dict[str, Any]]]:
    """Requests that would have Dash render `path` (or fail) while a careless guard reads another path."""
    return {
        "reordered, search carries the path": [location("search", path), location("pathname", "")],
        "reordered, pathname last is root": [location("search", path), location("pathname", "/")],
        "extra pathname after the real one": [location("pathname", path), location("search", ""),
                                              location("pathname", "/")],
        "extra pathname before the real one": [location("pathname", "/"), location("pathname", path),
                                               location("search", "")],
        "missing search": [location("pathname", path)],
        "no inputs": [],
        "double slash": [location("pathname", "/" + path), location("search", "")],
        "trailing slash": [location("pathname", path.rstrip("/") + "/"), location("search", "")],
        "with a query": [location("pathname", path), location("search", "?x=/")],
        "another component's pathname": [{"id": "ioc-url", "property": "pathname", "value": "/"},
                                         location("search", path)],
    }


@pytest.mark.parametrize("role", ROLES)
def test_every_forged_page_request_is_refused_unless_the_role_opens_that_page(app: dash.Dash, role: str) -> None:
    client = signed_in(app, role)
    leaks, odd = [], []
    for path in PATHS:
        for name, inputs in forgeries(path).items():
            status = post(client, app, inputs)
            if path not in OPENS[role] and status == 200:
                leaks.append((path, name))
            if status not in (200, 400, 403):
                odd.append((path, name, status))
    assert not leaks, f"{role} got pages it may not open: {leaks}"
    assert not odd, f"answers other than rendered or refused: {odd}"


@pytest.mark.parametrize("role", ROLES)
def test_the_honest_page_request_renders_exactly_the_pages_the_role_opens(app: dash.Dash, role: str) -> None:
    client = signed_in(app, role)
    for path in PATHS:
        assert (post(client, app, honest(path)) == 200) == (path in OPENS[role]), (role, path)


@pytest.mark.parametrize("pathname", ["", "/ADMIN", "/no-such-page", None])
def test_paths_dash_does_not_resolve_to_a_page_render_no_page(app: dash.Dash, pathname: str | None) -> None:
    # "" is refused (Dash would fail on it); the others resolve to no page: Dash's "not found", no city data
    status = post(signed_in(app, "operator"), app, [location("pathname", pathname), location("search", "")])
    assert status == (400 if pathname == "" else 200)
