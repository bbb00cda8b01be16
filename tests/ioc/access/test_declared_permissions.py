"""Who may trigger a callback is what its page declares, whatever its component ids are called."""

from __future__ import annotations

import dash
import fakeredis
from dash import Input, Output, html

from ioc.config import load_settings
from ioc.pages import Callback, Page
from ioc.store import Store
from ioc.web import create_app
from layouts import FRAME, PAGES


def test_a_callback_keeps_its_declared_permission_whatever_prefix_its_ids_carry() -> None:
    # ids spelled like the admin page's, declared on a page any control-room viewer opens
    borrowed = Page(module="tests.borrowed", path="/borrowed", title_key="nav.control_room", order=50,
                    permission="control_room.view", layout=lambda _context, **_q: html.Div(),
                    callbacks=(Callback(outputs=(Output("admin-users-borrowed", "children"),),
                                        inputs=(Input("admin-audit-borrowed", "n_clicks"),),
                                        function=lambda _context, clicks: clicks),))
    settings = load_settings()
    store = Store(fakeredis.FakeRedis(decode_responses=True), settings.city.id)
    app: dash.Dash = create_app(store, settings, redis_kind="in-process", pages=(*PAGES, borrowed), frame=FRAME,
                                cookie_secure=False)
    access = app.server.extensions["ioc_access"]
    assert access.callbacks["admin-users-borrowed.children"] == {"control_room.view"}
    # and an undeclared output is refused, not guessed from its spelling
    assert access.callback_needs({"output": "admin-users.children-undeclared"}) is None
