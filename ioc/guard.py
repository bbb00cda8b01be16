"""Server-side enforcement: every page, Dash callback and route needs a permission; sign-in, sign-out,
session limits, sign-in throttling and the security headers of every response.

Default deny: a page, callback id or route nobody mapped here is open to administrators only, so a page a
colleague adds is protected before anyone thinks of it (and a test lists what is unmapped).
"""

from __future__ import annotations

import contextlib
import html
import json
import logging
import os
import secrets
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Any
from urllib.parse import quote, urlsplit

import dash
import flask
import flask_login
import redis

from ioc.audit import AuditTrail
from ioc.auth import EVERYTHING, Roles, User, UserBook, current_address
from ioc.i18n import DEFAULT_LANGUAGE, LANGUAGES, t
from ioc.keys import Keys

log = logging.getLogger(__name__)

SIGNED_IN = "signed_in"  # any signed-in user, whatever the role
PAGE = "page"  # the page the callback renders decides (Dash's page container)

# Dash pages by path -> the permission that opens them.
PAGE_PERMISSIONS: dict[str, str] = {
    "/": "control_room.view",
    "/feeds": "feeds.view",
    "/alerts": "alerts.view",
    "/reports": "reports.view",
    "/admin": "users.manage",
}
# Component ids by prefix -> the permission a callback touching them needs; the longest prefix wins, and a
# callback needs the permissions of all its ids (outputs, inputs and states).
CALLBACK_IDS: dict[str, str] = {
    "_pages_": PAGE,
    "ioc-": SIGNED_IN,
    "control-room-": "control_room.view",
    "feeds-": "feeds.view",
    "feeds-details": "feeds.raw",
    "alerts-": "alerts.view",
    "reports-": "reports.view",
    "admin-": "users.manage",
    "admin-audit": "audit.view",
}
# Ids whose change is an action (a button press, a tick): a callback they trigger (as an Input) also needs
# the action's permission; as outputs (a button's label, its disabled state) they only need to be seen.
# None: no action, though the prefix of one (the assignee field is only read).
ACTION_TRIGGERS: dict[str, str | None] = {
    "alerts-ack": "alerts.act",
    "alerts-assign": "alerts.act",
    "alerts-assignee": None,
    "alerts-resolve": "alerts.act",
    "alerts-step": "alerts.act",
    "reports-export": "reports.export",
    "reports-target": "targets.manage",
}
# Plain Flask routes (not Dash pages) by path prefix -> permission.
ROUTE_PERMISSIONS: dict[str, str] = {
    "/_dash-layout": SIGNED_IN,
    "/_dash-dependencies": SIGNED_IN,
    "/admin/audit.csv": "audit.view",
    "/reports/": "reports.export",
    "/api/v1/": "api",
}
PUBLIC_PATHS = frozenset({"/login", "/logout", "/healthz", "/api/v1/openapi.json", "/_favicon.ico"})
PUBLIC_PREFIXES = ("/assets/", "/_dash-component-suites/")
API_KEY_HEADER = "X-API-Key"
LOGIN_PATH = "/login"


# --- what a request needs ----------------------------------------------------------------------------------


def _id_name(component_id: Any) -> str | None:
    """An id as text; a pattern-matching id by its `type`."""
    if isinstance(component_id, str) and component_id.startswith("{"):
        try:
            component_id = json.loads(component_id)  # the callback map keeps pattern ids as JSON text
        except json.JSONDecodeError:
            return None
    if isinstance(component_id, Mapping):
        component_id = component_id.get("type") or next(
            (value for value in component_id.values() if isinstance(value, str)), "")
    return component_id if isinstance(component_id, str) else None


def _longest(table: Mapping[str, Any], name: str) -> str | None:
    return max((prefix for prefix in table if name.startswith(prefix)), key=len, default=None)


def id_permission(component_id: Any) -> str | None:
    """The permission to see one component id; None when unmapped."""
    name = _id_name(component_id)
    best = _longest(CALLBACK_IDS, name) if name is not None else None
    return CALLBACK_IDS[best] if best is not None else None


def trigger_permission(component_id: Any) -> str | None:
    """The action permission a change of this component needs when it triggers a callback; None if none."""
    name = _id_name(component_id)
    best = _longest(ACTION_TRIGGERS, name) if name is not None else None
    return ACTION_TRIGGERS[best] if best is not None else None


