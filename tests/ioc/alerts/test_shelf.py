"""Shelving: with a reason, within its priority's time, back by itself; all on the timeline and audited."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from ioc.alerts.shelf import Shelf, ShelvingRefused, return_due
from ioc.annunciation import announcements
from ioc.audit import AuditQuery, AuditTrail
from ioc.config import Settings, Shelving
from ioc.model import Alert, Severity
from ioc.store import Store

NOW = datetime(2026, 12, 6, 7, 0, tzinfo=UTC)


def raise_(store: Store, name: str, severity: Severity = Severity.SEVERE) -> str:
    alert, _ = store.raise_alert(Alert(id="", rule_id=name, entity_id=f"urn:test:{name}", title=name,
                                       severity=severity, sector="emergency", agency="test", raised_at=NOW))
    return alert.id


@pytest.fixture
def shelf(fake_store: Store) -> Shelf:
    return Shelf(fake_store.redis, fake_store.keys, Shelving(max_minutes={"severe": 60, "moderate": 240}))


def test_a_shelved_alarm_is_not_announced_and_comes_back_by_itself(
    fake_store: Store, shelf: Shelf, settings: Settings
) -> None:
    alert = raise_(fake_store, "flood-1")
    shelf.shelve(fake_store.alerts.get(alert), actor="operator-1", reason="crew on site", minutes=30, now=NOW)

    assert shelf.shelved_ids(NOW + timedelta(minutes=29)) == {alert}
    assert announcements(fake_store.alerts.records(), settings, "en", NOW,
                         shelved=shelf.shelved_ids(NOW)) == []
    back = NOW + timedelta(minutes=31)
    assert shelf.shelved_ids(back) == set()  # due: not on the shelf any more, even before anyone unshelves
    assert return_due(shelf, fake_store.alerts.get, back) == [alert]
    assert shelf.due(back) == []
    actions = [e["action"] for e in fake_store.alerts.timeline(alert)]
    assert actions[-2:] == ["shelved", "unshelved"]
    audit = AuditTrail(fake_store.redis, fake_store.keys).search(AuditQuery(action="unshelved"))
    assert audit and audit[0].actor == "system"


@pytest.mark.parametrize(("severity", "minutes", "reason", "says"), [
    (Severity.SEVERE, 61, "crew on site", "1 to 60 minutes"),
    (Severity.EXTREME, 5, "crew on site", "may not be shelved"),
    (Severity.SEVERE, 10, "  ", "needs a reason"),
])
def test_shelving_is_refused_outside_its_rules(fake_store: Store, shelf: Shelf, severity: Severity, minutes: int,
                                               reason: str, says: str) -> None:
    alert = raise_(fake_store, "flood-2", severity)

    with pytest.raises(ShelvingRefused, match=says):
        shelf.shelve(fake_store.alerts.get(alert), actor="operator-1", reason=reason, minutes=minutes, now=NOW)

    assert shelf.shelved_ids(NOW) == set()


def test_the_shelved_list_says_why_by_whom_and_until_when(fake_store: Store, shelf: Shelf) -> None:
    first, second = raise_(fake_store, "a"), raise_(fake_store, "b", Severity.MODERATE)
    shelf.shelve(fake_store.alerts.get(second), actor="op-2", reason="known outage", minutes=200, now=NOW)
    shelf.shelve(fake_store.alerts.get(first), actor="op-1", reason="crew on site", minutes=20, now=NOW)

    listed = shelf.shelved(NOW)

    assert [(s.alert_id, s.by, s.reason) for s in listed] == [(first, "op-1", "crew on site"),
                                                              (second, "op-2", "known outage")]
    assert listed[0].until == NOW + timedelta(minutes=20)
    assert shelf.unshelve(fake_store.alerts.get(first), actor="op-1", now=NOW)
    assert [s.alert_id for s in shelf.shelved(NOW)] == [second]


def test_shelving_limits_in_rules_yaml_are_validated(tmp_path) -> None:  # noqa: ANN001
    import shutil

    from ioc.config import DEFAULT_CONFIG_DIR, ConfigError, load_settings

    folder = tmp_path / "city"
    shutil.copytree(DEFAULT_CONFIG_DIR, folder)
    rules = folder / "rules.yaml"
    text = rules.read_text(encoding="utf-8")
    assert "  max_minutes: {extreme: 30," in text
    rules.write_text(text.replace("  max_minutes: {extreme: 30,", "  max_minutes: {extreme: 0,"), encoding="utf-8")

    with pytest.raises(ConfigError, match="rules.yaml.*shelving.*max_minutes.extreme"):
        load_settings(folder)
