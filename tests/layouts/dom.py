"""Reading Dash component trees in tests: all text, and the components carrying a class."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from dash.development.base_component import Component


def walk(node: Any) -> Iterator[Any]:
    yield node
    if isinstance(node, Component):
        yield from walk(getattr(node, "children", None))
    elif isinstance(node, list | tuple):
        for child in node:
            yield from walk(child)


def text(node: Any) -> str:
    """Every string in the tree, space separated."""
    return " ".join(str(part) for part in walk(node) if isinstance(part, str | int | float))


def with_class(node: Any, name: str) -> list[Component]:
    return [
        part for part in walk(node)
        if isinstance(part, Component) and name in (getattr(part, "className", None) or "").split()
    ]
