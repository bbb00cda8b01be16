"""Shift handover: windows from notifications.yaml's shifts, which handover is at hand and when it is due, the
record's hand over and accept (audited, once each, not by the same person), the shift's summary and its PDF."""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from pypdf import PdfReader

from ioc.audit import AuditQuery, AuditTrail
from ioc.config import Settings
from ioc.handover import (
    ACCEPTED,
    HANDED_OVER,
    OPEN,
    HandoverBook,
    HandoverRefused,
    at_hand,
    notification_settings,
    shown,
    window_at,
    window_by_key,
)
from ioc.handover_pdf import write
from ioc.handover_summary import sections, shift_summary
from ioc.model import Alert, Severity
from ioc.store import Store

ZONE = ZoneInfo("Asia/Ho_Chi_Minh")


def local(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 12, day, hour, minute, tzinfo=ZONE).astimezone(UTC)


@pytest.fixture
def shifts(settings: Settings):  # noqa: ANN201 - NotificationSettings
    found = notification_settings(settings)
    assert found is not None and [s.id for s in found.shifts] == ["day", "evening", "night"]
    return found


# --- windows ------------------------------------------------------------------------------------------------


def test_windows_follow_the_configured_shifts_and_a_night_shift_ends_the_next_day(shifts) -> None:  # noqa: ANN001
    day = window_at(shifts, local(6, 9), ZONE)
    assert day is not None and day.key == "2026-12-06:day"
    assert (day.start, day.end) == (local(6, 6), local(6, 14))
    night = window_at(shifts, local(7, 3), ZONE)  # after midnight: the night shift began the day before
    assert night is not None and night.key == "2026-12-06:night"
    assert (night.start, night.end) == (local(6, 22), local(7, 6))
    assert window_by_key(shifts, "2026-12-06:night", ZONE) == night
    assert window_by_key(shifts, "2026-12-06:lunch", ZONE) is None
    assert window_by_key(shifts, "yesterday:day", ZONE) is None


def test_the_handover_at_hand_and_when_it_is_due(fake_store: Store, shifts) -> None:  # noqa: ANN001
    book = HandoverBook(fake_store.redis, fake_store.keys)
    # mid-shift, past the time to accept the shift before: the current shift, not due yet
    early = at_hand(book, shifts, local(6, 9), ZONE)
    assert early is not None and early.window.key == "2026-12-06:day" and not early.due
    # 06:00 is less than two hours ago: the night shift's handover, never accepted, is the one at hand
    first = at_hand(book, shifts, local(6, 7), ZONE)
    assert first is not None and first.window.key == "2026-12-05:night" and first.due
    late = at_hand(book, shifts, local(6, 13, 40), ZONE)
    assert late is not None and late.window.key == "2026-12-06:day" and late.due  # 20 min before its end
    not_yet = at_hand(book, shifts, local(6, 13, 20), ZONE)
    assert not_yet is not None and not not_yet.due
    # handed over and accepted: no longer due, and the next shift is at hand after the change
    window = late.window
    book.hand_over(window, actor="op-day", notes="", summary={}, now=local(6, 13, 45))
    assert at_hand(book, shifts, local(6, 13, 50), ZONE).due  # handed over, not accepted
    book.accept(window.key, actor="op-evening", now=local(6, 13, 55))
    assert not at_hand(book, shifts, local(6, 13, 58), ZONE).due
    after = at_hand(book, shifts, local(6, 14, 30), ZONE)
    assert after.window.key == "2026-12-06:evening" and not after.due
    named = shown(book, shifts, local(6, 20), ZONE, "2026-12-06:day")
    assert named is not None and named.handover.state == ACCEPTED and not named.due


# --- the record ---------------------------------------------------------------------------------------------


def test_hand_over_then_accept_each_once_and_audited(store: Store, shifts) -> None:  # noqa: ANN001
    book = HandoverBook(store.redis, store.keys)
    window = window_by_key(shifts, "2026-12-06:day", ZONE)
    assert book.get(window.key).state == OPEN
    with pytest.raises(HandoverRefused) as refused:
        book.accept(window.key, actor="op-evening")
    assert refused.value.reason == "not_handed"
    handed = book.hand_over(window, actor="op-day", notes="Cống Lê Duẩn còn tắc, gọi 0905123456",
                            summary={"counts": {"raised": 3}}, now=local(6, 13, 50))
    assert handed.state == HANDED_OVER
    # notes are scrubbed of personal data like every note that reaches Redis
    assert "0905123456" not in book.get(window.key).notes
    with pytest.raises(HandoverRefused) as twice:
        book.hand_over(window, actor="op-day-2", notes="", summary={})
    assert (twice.value.reason, twice.value.by) == (HANDED_OVER, "op-day")
    with pytest.raises(HandoverRefused) as same:
        book.accept(window.key, actor="op-day")
    assert same.value.reason == "same_person"
    accepted = book.accept(window.key, actor="op-evening", note="Đã nắm", now=local(6, 14, 2))
    assert accepted.state == ACCEPTED and accepted.summary == {"counts": {"raised": 3}}
    with pytest.raises(HandoverRefused) as again:
        book.accept(window.key, actor="op-evening-2")
    assert (again.value.reason, again.value.by) == (ACCEPTED, "op-evening")
    stored = book.get(window.key)
    assert (stored.handed_by, stored.accepted_by, stored.accept_note) == ("op-day", "op-evening", "Đã nắm")
    assert [h.key for h in book.past()] == [window.key]
    trail = AuditTrail(store.redis, store.keys).search(AuditQuery(action="handover"))
    assert [(e.action, e.actor, e.object) for e in reversed(trail)] == [
        ("handover.handed_over", "op-day", "handover:2026-12-06:day"),
        ("handover.accepted", "op-evening", "handover:2026-12-06:day")]


