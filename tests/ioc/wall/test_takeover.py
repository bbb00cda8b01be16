"""Which alarm or warning takes the wall over, and when the wall goes back to its playlist."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from ioc.alerts.record import AlertRecord
from ioc.model import Alert, AlertState, Severity, to_iso
from ioc.wall.config import Takeover
from ioc.wall.takeover import choose, takeover_target

NOW = datetime(2026, 12, 6, 3, 0, tzinfo=UTC)
POLICY = Takeover(severities=[Severity.EXTREME, Severity.SEVERE], return_after_minutes=10)


def record(alert_id: str, severity: Severity, state: AlertState = AlertState.NEW, minutes_ago: float = 1,
           entity: str = "") -> AlertRecord:
    return AlertRecord(alert=Alert(id=alert_id, rule_id="r", entity_id=entity or f"urn:x:{alert_id}",
                                   title=f"alarm {alert_id}", severity=severity, sector="emergency", agency="a",
                                   district="Hải Châu", state=state,
                                   raised_at=NOW - timedelta(minutes=minutes_ago)))


def warning(event_id: str, severity: str = "extreme", minutes_ago: float = 1, feed: str = "cap-feed") -> dict:
    return {"id": event_id, "feed": feed, "severity": severity, "status": "actual", "headline": "Bão số 13",
            "district": "Sơn Trà", "onset": to_iso(NOW - timedelta(minutes=minutes_ago))}


def target(records: list[AlertRecord], events: list[dict] | None = None, shelved: set[str] | None = None,
           policy: Takeover = POLICY) -> str | None:
    found = takeover_target(records, shelved or set(), events or [], {"cap-feed"}, policy, NOW)
    return found.key() if found else None


def test_an_unacknowledged_extreme_alarm_takes_over_and_acknowledging_it_returns_the_wall() -> None:
    assert target([record("A1", Severity.EXTREME)]) == "alert:A1"
    assert target([record("A1", Severity.EXTREME, AlertState.ACKNOWLEDGED)]) is None
    assert target([record("A1", Severity.EXTREME, AlertState.RESOLVED)]) is None


def test_only_the_configured_severities_take_over() -> None:
    assert target([record("A1", Severity.MODERATE)]) is None
    assert target([record("A1", Severity.SEVERE)]) == "alert:A1"
    assert target([record("A1", Severity.SEVERE)], policy=Takeover(severities=[Severity.EXTREME])) is None


def test_the_wall_goes_back_after_the_configured_time_even_unacknowledged() -> None:
    assert target([record("A1", Severity.EXTREME, minutes_ago=9.9)]) == "alert:A1"
    assert target([record("A1", Severity.EXTREME, minutes_ago=10)]) is None


def test_acknowledged_alarms_can_hold_the_wall_until_their_time_when_configured() -> None:
    policy = Takeover(return_on_acknowledge=False, return_after_minutes=10)
    assert target([record("A1", Severity.EXTREME, AlertState.ACKNOWLEDGED)], policy=policy) == "alert:A1"


def test_a_shelved_alarm_does_not_take_over() -> None:
    assert target([record("A1", Severity.EXTREME)], shelved={"A1"}) is None


def test_the_most_severe_then_the_oldest_holds_the_wall() -> None:
    records = [record("A1", Severity.SEVERE, minutes_ago=5), record("A2", Severity.EXTREME, minutes_ago=1),
               record("A3", Severity.EXTREME, minutes_ago=3)]
    assert target(records) == "alert:A3"
    assert choose([]) is None


def test_a_cap_warning_for_the_city_takes_over_unless_an_alert_relays_it() -> None:
    assert target([], [warning("urn:ioc:danang:cap-feed:w1")]) == "event:urn:ioc:danang:cap-feed:w1"
    relayed = record("A9", Severity.SEVERE, AlertState.ACKNOWLEDGED, entity="urn:ioc:danang:cap-feed:w1")
    assert target([relayed], [warning("urn:ioc:danang:cap-feed:w1")]) is None  # acknowledged as its alert
    assert target([], [warning("w2", severity="minor")]) is None
    assert target([], [warning("w3", minutes_ago=11)]) is None
    assert target([], [warning("w4", feed="incidents")]) is None  # not a CAP feed
    assert target([], [warning("w5")], policy=Takeover(cap_warnings=False)) is None
