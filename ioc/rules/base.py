"""What every rule kind shares: the verdict it reduces a batch to, the context it reads, small helpers."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from ioc.alerts import SYSTEM, AlertBook, AlertConflict, AlertNotFound
from ioc.config import Settings
from ioc.model import Batch, Severity
from ioc.store import Store


@dataclass(slots=True)
class Verdict:
    """What one rule concludes about one subject now: breached (True), cleared (False) or in between (None)."""

    subject: str
    breach: bool | None
    at: datetime
    place: str = ""
    message: str = ""
    value: float | None = None
    district: str | None = None
    location: tuple[float, float] | None = None
    severity: Severity | None = None  # relayed events bring their own
    title: str | None = None  # relayed events bring their own headline
    clear_note: str = ""
    force_clear: bool = False  # a CAP Cancel or an expired warning resolves whatever the rule says
    signature: str = ""  # relayed events: a change of content counts as a new occurrence
    expires: datetime | None = None
    area: dict[str, Any] | None = None  # a relayed warning's area, drawn on the alert's map
    zone: str = ""  # a geofence's zone id, kept on the alert so its map draws the zone without parsing ids


@dataclass(slots=True)
class TickReport:
    raised: int = 0
    cleared: int = 0
    escalated: int = 0


@dataclass(frozen=True, slots=True)
class RuleContext:
    """What a rule kind may read while judging: the city's settings, the store, when the engine started."""

    settings: Settings
    store: Store
    # a feed that has never answered is not called silent before it had the time to answer once
    started: datetime

    @property
    def book(self) -> AlertBook:
        return self.store.alerts


def number(value: Any) -> float | None:
    """A reading as a number, or None for what is not one (booleans are states, not readings)."""
    if isinstance(value, bool) or value is None:
        return None
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def minutes(amount: float) -> timedelta:
    return timedelta(minutes=amount)


def places(context: RuleContext, batch: Batch, ids: Iterable[str]) -> dict[str, dict[str, Any]]:
    """Name, district and location of entities, from the batch or else from the store."""
    known: dict[str, dict[str, Any]] = {
        e.id: {"name": e.name, "district": e.district, "location": e.location} for e in batch.entities
    }
    missing = [entity_id for entity_id in ids if entity_id not in known]
    for stored in context.store.entities(missing):
        location = (stored["lon"], stored["lat"]) if stored.get("lon") is not None else None
        known[stored["id"]] = {"name": stored.get("name"), "district": stored.get("district"),
                               "location": location}
    return known


def resolve_quietly(book: AlertBook, alert_id: str, note: str, now: datetime) -> bool:
    """Resolve as the system; False when an operator or another runner resolved it meanwhile."""
    try:
        book.resolve(alert_id, actor=SYSTEM, note=note, now=now)
        return True
    except (AlertConflict, AlertNotFound):
        return False
