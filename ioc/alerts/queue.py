"""The alert queue as screens and the CLI read and act on it: filters, the listing, an operator's action."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from ioc.alerts.book import AlertBook
from ioc.alerts.record import AlertConflict, AlertNotFound, AlertRecord
from ioc.model import AlertState

OPEN, ALL = "open", "all"
ACTIONS = ("acknowledge", "assign", "resolve")


@dataclass(frozen=True, slots=True)
class AlertQuery:
    """The alert-queue filters: empty sets mean any; `state` is open (not resolved), all, or one state."""

    severities: frozenset[str] = frozenset()
    sectors: frozenset[str] = frozenset()
    districts: frozenset[str] = frozenset()
    state: str = OPEN

    @classmethod
    def of(cls, severities: Iterable[str] | None = None, sectors: Iterable[str] | None = None,
           districts: Iterable[str] | None = None, state: str | None = None) -> AlertQuery:
        return cls(frozenset(severities or ()), frozenset(sectors or ()), frozenset(districts or ()),
                   state or OPEN)

    @property
    def needs_resolved(self) -> bool:
        return self.state in (ALL, str(AlertState.RESOLVED))

    def matches(self, record: AlertRecord) -> bool:
        alert = record.alert
        if self.state == OPEN and not record.is_open:
            return False
        if self.state not in (OPEN, ALL) and str(alert.state) != self.state:
            return False
        return (
            (not self.severities or str(alert.severity) in self.severities)
            and (not self.sectors or alert.sector in self.sectors)
            and (not self.districts or (alert.district or "") in self.districts)
        )


def select(book: AlertBook, query: AlertQuery, limit: int = 300) -> list[AlertRecord]:
    """The alerts a query shows, in queue order."""
    return [r for r in book.records(include_resolved=query.needs_resolved) if query.matches(r)][:limit]


@dataclass(frozen=True, slots=True)
class ActionOutcome:
    """What became of an operator's button press: done, refused (someone was first) or a missing input."""

    action: str
    record: AlertRecord | None = None
    refusal: AlertConflict | None = None
    problem: str = ""  # "need_note", "need_assignee", "not_found", "no_alert"

    @property
    def ok(self) -> bool:
        return self.record is not None


def operator_action(
    book: AlertBook, action: str, alert_id: str | None, *, actor: str, note: str = "", assignee: str = ""
) -> ActionOutcome:
    """Acknowledge, assign or resolve as an operator; a resolve needs a note saying what was done."""
    if action not in ACTIONS:
        raise ValueError(f"unknown action '{action}' (one of {', '.join(ACTIONS)})")
    if not alert_id:
        return ActionOutcome(action, problem="no_alert")
    note = (note or "").strip()
    try:
        if action == "acknowledge":
            return ActionOutcome(action, book.acknowledge(alert_id, actor=actor, note=note))
        if action == "assign":
            if not (assignee or "").strip():
                return ActionOutcome(action, problem="need_assignee")
            return ActionOutcome(action, book.assign(alert_id, to=assignee, actor=actor, note=note))
        if not note:
            return ActionOutcome(action, problem="need_note")
        return ActionOutcome(action, book.resolve(alert_id, actor=actor, note=note))
    except AlertConflict as refusal:
        return ActionOutcome(action, refusal=refusal)
    except AlertNotFound:
        return ActionOutcome(action, problem="not_found")
