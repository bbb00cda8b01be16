"""The sign-in, sign-out and "not for your role" pages, rendered from ioc/access/templates (autoescaped)."""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from typing import Any
from urllib.parse import quote

import flask
import flask_login

from ioc.access import devices
from ioc.access.language import remember, request_language
from ioc.access.permissions import LOGIN_PATH, allowed, safe_next
from ioc.access.security import Security
from ioc.access.sessions import session_user
from ioc.auth import User, current_address, current_user
from ioc.i18n import LANGUAGES, t

# Flask finds the templates through this blueprint; it has no routes of its own
templates = flask.Blueprint("ioc_access", __name__, template_folder="templates")


def _lang() -> str:
    # the city's language until this browser chose one (never its Accept-Language: the dashboard after
    # sign-in reads the same choice, ioc.access.language)
    return request_language()


def _city_name(lang: str) -> str:
    context = flask.current_app.extensions.get("ioc")
    return context.settings.city.name.get(lang) if context is not None else t("auth.city", lang)


def _lang_links(lang: str) -> list[dict[str, Any]]:
    links = []
    for code in LANGUAGES:
        query = dict(flask.request.args)
        query["lang"] = code
        href = flask.request.path + "?" + "&".join(f"{quote(k)}={quote(v)}" for k, v in query.items())
        links.append({"code": code, "href": href, "active": code == lang})
    return links


def _page(template: str, title: str, lang: str, status: int = 200, **values: Any) -> flask.Response:
    keys = ("sign_in", "username", "password", "submit", "sign_out", "forbidden", "go_home")
    document = flask.render_template(
        template, lang=lang, title=title, city=_city_name(lang), subtitle=t("app.subtitle", lang),
        lang_links=_lang_links(lang), text={key: t(f"auth.{key}", lang) for key in keys}, **values)
    response = flask.make_response(document, status)
    response.headers["Content-Type"] = "text/html; charset=utf-8"
    if flask.request.args.get("lang") in LANGUAGES:  # a click on the page's VI/EN links: kept for every page
        remember(response, lang)
    return response


def csrf_token() -> str:
    """The token every form posting to the server carries (sign-in, sign-out).

    Signed in, it is derived from the server-side session, not stored in the cookie: a page's layout and
    callbacks answer at once, each rewriting the session cookie, and the last one written could lack a token
    stored by another. Before sign-in (the form alone) it is a random token kept in the session."""
    user = current_user()
    if user is not None and user.session:
        key = str(flask.current_app.secret_key).encode()
        return hmac.new(key, b"csrf:" + user.session.encode(), hashlib.sha256).hexdigest()
    token = flask.session.get("csrf")
    if not token:
        token = secrets.token_urlsafe(24)
        flask.session["csrf"] = token
    return str(token)


def _login_form(lang: str, *, error: str = "", username: str = "", next_path: str = "", status: int = 200
                ) -> flask.Response:
    return _page("access_sign_in.html", t("auth.sign_in", lang), lang, status, error=error, username=username,
                 next_path=next_path, csrf=csrf_token(), login_path=LOGIN_PATH)


def login(security: Security) -> flask.Response:
    request = flask.request
    lang = request.form.get("lang") if request.form.get("lang") in LANGUAGES else _lang()
    next_path = safe_next(request.values.get("next")) or ""
    if request.method != "POST":
        user = session_user(security)
        if user is not None:
            return flask.redirect(next_path or security.access.landing_page(security.roles, user))
        return _login_form(lang, next_path=next_path)

    address = current_address() or "unknown"
    username = (request.form.get("username") or "").strip().lower()[:64]
    password = request.form.get("password") or ""
    policy = security.roles.sign_in
    if not _csrf_ok():
        return _login_form(lang, error=t("auth.expired_form", lang), username=username, next_path=next_path,
                           status=400)
    device_age = policy.device_cookie_days * 86400
    device = devices.known_device(username, device_age)
    wait = _throttled(security, username, address, device)
    if wait:
        security.audit.record(actor=username or "?", action="sign_in.throttled", object=f"user:{username}",
                              address=address, note="known browser" if device else "")
        response = _login_form(lang, error=t("auth.throttled", lang), username=username, next_path=next_path,
                               status=429)
        response.headers["Retry-After"] = str(wait)
        return response
    user = security.users.verify(username, password)
    if user is None:
        _count_failure(security, username, address, device)
        security.audit.record(actor=username or "?", action="sign_in.failed", object=f"user:{username}",
                              address=address)
        return _login_form(lang, error=t("auth.wrong", lang), username=username, next_path=next_path, status=401)
    flask.session.clear()  # a fresh session on sign-in: nothing set before it carries over
    user = security.users.open_session(user)  # on the server too, so sign-out can end it
    flask_login.login_user(user)
    flask.session.permanent = True
    now = time.time()
    flask.session["signed_in_at"] = now
    flask.session["active_at"] = now
    security.users.note_sign_in(user)
    security.audit.record(actor=user.name, action="sign_in", object=f"user:{user.name}", address=address,
                          to_state=user.role)
    target = next_path if next_path and next_path.split("?")[0] != LOGIN_PATH else ""
    if target and not _may_land(security, user, target.split("?")[0]):
        target = ""
    response = flask.redirect(target or security.access.landing_page(security.roles, user))
    remember(response, lang)
    devices.remember(response, user.name, device_age, secure=security.cookie_secure)
    return response