def _output_ids(output_key: str, spec: Mapping[str, Any]) -> list[Any]:
    if spec.get("no_output"):
        return []
    parts = output_key[2:-2].split("...") if output_key.startswith("..") else [output_key]
    found: list[Any] = []
    for part in parts:
        component, _, _prop = part.rpartition(".")
        if component.startswith("{"):
            try:
                found.append(json.loads(component))
                continue
            except json.JSONDecodeError:
                pass
        found.append(component)
    return found


def callback_requirement(output_key: str, spec: Mapping[str, Any]) -> frozenset[str]:
    """Every permission a registered callback needs; {'*'} (administrators only) when an id is unmapped."""
    component_ids = _output_ids(output_key, spec)
    component_ids += [item.get("id") for item in spec.get("inputs", [])]
    component_ids += [item.get("id") for item in spec.get("state", [])]
    needed: set[str] = set()
    for component_id in component_ids:
        permission = id_permission(component_id)
        if permission is None:
            return frozenset({EVERYTHING})
        needed.add(permission)
    for item in spec.get("inputs", []):
        action = trigger_permission(item.get("id"))
        if action is not None:
            needed.add(action)
    return frozenset(needed or {EVERYTHING})


def callback_requirements(app: dash.Dash) -> dict[str, frozenset[str]]:
    return {key: callback_requirement(key, spec) for key, spec in app.callback_map.items()}


def page_permission(pathname: str | None) -> str:
    """The permission of the page at `pathname`; a registered page nobody mapped is for administrators."""
    path = "/" + (pathname or "/").strip("/")
    for page in dash.page_registry.values():
        template = page.get("path_template")
        if page.get("path") == path or (template and _template_matches(template, path)):
            return PAGE_PERMISSIONS.get(page.get("path") or "", EVERYTHING)
    return SIGNED_IN  # no page there: Dash shows its "not found" page, which holds no city data


def _template_matches(template: str, path: str) -> bool:
    want, have = template.strip("/").split("/"), path.strip("/").split("/")
    return len(want) == len(have) and all(w.startswith("<") or w == h for w, h in zip(want, have, strict=True))


def route_permission(path: str) -> str:
    best = max((prefix for prefix in ROUTE_PERMISSIONS if path.startswith(prefix)), key=len, default=None)
    return ROUTE_PERMISSIONS[best] if best is not None else EVERYTHING


def is_public(path: str) -> bool:
    return path in PUBLIC_PATHS or path.startswith(PUBLIC_PREFIXES)


def allowed(roles: Roles, user: User | None, needed: Iterable[str]) -> bool:
    if user is None:
        return False
    return all(item == SIGNED_IN or roles.allows(user.role, item) for item in needed)


def landing_page(roles: Roles, user: User) -> str:
    """The first page (in navigation order) the user's role opens; the sign-in page when none."""
    for path, permission in PAGE_PERMISSIONS.items():
        if roles.allows(user.role, permission) and any(page.get("path") == path
                                                       for page in dash.page_registry.values()):
            return path
    return LOGIN_PATH


def safe_href(url: Any) -> str | None:
    """The only way an href is built from data: http(s) and same-site relative URLs pass, anything else
    (`javascript:`, `data:`, `vbscript:`, protocol-relative `//host`) gives None."""
    if not isinstance(url, str):
        return None
    text = url.strip()
    if not text or any(ord(ch) < 32 for ch in text):
        return None
    parts = urlsplit(text)
    if parts.scheme:
        return text if parts.scheme.lower() in ("http", "https") and parts.netloc else None
    if text.startswith(("//", "\\", "/\\")):
        return None
    return text


def safe_next(target: str | None) -> str | None:
    """A post-sign-in destination on this site only (no open redirect)."""
    href = safe_href(target)
    return href if href and href.startswith("/") and not urlsplit(href).scheme else None


