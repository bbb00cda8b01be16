"""The handover page's thin callbacks without a browser: the header's reminder shows while a handover is due
and goes once it is accepted; the page's summary and buttons for a shift."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from ioc.config import Settings
from ioc.handover import HandoverBook, window_by_key
from ioc.store import Store
from ioc.web import WebContext, context_of
from layouts import handover
from layouts.app import create_app
from tests.layouts.dom import text

ZONE = ZoneInfo("Asia/Ho_Chi_Minh")


def local(hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 12, 6, hour, minute, tzinfo=ZONE).astimezone(UTC)


@pytest.fixture
def context(fake_store: Store, settings: Settings) -> WebContext:
    return context_of(create_app(fake_store, settings, redis_kind="in-process", cookie_secure=False).server)


def test_the_header_reminds_while_a_handover_is_due(context: WebContext, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(handover, "utcnow", lambda: local(10))
    assert handover.due_state(context, 1, "en") == ("", {"display": "none"})
    monkeypatch.setattr(handover, "utcnow", lambda: local(13, 40))
    shown, style = handover.due_state(context, 2, "en")
    assert shown == "Handover due: day shift" and style is None
    assert handover.due_state(context, 2, "vi")[0] == "Đến giờ giao ca sáng"
    book = HandoverBook(context.store.redis, context.store.keys)
    window = window_by_key(handover.notification_settings(context.settings), "2026-12-06:day", ZONE)
    book.hand_over(window, actor="a", notes="", summary={}, now=local(13, 41))
    assert handover.due_state(context, 3, "en")[1] is None  # handed over, not accepted yet
    book.accept(window.key, actor="b", now=local(13, 42))
    assert handover.due_state(context, 4, "en") == ("", {"display": "none"})


def test_the_page_shows_the_shift_at_hand_and_a_named_one(context: WebContext,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(handover, "utcnow", lambda: local(9))
    title, state, summary, *_rest, hand_off, accept_off, _pdf, pdf_href, _past, shown = handover.refresh(
        context, 1, "en", None, 0)
    assert title.startswith("Shift handover · day shift 06:00 06/12/2026")
    assert shown == "2026-12-06:day" and pdf_href == "/handover/pdf?shift=2026-12-06%3Aday&lang=en"
    assert "Still open" in text(summary) and "Open alarms and their owners" in text(summary)
    # nobody signed in here: neither button is offered
    assert hand_off and accept_off
    assert "Not handed over yet" in text(state)
    unknown = handover.refresh(context, 1, "en", "2026-12-06:lunch", 0)
    assert unknown[1] == "No shift 2026-12-06:lunch."
