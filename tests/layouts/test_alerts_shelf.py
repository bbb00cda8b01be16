"""The alert page's shelf as plain functions: the button follows the alarm, the note is the reason, limits hold."""

from __future__ import annotations

from ioc.i18n import t
from ioc.model import Severity
from ioc.store import Store
from ioc.web import WebContext
from layouts import alerts_shelf as shelf
from tests.layouts.dom import text, with_class
from tests.layouts.test_alerts_page import app_context, raise_alert  # noqa: F401 - the fixture is used by name


def test_the_shelve_button_is_off_for_what_cannot_be_shelved(app_context: WebContext, fake_store: Store) -> None:  # noqa: F811
    severe = raise_alert(fake_store, "e1", Severity.SEVERE, 3)
    resolved = raise_alert(fake_store, "e2", Severity.SEVERE, 3)
    fake_store.alerts.resolve(resolved, actor="operator", note="done")

    assert shelf.controls(app_context, "vi", severe, 0, 0)[2] is False
    assert shelf.controls(app_context, "vi", resolved, 0, 0)[2] is True
    assert shelf.controls(app_context, "vi", None, 0, 0)[2] is True


def test_shelving_takes_the_note_as_reason_and_keeps_to_the_priority_limit(
    app_context: WebContext, fake_store: Store  # noqa: F811
) -> None:
    extreme = raise_alert(fake_store, "e3", Severity.EXTREME, 1)

    assert t("alerts.shelve.reason_needed", "en") in text(shelf.shelve(app_context, 1, extreme, "  ", 30, "en"))
    refused = shelf.shelve(app_context, 1, extreme, "crew on site", 480, "en")
    assert with_class(refused, "alerts-feedback-line--refused") and "1 to 30 minutes" in text(refused)
    done = shelf.shelve(app_context, 1, extreme, "crew on site", 15, "en")
    assert with_class(done, "alerts-feedback-line--ok")

    listed = shelf.shelved_list(app_context, 0, "en", 0)
    assert [line.to_plotly_json()["props"]["data-alert"] for line in with_class(listed, "alerts-shelved-line")] == \
        [extreme]
    assert "crew on site" in text(listed)