# --- throttling ----------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Throttle:
    """Fixed-window counters in Redis, shared by every worker (keys from ioc.keys, in the city's slot)."""

    client: redis.Redis
    keys: Keys

    def _key(self, scope: str, who: str, window: int) -> tuple[str, int]:
        bucket = int(time.time() // window)
        return self.keys.rate_limit(scope, who, bucket), window - int(time.time() % window)

    def count(self, scope: str, who: str, window: int) -> int:
        key, _ = self._key(scope, who, window)
        return int(self.client.get(key) or 0)

    def hit(self, scope: str, who: str, window: int) -> tuple[int, int]:
        """Count one more; returns (count in this window, seconds until it ends)."""
        key, remaining = self._key(scope, who, window)
        pipe = self.client.pipeline(transaction=True)
        pipe.incr(key)
        pipe.expire(key, window + 1)
        count, _ = pipe.execute()
        return int(count), remaining

    def retry_after(self, window: int) -> int:
        return window - int(time.time() % window)


# --- the app's security setup ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Security:
    """What one app enforces: its roles, its users, whether cookies need HTTPS."""

    roles: Roles
    users: UserBook
    throttle: Throttle
    audit: AuditTrail
    cookie_secure: bool


def cookie_secure_default(roles: Roles, override: bool | None = None) -> bool:
    """Secure cookies unless the caller (the demo on plain http) or IOC_COOKIE_SECURE says otherwise."""
    if override is not None:
        return override
    env = os.environ.get("IOC_COOKIE_SECURE")
    if env is not None:
        return env.strip().lower() not in ("0", "false", "no", "off")
    return roles.session.cookie_secure


def session_secret(client: redis.Redis, keys: Keys) -> str:
    """IOC_SECRET_KEY, else one secret kept in Redis so every worker signs cookies alike."""
    configured = os.environ.get("IOC_SECRET_KEY")
    if configured:
        return configured
    try:
        client.set(keys.session_secret(), secrets.token_urlsafe(48), nx=True)
        return str(client.get(keys.session_secret()))
    except (redis.RedisError, OSError):
        # no Redis at start: nobody can sign in until it is back anyway; this process signs alone meanwhile
        log.warning("Redis unreachable: session cookies signed with a per-process key; set IOC_SECRET_KEY")
        return secrets.token_urlsafe(48)


def install(app: dash.Dash, store: Any, roles: Roles, *, cookie_secure: bool, tile_url: str | None = None
            ) -> Security:
    """Wire sign-in, the guard and the headers into a Dash app's Flask server."""
    server = app.server
    users = UserBook(store.redis, store.keys, roles)
    security = Security(roles=roles, users=users, throttle=Throttle(store.redis, store.keys),
                        audit=AuditTrail(store.redis, store.keys), cookie_secure=cookie_secure)
    server.extensions["ioc_roles"] = roles
    server.extensions["ioc_security"] = security
    server.config.update(
        SECRET_KEY=session_secret(store.redis, store.keys),
        SESSION_COOKIE_NAME="ioc_session",
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=cookie_secure,
        PERMANENT_SESSION_LIFETIME=timedelta(seconds=roles.longest_session_seconds()),
        REMEMBER_COOKIE_HTTPONLY=True,
        REMEMBER_COOKIE_SECURE=cookie_secure,
        REMEMBER_COOKIE_SAMESITE="Lax",
        DEBUG=False,
    )
    manager = flask_login.LoginManager()
    manager.init_app(server)
    manager.user_loader(users.load_session)
    policy = _ContentPolicy(app, tile_url)

    server.before_request(lambda: _guard(app, security))
    server.after_request(lambda response: _headers(response, policy))
    server.add_url_rule(LOGIN_PATH, "ioc_login", lambda: _login(security), methods=["GET", "POST"])
    server.add_url_rule("/logout", "ioc_logout", lambda: _logout(security), methods=["GET", "POST"])
    return security


def _guard(app: dash.Dash, security: Security) -> flask.Response | None:
    request = flask.request
    path = request.path
    if is_public(path):
        return None
    user = _session_user(security)
    if path.startswith("/api/"):
        return None if _api_client(security, user) else _refuse(401, "an X-API-Key header or a session is needed")
    page_route = request.url_rule is not None and request.url_rule.rule in ("/", "/<path:path>")
    if user is None:
        if page_route and request.method in ("GET", "HEAD"):
            return flask.redirect(f"{LOGIN_PATH}?next={quote(request.full_path.rstrip('?'), safe='/?=&')}")
        return _refuse(401, "sign-in required")
    if path == "/_dash-update-component":
        needed = _callback_needs(app, request.get_json(silent=True) or {})
    elif page_route:
        needed = frozenset({page_permission(path)})
    elif request.url_rule is None:
        return None  # nothing is served here: Flask answers 404
    else:
        needed = frozenset({route_permission(path)})
    if not allowed(security.roles, user, needed):
        if page_route:
            return _forbidden_page(security, user)
        return _refuse(403, "your role does not allow this")
    return None


def _callback_needs(app: dash.Dash, body: Mapping[str, Any]) -> frozenset[str]:
    key = body.get("output")
    spec = app.callback_map.get(key) if isinstance(key, str) else None
    if spec is None:
        return frozenset({EVERYTHING})
    needed = set(callback_requirement(key, spec))
    if PAGE in needed:
        needed.discard(PAGE)
        pathname = next((item.get("value") for item in body.get("inputs", []) if isinstance(item, Mapping)
                         and item.get("id") == "_pages_location" and item.get("property") == "pathname"), "/")
        needed.add(page_permission(pathname if isinstance(pathname, str) else "/"))
    return frozenset(needed)


def _is_activity(request: flask.Request) -> bool:
    """Whether a person did something: live refreshes (timers) of a screen left open do not count."""
    if request.path != "/_dash-update-component":
        return request.method != "HEAD"
    body = request.get_json(silent=True) or {}
    changed = body.get("changedPropIds") or []
    return any(isinstance(prop, str) and not prop.endswith(".n_intervals") for prop in changed)


def _session_user(security: Security) -> User | None:
    """The signed-in user, after ending a session past its idle or maximum time."""
    user = flask_login.current_user
    if not getattr(user, "is_authenticated", False):
        return None
    user = user._get_current_object()
    session = flask.session
    now = time.time()
    signed_in = float(session.get("signed_in_at") or 0)
    active = float(session.get("active_at") or 0)
    too_long = now - signed_in > security.roles.session_seconds(user.role)
    idle = now - active > security.roles.idle_seconds(user.role)
    if too_long or idle:
        with contextlib.suppress(redis.RedisError, OSError):
            security.audit.record(actor=user.name, action="session.expired", object=f"user:{user.name}",
                                  address=current_address(),
                                  note="maximum length" if too_long else "inactivity")
        flask_login.logout_user()
        session.clear()
        return None
    if _is_activity(flask.request) and now - active > 5:
        session["active_at"] = now  # not on every click: each write re-sends the cookie
    return user


def _api_client(security: Security, user: User | None) -> str | None:
    """Who calls the API (a key holder or a signed-in user), after counting the call against their rate."""
    request = flask.request
    key = request.headers.get(API_KEY_HEADER, "")
    client = f"key:{security.users.api_key_holder(key)}" if key else (f"user:{user.name}" if user else None)
    if client is None or client == "key:None":
        return None
    flask.g.ioc_api_client = client
    return client


def _refuse(status: int, message: str) -> flask.Response:
    response = flask.jsonify({"error": message, "status": status})
    response.status_code = status
    if status == 401:
        response.headers["WWW-Authenticate"] = 'Session realm="ioc", ApiKey header="X-API-Key"'
    return response


# --- security headers ------------------------------------------------------------------------------------


class _ContentPolicy:
    """The Content-Security-Policy header: scripts from this site and Dash's own inline scripts (by hash)
    only; styles may be inline because Plotly writes its own <style> rules."""

    def __init__(self, app: dash.Dash, tile_url: str | None) -> None:
        self.app = app
        self.images = ["'self'", "data:", "blob:"]
        if tile_url:
            parts = urlsplit(tile_url.replace("{", "").replace("}", ""))
            if parts.scheme in ("http", "https") and parts.netloc:
                self.images.append(f"{parts.scheme}://{parts.netloc}")
        self._scripts: tuple[int, str] | None = None

    def header(self) -> str:
        inline = len(self.app._inline_scripts)
        if self._scripts is None or self._scripts[0] != inline:
            hashes = " ".join(self.app.csp_hashes())
            self._scripts = (len(self.app._inline_scripts), hashes)
        return "; ".join([
            "default-src 'self'",
            f"script-src 'self' {self._scripts[1]}",
            "style-src 'self' 'unsafe-inline'",
            f"img-src {' '.join(self.images)}",
            "font-src 'self' data:",
            "connect-src 'self'",
            "worker-src 'self' blob:",
            "object-src 'none'",
            "base-uri 'self'",
            "form-action 'self'",
            "frame-ancestors 'none'",
        ])


def _headers(response: flask.Response, policy: _ContentPolicy) -> flask.Response:
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["X-Frame-Options"] = "DENY"
    response.headers["Referrer-Policy"] = "same-origin"
    response.headers["Content-Security-Policy"] = policy.header()
    response.headers["Cross-Origin-Opener-Policy"] = "same-origin"
    if flask.request.path in (LOGIN_PATH, "/logout", "/_dash-layout") or flask.request.path.startswith("/api/"):
        response.headers["Cache-Control"] = "no-store"
    return response


# --- sign-in and sign-out pages --------------------------------------------------------------------------


def _lang() -> str:
    asked = flask.request.args.get("lang") or flask.request.cookies.get("ioc_lang")
    if asked in LANGUAGES:
        return asked
    return flask.request.accept_languages.best_match(LANGUAGES, default=DEFAULT_LANGUAGE) or DEFAULT_LANGUAGE


def _page(title: str, body: str, lang: str, status: int = 200) -> flask.Response:
    document = f"""<!DOCTYPE html>
<html lang="{lang}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{html.escape(title)}</title>
<link rel="stylesheet" href="/assets/ioc.css">
<link rel="stylesheet" href="/assets/access.css">
</head>
<body class="ioc-signin-body">
<main class="ioc-signin">
<div class="ioc-signin-brand"><div class="ioc-logo">IOC</div><div>
<div class="ioc-city">{html.escape(_city_name(lang))}</div>
<div class="ioc-subtitle">{html.escape(t("app.subtitle", lang))}</div></div></div>
{body}
<nav class="ioc-signin-lang">{_lang_links(lang)}</nav>
</main>
</body>
</html>
"""
    response = flask.make_response(document, status)
    response.headers["Content-Type"] = "text/html; charset=utf-8"
    return response


def _city_name(lang: str) -> str:
    from ioc.web import current  # late: ioc.web builds the app that installs this module

    try:
        return current().settings.city.name.get(lang)
    except RuntimeError:
        return t("auth.city", lang)


def _lang_links(lang: str) -> str:
    links = []
    for code in LANGUAGES:
        query = dict(flask.request.args)
        query["lang"] = code
        href = flask.request.path + "?" + "&".join(f"{quote(k)}={quote(v)}" for k, v in query.items())
        active = " ioc-lang-button--active" if code == lang else ""
        links.append(f'<a class="ioc-lang-button{active}" href="{html.escape(href)}">{code.upper()}</a>')
    return "".join(links)


def _csrf_token() -> str:
    token = flask.session.get("csrf")
    if not token:
        token = secrets.token_urlsafe(24)
        flask.session["csrf"] = token
    return token


def _login_form(lang: str, *, error: str = "", username: str = "", next_path: str = "", status: int = 200
                ) -> flask.Response:
    message = f'<p class="ioc-signin-error" role="alert">{html.escape(error)}</p>' if error else ""
    body = f"""<h1 class="ioc-signin-title">{html.escape(t("auth.sign_in", lang))}</h1>
{message}
<form method="post" action="{LOGIN_PATH}" class="ioc-signin-form" autocomplete="on">
<input type="hidden" name="csrf" value="{html.escape(_csrf_token())}">
<input type="hidden" name="next" value="{html.escape(next_path)}">
<input type="hidden" name="lang" value="{lang}">
<label for="username">{html.escape(t("auth.username", lang))}</label>
<input id="username" name="username" type="text" value="{html.escape(username)}" autocomplete="username"
 autocapitalize="none" spellcheck="false" required autofocus>
<label for="password">{html.escape(t("auth.password", lang))}</label>
<input id="password" name="password" type="password" autocomplete="current-password" required>
<button type="submit" class="ioc-signin-button">{html.escape(t("auth.submit", lang))}</button>
</form>"""
    return _page(t("auth.sign_in", lang), body, lang, status)


def _login(security: Security) -> flask.Response:
    request = flask.request
    lang = request.form.get("lang") if request.form.get("lang") in LANGUAGES else _lang()
    next_path = safe_next(request.values.get("next")) or ""
    if request.method != "POST":
        user = _session_user(security)
        if user is not None:
            return flask.redirect(next_path or landing_page(security.roles, user))
        return _login_form(lang, next_path=next_path)

    address = current_address() or "unknown"
    username = (request.form.get("username") or "").strip().lower()[:64]
    password = request.form.get("password") or ""
    policy = security.roles.sign_in
    if not secrets.compare_digest(str(request.form.get("csrf", "")), str(flask.session.get("csrf", "x"))):
        return _login_form(lang, error=t("auth.expired_form", lang), username=username, next_path=next_path,
                           status=400)
    attempts, _ = security.throttle.hit("sign_in_address", address, policy.window_seconds)
    failures = security.throttle.count("sign_in_account", username, policy.window_seconds)
    if attempts > policy.attempts_per_address or failures >= policy.failures_per_account:
        security.audit.record(actor=username or "?", action="sign_in.throttled", object=f"user:{username}",
                              address=address)
        response = _login_form(lang, error=t("auth.throttled", lang), username=username, next_path=next_path,
                               status=429)
        response.headers["Retry-After"] = str(security.throttle.retry_after(policy.window_seconds))
        return response
    user = security.users.verify(username, password)
    if user is None:
        security.throttle.hit("sign_in_account", username, policy.window_seconds)
        security.audit.record(actor=username or "?", action="sign_in.failed", object=f"user:{username}",
                              address=address)
        return _login_form(lang, error=t("auth.wrong", lang), username=username, next_path=next_path, status=401)
    flask.session.clear()  # a fresh session on sign-in: nothing set before it carries over
    flask_login.login_user(user)
    flask.session.permanent = True
    now = time.time()
    flask.session["signed_in_at"] = now
    flask.session["active_at"] = now
    security.users.note_sign_in(user)
    security.audit.record(actor=user.name, action="sign_in", object=f"user:{user.name}", address=address,
                          to_state=user.role)
    target = next_path if next_path and next_path.split("?")[0] != LOGIN_PATH else ""
    if target and not allowed(security.roles, user, {page_permission(target.split("?")[0])}):
        target = ""
    response = flask.redirect(target or landing_page(security.roles, user))
    response.set_cookie("ioc_lang", lang, samesite="Lax", secure=security.cookie_secure, httponly=True)
    return response


def _logout(security: Security) -> flask.Response:
    lang = _lang()
    user = _session_user(security)
    if flask.request.method != "POST":  # only a form post signs out; a GET (or a prefetch) asks first
        if user is None:
            return flask.redirect(LOGIN_PATH)
        body = f"""<h1 class="ioc-signin-title">{html.escape(t("auth.sign_out", lang))}</h1>
<form method="post" action="/logout" class="ioc-signin-form">
<input type="hidden" name="csrf" value="{html.escape(_csrf_token())}">
<button type="submit" class="ioc-signin-button">{html.escape(t("auth.sign_out", lang))}</button>
</form>"""
        return _page(t("auth.sign_out", lang), body, lang)
    if user is not None:
        security.audit.record(actor=user.name, action="sign_out", object=f"user:{user.name}",
                              address=current_address())
    flask_login.logout_user()
    flask.session.clear()
    return flask.redirect(LOGIN_PATH)


def _forbidden_page(security: Security, user: User) -> flask.Response:
    lang = _lang()
    home = landing_page(security.roles, user)
    body = f"""<h1 class="ioc-signin-title">{html.escape(t("auth.forbidden", lang))}</h1>
<p class="ioc-signin-note">{html.escape(t("auth.forbidden_detail", lang, user=user.name, role=user.role))}</p>
<p><a class="ioc-signin-link" href="{html.escape(home)}">{html.escape(t("auth.go_home", lang))}</a></p>
<form method="post" action="/logout" class="ioc-signin-form">
<button type="submit" class="ioc-signin-button ioc-signin-button--quiet">{html.escape(t("auth.sign_out", lang))}</button>
</form>"""
    return _page(t("auth.forbidden", lang), body, lang, 403)


def may_open(path: str) -> bool:
    """Whether the signed-in user may open the page at `path` (to hide links the server would refuse)."""
    from ioc.auth import current_user

    user = current_user()
    roles = flask.current_app.extensions.get("ioc_roles") if flask.has_app_context() else None
    return roles is not None and allowed(roles, user, {page_permission(path)})
