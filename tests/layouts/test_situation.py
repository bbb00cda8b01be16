"""The situation page's callbacks without a browser: an unknown id says so, a known one draws every part,
a second screen of it gets the same drawing, and the layout drops the header class on a wall."""

from __future__ import annotations

import pytest

from ioc.config import Settings
from ioc.store import Store
from ioc.web import WebContext, context_of
from layouts import situation
from layouts.app import create_app
from tests.ioc.test_situation import scene
from tests.layouts.dom import text, with_class


@pytest.fixture
def context(fake_store: Store, settings: Settings) -> WebContext:
    return context_of(create_app(fake_store, settings, redis_kind="in-process", cookie_secure=False).server)


def test_an_unknown_alarm_says_so(context: WebContext) -> None:
    parts = situation.refresh(context, 1, "en", {"alert": "A999999"}, 0, None)
    assert text(parts[0]) == "No alarm or warning A999999"
    assert parts[-1]["alert"] == "A999999"
    assert text(situation.refresh(context, 1, "vi", {}, 0, None)[0]) == "Mở tình huống từ một cảnh báo"


def test_a_known_alarm_draws_every_part_once_for_every_screen(context: WebContext, settings: Settings) -> None:
    ids = scene(context.store, settings)
    first = situation.refresh(context, 1, "en", {"alert": ids["main"]}, 0, None)
    head, figure, warning, procedure, related, feeds, timeline, signature = first
    assert with_class(head, "situation-title") and "Disaster warning (CAP)" in text(warning)
    assert len(with_class(procedure, "situation-step")) == len(settings.procedures["typhoon-response"].steps)
    assert ids["near"] in text(related) and with_class(feeds, "situation-feed") and with_class(timeline, "tl-entry")
    assert figure["data"]
    # nothing changed: the screen that drew it is sent nothing; another screen gets the same drawing
    assert situation.refresh(context, 2, "en", {"alert": ids["main"]}, 0, signature) == (situation.dash.no_update,) * 8
    second = situation.refresh(context, 1, "en", {"alert": ids["main"]}, 0, None)
    assert text(second[0]) == text(head) and second[1] == figure


def test_the_wall_layout_marks_itself_so_the_header_goes(context: WebContext) -> None:
    assert with_class(situation.layout(context, alert="A1", wall="1"), "situation-page--wall")
    assert not with_class(situation.layout(context, alert="A1"), "situation-page--wall")
