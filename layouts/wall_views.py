"""What fills a wall screen: a playlist item or a takeover rendered from the dashboard's own pages (the
control room, with its map zoomed to an area or showing one sector; the situation view of an alarm), and
the takeover banner."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qsl, urlsplit

from dash import dcc, html
from dash.development.base_component import Component

from ioc.access.screens import current_screen
from ioc.auth import may
from ioc.i18n import t
from ioc.pages import Page
from ioc.web import WebContext
from layouts import ids

ALERTS_PAGE = "/alerts"
CONTROL_ROOM = "/"


def page_at(context: WebContext, path: str) -> Page | None:
    return next((page for page in context.pages if page.path == path), None)


def may_show(page: Page) -> bool:
    """Whether this screen (or the person previewing the wall) may see the page."""
    screen = current_screen()
    return screen.allows(page.permission) if screen is not None else may(page.permission)


def _walk(node: Any) -> Any:
    yield node
    children = getattr(node, "children", None) if isinstance(node, Component) else node
    if isinstance(children, list | tuple):
        for child in children:
            yield from _walk(child)
    elif isinstance(children, Component):
        yield from _walk(children)


def show_sectors(tree: Any, hidden: list[str]) -> Any:
    """The control room's map hides `hidden` on the wall: its hidden-sector store held in memory with this
    view's list, so the wall neither reads nor overwrites what a person chose on this browser."""
    for node in _walk(tree):
        if isinstance(node, dcc.Store) and getattr(node, "id", None) == ids.MAP_HIDDEN:
            node.storage_type = "memory"
            node.data = list(hidden)
    return tree


def _fallback(view: dict[str, Any]) -> str:
    """Where a takeover goes while the situation view is not in this app: the alarm on the alert queue."""
    takeover = view.get("takeover") or {}
    if takeover.get("kind") == "alert":
        return f"{ALERTS_PAGE}?alert={takeover.get('id', '')}"
    return CONTROL_ROOM


def render(context: WebContext, view: dict[str, Any], lang: str) -> Any:
    """The view's page, as the page itself lays it out, with the wall's choices applied."""
    address = str(view.get("address") or CONTROL_ROOM)
    parts = urlsplit(address)
    page = page_at(context, parts.path)
    if page is None and view.get("kind") == "takeover":
        parts = urlsplit(_fallback(view))
        page = page_at(context, parts.path)
    if page is None or not may_show(page):
        return html.Div(t("wall.unavailable", lang, what=parts.path), className="wall-unavailable")
    query = {name: value for name, value in parse_qsl(parts.query) if name.isidentifier()}
    return show_sectors(page.layout(context, **query), list(view.get("hidden") or []))


def banner(view: dict[str, Any] | None) -> Any:
    """The takeover's line above the view: severity, what, where, since when; nothing outside a takeover."""
    takeover = (view or {}).get("takeover")
    if not takeover:
        return None
    return html.Div(className=f"wall-banner-inner wall-banner--{takeover.get('severity', 'severe')}", children=[
        html.Span(takeover.get("severity_text", ""), className="wall-banner-severity"),
        html.Span(takeover.get("title", ""), className="wall-banner-title"),
        html.Span(takeover.get("district", ""), className="wall-banner-where"),
        html.Span(takeover.get("since", ""), className="wall-banner-since"),
    ])
