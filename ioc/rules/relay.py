"""Relay rules: events a source reports (CAP warnings, agency incidents) relayed as alerts with their own
severity and headline; a CAP Cancel, the event's expiry or a polled source no longer listing it ends it."""

from __future__ import annotations

from datetime import datetime

from ioc.alerts import AlertRecord
from ioc.config import Feed, RelayRule
from ioc.i18n import local_time
from ioc.model import Batch, Event, Severity, to_iso
from ioc.rules.base import RuleContext, Verdict
from ioc.rules.registry import RuleKind, register


def relay_verdict(rule: RelayRule, event: Event, now: datetime) -> Verdict | None:
    """A source's event as a verdict: relayed while in force, cleared when cancelled or expired."""
    if event.status == "cancelled":
        return Verdict(subject=event.id, breach=False, at=now, force_clear=True,
                       clear_note=f"cancelled by the source: {event.headline}")
    expired = event.expires is not None and event.expires <= now
    if expired:
        return Verdict(subject=event.id, breach=False, at=now, force_clear=True,
                       clear_note=f"expired at {local_time(event.expires, '%H:%M %d/%m/%Y')}")
    if event.status not in rule.statuses or event.severity.rank > rule.min_severity.rank:
        return None
    severity = event.severity if event.severity != Severity.UNKNOWN else rule.severity
    description = event.description.strip().split("\n\n")[0][:400]
    return Verdict(
        subject=event.id, breach=True, at=event.onset or now, place=event.headline, title=event.headline,
        message=description or event.type, district=event.district, location=event.location,
        severity=severity, signature=f"{event.severity}|{event.headline}|{to_iso(event.expires)}",
        expires=event.expires, area=event.area,
    )


def relay_verdicts(context: RuleContext, rule: RelayRule, feed: Feed, batch: Batch, now: datetime
                   ) -> list[Verdict]:
    if rule.readers and feed.reader not in rule.readers:
        return []
    verdicts = []
    for event in batch.events:
        if rule.event_types and event.type not in rule.event_types:
            continue
        verdict = relay_verdict(rule, event, now)
        if verdict is not None:
            verdicts.append(verdict)
    if feed.url.startswith("mqtt://"):
        return verdicts  # pushed messages are news, not the whole picture: silence withdraws nothing
    # a polled feed lists what is in force: a warning or incident it no longer lists is over
    prefix = f"urn:ioc:{context.settings.city.id}:{feed.name}:"
    listed = {event.id for event in batch.events}
    for record in context.book.records():
        subject = record.alert.entity_id
        if record.alert.rule_id == rule.id and subject.startswith(prefix) and subject not in listed:
            verdicts.append(Verdict(subject=subject, breach=False, at=now,
                                    clear_note="no longer published by the source"))
    return verdicts


def expired(record: AlertRecord, now: datetime) -> str | None:
    """A relayed warning past its expiry is over, even when its rule is no longer configured."""
    if record.expires and record.expires <= now:
        return f"expired at {local_time(record.expires, '%H:%M %d/%m/%Y')}"
    return None


register(RuleKind("relay", on_batch=relay_verdicts, expiry=expired))
