"""Signed-in sessions: the cookie's signing secret and HTTPS policy, idle and maximum session length."""

from __future__ import annotations

import contextlib
import logging
import os
import secrets
import time

import flask
import flask_login
import redis

from ioc.access.security import Security
from ioc.auth import Roles, User, current_address
from ioc.keys import Keys

log = logging.getLogger(__name__)


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


def is_activity(request: flask.Request) -> bool:
    """Whether a person did something: live refreshes (timers) of a screen left open do not count."""
    if request.path != "/_dash-update-component":
        return request.method != "HEAD"
    body = request.get_json(silent=True) or {}
    changed = body.get("changedPropIds") or []
    return any(isinstance(prop, str) and not prop.endswith(".n_intervals") for prop in changed)


def session_user(security: Security) -> User | None:
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
    if is_activity(flask.request) and now - active > 5:
        session["active_at"] = now  # not on every click: each write re-sends the cookie
    return user
