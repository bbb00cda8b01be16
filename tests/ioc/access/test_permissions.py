"""What each page, callback and route needs, read from the pages' declarations; default deny for anything
nobody declared; hrefs and post-sign-in destinations built from data are checked."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import dash
import pytest
from dash import html

from ioc.access import ROUTE_PERMISSIONS, allowed, route_permission, safe_href, safe_next
from ioc.auth import EVERYTHING, User
from ioc.pages import SIGNED_IN
from layouts import PAGES, ids
from tests.ioc.access.conftest import access_of, key_writing


@pytest.fixture
def stray_page(app: dash.Dash) -> Iterator[str]:
    """A page registered with Dash behind the app's back: declared by no page module."""
    dash.register_page("tests.stray", path="/stray", layout=html.Div("stray"))
    try:
        yield "/stray"
    finally:
        dash.page_registry.pop("tests.stray", None)


def test_each_declared_page_needs_its_declared_permission(app: dash.Dash) -> None:
    access = access_of(app)
    for page in PAGES:
        assert access.page_permission(page.path) == page.permission, page.path
    assert {page.path: page.permission for page in PAGES}["/admin"] == "users.manage"


def test_a_registered_page_nobody_declared_is_for_administrators_only(app: dash.Dash, stray_page: str) -> None:
    assert access_of(app).page_permission(stray_page) == EVERYTHING
    # no page at all: Dash's "not found", which holds no city data
    assert access_of(app).page_permission("/no-such-page") == SIGNED_IN


def test_routes_need_what_their_page_declares_else_the_table_else_everything(app: dash.Dash) -> None:
    access = access_of(app)
    assert access.route_permission("/admin/audit.csv") == "audit.view"  # declared by the admin page
    assert route_permission("/admin/audit.csv") == EVERYTHING  # the table alone does not know it
    assert access.route_permission("/reports/kpi.csv") == ROUTE_PERMISSIONS["/reports/"] == "reports.export"
    assert access.route_permission("/api/v1/entities") == "api"
    assert access.route_permission("/brand-new-export.csv") == EVERYTHING


def test_an_action_needs_its_own_permission_only_where_it_is_declared(app: dash.Dash) -> None:
    needs = access_of(app).callbacks
    # pressing acknowledge / assign / resolve acts on the alert ...
    assert needs[key_writing(app, f"{ids.ALERTS_FEEDBACK}.children")] == {"alerts.view", "alerts.act"}
    # ... while labelling and enabling those buttons, or listing assignees, is only seeing the alert
    assert needs[key_writing(app, f"{ids.ALERTS_ACK}.disabled")] == {"alerts.view"}
    assert needs[key_writing(app, f"{ids.ALERTS_ASSIGNEES}.children")] == {"alerts.view"}
    assert needs[key_writing(app, f"{ids.REPORTS_DOWNLOAD}.data")] == {"reports.view", "reports.export"}
    assert needs[key_writing(app, f"{ids.REPORTS_BODY}.children")] == {"reports.view"}
    assert needs[key_writing(app, f"{ids.LANG}.data")] == {SIGNED_IN}


def user(app: dash.Dash, role: str) -> User:
    found = app.server.extensions["ioc_security"].users.get(f"{role}-1")
    assert found is not None and found.role == role
    return found


def test_allowed_needs_every_permission_and_a_user(app: dash.Dash) -> None:
    roles = app.server.extensions["ioc_roles"]
    operator = user(app, "operator")
    assert allowed(roles, operator, {"alerts.view", "alerts.act", SIGNED_IN})
    assert not allowed(roles, operator, {"alerts.view", "reports.view"})
    assert not allowed(roles, None, {SIGNED_IN})


def test_landing_is_the_first_page_in_nav_order_the_role_opens(app: dash.Dash) -> None:
    access, roles = access_of(app), app.server.extensions["ioc_roles"]
    landings = {role: access.landing_page(roles, user(app, role))
                for role in ("operator", "manager", "integrator", "admin")}
    assert landings == {"operator": "/", "manager": "/", "integrator": "/feeds", "admin": "/"}


@pytest.mark.parametrize("url", ["javascript:alert(1)", " JavaScript:alert(1)", "java\tscript:alert(1)",
                                 "data:text/html,<script>alert(1)</script>", "vbscript:msgbox(1)",
                                 "//evil.example/x", "\\\\evil.example", "https:evil", "", None, 42])
def test_hrefs_from_data_refuse_anything_but_http_and_relative(url: Any) -> None:
    assert safe_href(url) is None


@pytest.mark.parametrize("url", ["https://danang.gov.vn/canh-bao?id=3", "http://example.org", "/feeds",
                                 "/admin/audit.csv?actor=a", "details?x=1"])
def test_hrefs_from_data_keep_http_and_relative(url: str) -> None:
    assert safe_href(url) == url


@pytest.mark.parametrize(("target", "expected"), [("/feeds", "/feeds"), ("/reports?kind=week", "/reports?kind=week"),
                                                  ("https://evil.example/", None), ("//evil.example/", None),
                                                  ("feeds", None), ("javascript:alert(1)", None), (None, None)])
def test_after_sign_in_only_this_sites_paths(target: str | None, expected: str | None) -> None:
    assert safe_next(target) == expected
