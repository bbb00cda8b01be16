"""When the wall leaves its playlist: an unacknowledged alarm of a takeover severity, or an active CAP
warning for the city, turns the takeover screens to its situation view; acknowledgement (or the configured
time since it was raised) returns them. Decided from the alarms alone, so every screen and worker agrees."""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from ioc.alerts.record import AlertRecord
from ioc.model import AlertState, Severity, from_iso
from ioc.wall.config import Takeover

CAP_READER = "cap"


@dataclass(frozen=True, slots=True)
class Target:
    """What takes the wall over: an alert (`kind` "alert") or a CAP warning nobody relayed ("event")."""

    kind: str
    id: str
    severity: Severity
    title: str
    district: str
    since: datetime

    def key(self) -> str:
        return f"{self.kind}:{self.id}"


def _in_time(since: datetime | None, policy: Takeover, now: datetime) -> bool:
    return since is not None and now - since < timedelta(minutes=policy.return_after_minutes)


def alert_targets(records: Iterable[AlertRecord], shelved: Collection[str], policy: Takeover, now: datetime
                  ) -> list[Target]:
    """Open alarms of a takeover severity, not shelved, unacknowledged (when acknowledgement returns the
    wall) and raised within the return time."""
    found = []
    for record in records:
        alert = record.alert
        if alert.state == AlertState.RESOLVED or alert.severity not in policy.severities or alert.id in shelved:
            continue
        if policy.return_on_acknowledge and alert.state != AlertState.NEW:
            continue
        if not _in_time(alert.raised_at, policy, now):
            continue
        found.append(Target(kind="alert", id=alert.id, severity=alert.severity, title=alert.title,
                            district=alert.district or "", since=alert.raised_at or now))
    return found


def warning_targets(events: Iterable[Mapping[str, Any]], cap_feeds: Collection[str], relayed: Collection[str],
                    policy: Takeover, now: datetime) -> list[Target]:
    """Active CAP warnings of a takeover severity that no alert relays (a relayed one is taken over as its
    alert, which can be acknowledged), within the return time from their onset."""
    if not policy.cap_warnings:
        return []
    found = []
    for event in events:
        if event.get("feed") not in cap_feeds or event.get("id") in relayed:
            continue
        if str(event.get("status") or "actual") != "actual":
            continue
        try:
            severity = Severity(str(event.get("severity") or "unknown"))
        except ValueError:
            continue
        since = from_iso(event.get("onset")) or from_iso(event.get("ingested_at"))
        if severity not in policy.severities or not _in_time(since, policy, now) or since is None:
            continue
        found.append(Target(kind="event", id=str(event["id"]), severity=severity,
                            title=str(event.get("headline") or event.get("type") or ""),
                            district=str(event.get("district") or ""), since=since))
    return found


def choose(targets: Iterable[Target]) -> Target | None:
    """The one the wall shows: the most severe, then the oldest (a newer alarm of the same severity does not
    pull the wall away from the one it is showing)."""
    ordered = sorted(targets, key=lambda target: (target.severity.rank, target.since, target.id))
    return ordered[0] if ordered else None


def takeover_target(records: Iterable[AlertRecord], shelved: Collection[str], events: Iterable[Mapping[str, Any]],
                    cap_feeds: Collection[str], policy: Takeover, now: datetime) -> Target | None:
    records = list(records)
    relayed = {record.alert.entity_id for record in records}
    return choose([*alert_targets(records, shelved, policy, now),
                   *warning_targets(events, cap_feeds, relayed, policy, now)])
