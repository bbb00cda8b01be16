"""The alert book: raise with dedup, refresh, acknowledge, assign, resolve, escalate, and reads, in Redis.

Every change is one optimistic transaction (WATCH on the alert's hash, MULTI/EXEC) that checks the alert's
state inside it, so two operators acting on one alert at once leave one result and the other gets an
`AlertConflict` naming who was first. Every change is on the alert's timeline and the city's audit stream
(ioc.alerts.timeline) and leaves the change marks screens redraw on (`mark_changed`). Actors are plain names
passed by the caller (the signed-in user; "operator" on the dashboard when nobody is signed in).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta
from typing import Any

import redis

from ioc.alerts.checklist import check_step, ticked_steps
from ioc.alerts.record import SYSTEM, AlertConflict, AlertNotFound, AlertRecord, mark_changed, queue_order
from ioc.alerts.timeline import read_timeline, write_entry
from ioc.keys import Keys
from ioc.model import Alert, AlertState, Severity, to_iso, utcnow

# one step up the CAP scale for an alert nobody acknowledged; extreme stays extreme (and is flagged again)
ESCALATION: dict[Severity, Severity] = {
    Severity.UNKNOWN: Severity.MINOR,
    Severity.MINOR: Severity.MODERATE,
    Severity.MODERATE: Severity.SEVERE,
    Severity.SEVERE: Severity.EXTREME,
    Severity.EXTREME: Severity.EXTREME,
}
RECENT_ALERTS = 500  # how far back a listing that includes resolved alerts reads


class AlertBook:
    """Every alert of one city: raising (one open alert per rule and entity), operators' changes, reads."""

    def __init__(self, client: redis.Redis, keys: Keys) -> None:
        self.redis = client
        self.keys = keys

    # --- raising ------------------------------------------------------------------------------------------

    def raise_alert(
        self,
        alert: Alert,
        *,
        actor: str = SYSTEM,
        count: bool = True,
        extra: Mapping[str, str] | None = None,
        note: str | None = None,
    ) -> tuple[Alert, bool]:
        """Raise an alert, or (`count`) note one more occurrence of the open one for the same rule and entity.

        Returns the stored alert and whether it is new. Optimistic transaction on the dedup key, so two
        rule evaluators racing on one condition leave one alert. `extra` holds lifecycle fields of a new
        alert (kind, place, procedure, expires, flapping, area).
        """
        dedup_key = self.keys.alert_dedup(alert.rule_id, alert.entity_id)
        now = alert.updated_at or utcnow()

        def _raise(pipe: redis.client.Pipeline) -> tuple[Alert, bool]:
            open_id = pipe.get(dedup_key)
            if open_id:
                pipe.watch(self.keys.alert(open_id))  # an operator resolving it meanwhile restarts this
                existing_raw = pipe.hgetall(self.keys.alert(open_id))
                if existing_raw and existing_raw.get("state") != AlertState.RESOLVED:
                    existing = Alert.from_hash(existing_raw)
                    if count:
                        existing.occurrences += 1
                    if alert.value is not None:
                        existing.value = alert.value
                    existing.updated_at = now
                    changes = {"value": existing.to_hash()["value"], "updated_at": to_iso(now)}
                    # a repeat never lowers the severity (an escalation stands) but may raise it
                    if alert.severity.rank < existing.severity.rank:
                        existing.severity = alert.severity
                        changes["severity"] = str(alert.severity)
                    pipe.multi()
                    if count:
                        pipe.hincrby(self.keys.alert(existing.id), "occurrences", 1)
                    pipe.hset(self.keys.alert(existing.id), mapping=changes)
                    mark_changed(pipe, self.keys)
                    return existing, False
            number = int(pipe.get(self.keys.alert_sequence()) or 0) + 1
            alert.id = f"A{number:06d}"
            alert.raised_at = alert.raised_at or now
            alert.updated_at = now
            alert.state = AlertState.NEW
            pipe.multi()
            pipe.set(self.keys.alert_sequence(), number)
            pipe.hset(self.keys.alert(alert.id), mapping={**alert.to_hash(), **(extra or {})})
            pipe.set(dedup_key, alert.id)
            pipe.zadd(self.keys.alerts_open(), {alert.id: alert.raised_at.timestamp()})
            pipe.zadd(self.keys.alerts_all(), {alert.id: alert.raised_at.timestamp()})
            write_entry(pipe, self.keys, alert.id, actor=actor, action="raised", to_state=AlertState.NEW,
                        note=alert.message if note is None else note, at=now)
            mark_changed(pipe, self.keys)
            return alert, True

        return self.redis.transaction(
            _raise, dedup_key, self.keys.alert_sequence(), value_from_callable=True
        )

    def refresh(
        self, alert_id: str, *, value: float | None, message: str = "", now: datetime | None = None
    ) -> bool:
        """The condition still holds: keep the alert's latest value and message (not a state change)."""
        key = self.keys.alert(alert_id)
        stored_value, stored_message = self.redis.hmget(key, ["value", "message"])
        fields: dict[str, str] = {}
        if value is not None and stored_value != repr(float(value)):
            fields["value"] = repr(float(value))
        if message and stored_message != message:
            fields["message"] = message
        if not fields:
            return False
        pipe = self.redis.pipeline(transaction=True)
        pipe.hset(key, mapping={**fields, "updated_at": to_iso(now or utcnow())})
        mark_changed(pipe, self.keys)
        pipe.execute()
        return True

    # --- operators' changes -------------------------------------------------------------------------------

    def acknowledge(self, alert_id: str, *, actor: str, note: str = "", now: datetime | None = None) -> AlertRecord:
        """Someone has seen it and is on it. Only a new alert can be acknowledged, exactly once."""

        def change(record: AlertRecord, moment: datetime) -> dict[str, str]:
            if record.state == AlertState.ACKNOWLEDGED:
                raise AlertConflict(alert_id, "acknowledged", by=record.acknowledged_by, at=record.acknowledged_at)
            if record.state == AlertState.ASSIGNED:
                raise AlertConflict(alert_id, "assigned", by=record.assigned_by, at=record.assigned_at,
                                    to=record.assignee)
            return {"acknowledged_by": actor, "acknowledged_at": to_iso(moment)}

        return self._transition(alert_id, actor=actor, action="acknowledged", to_state=AlertState.ACKNOWLEDGED,
                                note=note, now=now, change=change)

    def assign(
        self, alert_id: str, *, to: str, actor: str, note: str = "", now: datetime | None = None
    ) -> AlertRecord:
        """Hand it to an agency or a person; assigning a new alert acknowledges it too. Reassigning is allowed."""
        assignee = to.strip()
        if not assignee:
            raise ValueError("assign needs someone to assign the alert to")

        def change(record: AlertRecord, moment: datetime) -> dict[str, str]:
            if record.state == AlertState.ASSIGNED and record.assignee == assignee:
                raise AlertConflict(alert_id, "assigned", by=record.assigned_by, at=record.assigned_at,
                                    to=record.assignee)
            fields = {"assignee": assignee, "assigned_by": actor, "assigned_at": to_iso(moment)}
            if not record.acknowledged_by:
                fields.update(acknowledged_by=actor, acknowledged_at=to_iso(moment))
            return fields

        return self._transition(alert_id, actor=actor, action="assigned", to_state=AlertState.ASSIGNED,
                                note=note, now=now, change=change, entry={"assignee": assignee})

    def resolve(
        self, alert_id: str, *, actor: str, note: str = "", now: datetime | None = None
    ) -> AlertRecord:
        """Close it; the rule may raise a new alert for the same condition later (after its cool-down)."""

        def change(record: AlertRecord, moment: datetime) -> dict[str, str]:
            return {"resolved_by": actor, "resolved_at": to_iso(moment)}

        def also(pipe: redis.client.Pipeline, record: AlertRecord, moment: datetime) -> None:
            pipe.zrem(self.keys.alerts_open(), alert_id)
            pipe.delete(self.keys.alert_dedup(record.alert.rule_id, record.alert.entity_id))
            # the rule's cool-down counts from here, whoever resolved it
            pipe.hset(self.keys.rule_state(record.alert.rule_id, record.alert.entity_id),
                      "resolved_at", to_iso(moment))

        return self._transition(alert_id, actor=actor, action="resolved", to_state=AlertState.RESOLVED,
                                note=note, now=now, change=change, also=also)

    def comment(self, alert_id: str, *, actor: str, note: str, action: str = "comment",
                now: datetime | None = None) -> None:
        """A note on the timeline that changes nothing else (operators' comments, the engine's remarks)."""
        record = self.get(alert_id)
        if record is None:
            raise AlertNotFound(alert_id)
        pipe = self.redis.pipeline(transaction=True)
        write_entry(pipe, self.keys, alert_id, actor=actor, action=action, from_state=record.state,
                    to_state=record.state, note=note, at=now or utcnow())
        mark_changed(pipe, self.keys)
        pipe.execute()

    def escalate(self, alert_id: str, *, after: timedelta, now: datetime | None = None) -> AlertRecord | None:
        """Severity up one step when the alert is still new `after` its raise (or its last escalation).

        Checked inside the transaction, so several runners ticking at once escalate it once.
        """
        moment = now or utcnow()
        key = self.keys.alert(alert_id)

        def _escalate(pipe: redis.client.Pipeline) -> AlertRecord | None:
            raw = pipe.hgetall(key)
            if not raw:
                return None
            record = AlertRecord.from_hash(raw)
            since = record.escalated_at or record.alert.raised_at
            if record.state != AlertState.NEW or since is None or moment - since < after:
                return None
            before = record.alert.severity
            record.alert.severity = ESCALATION[before]
            record.escalations += 1
            record.escalated_at = moment
            minutes = round(after.total_seconds() / 60)
            pipe.multi()
            pipe.hset(key, mapping={"severity": str(record.alert.severity), "escalations": str(record.escalations),
                                    "escalated_at": to_iso(moment), "updated_at": to_iso(moment)})
            write_entry(pipe, self.keys, alert_id, actor=SYSTEM, action="escalated", from_state=record.state,
                        to_state=record.state, at=moment,
                        note=f"not acknowledged within {minutes} min: {before} → {record.alert.severity}",
                        entry={"severity_from": str(before), "severity_to": str(record.alert.severity)})
            mark_changed(pipe, self.keys)
            return record

        return self.redis.transaction(_escalate, key, value_from_callable=True)

    def check_step(
        self, alert_id: str, step: int, *, actor: str, label: str = "", done: bool = True,
        now: datetime | None = None,
    ) -> bool:
        """Tick (or untick) one step of the alert's checklist; returns False when it already was so."""
        return check_step(self.redis, self.keys, alert_id, step, actor=actor, label=label, done=done, now=now)

    # --- reads --------------------------------------------------------------------------------------------

    def get(self, alert_id: str) -> AlertRecord | None:
        raw = self.redis.hgetall(self.keys.alert(alert_id))
        return AlertRecord.from_hash(raw) if raw else None

    def alert(self, alert_id: str) -> Alert | None:
        record = self.get(alert_id)
        return record.alert if record else None

    def open_alert_for(self, rule_id: str, entity_id: str) -> str | None:
        return self.redis.get(self.keys.alert_dedup(rule_id, entity_id))

    def open_alerts(self, limit: int = 200) -> list[Alert]:
        """Open alerts, most severe first, then oldest first."""
        return [record.alert for record in self.records(limit=limit)]

    def records(self, *, include_resolved: bool = False, limit: int = 500) -> list[AlertRecord]:
        """Open alerts (and with `include_resolved` the recent resolved ones too), in queue order."""
        if include_resolved:
            ids = self.redis.zrevrange(self.keys.alerts_all(), 0, RECENT_ALERTS - 1)
        else:
            ids = self.redis.zrange(self.keys.alerts_open(), 0, -1)
        return sorted(self._load(ids), key=queue_order)[:limit]

    def _load(self, ids: Iterable[str]) -> list[AlertRecord]:
        pipe = self.redis.pipeline(transaction=False)
        for alert_id in ids:
            pipe.hgetall(self.keys.alert(alert_id))
        return [AlertRecord.from_hash(raw) for raw in pipe.execute() if raw]

    def timeline(self, alert_id: str) -> list[dict[str, str]]:
        return read_timeline(self.redis, self.keys, alert_id)

    def checklist(self, alert_id: str) -> dict[int, dict[str, str]]:
        """Ticked steps: step number -> {"by", "at"}."""
        return ticked_steps(self.redis, self.keys, alert_id)

    # --- internals ----------------------------------------------------------------------------------------

    def _transition(
        self,
        alert_id: str,
        *,
        actor: str,
        action: str,
        to_state: AlertState,
        note: str,
        now: datetime | None,
        change: Any,
        also: Any = None,
        entry: Mapping[str, str] | None = None,
    ) -> AlertRecord:
        """One state change checked and written in one transaction; a resolved alert refuses every change."""
        key = self.keys.alert(alert_id)

        def _apply(pipe: redis.client.Pipeline) -> AlertRecord:
            raw = pipe.hgetall(key)
            if not raw:
                raise AlertNotFound(alert_id)
            record = AlertRecord.from_hash(raw)
            if record.state == AlertState.RESOLVED:
                raise AlertConflict(alert_id, "resolved", by=record.resolved_by, at=record.resolved_at)
            moment = now or utcnow()
            fields = change(record, moment)
            previous = record.state
            pipe.multi()
            pipe.hset(key, mapping={"state": str(to_state), "updated_at": to_iso(moment), **fields})
            if also is not None:
                also(pipe, record, moment)
            write_entry(pipe, self.keys, alert_id, actor=actor, action=action, from_state=previous,
                        to_state=to_state, note=note, at=moment, entry=entry)
            mark_changed(pipe, self.keys)
            updated = AlertRecord.from_hash({**raw, "state": str(to_state), "updated_at": to_iso(moment), **fields})
            return updated

        return self.redis.transaction(_apply, key, value_from_callable=True)
