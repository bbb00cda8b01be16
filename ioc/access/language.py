"""The interface language of a browser, one choice for every page: the sign-in and "not for your role" pages
and the dashboard all read it from one cookie, which the VI/EN switch on any of them writes. Before anyone
chose, it is the city's default language (city.yaml `language`), never the browser's own preference, so the
sign-in page and the dashboard after it always agree."""

from __future__ import annotations

from typing import Any

import flask

from ioc.i18n import DEFAULT_LANGUAGE, LANGUAGES

COOKIE = "ioc_lang"
COOKIE_DAYS = 365


def city_language() -> str:
    """The city's default interface language (city.yaml), the project's when no city is loaded."""
    context = flask.current_app.extensions.get("ioc") if flask.has_app_context() else None
    chosen = getattr(getattr(getattr(context, "settings", None), "city", None), "language", None)
    return chosen if chosen in LANGUAGES else DEFAULT_LANGUAGE


def request_language() -> str:
    """The language of this request: `?lang=`, else the browser's remembered choice, else the city's."""
    if not flask.has_request_context():
        return city_language()
    for asked in (flask.request.args.get("lang"), flask.request.cookies.get(COOKIE)):
        if asked in LANGUAGES:
            return asked
    return city_language()


def remember(response: Any, lang: str) -> None:
    """Keep the choice for this browser (a year); the cookie is read by the server only."""
    if lang not in LANGUAGES:
        return
    security = flask.current_app.extensions.get("ioc_security") if flask.has_app_context() else None
    response.set_cookie(COOKIE, lang, max_age=COOKIE_DAYS * 86400, samesite="Lax", httponly=True,
                        secure=bool(getattr(security, "cookie_secure", False)))
