"""The wall page's server side: the state a screen's tick reads, the views drawn from the dashboard's own
pages, and the administration page's screens section, through the app's own endpoints."""

from __future__ import annotations

import json
from typing import Any

import dash
import pytest
from dash import dcc
from dash._utils import split_callback_id
from flask.testing import FlaskClient

from ioc.audit import AuditQuery, AuditTrail
from ioc.config import Settings
from ioc.model import Alert, Severity
from ioc.store import Store
from ioc.wall.screens import ScreenBook
from ioc.web import context_of
from layouts import admin, ids, wall
from layouts.app import create_app
from tests.layouts.dom import add_user, signed_in, walk, with_class

pytestmark = pytest.mark.integration


@pytest.fixture
def app(store: Store, settings: Settings) -> dash.Dash:
    app = create_app(store, settings, redis_kind="redis-server", cookie_secure=False)
    add_user(app, "admin-1", "admin")
    add_user(app, "manager-1", "manager")
    app.server.test_client().get("/healthz")
    return app


def screens_callback(app: dash.Dash, client: FlaskClient, trigger: Any, values: dict[str, Any],
                     clicks: dict[tuple[str, str], int] | None = None) -> Any:
    """The screens section's callback as Dash's renderer calls it after `trigger` changed."""
    key = next(k for k in app.callback_map if f"{admin.SCREENS}.children" in k)
    spec = app.callback_map[key]

    def value_of(item: dict[str, Any]) -> Any:
        component = item["id"]
        if isinstance(component, str) and component.startswith("{"):
            kind = json.loads(component)["type"]
            return [{"id": {"type": kind, "screen": screen}, "property": "n_clicks", "value": n}
                    for (wanted, screen), n in (clicks or {}).items() if wanted == kind]
        return {**item, "value": values.get(component)}

    body = {"output": key, "outputs": split_callback_id(key), "inputs": [value_of(i) for i in spec["inputs"]],
            "state": [value_of(s) for s in spec["state"]], "changedPropIds": [trigger]}
    return client.post("/_dash-update-component", data=json.dumps(body), content_type="application/json")


def test_an_administrator_registers_a_screen_and_gets_its_address_once(app: dash.Dash, store: Store) -> None:
    client = signed_in(app, "admin-1")
    response = screens_callback(app, client, f"{admin.ADD_SCREEN}.n_clicks",
                                {admin.ADD_SCREEN: 1, admin.SCREEN_ID: "wall-1", admin.SCREEN_NAME: "Tường chính",
                                 ids.LANG: "vi"})
    assert response.status_code == 200
    text = json.dumps(response.get_json(), ensure_ascii=False)
    key = text.split("/wall/wall-1?key=", 1)[1].split('"', 1)[0]
    assert ScreenBook(store.redis, store.keys).verify_key("wall-1", key) is not None
    assert "Tường chính" in text  # the table lists it

    revoked = screens_callback(app, client, json.dumps({"screen": "wall-1", "type": admin.SCREEN_REVOKE}, separators=(",", ":")) +
                               ".n_clicks", {ids.LANG: "vi"}, {(admin.SCREEN_REVOKE, "wall-1"): 1})
    assert revoked.status_code == 200 and "Đã thu hồi" in json.dumps(revoked.get_json(), ensure_ascii=False)
    assert ScreenBook(store.redis, store.keys).get("wall-1").revoked
    entry = AuditTrail(store.redis, store.keys).search(AuditQuery(action="screen.revoked"))[0]
    assert entry.actor == "admin-1"


def test_only_who_manages_users_manages_screens(app: dash.Dash) -> None:
    response = screens_callback(app, signed_in(app, "manager-1"), f"{admin.ADD_SCREEN}.n_clicks",
                                {admin.ADD_SCREEN: 1, admin.SCREEN_ID: "wall-1"})
    assert response.status_code == 403


