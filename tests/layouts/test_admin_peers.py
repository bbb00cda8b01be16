"""Administration's sharing agreements through the app's own callback endpoint, as an administrator's browser
calls it: an agreement granted with its key shown once (the key opens the peer's datasets), a bad grant says
why, a revocation refuses the key at once; a manager is refused; every change audited with who and where."""

from __future__ import annotations

import json
from typing import Any

import dash
import pytest
from dash._utils import split_callback_id
from flask.testing import FlaskClient

from ioc.audit import AuditQuery, AuditTrail
from ioc.config import Settings
from ioc.store import Store
from layouts import ids
from layouts.app import create_app
from tests.layouts.dom import add_user, signed_in


@pytest.fixture
def app(fake_store: Store, settings: Settings) -> dash.Dash:
    app = create_app(fake_store, settings, redis_kind="in-process", cookie_secure=False)
    add_user(app, "admin-1", "admin")
    add_user(app, "manager-1", "manager")
    return app


def fire(app: dash.Dash, client: FlaskClient, trigger: str, values: dict[Any, Any]) -> Any:
    key = next(k for k in app.callback_map if ids.ADMIN_PEERS_MESSAGE in k)
    spec = app.callback_map[key]

    def with_value(item: dict[str, Any]) -> Any:
        component = item["id"]
        if isinstance(component, str) and component.startswith("{"):
            return [{"id": {"type": ids.ADMIN_PEER_REVOKE, "peer": peer}, "property": "n_clicks", "value": 1}
                    for peer in values.get("revoke", [])]
        return {**item, "value": values.get(component)}

    body = {"output": key, "outputs": split_callback_id(key), "inputs": [with_value(i) for i in spec["inputs"]],
            "state": [with_value(s) for s in spec["state"]], "changedPropIds": [trigger]}
    return client.post("/_dash-update-component", data=json.dumps(body), content_type="application/json")


def grant_values(**extra: Any) -> dict[Any, Any]:
    return {ids.ADMIN_PEER_GRANT: 1, ids.ADMIN_PEER_ID: "Hue", ids.ADMIN_PEER_NAME: "IOC Huế",
            ids.ADMIN_PEER_GRANULARITY: "ward", ids.ADMIN_PEER_DATASETS: ["kpis", "alerts"],
            ids.ADMIN_PEER_KPIS: "air-stations", ids.ADMIN_PEER_DAYS: 30, ids.LANG: "en", **extra}


def test_an_administrator_grants_and_revokes_an_agreement(app: dash.Dash) -> None:
    client = signed_in(app, "admin-1")
    response = fire(app, client, f"{ids.ADMIN_PEER_GRANT}.n_clicks", grant_values())
    text = json.dumps(response.get_json(), ensure_ascii=False)
    assert "Agreement with hue granted" in text and "rolled up per area" in text and "In force" in text
    key = text[text.index("ioc_"):].split('"', 1)[0]
    api = app.server.test_client()
    assert api.get("/api/v1/kpis", headers={"X-API-Key": key}).status_code == 200
    assert api.get("/api/v1/entities", headers={"X-API-Key": key}).status_code == 403
    response = fire(app, client, f'{{"peer":"hue","type":"{ids.ADMIN_PEER_REVOKE}"}}.n_clicks',
                    {ids.LANG: "en", "revoke": ["hue"]})
    assert "Revoked" in json.dumps(response.get_json())
    assert api.get("/api/v1/kpis", headers={"X-API-Key": key}).status_code == 401
    users = app.server.extensions["ioc_security"].users
    trail = AuditTrail(users.redis, users.keys).search(AuditQuery(action="sharing"))
    assert [(e.action, e.actor) for e in trail] == [("sharing.revoked", "admin-1"), ("sharing.refused", "peer:hue"),
                                                    ("sharing.granted", "admin-1")]


def test_a_bad_grant_says_why_and_a_manager_is_refused(app: dash.Dash) -> None:
    response = fire(app, signed_in(app, "admin-1"), f"{ids.ADMIN_PEER_GRANT}.n_clicks",
                    grant_values(**{ids.ADMIN_PEER_DATASETS: []}))
    assert "datasets: none given" in json.dumps(response.get_json())
    assert fire(app, signed_in(app, "manager-1"), f"{ids.ADMIN_PEER_GRANT}.n_clicks",
                grant_values()).status_code == 403
    users = app.server.extensions["ioc_security"].users
    assert users.redis.smembers(users.keys.sharing_agreements()) == set()
