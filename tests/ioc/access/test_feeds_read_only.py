"""The operator reads the feed board (what a "stale since" tile stands on) but not the refused payloads: the
page has no details panel or buttons for them, and the details callback is refused if posted anyway."""

from __future__ import annotations

import json

import dash
from flask.testing import FlaskClient

from layouts import ids
from tests.ioc.access.conftest import callback_body, key_writing, post_callback, signed_in


def feeds_page(app: dash.Dash, client: FlaskClient) -> str:
    """The feeds page's layout as the page container sends it to this browser (JSON text)."""
    key = next(key for key in app.callback_map if "_pages_content" in key)
    body = {"output": key, "outputs": [{"id": "_pages_content", "property": "children"},
                                       {"id": "_pages_store", "property": "data"}],
            "inputs": [{"id": "_pages_location", "property": "pathname", "value": "/feeds"},
                       {"id": "_pages_location", "property": "search", "value": ""}],
            "state": [], "changedPropIds": ["_pages_location.pathname"]}
    response = client.post("/_dash-update-component", data=json.dumps(body), content_type="application/json")
    assert response.status_code == 200
    return response.get_data(as_text=True)


def board(app: dash.Dash, client: FlaskClient) -> str:
    key = key_writing(app, f"{ids.FEEDS_BOARD}.children")
    body = callback_body(app, key, changed=[f"{ids.FEEDS_TICK}.n_intervals"])
    response = post_callback(client, body)
    assert response.status_code == 200
    return response.get_data(as_text=True)


def test_the_operator_reads_the_board_without_the_raw_payloads(app: dash.Dash) -> None:
    operator = signed_in(app, "operator")
    assert operator.get("/feeds").status_code == 200
    page = feeds_page(app, operator)
    assert f'"id":"{ids.FEEDS_BOARD}"' in page and f'"id":"{ids.FEEDS_DETAILS}"' not in page
    rows = board(app, operator)
    assert "feed-row" in rows and "details-button" not in rows
    details = key_writing(app, f"{ids.FEEDS_DETAILS}.children")
    assert post_callback(operator, callback_body(app, details)).status_code == 403


def test_the_integrator_keeps_the_details(app: dash.Dash) -> None:
    integrator = signed_in(app, "integrator")
    assert f'"id":"{ids.FEEDS_DETAILS}"' in feeds_page(app, integrator)
    assert "details-button" in board(app, integrator)
