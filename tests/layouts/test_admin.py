"""The administration page through the app's own callback endpoint, as an administrator's browser calls it:
users added with a one-time password, disabled, API keys issued, the audit trail searched and exported."""

from __future__ import annotations

import json
import re
from typing import Any

import dash
import pytest
from dash._utils import split_callback_id
from flask.testing import FlaskClient

from ioc.config import Settings
from ioc.store import Store
from layouts import admin
from layouts.app import create_app
from tests.layouts.dom import add_user, signed_in


@pytest.fixture
def app(fake_store: Store, settings: Settings) -> dash.Dash:
    app = create_app(fake_store, settings, redis_kind="in-process", cookie_secure=False)
    add_user(app, "admin-1", "admin")
    add_user(app, "manager-1", "manager")
    return app


def fire(app: dash.Dash, client: FlaskClient, output_id: str, trigger: str, values: dict[Any, Any]) -> Any:
    """Call the callback that writes `output_id`, as Dash's renderer does after `trigger` changed.

    `values` holds component values by id; a pattern-matching button by (type, name) -> n_clicks."""
    key = next(k for k in app.callback_map if output_id in k)
    spec = app.callback_map[key]

    def with_value(item: dict[str, Any]) -> Any:
        component = item["id"]
        if isinstance(component, str) and component.startswith("{"):
            kind = json.loads(component)["type"]
            field = "user" if kind == admin.USER_TOGGLE else "holder"
            return [{"id": {"type": kind, field: name}, "property": item["property"], "value": clicks}
                    for (wanted, name), clicks in ((k, v) for k, v in values.items() if isinstance(k, tuple))
                    if wanted == kind]
        return {**item, "value": values.get(component)}

    body = {"output": key, "outputs": split_callback_id(key), "inputs": [with_value(i) for i in spec["inputs"]],
            "state": [with_value(s) for s in spec["state"]], "changedPropIds": [trigger]}
    return client.post("/_dash-update-component", data=json.dumps(body), content_type="application/json")


def response_text(response: Any) -> str:
    return json.dumps(response.get_json(), ensure_ascii=False)


def test_an_administrator_adds_a_user_and_sees_the_one_time_password_once(app: dash.Dash) -> None:
    client = signed_in(app, "admin-1")
    response = fire(app, client, admin.USERS_MESSAGE, f"{admin.ADD_USER}.n_clicks",
                    {admin.ADD_USER: 1, admin.NEW_NAME: "duty-officer", admin.NEW_ROLE: "operator", "ioc-lang": "en"})
    assert response.status_code == 200
    text = response_text(response)
    secret = next(part for part in response.get_json()["response"][admin.USERS_MESSAGE]["children"]["props"]
                  ["children"] if isinstance(part, dict) and part["props"].get("className") == "admin-secret")
    password = secret["props"]["children"]
    book = app.server.extensions["ioc_security"].users
    assert book.verify("duty-officer", password) is not None
    assert "duty-officer" in text
    # the next redraw of the tables does not show it again
    again = fire(app, client, admin.USERS_MESSAGE, "ioc-lang.data", {"ioc-lang": "en"})
    assert password not in response_text(again)


def test_a_refused_user_change_says_why(app: dash.Dash) -> None:
    response = fire(app, signed_in(app, "admin-1"), admin.USERS_MESSAGE, f"{admin.ADD_USER}.n_clicks",
                    {admin.ADD_USER: 1, admin.NEW_NAME: "manager-1", admin.NEW_ROLE: "operator"})
    assert "already exists" in response_text(response)


