"""The sign-in, sign-out and "not for your role" pages: where sign-in lands, the form's CSRF token, and
sign-out by form post only."""

from __future__ import annotations

import re

import dash
from flask.testing import FlaskClient

from tests.ioc.access.conftest import csrf_of, signed_in
from tests.layouts.dom import TEST_PASSWORD


def post_sign_in(client: FlaskClient, username: str, next_path: str = "", form_path: str = "/login") -> str:
    """Sign in through the form, asking to go to `next_path`; returns where the server sends the browser."""
    form = client.get(form_path).get_data(as_text=True)
    token = re.search(r'name="csrf" value="([^"]+)"', form).group(1)  # type: ignore[union-attr]
    response = client.post("/login", data={"username": username, "password": TEST_PASSWORD, "csrf": token,
                                           "next": next_path})
    assert response.status_code == 302, response.get_data(as_text=True)
    return response.headers["Location"]


def test_sign_in_lands_on_the_first_page_the_role_opens_and_honours_a_safe_next(app: dash.Dash) -> None:
    assert signed_in(app, "integrator").get("/login").headers["Location"] == "/feeds"
    assert post_sign_in(app.server.test_client(), "admin-1", "/feeds", form_path="/login?next=/feeds") == "/feeds"
    assert post_sign_in(app.server.test_client(), "admin-1", "//evil.example/") == "/"
    assert post_sign_in(app.server.test_client(), "admin-1", "https://evil.example/feeds") == "/"


def test_sign_in_does_not_send_a_role_to_a_page_it_may_not_open(app: dash.Dash) -> None:
    assert post_sign_in(app.server.test_client(), "operator-1", "/admin") == "/"
    assert post_sign_in(app.server.test_client(), "integrator-1", "/reports?kind=week") == "/feeds"
    assert post_sign_in(app.server.test_client(), "operator-1", "/alerts?id=7") == "/alerts?id=7"


def test_an_anonymous_page_request_is_sent_to_sign_in_and_back(app: dash.Dash) -> None:
    client = app.server.test_client()
    response = client.get("/alerts?id=7")
    assert response.status_code == 302 and response.headers["Location"] == "/login?next=/alerts?id=7"
    assert post_sign_in(client, "operator-1", "/alerts?id=7") == "/alerts?id=7"


def test_a_form_without_its_csrf_token_does_not_sign_in(app: dash.Dash) -> None:
    client = app.server.test_client()
    client.get("/login")
    response = client.post("/login", data={"username": "admin-1", "password": TEST_PASSWORD})
    assert response.status_code == 400
    assert client.get("/").status_code == 302


def test_the_forbidden_page_names_the_user_and_links_their_own_first_page(app: dash.Dash) -> None:
    client = signed_in(app, "integrator")
    response = client.get("/admin")
    page = response.get_data(as_text=True)
    assert response.status_code == 403
    assert "integrator-1" in page and 'href="/feeds"' in page
    # its sign-out button signs out in one click: the form carries the session's CSRF token
    assert f'name="csrf" value="{csrf_of(client)}"' in page


def test_sign_out_ends_the_session(app: dash.Dash) -> None:
    client = signed_in(app, "operator")
    assert client.get("/").status_code == 200
    # a GET or HEAD (a link prefetch, a probe) only asks; the form's POST signs out
    assert client.head("/logout").status_code == 200 and client.get("/logout").status_code == 200
    assert client.get("/").status_code == 200
    assert client.head("/login").status_code == 302
    assert client.post("/logout", data={"csrf": csrf_of(client)}).headers["Location"] == "/login"
    assert client.get("/").status_code == 302
    assert client.get("/_dash-layout").status_code == 401


def test_sign_out_needs_the_forms_csrf_token(app: dash.Dash) -> None:
    """Another site's page may post a form to /logout; without the token it signs nobody out."""
    client = signed_in(app, "operator")
    for forged in ({}, {"csrf": ""}, {"csrf": "guessed-token"}):
        refused = client.post("/logout", data=forged)
        assert refused.status_code == 400
        assert 'name="csrf"' in refused.get_data(as_text=True)  # the page asks to confirm with a real form
        assert client.get("/").status_code == 200
    assert client.post("/logout", data={"csrf": csrf_of(client)}).status_code == 302
    assert client.get("/").status_code == 302