def test_a_person_previews_a_screens_state_and_must_name_one(app: dash.Dash) -> None:
    client = signed_in(app, "admin-1")
    state = client.get("/wall/state?screen=wall-2&lang=en").get_json()
    assert state["name"] == "Right wall" and state["view"]["kind"] == "area" and state["count"] == 7
    assert len(state["view"]["bounds"]) == 4
    unnamed = client.get("/wall/state").get_json()  # no screen named: the default playlist
    assert unnamed["screen"] == "preview" and unnamed["count"] == 5
    assert client.get("/wall/state?screen=Bad%20Name!").status_code == 400
    assert signed_in(app, "manager-1").get("/wall/state?screen=wall-2").status_code == 403


def test_a_sector_view_is_the_control_room_showing_that_sector_alone(app: dash.Dash, settings: Settings) -> None:
    view = {"key": "1:sector:transport", "kind": "sector", "address": "/", "label": "Sector: Transport",
            "hidden": [sector.id for sector in settings.city.sectors if sector.id != "transport"]}
    with app.server.test_request_context("/"):
        content, banner, label = wall.show_view(context_of(app.server), view, "en")
    # nobody is signed in in this context: the page is refused, not drawn
    assert "cannot be shown" in str(content) and banner is None and label == "Sector: Transport"
    client = signed_in(app, "admin-1")
    key = next(k for k in app.callback_map if f"{ids.WALL_CONTENT}.children" in k)
    body = {"output": key, "outputs": split_callback_id(key),
            "inputs": [{"id": ids.WALL_VIEW, "property": "data", "value": view}],
            "state": [{"id": ids.LANG, "property": "data", "value": "en"}], "changedPropIds": [f"{ids.WALL_VIEW}.data"]}
    drawn = client.post("/_dash-update-component", data=json.dumps(body), content_type="application/json").get_json()
    stores = [node for node in walk_json(drawn) if node.get("props", {}).get("id") == ids.MAP_HIDDEN]
    assert stores and stores[0]["props"]["storage_type"] == "memory"
    assert set(stores[0]["props"]["data"]) == set(view["hidden"])


def walk_json(node: Any) -> list[dict[str, Any]]:
    found = []
    if isinstance(node, dict):
        found.append(node)
        for value in node.values():
            found.extend(walk_json(value))
    elif isinstance(node, list):
        for value in node:
            found.extend(walk_json(value))
    return found


def test_a_takeover_draws_the_alarms_situation_view_under_a_banner(app: dash.Dash, store: Store) -> None:
    alert, _ = store.raise_alert(Alert(id="", rule_id="flood", entity_id="urn:test:f1", title="Ngập sâu",
                                       severity=Severity.EXTREME, sector="emergency", agency="a",
                                       district="Hải Châu"))
    client = signed_in(app, "admin-1")
    state = client.get("/wall/state?screen=wall-1").get_json()
    assert state["view"]["address"] == f"/situation?alert={alert.id}&wall=1"
    assert state["view"]["takeover"]["title"] == "Ngập sâu"
    with app.server.test_request_context("/"):
        content, banner, _ = wall.show_view(context_of(app.server), state["view"], "vi")
    assert "Ngập sâu" in str(banner) and "Hải Châu" in str(banner)
    # the door screen keeps rotating
    assert client.get("/wall/state?screen=wall-3").get_json()["view"]["kind"] != "takeover"


def test_the_wall_page_is_one_kiosk_shell(app: dash.Dash) -> None:
    with app.server.test_request_context("/wall?screen=wall-1"):
        page = wall.layout(context_of(app.server), screen="wall-1")
    setup = next(node for node in walk(page) if isinstance(node, dcc.Store) and node.id == ids.WALL_SETUP).data
    assert setup["screen"] == "wall-1" and setup["lost_ms"] < 10_000
    assert with_class(page, "wall-bar") and with_class(page, "wall-lost") and with_class(page, "wall-blank")
