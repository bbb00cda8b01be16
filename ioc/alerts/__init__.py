"""Alerts in Redis, by job: `record` (an alert and its lifecycle fields), `book` (raise, change and read),
`timeline` (each alert's history and the audit stream), `checklist` (procedure steps) and `queue` (the
filtered listing and an operator's action). The names callers use are importable from here."""

from __future__ import annotations

from ioc.alerts.book import ESCALATION, RECENT_ALERTS, AlertBook
from ioc.alerts.queue import ACTIONS, ALL, OPEN, ActionOutcome, AlertQuery, operator_action, select
from ioc.alerts.record import (
    ALERTS_LAYER,
    SYSTEM,
    AlertConflict,
    AlertNotFound,
    AlertRecord,
    mark_changed,
    queue_order,
)
from ioc.alerts.timeline import NOTE_CHARS

__all__ = ["ACTIONS", "ALERTS_LAYER", "ALL", "ESCALATION", "NOTE_CHARS", "OPEN", "RECENT_ALERTS", "SYSTEM",
           "ActionOutcome", "AlertBook", "AlertConflict", "AlertNotFound", "AlertQuery", "AlertRecord",
           "mark_changed", "operator_action", "queue_order", "select"]
