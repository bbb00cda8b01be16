"""The rule kinds the engine knows, keyed by the `kind:` of the configuration: each kind's module registers
itself here, and every module of the ioc.rules package is imported once so none is forgotten."""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from ioc.alerts import AlertRecord
from ioc.config import Feed
from ioc.model import Batch
from ioc.rules.base import RuleContext, Verdict

OnBatch = Callable[[RuleContext, Any, Feed, Batch, datetime], list[Verdict]]
OnTick = Callable[[RuleContext, Any, datetime], list[Verdict]]
Expiry = Callable[[AlertRecord, datetime], str | None]


@dataclass(frozen=True, slots=True)
class RuleKind:
    """How the engine judges rules of one kind.

    `on_batch` reduces a stored batch to verdicts; `on_tick` (optional) says what time alone means, for kinds
    about silence; `expiry` (optional) names why an open alert of this kind is over by itself, or None.
    """

    name: str
    on_batch: OnBatch
    on_tick: OnTick | None = None
    expiry: Expiry | None = None


_KINDS: dict[str, RuleKind] = {}
_discovered = False
# the engine's own modules: everything else in the package is a rule kind
_INFRASTRUCTURE = frozenset({"base", "registry", "engine", "escalation"})


def register(kind: RuleKind) -> RuleKind:
    """Called by a kind's module at import; a second module claiming the same kind is a mistake."""
    held = _KINDS.get(kind.name)
    if held is not None and held != kind:
        raise ValueError(f"rule kind '{kind.name}' is registered twice")
    _KINDS[kind.name] = kind
    return kind


def discover() -> None:
    """Import every kind module of this package (once), so adding a kind is adding its module."""
    global _discovered
    if _discovered:
        return
    package = importlib.import_module("ioc.rules")
    for module in pkgutil.iter_modules(package.__path__):
        if module.name not in _INFRASTRUCTURE and not module.name.startswith("_"):
            importlib.import_module(f"ioc.rules.{module.name}")
    _discovered = True


def kind_of(name: str) -> RuleKind:
    """The registered kind; KeyError naming the kinds there are when none is."""
    discover()
    try:
        return _KINDS[name]
    except KeyError:
        raise KeyError(f"no rule kind '{name}' (known: {', '.join(sorted(_KINDS))})") from None


def find(name: str) -> RuleKind | None:
    """The registered kind, or None (an alert's kind may be empty or of a kind no longer configured)."""
    discover()
    return _KINDS.get(name)


def kinds() -> list[str]:
    discover()
    return sorted(_KINDS)
