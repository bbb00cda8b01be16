"""What a dashboard page declares about itself, once: path, title, nav order, who may open it, and each of
its callbacks with who may trigger it. Registration, nav bar, guard and landing redirect all read this."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from dash import ClientsideFunction, Input, Output, State

# Any signed-in user, whatever the role: the shell's own callbacks (language, header, heartbeat).
SIGNED_IN = "signed_in"


@dataclass(frozen=True, slots=True)
class Callback:
    """One Dash callback and the permission needed to trigger it.

    `function` takes the app's context (`ioc.web.WebContext`) first, then Dash's arguments in order, so it is
    a plain function in tests; a `ClientsideFunction` runs in the browser and never reaches the server.
    """

    outputs: tuple[Output, ...]
    inputs: tuple[Input, ...]
    function: Callable[..., Any] | ClientsideFunction
    states: tuple[State, ...] = ()
    # None: the page's own permission (seeing the page is enough)
    permission: str | None = None
    prevent_initial_call: bool | None = None

    @property
    def clientside(self) -> bool:
        return isinstance(self.function, ClientsideFunction)


@dataclass(frozen=True, slots=True)
class Route:
    """A plain Flask route a page brings along (a download); `view` takes the context first."""

    rule: str
    endpoint: str
    view: Callable[..., Any]
    permission: str


@dataclass(frozen=True, slots=True)
class Page:
    """A dashboard page. `layout` takes the context first, then the page's query parameters."""

    module: str
    path: str
    title_key: str
    # position in the nav bar and in "your first page" after sign-in; pages with `nav_id` None are not listed
    order: int
    permission: str
    layout: Callable[..., Any]
    callbacks: tuple[Callback, ...] = ()
    nav_id: str | None = None
    routes: tuple[Route, ...] = ()

    def needs(self, callback: Callback) -> frozenset[str]:
        """What triggering one of this page's callbacks takes: opening the page, and the callback's own."""
        return frozenset({self.permission, callback.permission or self.permission})


def in_order(pages: Iterable[Page]) -> tuple[Page, ...]:
    return tuple(sorted(pages, key=lambda page: page.order))


@dataclass(frozen=True, slots=True)
class Frame:
    """The shell around every page (header, nav, language switch): its layout, taking the context, and its
    callbacks, which any signed-in user may trigger unless they declare otherwise."""

    layout: Callable[..., Any]
    callbacks: tuple[Callback, ...] = ()
