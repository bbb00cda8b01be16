"""A wall screen's way in: its key exchanged once at /wall/<screen>?key=... for a signed device cookie bound
to the screen and its key's generation, checked against Redis on every request (revocation blanks the screen
at its next tick), with no idle expiry and only the screen permission set (ioc.wall.screens)."""

from __future__ import annotations

import html
import time
from typing import Any
from urllib.parse import quote

import flask
import redis
from itsdangerous import BadData, URLSafeTimedSerializer

from ioc.access.security import Security
from ioc.auth import current_address
from ioc.i18n import DEFAULT_LANGUAGE, t
from ioc.wall.screens import ScreenBook, ScreenPrincipal

COOKIE = "ioc_screen"
PAIR_RULE = "/wall/<screen>"
PAIR_ENDPOINT = "ioc_wall_pair"
WALL_PATH = "/wall"
# the longest a browser keeps a cookie (Chromium caps at 400 days); it is sent again once a day, so a screen
# that runs never has to pair again
COOKIE_DAYS = 400
RESEND_SECONDS = 86400
# while Redis does not answer, a screen verified within this long keeps its wall (showing "Redis down"
# rather than a blank screen); nobody can revoke it meanwhile either
OUTAGE_GRACE_SECONDS = 120
_SALT = "ioc.access.screen"
_recently_verified: dict[tuple[str, int], float] = {}


def _serializer() -> URLSafeTimedSerializer:
    # the session secret under its own salt: a screen cookie can never pass for a session or a device cookie
    return URLSafeTimedSerializer(flask.current_app.secret_key, salt=_SALT)


def _book(security: Security) -> ScreenBook:
    return ScreenBook(security.users.redis, security.users.keys)


def screen_principal(security: Security) -> ScreenPrincipal | None:
    """The paired screen this request comes from (read once per request), None without a valid cookie or
    when the screen was revoked or given a new key since."""
    if "ioc_screen" in flask.g:
        return flask.g.ioc_screen
    flask.g.ioc_screen = principal = _read_cookie(security)
    return principal


def current_screen() -> ScreenPrincipal | None:
    """The screen the request being served comes from, as the guard found it; None for people."""
    return flask.g.get("ioc_screen") if flask.has_request_context() else None


def refuse_revoked(page_route: bool) -> flask.Response | None:
    """For a browser paired as a screen whose screen was revoked (or re-keyed): a blank page, or 403 to its
    ticks, which blanks the wall. Never the sign-in page: a wall screen has nobody to sign in. None for
    every other browser."""
    if not flask.g.get("ioc_screen_cookie"):
        return None
    if flask.g.get("ioc_screen_unchecked"):
        # Redis did not answer: the screen is not known to be revoked, only not checked. 503, so its wall
        # says "connection lost" over what it shows rather than blanking
        response = flask.jsonify({"error": "the screen cannot be checked now", "status": 503})
        response.status_code = 503
        response.headers["Retry-After"] = "2"
        return response
    if page_route:
        return _refused_page(401)
    response = flask.jsonify({"error": "this screen was revoked", "status": 403})
    response.status_code = 403
    return response


def _read_cookie(security: Security) -> ScreenPrincipal | None:
    raw = flask.request.cookies.get(COOKIE)
    if not raw:
        return None
    try:
        value: Any
        value, issued = _serializer().loads(raw, max_age=COOKIE_DAYS * 86400, return_timestamp=True)
    except BadData:
        return None
    flask.g.ioc_screen_cookie = True  # signed by this server: a screen, revoked or not
    if not isinstance(value, dict) or not isinstance(value.get("screen"), str) \
            or not isinstance(value.get("generation"), int):
        return None
    screen_id, generation = value["screen"], value["generation"]
    try:
        principal = _book(security).principal(screen_id, generation)
    except (redis.RedisError, OSError):
        verified = _recently_verified.get((screen_id, generation))
        if verified is None or time.monotonic() - verified > OUTAGE_GRACE_SECONDS:
            flask.g.ioc_screen_unchecked = True
            return None
        return ScreenPrincipal(screen_id=screen_id, generation=generation)
    if principal is None:
        _recently_verified.pop((screen_id, generation), None)
        return None
    _recently_verified[(screen_id, generation)] = time.monotonic()
    flask.g.ioc_screen_resend = time.time() - issued.timestamp() > RESEND_SECONDS
    return principal


def _set_cookie(response: flask.Response, security: Security, principal: ScreenPrincipal) -> None:
    token = _serializer().dumps({"screen": principal.screen_id, "generation": principal.generation})
    response.set_cookie(COOKIE, token, max_age=COOKIE_DAYS * 86400, path="/", secure=security.cookie_secure,
                        httponly=True, samesite="Lax")


def resend_cookie(response: flask.Response, security: Security) -> flask.Response:
    """After a request of a screen whose cookie is over a day old: the cookie again, with a new date."""
    principal = flask.g.get("ioc_screen")
    if principal is not None and flask.g.get("ioc_screen_resend"):
        _set_cookie(response, security, principal)
    return response


def _refused_page(status: int) -> flask.Response:
    lang = DEFAULT_LANGUAGE
    text = html.escape(t("wall.pair_refused", lang)) + "<br>" + html.escape(t("wall.pair_refused", "en"))
    document = (f"<!doctype html><html lang='{lang}'><head><meta charset='utf-8'><title>IOC</title>"
                "<link rel='stylesheet' href='/assets/wall.css'></head>"
                f"<body class='wall-refused'><p>{text}</p></body></html>")
    response = flask.make_response(document, status)
    response.headers["Content-Type"] = "text/html; charset=utf-8"
    response.headers["Cache-Control"] = "no-store"
    return response


def pair(security: Security, screen: str) -> flask.Response:
    """GET /wall/<screen>?key=...: the screen's key for its device cookie, then on to its wall. Attempts count
    against the address like sign-ins; every pairing and refusal is audited (never the key)."""
    address = current_address() or "unknown"
    policy = security.roles.sign_in
    key = flask.request.args.get("key", "")
    attempts, _ = security.throttle.hit("screen_pair_address", address, policy.window_seconds)
    if attempts > policy.attempts_per_address:
        response = _refused_page(429)
        response.headers["Retry-After"] = str(security.throttle.retry_after(policy.window_seconds))
        return response
    found = _book(security).verify_key(screen, key)
    if found is None:
        security.audit.record(actor=f"screen:{screen[:40]}", action="screen.pair_refused",
                              object=f"screen:{screen[:40]}", address=address)
        return _refused_page(401)
    principal = ScreenPrincipal(screen_id=found.id, generation=found.generation)
    security.audit.record(actor=principal.name, action="screen.paired", object=principal.name, address=address)
    # on to the wall without the key in the address bar (nor in the history, nor in any later Referer)
    response = flask.redirect(f"{WALL_PATH}?screen={quote(found.id)}")
    _set_cookie(response, security, principal)
    response.headers["Cache-Control"] = "no-store"
    return response
