"""One alert with its lifecycle fields, the refusals of a change, and the change marks every write leaves."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import redis

from ioc.i18n import local_time
from ioc.keys import Keys
from ioc.model import Alert, AlertState, from_iso, to_iso

SYSTEM = "system"
# the field of Keys.versions() that every alert change bumps (the map's alert layer and the alert panels)
ALERTS_LAYER = "alerts"


def mark_changed(pipe: redis.client.Pipeline, keys: Keys) -> None:
    """Every alert write says so twice: the city's change counter and the alert layer's version."""
    pipe.incr(keys.changes())
    pipe.hincrby(keys.versions(), ALERTS_LAYER, 1)


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
    zone: str = ""  # the geofence zone the alert is about (an id in its rule's zones file)

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
            zone=raw.get("zone", ""),
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
            "zone": self.zone or None,
        }


def queue_order(record: AlertRecord) -> tuple[int, float, str]:
    """Most severe first, then the one waiting longest: what an operator should look at next."""
    raised = record.alert.raised_at.timestamp() if record.alert.raised_at else 0.0
    return record.alert.severity.rank, raised, record.alert.id
