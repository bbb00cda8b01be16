"""What the alert queue page shows, as plain values: rows, summary, facts, timeline, checklist, buttons."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from ioc import alert_queue
from ioc.alerts import ActionOutcome, AlertConflict, AlertQuery, AlertRecord
from ioc.config import Settings
from ioc.i18n import t
from ioc.model import Alert, AlertState, Severity
from ioc.store import Store

T0 = datetime(2026, 11, 27, 1, 0, tzinfo=UTC)


def raise_alert(store: Store, entity: str, severity: Severity, *, rule_id: str = "pm25-high",
                kind: str = "threshold", place: str = "Hòa Khánh", procedure: str = "air-quality",
                title: str = "Bụi mịn PM2.5 vượt ngưỡng — Hòa Khánh") -> AlertRecord:
    alert, _ = store.alerts.raise_alert(
        Alert(id="", rule_id=rule_id, entity_id=entity, title=title, severity=severity, sector="environment",
              agency="danang-donre", district=None, value=68.4, message="pm25 = 68.4 µg/m³ > 50 µg/m³",
              raised_at=T0, updated_at=T0),
        extra={"kind": kind, "place": place, "procedure": procedure},
    )
    return store.alerts.get(alert.id)


def test_a_row_says_severity_title_place_age_and_whether_it_pulses(fake_store: Store, settings: Settings) -> None:
    record = raise_alert(fake_store, "e1", Severity.SEVERE)
    row = alert_queue.queue_row(record, settings, "en", T0 + timedelta(minutes=5), selected=record.id)
    assert (row.id, row.severity, row.state, row.loud, row.selected) == (record.id, "severe", "new", True, True)
    assert row.title == "PM2.5 above limit — Hòa Khánh"
    assert row.meta_text.startswith(t("map.outside", "en") + " · ") and row.badges == []
    assert row.id_text == f"{record.id} · {t('alerts.row.occurrences', 'en', n=1)}"

    fake_store.alerts.assign(record.id, to="Đội môi trường", actor="lan")
    assigned = alert_queue.queue_row(fake_store.alerts.get(record.id), settings, "en", T0, selected=None)
    assert not assigned.loud and not assigned.selected
    assert assigned.meta_text.endswith(t("alerts.row.assigned_to", "en", who="Đội môi trường"))


def test_a_relayed_warning_keeps_its_headline(fake_store: Store, settings: Settings) -> None:
    record = raise_alert(fake_store, "w1", Severity.EXTREME, rule_id="cap-warning", kind="relay", place="",
                         title="Cảnh báo bão số 4")
    assert alert_queue.alert_title(record, settings, "en") == "Cảnh báo bão số 4"


def test_the_summary_counts_open_alerts_by_severity_and_the_unacknowledged(fake_store: Store) -> None:
    assert [p.kind for p in alert_queue.summary_pills([], "vi")] == ["calm"]
    records = [raise_alert(fake_store, f"e{i}", severity) for i, severity in
               enumerate((Severity.SEVERE, Severity.SEVERE, Severity.MINOR))]
    fake_store.alerts.acknowledge(records[2].id, actor="lan")
    pills = alert_queue.summary_pills(fake_store.alerts.records(), "en")
    assert [p.kind for p in pills] == ["", "severe", "minor", "waiting"]
    assert pills[0].text == t("alerts.summary.open", "en", n=3)
    assert pills[-1].text == t("alerts.summary.unacknowledged", "en", n=2)


def test_the_queue_reads_every_open_alert_for_the_summary_whatever_the_filter(fake_store: Store) -> None:
    severe = raise_alert(fake_store, "e1", Severity.SEVERE)
    minor = raise_alert(fake_store, "e2", Severity.MINOR)
    shown, open_records = alert_queue.read_queue(fake_store.alerts, AlertQuery.of(severities=["minor"]))
    assert [r.id for r in shown] == [minor.id] and {r.id for r in open_records} == {severe.id, minor.id}


def test_facts_timeline_and_checklist_of_the_detail(fake_store: Store, settings: Settings) -> None:
    record = raise_alert(fake_store, "e1", Severity.SEVERE)
    fake_store.alerts.acknowledge(record.id, actor="lan", note="đang kiểm tra")
    fake_store.alerts.check_step(record.id, 0, actor="lan", label="Bước 1")
    record = fake_store.alerts.get(record.id)

    facts = dict(alert_queue.detail_facts(record, settings, "en"))
    assert facts[t("alerts.detail.rule", "en")] == "PM2.5 above limit"
    assert "lan" in facts[t("alerts.detail.acknowledged", "en")]
    assert t("alerts.detail.resolved", "en") not in facts

    lines = alert_queue.timeline_lines(fake_store.alerts.timeline(record.id), "en")
    assert [line.action for line in lines] == ["step_done", "acknowledged", "raised"]  # newest first
    assert lines[1].note == "đang kiểm tra" and lines[1].actor == "lan"

    found = alert_queue.checklist(record, settings, fake_store.alerts.checklist(record.id), "en")
    assert found is not None and found.editable
    assert [step.done for step in found.steps][:2] == [True, False] and "lan" in found.steps[0].done_text
    no_procedure = AlertRecord(alert=record.alert, procedure="")
    assert alert_queue.checklist(no_procedure, settings, {}, "en") is None


@pytest.mark.parametrize(
    ("entry", "expected"),
    [
        ({"action": "assigned", "assignee": "Đội 3"}, ("alerts.timeline.assigned", {"who": "Đội 3"})),
        ({"action": "escalated", "severity_from": "moderate", "severity_to": "severe"}, None),
        ({"action": "resolved"}, ("alerts.timeline.resolved", {})),
        ({"action": "something_new"}, "something_new"),
    ],
)
def test_timeline_entries_in_words(entry: dict[str, str], expected: object) -> None:
    text = alert_queue.timeline_text(entry, "en")
    if expected is None:
        assert t("control_room.severity.moderate", "en") in text and t("control_room.severity.severe", "en") in text
    elif isinstance(expected, tuple):
        key, values = expected
        assert text == t(key, "en", **values)
    else:
        assert text == expected


def test_ticking_checklist_steps(fake_store: Store, settings: Settings) -> None:
    record = raise_alert(fake_store, "e1", Severity.SEVERE)
    book = fake_store.alerts
    assert alert_queue.toggle_step(book, settings, record.id, 1, actor="lan")
    assert alert_queue.toggle_step(book, settings, record.id, 1, actor="lan") and book.checklist(record.id) == {}
    assert not alert_queue.toggle_step(book, settings, record.id, 99, actor="lan")
    assert not alert_queue.toggle_step(book, settings, None, 0, actor="lan")
    book.resolve(record.id, actor="lan", note="xong")
    assert not alert_queue.toggle_step(book, settings, record.id, 0, actor="lan")  # a resolved alert is history


def test_buttons_and_feedback(fake_store: Store) -> None:
    record = raise_alert(fake_store, "e1", Severity.SEVERE)
    assert alert_queue.buttons_disabled(None) == (True, True, True)
    assert alert_queue.buttons_disabled(record) == (False, False, False)
    acked = fake_store.alerts.acknowledge(record.id, actor="lan")
    assert alert_queue.buttons_disabled(acked) == (True, False, False)

    assert alert_queue.feedback_text(ActionOutcome("acknowledge", acked), "en") == (
        t("alerts.done.acknowledge", "en", id=record.id, who=""), "ok")
    refusal = AlertConflict(record.id, "acknowledged", by="lan", at=T0)
    text, tone = alert_queue.feedback_text(ActionOutcome("acknowledge", refusal=refusal), "en")
    assert tone == "refused" and "lan" in text
    assert alert_queue.feedback_text(ActionOutcome("resolve", problem="need_note"), "vi") == (
        t("alerts.problem.need_note", "vi"), "problem")
    assert alert_queue.buttons_disabled(fake_store.alerts.resolve(record.id, actor="lan", note="x")) == (
        True, True, True)
    assert record.state == AlertState.NEW


def test_filter_choices_and_labels(settings: Settings) -> None:
    choices = alert_queue.filter_choices(settings, "en")
    assert [o["value"] for o in choices.severities] == [str(s) for s in Severity]
    assert [o["value"] for o in choices.states][0] == "open" and [o["value"] for o in choices.states][-1] == "all"
    assert "Hải Châu" in [o["value"] for o in choices.districts]
    assert alert_queue.filter_labels("vi") == [t(f"alerts.filter.{n}", "vi") for n in alert_queue.FILTERS]
    assert alert_queue.assignee_choices(settings) == sorted(set(alert_queue.assignee_choices(settings)))


@pytest.mark.parametrize("action", ["shelved", "unshelved", "notification.sent", "notification.failed",
                                    "notification.cancelled", "notification.unreachable"])
def test_shelving_and_notifications_read_in_both_languages_on_the_timeline(action: str) -> None:
    from ioc.alert_queue import timeline_text
    from ioc.i18n import t

    key = f"alerts.timeline.{action}"
    assert t(key, "vi") != key and t(key, "en") != key  # said in words, not as the raw action name
    assert timeline_text({"action": action}, "vi") == t(key, "vi") != t(key, "en")
