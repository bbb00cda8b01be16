"""The uniform city model: entities, observations, events and alerts that every reader produces."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from functools import lru_cache
from typing import Any

Scalar = float | int | str | bool | None


class Severity(StrEnum):
    """CAP 1.2 severity scale, most urgent first."""

    EXTREME = "extreme"
    SEVERE = "severe"
    MODERATE = "moderate"
    MINOR = "minor"
    UNKNOWN = "unknown"

    @property
    def rank(self) -> int:
        return _SEVERITY_RANK[self]


_SEVERITY_RANK = {
    Severity.EXTREME: 0,
    Severity.SEVERE: 1,
    Severity.MODERATE: 2,
    Severity.MINOR: 3,
    Severity.UNKNOWN: 4,
}


class AlertState(StrEnum):
    NEW = "new"
    ACKNOWLEDGED = "acknowledged"
    ASSIGNED = "assigned"
    RESOLVED = "resolved"


def utcnow() -> datetime:
    return datetime.now(UTC)


@lru_cache(maxsize=4096)  # a feed's records mostly share a handful of timestamps
def to_iso(moment: datetime | None) -> str:
    """ISO 8601 in UTC with an explicit offset; '' for no time (Redis hashes hold strings)."""
    if moment is None:
        return ""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).isoformat(timespec="seconds")


def from_iso(text: str | bytes | None) -> datetime | None:
    if not text:
        return None
    if isinstance(text, bytes):
        text = text.decode()
    moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


@dataclass(slots=True)
class Entity:
    """A thing in the city that a feed describes: a station, a bus, a citizen request.

    `id` is an NGSI-LD style URN (urn:ioc:<city>:<feed>:<local id>), stable across polls.
    `location` is WGS84 (lon, lat); `geometry` holds a GeoJSON geometry when the thing is not a point.
    """

    id: str
    type: str
    agency: str
    sector: str
    name: str = ""
    location: tuple[float, float] | None = None
    geometry: dict[str, Any] | None = None
    district: str | None = None
    attributes: dict[str, Scalar] = field(default_factory=dict)
    observed_at: datetime | None = None
    ingested_at: datetime | None = None
    feed: str = ""

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["location"] = list(self.location) if self.location else None
        data["observed_at"] = to_iso(self.observed_at) or None
        data["ingested_at"] = to_iso(self.ingested_at) or None
        return data


@dataclass(slots=True)
class Observation:
    """One measured value of one metric of one entity at one time, in a normalized unit."""

    entity_id: str
    metric: str
    value: float | str | bool
    unit: str
    time: datetime

    def to_dict(self) -> dict[str, Any]:
        return {
            "entity_id": self.entity_id,
            "metric": self.metric,
            "value": self.value,
            "unit": self.unit,
            "time": to_iso(self.time),
        }


@dataclass(slots=True)
class Event:
    """An incident or warning that a source reports, CAP-like."""

    id: str
    type: str
    agency: str
    sector: str
    headline: str
    severity: Severity = Severity.UNKNOWN
    urgency: str = "unknown"
    certainty: str = "unknown"
    description: str = ""
    area: dict[str, Any] | None = None
    location: tuple[float, float] | None = None
    district: str | None = None
    onset: datetime | None = None
    expires: datetime | None = None
    status: str = "actual"
    feed: str = ""
    ingested_at: datetime | None = None
    # a source publishing one warning in several languages (CAP: an <info> per language): language ("vi",
    # "en") -> {"headline", "description"} in it, the kept one's included; empty for one language
    translations: dict[str, dict[str, str]] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["severity"] = str(self.severity)
        data["location"] = list(self.location) if self.location else None
        for key in ("onset", "expires", "ingested_at"):
            data[key] = to_iso(getattr(self, key)) or None
        return data


@dataclass(slots=True)
class Alert:
    """What the IOC raises or relays for people to act on; its history lives in the audit trail."""

    id: str
    rule_id: str
    entity_id: str
    title: str
    severity: Severity
    sector: str
    agency: str
    state: AlertState = AlertState.NEW
    district: str | None = None
    message: str = ""
    value: float | None = None
    raised_at: datetime | None = None
    updated_at: datetime | None = None
    occurrences: int = 1
    location: tuple[float, float] | None = None

    def to_hash(self) -> dict[str, str]:
        """Flat string fields for a Redis hash."""
        return {
            "id": self.id,
            "rule_id": self.rule_id,
            "entity_id": self.entity_id,
            "title": self.title,
            "severity": str(self.severity),
            "sector": self.sector,
            "agency": self.agency,
            "state": str(self.state),
            "district": self.district or "",
            "message": self.message,
            "value": "" if self.value is None else repr(float(self.value)),
            "raised_at": to_iso(self.raised_at),
            "updated_at": to_iso(self.updated_at),
            "occurrences": str(self.occurrences),
            "location": json.dumps(list(self.location)) if self.location else "",
        }

    @classmethod
    def from_hash(cls, raw: dict[str, str]) -> Alert:
        location = json.loads(raw["location"]) if raw.get("location") else None
        return cls(
            id=raw["id"],
            rule_id=raw.get("rule_id", ""),
            entity_id=raw.get("entity_id", ""),
            title=raw.get("title", ""),
            severity=Severity(raw.get("severity") or "unknown"),
            sector=raw.get("sector", ""),
            agency=raw.get("agency", ""),
            state=AlertState(raw.get("state") or "new"),
            district=raw.get("district") or None,
            message=raw.get("message", ""),
            value=float(raw["value"]) if raw.get("value") else None,
            raised_at=from_iso(raw.get("raised_at")),
            updated_at=from_iso(raw.get("updated_at")),
            occurrences=int(raw.get("occurrences") or 1),
            location=tuple(location) if location else None,
        )


@dataclass(slots=True)
class RecordProblem:
    """A record a reader refused (left out of the batch) or repaired (kept, less the part it could not read)."""

    where: str  # the record as the payload places it: "features[3]", "row 7", "entity[12].vehicle.position"
    reason: str
    refused: bool = True

    def __str__(self) -> str:
        # readers' reasons mostly start with where they are already ("features[3].geometry: ...")
        return self.reason if self.reason.startswith(self.where) else f"{self.where}: {self.reason}"


@dataclass(slots=True)
class Batch:
    """Everything one poll of one feed produced; written to the store as one transaction or not at all.

    `problems` are the records a reader refused or repaired, each with its reason: one bad record never
    loses its batch, and the feed's health counts them."""

    entities: list[Entity] = field(default_factory=list)
    observations: list[Observation] = field(default_factory=list)
    events: list[Event] = field(default_factory=list)
    problems: list[RecordProblem] = field(default_factory=list)

    @property
    def record_count(self) -> int:
        return len(self.entities) + len(self.events)

    @property
    def refused(self) -> list[RecordProblem]:
        return [problem for problem in self.problems if problem.refused]

    @property
    def repaired(self) -> list[RecordProblem]:
        return [problem for problem in self.problems if not problem.refused]

    def note(self, where: str, reason: str, *, refused: bool) -> None:
        """Count a refused or repaired record with its reason (the one way readers report one)."""
        self.problems.append(RecordProblem(where, reason, refused))

    def extend(self, other: Batch) -> None:
        self.entities.extend(other.entities)
        self.observations.extend(other.observations)
        self.events.extend(other.events)
        self.problems.extend(other.problems)

    def to_records(self) -> list[dict[str, Any]]:
        """The normalized records as plain JSON-ready dicts (what `ioc adapters test --json` prints)."""
        records: list[dict[str, Any]] = []
        records.extend({"kind": "entity", **e.to_dict()} for e in self.entities)
        records.extend({"kind": "observation", **o.to_dict()} for o in self.observations)
        records.extend({"kind": "event", **ev.to_dict()} for ev in self.events)
        return records
