"""The alert lifecycle in Redis: raise with dedup, acknowledge, assign, resolve, escalate, checklists, all audited.

Every change is one optimistic transaction (WATCH on the alert's hash, MULTI/EXEC) that checks the alert's
state inside it, so two operators acting on one alert at once leave one result and the other gets an
`AlertConflict` naming who was first. Every change appends to the alert's timeline and to the city's audit
stream: who, when, from what state to what, with the operator's note. Actors are plain names passed by
the caller (the signed-in user once there is sign-in; "operator" on the dashboard until then).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import redis

from ioc.i18n import local_time
from ioc.keys import Keys
from ioc.model import Alert, AlertState, Severity, from_iso, to_iso, utcnow
from ioc.privacy import scrub_text

SYSTEM = "system"
# the field of Keys.versions() that every alert change bumps (the map's alert layer and the alert panels)
ALERTS_LAYER = "alerts"
# one step up the CAP scale for an alert nobody acknowledged; extreme stays extreme (and is flagged again)
ESCALATION: dict[Severity, Severity] = {
    Severity.UNKNOWN: Severity.MINOR,
    Severity.MINOR: Severity.MODERATE,
    Severity.MODERATE: Severity.SEVERE,
    Severity.SEVERE: Severity.EXTREME,
    Severity.EXTREME: Severity.EXTREME,
}
NOTE_CHARS = 2000
RECENT_ALERTS = 500  # how far back a listing that includes resolved alerts reads


class AlertNotFound(KeyError):
    """No alert has this id."""

    def __str__(self) -> str:
        return f"no alert {self.args[0]}"


class AlertConflict(ValueError):
    """The change is refused: the alert's state does not allow it (someone else acted first)."""

    def __init__(self, alert_id: str, reason: str, *, by: str = "", at: datetime | None = None,
                 to: str = "") -> None:
        self.alert_id, self.reason, self.by, self.at, self.to = alert_id, reason, by, at, to
        super().__init__(self.describe())

    def describe(self) -> str:
        when = f" at {local_time(self.at, '%H:%M:%S %d/%m/%Y')}" if self.at else ""
        who = f" by {self.by}" if self.by else ""
        if self.reason == "assigned":
            target = f" to {self.to}" if self.to else ""
            return f"alert {self.alert_id} is already assigned{target}{who}{when}"
        return f"alert {self.alert_id} is already {self.reason}{who}{when}"


