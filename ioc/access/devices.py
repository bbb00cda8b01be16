"""Device cookies: a signed note of the accounts that signed in from a browser, for sign-in throttling."""

from __future__ import annotations

import secrets
from typing import Any

import flask
from itsdangerous import BadData, URLSafeTimedSerializer

from ioc.access.permissions import LOGIN_PATH

COOKIE = "ioc_device"
# a shared control-room screen may be signed in to by a whole shift; older accounts drop off
MOST_ACCOUNTS = 8
_SALT = "ioc.access.device"


def _serializer() -> URLSafeTimedSerializer:
    # signed with the session secret under its own salt: a device cookie can never pass for a session
    return URLSafeTimedSerializer(flask.current_app.secret_key, salt=_SALT)


def _accounts(max_age_seconds: float) -> dict[str, str]:
    raw = flask.request.cookies.get(COOKIE)
    if not raw:
        return {}
    try:
        value: Any = _serializer().loads(raw, max_age=max_age_seconds)
    except BadData:
        return {}
    if not isinstance(value, dict):
        return {}
    return {str(name): str(nonce) for name, nonce in value.items()}


def known_device(username: str, max_age_seconds: float) -> str | None:
    """This browser's token for `username` when it signed in to that account before; None otherwise.

    Throttling uses it to tell the owner's browsers from everybody else's (OWASP's device-cookie defence)."""
    return _accounts(max_age_seconds).get(username)


def remember(response: flask.Response, username: str, max_age_seconds: float, *, secure: bool) -> None:
    """Note on the browser that `username` signed in from it (kept, with its token, when already noted)."""
    accounts = _accounts(max_age_seconds)
    nonce = accounts.pop(username, None) or secrets.token_urlsafe(16)
    accounts[username] = nonce  # newest last, so the oldest account is the one dropped
    kept = dict(list(accounts.items())[-MOST_ACCOUNTS:])
    # only the sign-in form reads it, so no other request carries it
    response.set_cookie(COOKIE, _serializer().dumps(kept), max_age=int(max_age_seconds), path=LOGIN_PATH,
                        secure=secure, httponly=True, samesite="Strict")
