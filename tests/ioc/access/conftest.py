"""An app with one user per role, and requests as a browser of each role sends them."""

from __future__ import annotations

import json
import re
from typing import Any

import dash
import pytest
from dash._utils import split_callback_id
from flask.testing import FlaskClient

from ioc.access import Access
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
    # Dash merges the callbacks it registers itself (the page container) on the first request
    app.server.test_client().get("/healthz")
    return app


def access_of(app: dash.Dash) -> Access:
    return app.server.extensions["ioc_access"]


def signed_in(app: dash.Dash, role: str) -> FlaskClient:
    client = app.server.test_client()
    response = client_sign_in(client, f"{role}-1")
    assert response.status_code == 302, response.get_data(as_text=True)
    return client


def csrf_of(client: FlaskClient) -> str:
    """The CSRF token a signed-in browser's forms carry, read from the sign-out page as a browser sees it."""
    page = client.get("/logout").get_data(as_text=True)
    match = re.search(r'name="csrf" value="([^"]+)"', page)
    return match.group(1) if match else ""


def callback_body(app: dash.Dash, key: str, pathname: str = "/", changed: list[str] | None = None) -> dict[str, Any]:
    """The request Dash's renderer sends for the registered callback `key`: every input and state, valued None
    (the page container's pathname excepted)."""
    spec = app.callback_map[key]
    inputs = [{"id": item["id"], "property": item["property"],
               "value": pathname if item["id"] == "_pages_location" and item["property"] == "pathname" else None}
              for item in spec["inputs"]]
    state = [{**item, "value": None} for item in spec["state"]]
    return {"output": key, "outputs": split_callback_id(key), "inputs": inputs, "state": state,
            "changedPropIds": changed or []}


def post_callback(client: FlaskClient, body: dict[str, Any]) -> Any:
    return client.post("/_dash-update-component", data=json.dumps(body), content_type="application/json")


def key_writing(app: dash.Dash, output: str) -> str:
    """The registered callback key that writes `output` ("component.property")."""
    return next(key for key in app.callback_map if output in split_key(key))


def split_key(key: str) -> list[str]:
    return key[2:-2].split("...") if key.startswith("..") else [key]
