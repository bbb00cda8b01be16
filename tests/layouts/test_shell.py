"""The header: language switch, page links and the heartbeat's view of Redis."""

from __future__ import annotations

from ioc import web
from ioc.config import Settings
from ioc.i18n import t
from ioc.store import Store
from layouts import ids, shell
from tests.conftest import unreachable_redis
from tests.layouts.dom import text, with_class


def test_language_switch() -> None:
    assert shell.language_for(ids.LANG_EN) == "en"
    assert shell.language_for(ids.LANG_VI) == "vi"
    assert shell.language_for(None) == "vi"


def test_header_in_english_marks_the_current_page(fake_store: Store, settings: Settings) -> None:
    web.create_app(fake_store, settings, redis_kind="in-process")

    city, subtitle, *links, vi_class, en_class = shell.header_text("en", "/feeds")
    texts, classes = links[0::2], links[1::2]
    assert len(texts) == len(shell.PAGES)
    (cr_text, cr_class), (feeds_text, feeds_class) = (
        (texts[i], classes[i]) for i, page in enumerate(shell.PAGES) if page[1] in ("/", "/feeds")
    )

    assert city == settings.city.name.en and subtitle == t("app.subtitle", "en")
    assert (cr_text, feeds_text) == (t("nav.control_room", "en"), t("nav.feeds", "en"))
    assert "ioc-nav-link--active" in feeds_class and "ioc-nav-link--active" not in cr_class
    assert "ioc-lang-button--active" in en_class and "ioc-lang-button--active" not in vi_class


def test_unknown_language_falls_back_to_vietnamese(fake_store: Store, settings: Settings) -> None:
    web.create_app(fake_store, settings, redis_kind="in-process")

    city, *_ = shell.header_text("fr", "/")

    assert city == settings.city.name.vi


def test_heartbeat_reports_redis(fake_store: Store, settings: Settings) -> None:
    web.create_app(fake_store, settings, redis_kind="in-process")
    assert shell.heartbeat(3, "vi") == {
        "seq": 3, "redis": True, "live": t("header.live", "vi"), "lost": t("header.lost", "vi"),
        "redis_down": t("header.redis_down", "vi"),
    }

    unreachable = unreachable_redis(socket_connect_timeout=0.5)
    web.create_app(Store(unreachable, "danang"), settings, redis_kind="server")
    assert shell.heartbeat(4, "en")["redis"] is False


def test_shell_layout_holds_the_header_and_the_page(fake_store: Store, settings: Settings) -> None:
    web.create_app(fake_store, settings, redis_kind="in-process")

    frame = shell.layout()

    assert settings.city.name.vi in text(frame)
    assert with_class(frame, "ioc-header") and with_class(frame, "ioc-main")
    store = next(part for part in _all(frame) if getattr(part, "id", None) == ids.LANG)
    assert store.storage_type == "local"


def _all(node: object) -> list[object]:
    from tests.layouts.dom import walk

    return list(walk(node))
