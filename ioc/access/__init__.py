"""Access control of the dashboard: permissions read from the pages' declarations, sessions, sign-in
throttling, security headers and the sign-in pages (users and roles themselves live in ioc.auth)."""

from __future__ import annotations

from ioc.access.guard import API_KEY_HEADER, install, refuse
from ioc.access.permissions import (
    LOGIN_PATH,
    PUBLIC_PATHS,
    PUBLIC_PREFIXES,
    ROUTE_PERMISSIONS,
    Access,
    allowed,
    is_public,
    may_open,
    route_permission,
    safe_href,
    safe_next,
)
from ioc.access.security import Security
from ioc.access.sessions import cookie_secure_default
from ioc.access.signin import csrf_token
from ioc.access.throttle import Throttle
from ioc.pages import SIGNED_IN

__all__ = ["API_KEY_HEADER", "LOGIN_PATH", "PUBLIC_PATHS", "PUBLIC_PREFIXES", "ROUTE_PERMISSIONS", "SIGNED_IN",
           "Access", "Security", "Throttle", "allowed", "cookie_secure_default", "csrf_token", "install", "is_public",
           "may_open", "refuse", "route_permission", "safe_href", "safe_next"]
