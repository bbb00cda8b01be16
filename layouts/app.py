"""The city's dashboard app: the app factory of ioc.web given this package's pages and shell."""

from __future__ import annotations

import dash

from ioc.config import Settings
from ioc.store import Store
from ioc.wall.config import load_wall
from ioc.wall.screens import SCREEN_PERMISSIONS
from ioc.web import create_app as create_web_app
from layouts import FRAME, PAGES


def create_app(store: Store, settings: Settings, *, redis_kind: str, cookie_secure: bool | None = None
               ) -> dash.Dash:
    """The dashboard of one city with every page of `layouts.PAGES` (see ioc.web.create_app)."""
    # a bad wall.yaml stops the start here, naming the entry, not at a screen's first tick
    load_wall(settings, {page.path: page.permission for page in PAGES}, SCREEN_PERMISSIONS)
    return create_web_app(store, settings, redis_kind=redis_kind, pages=PAGES, frame=FRAME,
                          cookie_secure=cookie_secure)
