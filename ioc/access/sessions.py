"""Signed-in sessions: the cookie's signing secret and HTTPS policy, idle and maximum session length."""

from __future__ import annotations

import contextlib
import os
import secrets
import stat
import tempfile
import time
from pathlib import Path

import flask
import flask_login
import redis

from ioc.access.security import Security
from ioc.auth import Roles, User, current_address


def cookie_secure_default(roles: Roles, override: bool | None = None) -> bool:
    """Secure cookies unless the caller (the demo on plain http) or IOC_COOKIE_SECURE says otherwise."""
    if override is not None:
        return override
    env = os.environ.get("IOC_COOKIE_SECURE")
    if env is not None:
        return env.strip().lower() not in ("0", "false", "no", "off")
    return roles.session.cookie_secure


SECRET_FILE_NAME = "secret_key"


def secret_file() -> Path:
    """Where the generated signing secret is kept: IOC_SECRET_KEY_FILE, else the user's configuration
    directory (XDG_CONFIG_HOME or ~/.config; APPDATA on Windows)."""
    configured = os.environ.get("IOC_SECRET_KEY_FILE")
    if configured:
        return Path(configured).expanduser()
    base = os.environ.get("XDG_CONFIG_HOME") or os.environ.get("APPDATA") or str(Path.home() / ".config")
    return Path(base) / "city-ioc" / SECRET_FILE_NAME


def session_secret() -> str:
    """IOC_SECRET_KEY, else a secret generated once into a file only this account may read (0600).

    Never in Redis: whoever could read the city's data there could otherwise sign an administrator's
    session. Workers on one machine share the file; workers on several machines need IOC_SECRET_KEY."""
    configured = os.environ.get("IOC_SECRET_KEY")
    if configured:
        return configured
    path = secret_file()
    if not path.exists():
        _create_secret(path)
    mode = stat.S_IMODE(path.stat().st_mode)
    if mode & 0o077:
        raise RuntimeError(f"{path}: the session-signing secret may be read by other accounts (mode "
                           f"{mode:o}); chmod 600 it, or set IOC_SECRET_KEY")
    secret = path.read_text(encoding="utf-8").strip()
    if len(secret) < 32:
        raise RuntimeError(f"{path}: the session-signing secret is shorter than 32 characters; delete the file "
                           "to have a new one generated, or set IOC_SECRET_KEY")
    return secret


def _create_secret(path: Path) -> None:
    """Write a new secret atomically: written whole to a private temporary file, then linked into place, so
    two workers starting at once both end up reading the one that got there first."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=".secret-")  # mkstemp creates it 0600
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as file:
            file.write(secrets.token_urlsafe(48) + "\n")
        with contextlib.suppress(FileExistsError):
            os.link(temporary, path)
    finally:
        os.unlink(temporary)


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
            security.users.end_session(user)
            security.audit.record(actor=user.name, action="session.expired", object=f"user:{user.name}",
                                  address=current_address(),
                                  note="maximum length" if too_long else "inactivity")
        flask_login.logout_user()
        session.clear()
        return None
    if is_activity(flask.request) and now - active > 5:
        session["active_at"] = now  # not on every click: each write re-sends the cookie
    return user