def test_an_administrator_disables_a_user_but_not_themself(app: dash.Dash) -> None:
    client = signed_in(app, "admin-1")
    book = app.server.extensions["ioc_security"].users
    toggle = json.dumps({"type": admin.USER_TOGGLE, "user": "manager-1"}, separators=(",", ":"))
    fire(app, client, admin.USERS_MESSAGE, f"{toggle}.n_clicks", {(admin.USER_TOGGLE, "manager-1"): 1})
    assert book.get("manager-1").disabled  # type: ignore[union-attr]
    myself = json.dumps({"type": admin.USER_TOGGLE, "user": "admin-1"}, separators=(",", ":"))
    fire(app, client, admin.USERS_MESSAGE, f"{myself}.n_clicks", {(admin.USER_TOGGLE, "admin-1"): 1})
    assert not book.get("admin-1").disabled  # type: ignore[union-attr]


def test_an_administrator_issues_an_api_key_shown_once(app: dash.Dash) -> None:
    response = fire(app, signed_in(app, "admin-1"), admin.USERS_MESSAGE, f"{admin.ISSUE_KEY}.n_clicks",
                    {admin.ISSUE_KEY: 1, admin.KEY_HOLDER: "Bus-App"})
    text = response_text(response)
    key = text[text.index("ioc_"):].split('"', 1)[0]
    assert app.server.extensions["ioc_security"].users.api_key_holder(key) == "bus-app"


def test_the_audit_search_filters_and_links_a_matching_export(app: dash.Dash) -> None:
    client = signed_in(app, "admin-1")
    signed_in(app, "manager-1")
    response = fire(app, client, admin.AUDIT_RESULTS, f"{admin.AUDIT_SEARCH}.n_clicks",
                    {admin.AUDIT_SEARCH: 1, admin.AUDIT_ACTOR: "manager-1", admin.AUDIT_ACTION: "sign_in",
                     "ioc-lang": "en"})
    body = response.get_json()["response"]
    text = json.dumps(body[admin.AUDIT_RESULTS], ensure_ascii=False)
    assert "manager-1" in text and "admin-1" not in text
    assert body[admin.AUDIT_EXPORT]["href"] == "/admin/audit.csv?actor=manager-1&action=sign_in"


def test_a_manager_is_refused_every_admin_callback(app: dash.Dash) -> None:
    client = signed_in(app, "manager-1")
    assert fire(app, client, admin.USERS_MESSAGE, f"{admin.ADD_USER}.n_clicks",
                {admin.ADD_USER: 1, admin.NEW_NAME: "sneaky", admin.NEW_ROLE: "admin"}).status_code == 403
    assert fire(app, client, admin.AUDIT_RESULTS, f"{admin.AUDIT_SEARCH}.n_clicks", {}).status_code == 403
    assert app.server.extensions["ioc_security"].users.get("sneaky") is None


def test_export_links_are_built_through_the_safe_href() -> None:
    href = admin.export_href('"><script>', "javascript:alert(1)", None, " ")
    assert href.startswith("/admin/audit.csv?actor=") and "<" not in href and '"' not in href


def test_the_header_shows_who_is_signed_in_with_a_sign_out_form(app: dash.Dash) -> None:
    client = signed_in(app, "manager-1")
    layout = client.get("/_dash-layout").get_data(as_text=True)
    assert "manager-1" in layout and "ioc-signout-button" in layout and "logout" in layout
    # the form carries the session's CSRF token, so the header's button signs out in one click
    token = re.search(r'name="csrf" value="([^"]+)"', client.get("/logout").get_data(as_text=True))
    assert token is not None
    hidden = [props for props in _props_of(json.loads(layout)) if props.get("name") == "csrf"]
    assert len(hidden) == 1 and hidden[0]["type"] == "hidden" and hidden[0]["value"] == token.group(1)


def _props_of(node: Any) -> list[dict[str, Any]]:
    """The props of every component in a Dash layout's JSON."""
    found: list[dict[str, Any]] = []
    if isinstance(node, dict):
        if isinstance(node.get("props"), dict):
            found.append(node["props"])
        for value in node.values():
            found.extend(_props_of(value))
    elif isinstance(node, list):
        for value in node:
            found.extend(_props_of(value))
    return found
