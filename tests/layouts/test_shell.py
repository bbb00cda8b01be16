"""The header: language switch, page links and the heartbeat's view of Redis."""

from __future__ import annotations

import pytest

from ioc.config import Settings
from ioc.i18n import t
from ioc.store import Store
from ioc.web import WebContext, context_of
from layouts import ids, shell
from layouts.app import create_app
from tests.conftest import unreachable_redis
from tests.layouts.dom import text, walk, with_class


@pytest.fixture
def context(fake_store: Store, settings: Settings) -> WebContext:
    return context_of(create_app(fake_store, settings, redis_kind="in-process").server)


def test_language_switch() -> None:
    assert shell.language_for(ids.LANG_EN) == "en"
    assert shell.language_for(ids.LANG_VI) == "vi"
    assert shell.language_for(None) == "vi"


def test_header_in_english_marks_the_current_page(context: WebContext, settings: Settings) -> None:
    city, subtitle, *links, vi_class, en_class = shell.header_text(context, "en", "/feeds")
    texts, classes = links[0::2], links[1::2]
    nav = shell.nav_pages(context.pages)
    assert len(texts) == len(nav) and 0 < len(nav) <= len(context.pages)
    (cr_text, cr_class), (feeds_text, feeds_class) = (
        (texts[i], classes[i]) for i, page in enumerate(nav) if page.path in ("/", "/feeds")
    )

    assert city == settings.city.name.en and subtitle == t("app.subtitle", "en")
    assert (cr_text, feeds_text) == (t("nav.control_room", "en"), t("nav.feeds", "en"))
    assert "ioc-nav-link--active" in feeds_class and "ioc-nav-link--active" not in cr_class
    assert "ioc-lang-button--active" in en_class and "ioc-lang-button--active" not in vi_class


def test_header_outputs_match_the_nav_links_it_declares(context: WebContext) -> None:
    header = next(callback for callback in shell.frame(context.pages).callbacks
                  if callback.function is shell.header_text)

    assert len(header.outputs) == len(shell.header_text(context, "vi", "/"))


def test_unknown_language_falls_back_to_vietnamese(context: WebContext, settings: Settings) -> None:
    city, *_ = shell.header_text(context, "fr", "/")

    assert city == settings.city.name.vi


def test_heartbeat_reports_redis(context: WebContext, settings: Settings) -> None:
    assert shell.heartbeat(context, 3, "vi") == {
        "seq": 3, "redis": True, "live": t("header.live", "vi"), "lost": t("header.lost", "vi"),
        "redis_down": t("header.redis_down", "vi"),
    }

    unreachable = unreachable_redis(socket_connect_timeout=0.5)
    down = context_of(create_app(Store(unreachable, "danang"), settings, redis_kind="server").server)
    assert shell.heartbeat(down, 4, "en")["redis"] is False
    assert shell.heartbeat(context, 5, "en")["redis"] is True  # each app asks its own Redis


def test_shell_layout_holds_the_header_and_the_page(context: WebContext, settings: Settings) -> None:
    frame = shell.layout(context)

    assert settings.city.name.vi in text(frame)
    assert with_class(frame, "ioc-header") and with_class(frame, "ioc-main")
    store = next(part for part in walk(frame) if getattr(part, "id", None) == ids.LANG)
    # the language lives in one cookie the sign-in page shares, not in the browser's storage: outside a
    # request (no cookie yet) the screen opens in the city's language
    assert getattr(store, "storage_type", "memory") == "memory" and store.data == settings.city.language
    nav = shell.nav_pages(context.pages)
    links = [part for part in walk(frame) if getattr(part, "id", None) in {page.nav_id for page in nav}]
    assert [link.href for link in links] == [page.path for page in nav]