# Sign-in throttling, designed so that nobody can keep the owner of an account out (OWASP ASVS 5.0 V6.1.1,
# V6.3.1; the OWASP device-cookie defence). A lockout keyed on the account alone let anyone send five wrong
# passwords for a name and refuse its right one everywhere. Instead:
# - every attempt counts against the client's address (attempts_per_address);
# - failures on one account count per address, or per browser that signed in to the account before
#   (failures_per_account): past them only that address or browser waits, the owner elsewhere does not;
# - failures from browsers that never signed in to the account also count for the whole account over a
#   longer window (new_device_failures_per_account per account_window_seconds): past it, guessing from
#   many addresses stops, while the owner's own browsers, which carry a signed device cookie for the
#   account (ioc.access.devices), still sign in. At worst a new browser of the owner waits for the window.
# The checks run before the password is verified, so a throttled client learns nothing about it.


def _throttled(security: Security, username: str, address: str, device: str | None) -> int:
    """Seconds this attempt must wait (0: it may go ahead); the address's attempt is counted here."""
    policy = security.roles.sign_in
    throttle = security.throttle
    attempts, _ = throttle.hit("sign_in_address", address, policy.window_seconds)
    if attempts > policy.attempts_per_address:
        return throttle.retry_after(policy.window_seconds)
    if device is not None:
        if throttle.count("sign_in_device", f"{username}#{device}", policy.window_seconds) \
                >= policy.failures_per_account:
            return throttle.retry_after(policy.window_seconds)
        return 0
    if throttle.count("sign_in_account", f"{username}@{address}", policy.window_seconds) \
            >= policy.failures_per_account:
        return throttle.retry_after(policy.window_seconds)
    if throttle.count("sign_in_new_devices", username, policy.account_window_seconds) \
            >= policy.new_device_failures_per_account:
        return throttle.retry_after(policy.account_window_seconds)
    return 0


def _count_failure(security: Security, username: str, address: str, device: str | None) -> None:
    policy = security.roles.sign_in
    if device is not None:
        security.throttle.hit("sign_in_device", f"{username}#{device}", policy.window_seconds)
        return
    security.throttle.hit("sign_in_account", f"{username}@{address}", policy.window_seconds)
    security.throttle.hit("sign_in_new_devices", username, policy.account_window_seconds)


def _may_land(security: Security, user: User, path: str) -> bool:
    try:
        needed = security.access.page_permission(path)
    except ValueError:
        return False
    return allowed(security.roles, user, {needed})


def _csrf_ok() -> bool:
    return secrets.compare_digest(str(flask.request.form.get("csrf", "")), csrf_token())


def logout(security: Security) -> flask.Response:
    lang = _lang()
    user = session_user(security)
    if flask.request.method != "POST":  # only a form post signs out; a GET (or a prefetch) asks first
        if user is None:
            return flask.redirect(LOGIN_PATH)
        return _page("access_sign_out.html", t("auth.sign_out", lang), lang, csrf=csrf_token())
    if user is not None:
        if not _csrf_ok():
            # another site's form (or a stale page): sign nobody out, ask again with this session's token
            return _page("access_sign_out.html", t("auth.sign_out", lang), lang, 400, csrf=csrf_token())
        security.users.end_session(user)
        security.audit.record(actor=user.name, action="sign_out", object=f"user:{user.name}",
                              address=current_address())
    flask_login.logout_user()
    flask.session.clear()
    return flask.redirect(LOGIN_PATH)


def forbidden_page(security: Security, user: User) -> flask.Response:
    lang = _lang()
    return _page("access_forbidden.html", t("auth.forbidden", lang), lang, 403,
                 detail=t("auth.forbidden_detail", lang, user=user.name, role=user.role),
                 home=security.access.landing_page(security.roles, user), csrf=csrf_token())
