"""The alerts open at a past moment: which ones, in what state and severity.

Which alerts were open, and their state, comes from their transitions: the archive's `alerts` rows up to the
moment, then the city's audit stream in Redis after the last transition the archive holds (the archiver writes
it every round; the audit stream is never trimmed). What each alert says (title, place, where) comes from its
record in Redis, where alerts are kept for good; its severity then is the one before any escalation after the
moment (from its timeline).
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import redis

from ioc.alerts import AlertBook
from ioc.alerts.record import AlertRecord, queue_order
from ioc.archive.archiver import ALERTS_FEED
from ioc.archive.files import last_archived, partition_dir
from ioc.archive.query import history
from ioc.keys import Keys
from ioc.model import Alert, AlertState, Severity, from_iso

# How far back transitions are read: an alert raised longer before the moment and never resolved is still
# shown open if it was raised within this many days.
LOOKBACK_DAYS = 30
OPEN_LIMIT = 200  # as many as the live control room lists


def alerts_at(root: Path, client: redis.Redis, keys: Keys, at: datetime, *,
              lookback: timedelta = timedelta(days=LOOKBACK_DAYS)) -> list[Alert]:
    """The alerts open at `at`, most severe first then oldest (the live queue's order), as they were then."""
    at = at.astimezone(UTC)
    states: dict[str, tuple[str, datetime]] = {}  # alert id -> (state, when it changed)
    archived = history(Path(root), "alerts", start=at - lookback, end=at + timedelta(seconds=1), feed=ALERTS_FEED)
    for row in archived:
        _apply(states, row["alert"], row["to"], from_iso(row["at"]), at)
    for fields in _audit_after(client, keys, Path(root), at):
        _apply(states, fields.get("object", "")[6:], fields.get("to", ""), from_iso(fields.get("at")), at)
    open_ids = [alert_id for alert_id, (state, _) in states.items() if state != AlertState.RESOLVED]
    records = AlertBook(client, keys)._load(open_ids)  # noqa: SLF001 - one pipelined read of many alerts
    found = []
    for record in records:
        state = states[record.id][0]
        known = state in {str(member) for member in AlertState}
        alert = replace(record.alert, state=AlertState(state) if known else record.alert.state,
                        severity=_severity_then(client, keys, record, at))
        found.append(AlertRecord(alert=alert))
    return [record.alert for record in sorted(found, key=queue_order)[:OPEN_LIMIT]]


def _apply(states: dict[str, tuple[str, datetime]], alert_id: str, state: str, moment: datetime | None,
           at: datetime) -> None:
    if not alert_id or not state or moment is None or moment > at:
        return
    held = states.get(alert_id)
    if held is None or moment >= held[1]:
        states[alert_id] = (state, moment)


def _audit_after(client: redis.Redis, keys: Keys, root: Path, at: datetime) -> list[dict[str, str]]:
    """Alert transitions of the audit stream after the newest one archived, up to `at`."""
    newest = (0, 0)
    for back in range(LOOKBACK_DAYS + 1):
        day = (at.date() - timedelta(days=back)).isoformat()
        newest = max(newest, last_archived(partition_dir(root, "alerts", day, ALERTS_FEED)))
    start = "-" if newest == (0, 0) else f"({newest[0]}-{newest[1]}"
    found = []
    while True:
        page = client.xrange(keys.audit(), min=start, count=500)
        for _, raw in page:
            fields = {_text(k): _text(v) for k, v in raw.items()}
            if fields.get("object", "").startswith("alert:"):
                found.append(fields)
        if len(page) < 500:
            return found
        start = "(" + _text(page[-1][0])


def _severity_then(client: redis.Redis, keys: Keys, record: AlertRecord, at: datetime) -> Severity:
    """The severity before the first escalation after `at` (an escalation's entry says from what)."""
    if not record.escalations or (record.escalated_at and record.escalated_at <= at):
        return record.alert.severity
    for _, raw in client.xrange(keys.alert_timeline(record.id)):
        fields = {_text(k): _text(v) for k, v in raw.items()}
        moment = from_iso(fields.get("at"))
        if fields.get("action") == "escalated" and moment is not None and moment > at and fields.get("severity_from"):
            return Severity(fields["severity_from"])
    return record.alert.severity


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)
