"""Who may open which page, trigger which callback and call which route: read from the pages' own
declarations (ioc.pages), default deny for anything nobody declared."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import dash
import flask
from dash._pages import _path_to_page

from ioc.auth import EVERYTHING, Roles, User
from ioc.cities import allowed_in_deployment
from ioc.pages import SIGNED_IN, Page, in_order
from ioc.wall.screens import ScreenPrincipal

# Plain Flask routes (not Dash pages) by path prefix -> permission; a page's own routes are declared with it.
ROUTE_PERMISSIONS: dict[str, str] = {
    "/_dash-layout": SIGNED_IN,
    "/_dash-dependencies": SIGNED_IN,
    "/reports/": "reports.export",
    "/api/v1/": "api",
    # the city switch of a deployment of several cities: it checks the user's roles per city itself
    "/city": SIGNED_IN,
}
PUBLIC_PATHS = frozenset({"/login", "/logout", "/healthz", "/api/v1/openapi.json", "/_favicon.ico"})
PUBLIC_PREFIXES = ("/assets/", "/_dash-component-suites/")
LOGIN_PATH = "/login"
# Dash's page container: the one callback whose permission depends on its input (the page it renders)
PAGE_CONTENT_OUTPUTS = ("_pages_content.children", "_pages_store.data")


class ForgedRequest(ValueError):
    """A callback request that does not match what the app registered (reordered, added or missing inputs)."""


@dataclass(slots=True)
class Access:
    """One app's permissions: its declared pages, and each registered callback's needs by output key."""

    app: dash.Dash
    pages: tuple[Page, ...]
    callbacks: dict[str, frozenset[str]] = field(default_factory=dict)

    def route_permission(self, path: str) -> str:
        declared = next((route.permission for page in self.pages for route in page.routes if route.rule == path), None)
        return declared if declared is not None else route_permission(path)

    def record(self, output_key: str, needs: Iterable[str]) -> None:
        self.callbacks[output_key] = frozenset(needs)

    def page_by_module(self, module: str | None) -> Page | None:
        return next((page for page in self.pages if page.module == module), None)

    def page_permission(self, pathname: Any) -> str:
        """The permission of the page Dash renders for `pathname`; no page there (Dash's "not found", no
        city data) is for any signed-in user, a registered page nobody declared for nobody."""
        registered = resolve_page(self.app, pathname)
        if not registered:
            return SIGNED_IN
        page = self.page_by_module(registered.get("module"))
        return page.permission if page is not None else EVERYTHING

    def landing_page(self, roles: Roles, user: User) -> str:
        """The first page in the nav (in its order) the user's role opens; the sign-in page when none. Pages
        without a nav link (a situation view, which needs an alarm to show) are never a landing page."""
        for page in in_order(self.pages):
            if page.nav_id is not None and roles.allows(user.role, page.permission):
                return page.path
        return LOGIN_PATH

    def callback_needs(self, body: Mapping[str, Any]) -> frozenset[str] | None:
        """What a callback request needs; None when its output is not a declared callback (refused)."""
        key = body.get("output")
        if not isinstance(key, str):
            return None
        if is_page_content(key):
            spec = self.app.callback_map.get(key)
            if spec is None:
                return None
            return frozenset({self.page_permission(page_content_path(spec, body))})
        return self.callbacks.get(key)


def is_page_content(output_key: str) -> bool:
    return output_key == "..{}...{}..".format(*PAGE_CONTENT_OUTPUTS)


def _pairs(items: Any) -> list[tuple[Any, Any]]:
    if not isinstance(items, list) or not all(isinstance(item, Mapping) for item in items):
        raise ForgedRequest("inputs and state are lists of {id, property, value}")
    return [(item.get("id"), item.get("property")) for item in items]


def page_content_path(spec: Mapping[str, Any], body: Mapping[str, Any]) -> Any:
    """The pathname Dash will hand the page container: by position in the registered spec, after checking
    the request's inputs and state are exactly the spec's (same ids and properties, same order and count)."""
    wanted_inputs = [(item["id"], item["property"]) for item in spec.get("inputs", [])]
    wanted_state = [(item["id"], item["property"]) for item in spec.get("state", [])]
    if _pairs(body.get("inputs")) != wanted_inputs or _pairs(body.get("state", [])) != wanted_state:
        raise ForgedRequest("the request's inputs do not match the registered callback")
    position = wanted_inputs.index(("_pages_location", "pathname"))
    return body["inputs"][position].get("value")


def resolve_page(app: dash.Dash, pathname: Any) -> dict[str, Any]:
    """The registered page Dash renders at `pathname`, resolved as Dash's page container does; {} for none.
    Raises ForgedRequest where Dash would fail rather than render."""
    if pathname is not None and not isinstance(pathname, str):
        raise ForgedRequest("pathname is not text")
    try:
        page, _ = _path_to_page(app.strip_relative_path(pathname))
    except Exception as exc:  # Dash raises on paths outside its prefix: it renders nothing, so neither do we
        raise ForgedRequest(str(exc)) from exc
    return page


def route_permission(path: str) -> str:
    best = max((prefix for prefix in ROUTE_PERMISSIONS if path.startswith(prefix)), key=len, default=None)
    return ROUTE_PERMISSIONS[best] if best is not None else EVERYTHING


def is_public(path: str) -> bool:
    return path in PUBLIC_PATHS or path.startswith(PUBLIC_PREFIXES)


def allowed(roles: Roles, user: User | ScreenPrincipal | None, needed: Iterable[str]) -> bool:
    if user is None:
        return False
    if isinstance(user, ScreenPrincipal):  # a wall screen: its fixed view-only set, whatever roles.yaml says
        return all(item == SIGNED_IN or user.allows(item) for item in needed)
    return all(item == SIGNED_IN or allowed_in_deployment(roles, user, item) for item in needed)


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


def may_open(path: str) -> bool:
    """Whether the signed-in user may open the page at `path` (to hide links the server would refuse)."""
    import flask

    from ioc.auth import current_user

    if not flask.has_app_context():
        return False
    access: Access | None = flask.current_app.extensions.get("ioc_access")
    roles: Roles | None = flask.current_app.extensions.get("ioc_roles")
    page = next((page for page in access.pages if page.path == path), None) if access else None
    return roles is not None and page is not None and allowed(roles, current_user(), {page.permission})


def refuse(status: int, message: str) -> flask.Response:
    """A refusal as JSON (callbacks, API routes, forms): its status, and for 401 how to authenticate."""
    response = flask.jsonify({"error": message, "status": status})
    response.status_code = status
    if status == 401:
        response.headers["WWW-Authenticate"] = 'Session realm="ioc", ApiKey header="X-API-Key"'
    return response
