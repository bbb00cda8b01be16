"""One interface language per browser: the sign-in page opens in the city's language whatever the browser
prefers, a choice on the sign-in page or the dashboard's switch is kept in one cookie, and the dashboard, the
"not for your role" page and the sign-in page after sign-out all follow it."""

from __future__ import annotations

import re

import dash
from flask.testing import FlaskClient

from layouts import ids
from tests.ioc.access.conftest import callback_body, key_writing, post_callback
from tests.layouts.dom import TEST_PASSWORD

ENGLISH_BROWSER = {"Accept-Language": "en-GB,en;q=0.9"}


def page_lang(html: str) -> str:
    found = re.search(r'<html lang="(\w+)"', html)
    return found.group(1) if found else ""


def dashboard_language(client: FlaskClient) -> str:
    """The language the dashboard's shell opens in (its LANG store), as the browser receives it."""
    layout = client.get("/_dash-layout").get_json()

    def find(node: object) -> str | None:
        if isinstance(node, dict):
            props = node.get("props", {})
            if props.get("id") == ids.LANG:
                return props.get("data")
            return next((found for value in props.values() if (found := find(value))), None)
        if isinstance(node, list):
            return next((found for item in node if (found := find(item))), None)
        return None

    return find(layout) or ""


def sign_in(client: FlaskClient, name: str, lang: str | None = None) -> None:
    form = client.get("/login" + (f"?lang={lang}" if lang else ""), headers=ENGLISH_BROWSER).get_data(as_text=True)
    token = re.search(r'name="csrf" value="([^"]+)"', form).group(1)
    chosen = re.search(r'name="lang" value="(\w+)"', form).group(1)
    response = client.post("/login", data={"username": name, "password": TEST_PASSWORD, "csrf": token,
                                           "lang": chosen}, headers=ENGLISH_BROWSER)
    assert response.status_code == 302


def test_sign_in_opens_in_the_city_language_not_the_browser_preference(app: dash.Dash) -> None:
    client = app.server.test_client()
    page = client.get("/login", headers=ENGLISH_BROWSER).get_data(as_text=True)
    assert page_lang(page) == "vi" and "Đăng nhập" in page
    assert 'ioc-lang-button ioc-lang-button--active" href="/login?lang=vi"' in page
    sign_in(client, "operator-1")
    assert dashboard_language(client) == "vi"


def test_a_choice_on_the_sign_in_page_persists_into_the_dashboard_and_back(app: dash.Dash) -> None:
    client = app.server.test_client()
    chosen = client.get("/login?lang=en", headers=ENGLISH_BROWSER)
    assert page_lang(chosen.get_data(as_text=True)) == "en"
    assert "ioc_lang=en" in chosen.headers.get("Set-Cookie", "")
    # the choice stays without the query: reloading the form keeps English
    assert page_lang(client.get("/login", headers=ENGLISH_BROWSER).get_data(as_text=True)) == "en"
    sign_in(client, "operator-1")
    assert dashboard_language(client) == "en"
    refused = client.get("/admin", headers=ENGLISH_BROWSER)
    assert refused.status_code == 403 and page_lang(refused.get_data(as_text=True)) == "en"


def test_the_dashboard_switch_is_kept_for_every_page(app: dash.Dash) -> None:
    client = app.server.test_client()
    sign_in(client, "operator-1")
    assert dashboard_language(client) == "vi"
    switch = key_writing(app, f"{ids.LANG}.data")
    click = callback_body(app, switch, changed=[f"{ids.LANG_EN}.n_clicks"])
    click["inputs"] = [{**item, "value": 1 if item["id"] == ids.LANG_EN else 0} for item in click["inputs"]]
    answer = post_callback(client, click)
    assert answer.status_code == 200 and "ioc_lang=en" in answer.headers.get("Set-Cookie", "")
    assert dashboard_language(client) == "en"
    refused = client.get("/admin")
    assert page_lang(refused.get_data(as_text=True)) == "en"
    back = callback_body(app, switch, changed=[f"{ids.LANG_VI}.n_clicks"])
    back["inputs"] = [{**item, "value": 1} for item in back["inputs"]]
    assert post_callback(client, back).status_code == 200
    assert dashboard_language(client) == "vi"


def test_an_integrator_at_the_site_address_lands_on_the_feeds(app: dash.Dash) -> None:
    client = app.server.test_client()
    sign_in(client, "integrator-1")
    home = client.get("/")
    assert home.status_code == 302 and home.headers["Location"] == "/feeds"
    assert client.get("/feeds").status_code == 200
    # a page the role may not open other than the site's address is still refused, with the refusal page
    assert client.get("/alerts").status_code == 403