@dataclass(slots=True)
class AlertRecord:
    """An alert with its lifecycle: who acknowledged, who it is assigned to, escalations, flapping hold."""

    alert: Alert
    acknowledged_by: str = ""
    acknowledged_at: datetime | None = None
    assignee: str = ""
    assigned_by: str = ""
    assigned_at: datetime | None = None
    resolved_by: str = ""
    resolved_at: datetime | None = None
    escalations: int = 0
    escalated_at: datetime | None = None
    flapping: bool = False
    expires: datetime | None = None
    procedure: str = ""
    place: str = ""
    kind: str = ""
    area: dict[str, Any] | None = None  # GeoJSON of a relayed warning's area

    @property
    def id(self) -> str:
        return self.alert.id

    @property
    def state(self) -> AlertState:
        return self.alert.state

    @property
    def is_open(self) -> bool:
        return self.alert.state != AlertState.RESOLVED

    @classmethod
    def from_hash(cls, raw: Mapping[str, str]) -> AlertRecord:
        return cls(
            alert=Alert.from_hash(dict(raw)),
            acknowledged_by=raw.get("acknowledged_by", ""),
            acknowledged_at=from_iso(raw.get("acknowledged_at")),
            assignee=raw.get("assignee", ""),
            assigned_by=raw.get("assigned_by", ""),
            assigned_at=from_iso(raw.get("assigned_at")),
            resolved_by=raw.get("resolved_by", ""),
            resolved_at=from_iso(raw.get("resolved_at")),
            escalations=int(raw.get("escalations") or 0),
            escalated_at=from_iso(raw.get("escalated_at")),
            flapping=raw.get("flapping") == "1",
            expires=from_iso(raw.get("expires")),
            procedure=raw.get("procedure", ""),
            place=raw.get("place", ""),
            kind=raw.get("kind", ""),
            area=json.loads(raw["area"]) if raw.get("area") else None,
        )

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready, for `ioc alerts ... --json` and the API."""
        alert = self.alert
        return {
            "id": alert.id,
            "rule_id": alert.rule_id,
            "kind": self.kind or None,
            "entity_id": alert.entity_id,
            "title": alert.title,
            "place": self.place or None,
            "severity": str(alert.severity),
            "state": str(alert.state),
            "sector": alert.sector,
            "agency": alert.agency,
            "district": alert.district,
            "message": alert.message,
            "value": alert.value,
            "occurrences": alert.occurrences,
            "location": list(alert.location) if alert.location else None,
            "raised_at": to_iso(alert.raised_at) or None,
            "updated_at": to_iso(alert.updated_at) or None,
            "acknowledged_by": self.acknowledged_by or None,
            "acknowledged_at": to_iso(self.acknowledged_at) or None,
            "assignee": self.assignee or None,
            "assigned_by": self.assigned_by or None,
            "assigned_at": to_iso(self.assigned_at) or None,
            "resolved_by": self.resolved_by or None,
            "resolved_at": to_iso(self.resolved_at) or None,
            "escalations": self.escalations,
            "flapping": self.flapping,
            "expires": to_iso(self.expires) or None,
            "procedure": self.procedure or None,
            "area": self.area,
        }


def queue_order(record: AlertRecord) -> tuple[int, float, str]:
    """Most severe first, then the one waiting longest: what an operator should look at next."""
    raised = record.alert.raised_at.timestamp() if record.alert.raised_at else 0.0
    return record.alert.severity.rank, raised, record.alert.id


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
                    pipe.incr(self.keys.changes())
                    pipe.hincrby(self.keys.versions(), ALERTS_LAYER, 1)
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
            self._timeline(pipe, alert.id, actor=actor, action="raised", to_state=AlertState.NEW,
                           note=alert.message if note is None else note, at=now)
            pipe.incr(self.keys.changes())
            pipe.hincrby(self.keys.versions(), ALERTS_LAYER, 1)
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
        pipe.incr(self.keys.changes())
        pipe.hincrby(self.keys.versions(), ALERTS_LAYER, 1)
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
        self._timeline(pipe, alert_id, actor=actor, action=action, from_state=record.state,
                       to_state=record.state, note=note, at=now or utcnow())
        pipe.incr(self.keys.changes())
        pipe.hincrby(self.keys.versions(), ALERTS_LAYER, 1)
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
            self._timeline(pipe, alert_id, actor=SYSTEM, action="escalated", from_state=record.state,
                           to_state=record.state, at=moment,
                           note=f"not acknowledged within {minutes} min: {before} → {record.alert.severity}",
                           entry={"severity_from": str(before), "severity_to": str(record.alert.severity)})
            pipe.incr(self.keys.changes())
            pipe.hincrby(self.keys.versions(), ALERTS_LAYER, 1)
            return record

        return self.redis.transaction(_escalate, key, value_from_callable=True)

    def check_step(
        self, alert_id: str, step: int, *, actor: str, label: str = "", done: bool = True,
        now: datetime | None = None,
    ) -> bool:
        """Tick (or untick) one step of the alert's checklist; returns False when it already was so."""
        moment = now or utcnow()
        key = self.keys.alert_checklist(alert_id)

        def _check(pipe: redis.client.Pipeline) -> bool:
            raw = pipe.hgetall(self.keys.alert(alert_id))
            if not raw:
                raise AlertNotFound(alert_id)
            record = AlertRecord.from_hash(raw)
            already = pipe.hexists(key, str(step))
            if already == done:
                return False
            pipe.multi()
            if done:
                pipe.hset(key, str(step), json.dumps({"by": actor, "at": to_iso(moment)}))
            else:
                pipe.hdel(key, str(step))
            self._timeline(pipe, alert_id, actor=actor, action="step_done" if done else "step_undone",
                           from_state=record.state, to_state=record.state, at=moment,
                           note=label or f"step {step + 1}", entry={"step": str(step)})
            pipe.incr(self.keys.changes())
            pipe.hincrby(self.keys.versions(), ALERTS_LAYER, 1)
            return True

        return self.redis.transaction(_check, key, value_from_callable=True)

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
        return [fields for _, fields in self.redis.xrange(self.keys.alert_timeline(alert_id))]

    def checklist(self, alert_id: str) -> dict[int, dict[str, str]]:
        """Ticked steps: step number -> {"by", "at"}."""
        return {int(step): json.loads(value)
                for step, value in self.redis.hgetall(self.keys.alert_checklist(alert_id)).items()}

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
            self._timeline(pipe, alert_id, actor=actor, action=action, from_state=previous, to_state=to_state,
                           note=note, at=moment, entry=entry)
            pipe.incr(self.keys.changes())
            pipe.hincrby(self.keys.versions(), ALERTS_LAYER, 1)
            updated = AlertRecord.from_hash({**raw, "state": str(to_state), "updated_at": to_iso(moment), **fields})
            return updated

        return self.redis.transaction(_apply, key, value_from_callable=True)

    def _timeline(
        self, pipe: redis.client.Pipeline, alert_id: str, *, actor: str, action: str, at: datetime,
        to_state: AlertState, from_state: AlertState | None = None, note: str = "",
        entry: Mapping[str, str] | None = None,
    ) -> None:
        record = {
            "at": to_iso(at),
            "actor": actor,
            "action": action,
            "from": str(from_state or ""),
            "to": str(to_state),
            "note": scrub_text(note or "")[:NOTE_CHARS],
            **(entry or {}),
        }
        pipe.xadd(self.keys.alert_timeline(alert_id), record)
        pipe.xadd(self.keys.audit(), {"object": f"alert:{alert_id}", **record})


# --- the queue as screens read it ---------------------------------------------------------------------------

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
