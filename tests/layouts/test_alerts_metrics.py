"""The alert page's alarm-system panel as plain functions: its tiles and lists from the alerts raised, in both
languages, and redrawn only when something changed."""

from __future__ import annotations

import dash
import pytest

from ioc.i18n import t
from ioc.model import Severity
from ioc.store import Store
from ioc.web import WebContext
from layouts import alerts as page
from layouts import alerts_metrics as panel
from layouts import ids
from tests.layouts.dom import text, walk, with_class
from tests.layouts.test_alerts_page import app_context, raise_alert  # noqa: F401 - the fixture is used by name


def tiles_by_measure(tiles: object) -> dict[str, dict[str, object]]:
    return {
        tile.to_plotly_json()["props"]["data-measure"]: tile.to_plotly_json()["props"]
        for tile in with_class(tiles, "am-tile")
    }


def test_the_panel_measures_the_alarms_raised(app_context: WebContext, fake_store: Store) -> None:  # noqa: F811
    # the same station raised three times within a minute, cleared in between: it chatters
    for seconds in (0.9, 0.6, 0.3):
        chattering = raise_alert(fake_store, "station-7", Severity.MODERATE, seconds)
        fake_store.alerts.resolve(chattering, actor="system", note="cleared")
    raise_alert(fake_store, "station-8", Severity.EXTREME, 30, rule_id="cap-warning", sector="emergency")
    stale = raise_alert(fake_store, "station-9", Severity.SEVERE, 26 * 60)

    head, tiles, lists, seen = panel.refresh(app_context, 0, "en", None)

    assert t("alarm_kpis.title", "en") in text(head)
    assert "2 operator positions · 4 alarms" in text(head)  # rules.yaml: two positions; 26 h ago is outside
    found = tiles_by_measure(tiles)
    assert list(found) == ["average", "peak", "flood", "top_share", "chattering", "stale", "mix"]
    assert (found["chattering"]["data-status"], found["stale"]["data-status"]) == ("missed", "met")
    assert "1 not acknowledged" in text(tiles)
    assert found["average"]["data-status"] == "met"  # 4 alarms in 24 h over 2 positions
    by_list = {part.to_plotly_json()["props"]["data-list"]: part for part in with_class(lists, "am-list")}
    assert "PM2.5 above limit — Hòa Khánh" in text(by_list["chattering"])
    assert "3 within 60 s" in text(by_list["chattering"])
    assert stale in text(by_list["stale"])
    assert "3× · 75.0%" in text(by_list["top"])
    assert seen["version"] is not None


def test_the_panel_speaks_vietnamese(app_context: WebContext, fake_store: Store) -> None:  # noqa: F811
    raise_alert(fake_store, "station-1", Severity.MINOR, 5)
    head, tiles, lists, _ = panel.refresh(app_context, 0, "vi", None)
    assert t("alarm_kpis.title", "vi") in text(head)
    assert t("alarm_kpis.average", "vi") in text(tiles)
    assert t("alarm_kpis.none", "vi") in text(lists)  # nothing chatters, nothing is stale


def test_the_panel_redraws_only_when_the_alarms_were_measured_again(
    app_context: WebContext,  # noqa: F811
    fake_store: Store,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    raise_alert(fake_store, "station-1", Severity.MINOR, 5)
    *_, seen = panel.refresh(app_context, 0, "en", None)
    assert panel.refresh(app_context, 1, "en", seen) == (dash.no_update,) * 4
    assert panel.refresh(app_context, 1, "vi", seen)[0] is not dash.no_update  # the language changed

    raise_alert(fake_store, "station-2", Severity.MINOR, 1)
    # an alert changed moments after the last measure: every screen keeps that measure a few seconds ...
    assert panel.refresh(app_context, 2, "en", seen) == (dash.no_update,) * 4
    # ... and then it is measured again, once for all of them
    monkeypatch.setattr(panel, "RECOMPUTE_SECONDS", 0)
    head, *_, again = panel.refresh(app_context, 3, "en", seen)
    assert "2 alarms" in text(head)
    other_screen = panel.refresh(app_context, 3, "en", None)
    assert other_screen[-1] == again and "2 alarms" in text(other_screen[0])


def test_the_alert_page_holds_the_panel(app_context: WebContext) -> None:  # noqa: F811
    found = {part.id for part in walk(page.layout(app_context)) if isinstance(getattr(part, "id", None), str)}
    assert {ids.ALERTS_METRICS, ids.ALERTS_METRICS_TILES, ids.ALERTS_METRICS_LISTS} <= found
    assert any(ids.ALERTS_METRICS_TILES in str(callback.outputs) for callback in page.PAGE.callbacks)
