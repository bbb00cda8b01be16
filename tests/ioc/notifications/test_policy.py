"""Escalation policy and rota, judged at injected moments: who is due what, with no Redis and no sleeping."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from ioc.alerts import AlertRecord
from ioc.model import Alert, AlertState, Severity
from ioc.notifications import NotificationSettings, due_notifications
from ioc.notifications.policy import NOBODY, on_duty
from tests.ioc.notifications.conftest import T0, ZONE, settings_document


def record(*, severity: Severity = Severity.SEVERE, state: AlertState = AlertState.NEW,
           raised: datetime = T0) -> AlertRecord:
    return AlertRecord(alert=Alert(id="A000001", rule_id="flood", entity_id="s1", title="Ngập — Hải Châu",
                                   severity=severity, sector="water", agency="water-board", state=state,
                                   raised_at=raised, updated_at=raised))


def who(settings: NotificationSettings, alert: AlertRecord, now: datetime) -> set[tuple[int, int, str, str]]:
    return {(d.step, d.repeat, d.person, d.channel) for d in due_notifications(alert, now, settings, ZONE)}


def test_a_new_severe_alert_is_due_to_every_operator_on_duty_on_each_of_their_channels(
        notification_settings: NotificationSettings) -> None:
    assert who(notification_settings, record(), T0) == {
        (0, 0, "op-a", "email"), (0, 0, "op-a", "hook"), (0, 0, "op-b", "telegram")}


def test_the_supervisor_after_ten_minutes_unacknowledged_then_reminders_then_the_director(
        notification_settings: NotificationSettings) -> None:
    alert = record()
    at = {minutes: who(notification_settings, alert, T0 + timedelta(minutes=minutes))
          for minutes in (9, 10, 24, 25, 30, 55, 120)}

    assert {d[:3] for d in at[9]} == {(0, 0, "op-a"), (0, 0, "op-b")}
    assert (1, 0, "sup", "email") in at[10] and (1, 0, "sup", "zalo") in at[10]
    assert (1, 0, "sup", "email") in at[24] and not any(d[0] == 1 and d[1] == 1 for d in at[24])
    assert (1, 1, "sup", "email") in at[25] and (1, 0, "sup", "email") not in at[25]  # the latest repeat only
    assert (2, 0, "director", "telegram") in at[30] and (2, 0, "director", "telegram") not in at[24]
    # repeat_max 2: the third reminder (at 55 min) is not due, nor any later
    assert {d[1] for d in at[55] if d[0] == 1} == {2} and {d[1] for d in at[120] if d[0] == 1} == {2}


def test_an_acknowledged_assigned_or_resolved_alert_is_due_nothing(
        notification_settings: NotificationSettings) -> None:
    for state in (AlertState.ACKNOWLEDGED, AlertState.ASSIGNED, AlertState.RESOLVED):
        assert due_notifications(record(state=state), T0 + timedelta(hours=1), notification_settings, ZONE) == []


def test_a_severity_with_no_policy_is_due_nothing_and_an_escalated_one_takes_its_new_policy(
        notification_settings: NotificationSettings) -> None:
    assert due_notifications(record(severity=Severity.MINOR), T0, notification_settings, ZONE) == []
    moderate = due_notifications(record(severity=Severity.MODERATE), T0 + timedelta(minutes=12),
                                 notification_settings, ZONE)
    assert {d.policy for d in moderate} == {"routine"}
    escalated = due_notifications(record(severity=Severity.SEVERE), T0 + timedelta(minutes=12),
                                  notification_settings, ZONE)
    assert {(d.policy, d.step) for d in escalated} == {("urgent", 0), ("urgent", 1)}


def test_the_night_shift_after_midnight_is_the_rota_of_the_evening_it_began(
        notification_settings: NotificationSettings) -> None:
    # Saturday 20:00 and Sunday 02:00 local are the Saturday night shift; Sunday 20:00 is Sunday's
    saturday_evening = datetime(2026, 3, 7, 13, 0, tzinfo=UTC)
    sunday_small_hours = datetime(2026, 3, 7, 19, 0, tzinfo=UTC)
    sunday_evening = datetime(2026, 3, 8, 13, 0, tzinfo=UTC)
    assert on_duty(notification_settings, "operator", saturday_evening, ZONE) == ["op-night", "op-weekend"]
    assert on_duty(notification_settings, "operator", sunday_small_hours, ZONE) == ["op-night", "op-weekend"]
    assert on_duty(notification_settings, "operator", sunday_evening, ZONE) == ["op-night"]
    assert on_duty(notification_settings, "operator", T0, ZONE) == ["op-a", "op-b"]


def test_a_step_that_reaches_nobody_says_so_instead_of_passing_in_silence() -> None:
    document = settings_document()
    for channel in document["channels"].values():
        channel["enabled"] = channel["type"] == "smtp"
    settings = NotificationSettings.model_validate(document)
    # op-b is on duty but reachable only by Telegram, which is off; the director likewise
    due = due_notifications(record(), T0 + timedelta(minutes=30), settings, ZONE)
    assert {(d.step, d.person, d.channel) for d in due} == {
        (0, "op-a", "email"), (1, "sup", "email"), (2, NOBODY, NOBODY)}


def test_a_planner_that_asks_twice_gets_the_same_keys(notification_settings: NotificationSettings) -> None:
    first = due_notifications(record(), T0 + timedelta(minutes=11), notification_settings, ZONE)
    again = due_notifications(record(), T0 + timedelta(minutes=11, seconds=40), notification_settings, ZONE)
    assert [d.key for d in first] == [d.key for d in again] and len({d.key for d in first}) == len(first)