# --- the summary ---------------------------------------------------------------------------------------------


def _raise(store: Store, rule: str, entity: str, severity: Severity, at: datetime, **extra: str) -> str:
    alert, _ = store.alerts.raise_alert(Alert(
        id="", rule_id=rule, entity_id=entity, title=f"{rule} {entity}", severity=severity, sector="environment",
        agency="danang-drainage", district="Hải Châu", raised_at=at, updated_at=at, location=(108.21, 16.06)),
        extra=extra)
    return alert.id


def test_summary_counts_the_shift_and_lists_what_is_left(store: Store, settings: Settings, shifts) -> None:  # noqa: ANN001
    window = window_by_key(shifts, "2026-12-06:day", ZONE)
    book = store.alerts
    before = _raise(store, "flood-level-high", "urn:a", Severity.MODERATE, local(6, 5))  # the shift before
    resolved = _raise(store, "flood-level-high", "urn:b", Severity.MODERATE, local(6, 7))
    owned = _raise(store, "flood-level-high", "urn:c", Severity.SEVERE, local(6, 8), procedure="flood-response")
    waiting = _raise(store, "pm25-high", "urn:d", Severity.EXTREME, local(6, 9))
    book.resolve(resolved, actor="op-day", now=local(6, 8))
    book.assign(owned, to="danang-drainage", actor="op-day", now=local(6, 8, 30))
    book.check_step(owned, 0, actor="op-day", now=local(6, 8, 40))
    book.comment(owned, actor="op-day", note="Đội thoát nước đang tới", now=local(6, 9))
    book.escalate(waiting, after=timedelta(minutes=5), now=local(6, 9, 10))
    summary = shift_summary(store, settings, window, local(6, 13))
    assert summary["counts"] == {"raised": 3, "acknowledged": 1, "resolved": 1, "open": 3, "sla": 1}
    assert {a["id"] for a in summary["raised"]} == {resolved, owned, waiting}
    owners = {a["id"]: a["owner"] for a in summary["open"]}
    assert owners == {before: "", owned: "danang-drainage", waiting: ""}
    assert {a["id"]: a["owner"] for a in summary["raised"]}[resolved] == "op-day"  # resolved unowned: its resolver
    assert [item["id"] for item in summary["sla"]] == [waiting]
    # the ticked first step is done; the others of the flood procedure are left
    steps = [(item["id"], item["step"]) for item in summary["steps"] if item["id"] == owned]
    assert steps == [(owned, n) for n in range(1, len(settings.procedures["flood-response"].steps))]
    assert [(n["id"], n["note"]) for n in summary["notes"]] == [(owned, "Đội thoát nước đang tới")]
    assert {a["id"] for a in summary["situations"]} == {owned, waiting}
    by_key = {section.key: section for section in sections(summary, settings, "en")}
    assert sorted(row[-1] for row in by_key["open"].rows) == ["danang-drainage", "nobody yet", "nobody yet"]
    assert by_key["open"].links[0] == f"/situation?alert={by_key['open'].rows[0][0]}"
    # a feed that never reported is listed as such
    assert {item["feed"] for item in summary["feeds"]} == {feed.name for feed in settings.feeds if feed.enabled}


def test_the_pdf_reads_the_handover_in_the_language_asked(store: Store, settings: Settings, shifts) -> None:  # noqa: ANN001
    window = window_by_key(shifts, "2026-12-06:day", ZONE)
    _raise(store, "flood-level-high", "urn:x", Severity.SEVERE, local(6, 7), procedure="flood-response")
    summary = shift_summary(store, settings, window, local(6, 13))
    book = HandoverBook(store.redis, store.keys)
    handed = book.hand_over(window, actor="op-day", notes="Theo dõi mưa lớn chiều nay", summary=summary)
    for lang, words in (("vi", ("Biên bản giao ca", "Theo dõi mưa lớn", "op-day", "Cảnh báo còn mở")),
                        ("en", ("Shift handover", "Open alarms and their owners", "op-day"))):
        body = write(summary, handed, settings, lang=lang)
        assert body.startswith(b"%PDF")
        text = "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(body)).pages)
        for word in words:
            assert word in text, (lang, word)


def test_no_shifts_configured_means_no_handover(tmp_path, settings: Settings) -> None:  # noqa: ANN001
    copy = settings.model_copy(update={"directory": tmp_path})
    assert notification_settings(copy) is None
