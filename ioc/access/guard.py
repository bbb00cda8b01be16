"""The request guard: every page, Dash callback and route needs its declared permission; wired into the
Flask server with sign-in, sign-out and the security headers by `install`."""

from __future__ import annotations

import os
from datetime import timedelta
from typing import Any
from urllib.parse import quote

import dash
import flask
import flask_login
from werkzeug.middleware.proxy_fix import ProxyFix

from ioc.access.headers import ContentPolicy, add_headers
from ioc.access.permissions import LOGIN_PATH, Access, ForgedRequest, allowed, is_public, refuse
from ioc.access.screens import PAIR_ENDPOINT, PAIR_RULE, pair, refuse_revoked, resend_cookie, screen_principal
from ioc.access.security import Security
from ioc.access.sessions import session_secret, session_user
from ioc.access.signin import forbidden_page, login, logout, templates
from ioc.access.switch import switch_city
from ioc.access.throttle import Throttle
from ioc.audit import AuditTrail
from ioc.auth import Roles, User, UserBook
from ioc.cities import SWITCH_PATH, deployment_of
from ioc.config import ConfigError

API_KEY_HEADER = "X-API-Key"


def install(app: dash.Dash, access: Access, store: Any, roles: Roles, *, cookie_secure: bool,
            tile_url: str | None = None) -> Security:
    """Wire sign-in, the guard and the headers into a Dash app's Flask server."""
    server = app.server
    users = UserBook(store.redis, store.keys, roles)
    security = Security(access=access, roles=roles, users=users, throttle=Throttle(store.redis, store.keys),
                        audit=AuditTrail(store.redis, store.keys), cookie_secure=cookie_secure)
    server.extensions["ioc_roles"] = roles
    server.extensions["ioc_access"] = access
    server.extensions["ioc_security"] = security
    server.config.update(
        SECRET_KEY=session_secret(),
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
    hops = trusted_proxy_hops(roles)
    if hops:
        # the client address (sign-in limits, API, audit) and scheme are the ones the trusted proxies name:
        # ProxyFix takes the entry `hops` from the right of X-Forwarded-For, the one our own proxy added,
        # so a client cannot pick its address by sending the header itself
        server.wsgi_app = ProxyFix(server.wsgi_app, x_for=hops, x_proto=hops)  # type: ignore[method-assign]
    manager = flask_login.LoginManager()
    manager.init_app(server)
    deployment = deployment_of(server)
    if deployment is None:
        manager.user_loader(users.load_session)
    else:
        # several cities: the user as the request sees them, with their role in the session's city
        manager.user_loader(lambda value: deployment.for_user(users.load_session(value)))
        server.add_url_rule(SWITCH_PATH, "ioc_city", lambda: switch_city(security, deployment), methods=["POST"])
    policy = ContentPolicy(app, tile_url)

    server.register_blueprint(templates)
    server.before_request(lambda: _guard(security))
    server.after_request(lambda response: add_headers(response, policy))
    server.after_request(lambda response: resend_cookie(response, security))
    server.add_url_rule(LOGIN_PATH, "ioc_login", lambda: login(security), methods=["GET", "POST"])
    server.add_url_rule("/logout", "ioc_logout", lambda: logout(security), methods=["GET", "POST"])
    # a wall screen's key for its device cookie (ioc.access.screens)
    server.add_url_rule(PAIR_RULE, PAIR_ENDPOINT, lambda screen: pair(security, screen), methods=["GET"])
    return security


def trusted_proxy_hops(roles: Roles) -> int:
    """IOC_TRUSTED_PROXY_HOPS when set (it belongs to a deployment), else roles.yaml's sign_in setting."""
    env = os.environ.get("IOC_TRUSTED_PROXY_HOPS")
    if env is None or not env.strip():
        return roles.sign_in.trusted_proxy_hops
    if not env.strip().isdigit() or int(env) > 10:
        raise ConfigError(f"IOC_TRUSTED_PROXY_HOPS: '{env}' is not a number of proxies from 0 to 10")
    return int(env)


def _guard(security: Security) -> flask.Response | None:
    request = flask.request
    path = request.path
    if is_public(path) or (request.url_rule is not None and request.url_rule.endpoint == PAIR_ENDPOINT):
        return None
    user = session_user(security)
    if path.startswith(("/api/", "/odata/")):  # open data: /api/v1 and its OData service
        return None if _api_client(security, user) else refuse(401, "an X-API-Key header or a session is needed")
    page_route = request.url_rule is not None and request.url_rule.rule in ("/", "/<path:path>")
    # a paired wall screen, when no person is signed in on this browser: view-only, never idle-expired
    principal = user or screen_principal(security)
    if principal is None and (revoked := refuse_revoked(page_route)) is not None:
        return revoked
    if principal is None:
        if page_route and request.method in ("GET", "HEAD"):
            return flask.redirect(f"{LOGIN_PATH}?next={quote(request.full_path.rstrip('?'), safe='/?=&')}")
        return refuse(401, "sign-in required")
    try:
        if path == "/_dash-update-component":
            needed = security.access.callback_needs(request.get_json(silent=True) or {})
            if needed is None:
                return refuse(403, "no such callback is declared")
        elif page_route:
            needed = frozenset({security.access.page_permission(path)})
        elif request.url_rule is None:
            return None  # nothing is served here: Flask answers 404
        else:
            needed = frozenset({security.access.route_permission(path)})
    except ForgedRequest:
        return refuse(400, "the request does not match the registered callback")
    if not allowed(security.roles, principal, needed):
        if page_route and user is not None:
            # the site's own address means "my first page": a role that may not open the control room
            # (an integrator) is taken to its own first page, not shown a refusal
            home = security.access.landing_page(security.roles, user)
            if path == "/" and request.method in ("GET", "HEAD") and home not in ("/", LOGIN_PATH):
                return flask.redirect(home)
            return forbidden_page(security, user)
        return refuse(403, "your role does not allow this")
    return None


def _api_client(security: Security, user: User | None) -> str | None:
    """Who calls the API (a key holder or a signed-in user), after counting the call against their rate."""
    request = flask.request
    key = request.headers.get(API_KEY_HEADER, "")
    owner = security.users.api_key_owner(key) if key else None
    client = f"key:{owner[0]}" if owner else (f"user:{user.name}" if user and not key else None)
    if client is None:
        return None
    if owner:
        # a key reads the one city it was issued for, whatever the session says; a city no longer served
        # here opens nothing (never the home city's data instead)
        deployment = deployment_of()
        served = deployment.bind(owner[1]) if deployment is not None else owner[1] == security.users.keys.city
        if not served:
            return None
    flask.g.ioc_api_client = client
    return client
