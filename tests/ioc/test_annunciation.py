"""What every screen announces: unacknowledged alarms of the top priorities, and silencing audited."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from ioc.annunciation import announcements, record_silence
from ioc.audit import AuditQuery, AuditTrail
from ioc.config import Settings
from ioc.i18n import age_text, local_time
from ioc.model import Alert, Severity
from ioc.store import Store

NOW = datetime(2026, 12, 6, 7, 0, tzinfo=UTC)


def raise_(store: Store, name: str, severity: Severity, minutes: int) -> str:
    alert, _ = store.raise_alert(Alert(id="", rule_id=name, entity_id=f"urn:test:{name}", title=f"{name} title",
                                       severity=severity, sector="emergency", agency="test", district="Hải Châu",
                                       raised_at=NOW - timedelta(minutes=minutes)))
    return alert.id


def test_only_unacknowledged_alarms_of_the_top_priorities_are_announced_most_urgent_first(
    fake_store: Store, settings: Settings
) -> None:
    severe = raise_(fake_store, "severe-old", Severity.SEVERE, 9)
    extreme = raise_(fake_store, "extreme", Severity.EXTREME, 2)
    raise_(fake_store, "moderate", Severity.MODERATE, 5)
    seen = raise_(fake_store, "severe-seen", Severity.SEVERE, 4)
    fake_store.alerts.acknowledge(seen, actor="operator-1")

    found = announcements(fake_store.alerts.records(), settings, "en", NOW)

    assert [item.id for item in found] == [extreme, severe]
    assert [item.sound for item in found] == ["urgent", "high"]
    assert found[1].title == "severe-old title" and found[1].where == "Hải Châu"
    assert found[1].since == f"{local_time(NOW - timedelta(minutes=9), '%H:%M')} · {age_text(540, 'en')}"


def test_acknowledging_anywhere_ends_the_announcement(fake_store: Store, settings: Settings) -> None:
    alert = raise_(fake_store, "severe", Severity.SEVERE, 1)
    assert announcements(fake_store.alerts.records(), settings, "vi", NOW)

    fake_store.alerts.acknowledge(alert, actor="operator-2")

    assert announcements(fake_store.alerts.records(), settings, "vi", NOW) == []


def test_silencing_a_screen_is_audited_with_who_which_screen_and_which_alarms(fake_store: Store) -> None:
    trail = AuditTrail(fake_store.redis, fake_store.keys)

    record_silence(trail, actor="operator-1", screen="wall-3", alert_ids=["A000001", "A000002"], address="10.0.0.7")

    entry = trail.search(AuditQuery(action="annunciation.silenced"))[0]
    assert (entry.actor, entry.object, entry.address) == ("operator-1", "screen:wall-3", "10.0.0.7")
    assert "A000001" in entry.note and "A000002" in entry.note
