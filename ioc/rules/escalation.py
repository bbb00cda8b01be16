"""What time alone does to open alerts: a kind's alert that is over by itself (an expired warning) is
resolved, and one nobody acknowledged within its rule's `escalate_after_minutes` goes up one severity step,
again every period, until someone acknowledges it. There are no reminders besides escalation today."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from ioc.alerts import AlertRecord
from ioc.config import Rule
from ioc.model import AlertState
from ioc.rules import registry
from ioc.rules.base import RuleContext, TickReport, minutes, resolve_quietly


def escalation_due(rule: Rule, record: AlertRecord) -> bool:
    """The rule escalates and the alert still waits for someone to acknowledge it."""
    return bool(rule.escalate_after_minutes) and record.state == AlertState.NEW


def sweep(context: RuleContext, rules: Mapping[str, Rule], now: datetime, report: TickReport) -> None:
    """Every open alert once: end what expired, escalate what waits too long (counted in `report`)."""
    for record in context.book.records():
        kind = registry.find(record.kind)
        over = kind.expiry(record, now) if kind is not None and kind.expiry is not None else None
        if over is not None:
            if resolve_quietly(context.book, record.id, over, now):
                report.cleared += 1
            continue
        rule = rules.get(record.alert.rule_id)
        if rule is None or not escalation_due(rule, record):
            continue
        if context.book.escalate(record.id, after=minutes(rule.escalate_after_minutes or 0), now=now):
            report.escalated += 1
