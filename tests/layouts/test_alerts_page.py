"""The alerts page callbacks as plain functions: queue order and filters, detail, map, actions, checklist."""

from __future__ import annotations

from datetime import timedelta

import dash
import pytest
from dash import dcc

from ioc import alert_queue
from ioc.config import Settings
from ioc.i18n import t
from ioc.model import Alert, AlertState, Severity, utcnow
from ioc.store import Store
from ioc.web import WebContext, context_of
from layouts import alerts as page
from layouts import alerts_groups, ids
from layouts.app import create_app
from tests.layouts.dom import text, walk, with_class

QUERY_OPEN = ([], [], [], "open")


def raise_alert(store: Store, entity: str, severity: Severity, minutes_ago: float, *, rule_id: str = "pm25-high",
                sector: str = "environment", district: str = "Liên Chiểu", extra: dict[str, str] | None = None,
                title: str = "Bụi mịn PM2.5 vượt ngưỡng — Hòa Khánh") -> str:
    at = utcnow() - timedelta(minutes=minutes_ago)
    alert, _ = store.alerts.raise_alert(
        Alert(id="", rule_id=rule_id, entity_id=entity, title=title, severity=severity, sector=sector,
              agency="danang-donre", district=district, value=68.4, message="pm25 = 68.4 µg/m³ > 50 µg/m³",
              raised_at=at, updated_at=at, location=(108.15, 16.07)),
        extra={"kind": "threshold", "place": "Hòa Khánh", "procedure": "air-quality", **(extra or {})},
    )
    return alert.id


@pytest.fixture
def app_context(fake_store: Store, settings: Settings) -> WebContext:
    # one line per alarm: these tests are about the queue's rows (folding them is tests/layouts/test_alerts_groups)
    ungrouped = settings.model_copy(update={"grouping": settings.grouping.model_copy(update={"min_members": 1000})})
    return context_of(create_app(fake_store, ungrouped, redis_kind="in-process").server)


@pytest.fixture
def scene(fake_store: Store, app_context: WebContext) -> dict[str, str]:
    return {
        "moderate_old": raise_alert(fake_store, "e1", Severity.MODERATE, 50, sector="emergency", district="Cẩm Lệ"),
        "severe_new": raise_alert(fake_store, "e2", Severity.SEVERE, 2),
        "severe_old": raise_alert(fake_store, "e3", Severity.SEVERE, 20),
        "extreme": raise_alert(fake_store, "e4", Severity.EXTREME, 1, rule_id="cap-warning", sector="emergency",
                               district="Sơn Trà", title="Cảnh báo bão số 4 đổ bộ vào Đà Nẵng",
                               extra={"kind": "relay", "place": "", "procedure": "typhoon-response"}),
    }


def rows(queue: object) -> list[str]:
    return [row.to_plotly_json()["props"]["data-alert"] for row in with_class(queue, "aq-row")]


def test_queue_is_sorted_by_severity_then_age_and_the_loud_ones_pulse(
    app_context: WebContext, scene: dict[str, str]
) -> None:
    title, summary, queue, _flood, seen = page.refresh_queue(app_context, 0, "vi", *QUERY_OPEN, None, 0, [], 0, None, None)

    assert title == t("alerts.title", "vi")
    assert rows(queue) == [scene["extreme"], scene["severe_old"], scene["severe_new"], scene["moderate_old"]]
    pulsing = [row.to_plotly_json()["props"]["data-alert"] for row in with_class(queue, "aq-row--pulse")]
    assert sorted(pulsing) == sorted([scene["extreme"], scene["severe_old"], scene["severe_new"]])
    assert t("alerts.summary.unacknowledged", "vi", n=4) in text(summary)
    # a relayed warning keeps its headline; a rule's alert says the rule (in the language) and the place
    assert "Cảnh báo bão số 4 đổ bộ vào Đà Nẵng" in text(queue)
    _, _, english, _, _ = page.refresh_queue(app_context, 0, "en", *QUERY_OPEN, None, 0, [], 0, None, None)
    assert "PM2.5 above limit — Hòa Khánh" in text(english)


def test_acknowledged_alerts_stop_pulsing(
    app_context: WebContext, scene: dict[str, str], fake_store: Store
) -> None:
    fake_store.alerts.acknowledge(scene["extreme"], actor="lan")
    _, _, queue, _, _ = page.refresh_queue(app_context, 0, "vi", *QUERY_OPEN, None, 0, [], 0, None, None)
    pulsing = [row.to_plotly_json()["props"]["data-alert"] for row in with_class(queue, "aq-row--pulse")]
    assert scene["extreme"] not in pulsing and scene["severe_new"] in pulsing


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ((["severe"], [], [], "open"), ["severe_old", "severe_new"]),
        (([], ["emergency"], [], "open"), ["extreme"]),
        (([], ["emergency"], [], "all"), ["extreme", "moderate_old"]),
        (([], [], ["Cẩm Lệ"], "all"), ["moderate_old"]),
        (([], [], ["Cẩm Lệ"], "open"), []),
        ((["moderate", "extreme"], ["emergency"], ["Sơn Trà"], "open"), ["extreme"]),
        (([], [], [], "acknowledged"), ["severe_new"]),
        (([], [], [], "resolved"), ["moderate_old"]),
        (([], [], [], "all"), ["extreme", "severe_old", "severe_new", "moderate_old"]),
        (([], [], [], "open"), ["extreme", "severe_old", "severe_new"]),
    ],
)
def test_filters_by_severity_sector_district_and_state(
    app_context: WebContext, scene: dict[str, str], fake_store: Store, query: tuple, expected: list[str]
) -> None:
    fake_store.alerts.acknowledge(scene["severe_new"], actor="lan")
    fake_store.alerts.resolve(scene["moderate_old"], actor="lan", note="xong")
    _, _, queue, _, _ = page.refresh_queue(app_context, 0, "vi", *query, None, 0, [], 0, None, None)
    assert rows(queue) == [scene[name] for name in expected]


def test_nothing_to_redraw_until_an_alert_arrives(
    app_context: WebContext, scene: dict[str, str], fake_store: Store
) -> None:
    *_, seen = page.refresh_queue(app_context, 0, "vi", *QUERY_OPEN, None, 0, [], 0, None, None)
    assert page.refresh_queue(app_context, 1, "vi", *QUERY_OPEN, None, 0, [], 0, None, seen) == (dash.no_update,) * 5

    fresh = raise_alert(fake_store, "e9", Severity.MINOR, 0)
    _, _, queue, _, _ = page.refresh_queue(app_context, 2, "vi", *QUERY_OPEN, None, 0, [], 0, None, seen)
    assert fresh in rows(queue)


def test_the_selected_row_is_marked_and_an_empty_queue_says_so(
    app_context: WebContext, scene: dict[str, str]
) -> None:
    _, _, queue, _, _ = page.refresh_queue(app_context, 0, "vi", *QUERY_OPEN, scene["severe_old"], 0, [], 0, None, None)
    selected = [r.to_plotly_json()["props"]["data-alert"] for r in with_class(queue, "aq-row--selected")]
    assert selected == [scene["severe_old"]]
    _, _, empty, _, _ = page.refresh_queue(app_context, 0, "en", [], ["tourism"], [], "open", None, 0, [], 0, None, None)
    assert t("alerts.empty", "en") in text(empty)


def test_detail_shows_facts_timeline_checklist_and_a_map(
    app_context: WebContext, scene: dict[str, str], fake_store: Store, settings: Settings
) -> None:
    alert_id = scene["severe_old"]
    fake_store.alerts.acknowledge(alert_id, actor="lan", note="đang kiểm tra")
    detail, style, figure, history, note_hint, _, assignees, assignee, seen = page.refresh_detail(
        app_context, alert_id, "vi", 0, 0, None)

    assert style == {"display": "grid"} and note_hint == t("alerts.actions.note", "vi")
    assert "pm25 = 68.4 µg/m³ > 50 µg/m³" in text(detail) and "lan" in text(detail)
    assert "đang kiểm tra" in text(history)
    assert [e.to_plotly_json()["props"]["data-action"] for e in with_class(history, "tl-entry")] == [
        "acknowledged", "raised"]  # newest first
    steps = with_class(history, "cl-step")
    assert len(steps) == len(settings.procedures["air-quality"].steps)
    assert assignee == "danang-donre"  # the rule's agency is proposed
    assert "danang-donre" in [option.value for option in assignees]
    marker = [trace for trace in figure.data if trace.mode == "markers"]
    assert marker and list(marker[0].x) == [108.15] and list(marker[0].y) == [16.07]
    # the detail is not redrawn while the alert does not change
    assert page.refresh_detail(app_context, alert_id, "vi", 1, 0, seen) == (dash.no_update,) * 9


def test_nothing_selected_hides_the_actions(app_context: WebContext, scene: dict[str, str]) -> None:
    detail, style, *_ = page.refresh_detail(app_context, None, "en", 0, 0, None)
    assert style == {"display": "none"} and t("alerts.choose", "en") in text(detail)
    assert page.button_states(app_context, None, "en", 0, 0)[:3] == (True, True, True)


def test_buttons_follow_the_state(app_context: WebContext, scene: dict[str, str], fake_store: Store) -> None:
    alert_id = scene["severe_new"]
    assert page.button_states(app_context, alert_id, "vi", 0, 0)[:3] == (False, False, False)
    fake_store.alerts.acknowledge(alert_id, actor="lan")
    assert page.button_states(app_context, alert_id, "vi", 0, 0)[:3] == (True, False, False)
    fake_store.alerts.resolve(alert_id, actor="lan", note="xong")
    assert page.button_states(app_context, alert_id, "vi", 0, 0) == (
        True, True, True, t("alerts.actions.acknowledge", "vi"),
                                                        t("alerts.actions.assign", "vi"),
                                                        t("alerts.actions.resolve", "vi"))


def test_acting_as_the_operator_with_notes_and_refusals(
    app_context: WebContext, scene: dict[str, str], fake_store: Store
) -> None:
    alert_id = scene["extreme"]
    feedback, note, version = page.perform(app_context, "acknowledge", alert_id, "đã xem", "", "vi", 3)
    assert note == "" and version == 4 and t("alerts.done.acknowledge", "vi", id=alert_id) in text(feedback)
    record = fake_store.alerts.get(alert_id)
    assert record.state == AlertState.ACKNOWLEDGED and record.acknowledged_by == page.current_actor() == "operator"

    refused, note, _ = page.perform(app_context, "acknowledge", alert_id, "tôi cũng xem", "", "en", 4)
    assert note is dash.no_update  # the note is kept so it can be used for something else
    assert with_class(refused, "alerts-feedback-line--refused")
    assert "already acknowledged by operator" in text(refused)

    missing, _, _ = page.perform(app_context, "assign", alert_id, "", "  ", "vi", 5)
    assert t("alerts.problem.need_assignee", "vi") in text(missing)
    page.perform(app_context, "assign", alert_id, "đội cứu hộ", "danang-civil-defence", "vi", 6)
    no_note, _, _ = page.perform(app_context, "resolve", alert_id, "", "", "vi", 7)
    assert t("alerts.problem.need_note", "vi") in text(no_note)
    page.perform(app_context, "resolve", alert_id, "bão đã suy yếu", "", "vi", 8)

    steps = [(e["action"], e["actor"], e["note"]) for e in fake_store.alerts.timeline(alert_id)]
    assert steps[1:] == [("acknowledged", "operator", "đã xem"), ("assigned", "operator", "đội cứu hộ"),
                         ("resolved", "operator", "bão đã suy yếu")]


def test_checklist_steps_tick_and_untick(
    app_context: WebContext, scene: dict[str, str], fake_store: Store
) -> None:
    alert_id = scene["severe_old"]
    assert page.toggle_step(app_context, alert_id, 1, 0) == 1
    assert 1 in fake_store.alerts.checklist(alert_id)
    assert page.toggle_step(app_context, alert_id, 1, 1) == 2
    assert fake_store.alerts.checklist(alert_id) == {}
    assert page.toggle_step(app_context, alert_id, 99, 2) == 2  # no such step: nothing changes
    assert [e["action"] for e in fake_store.alerts.timeline(alert_id)] == ["raised", "step_done", "step_undone"]


def test_filter_choices_in_both_languages(
    app_context: WebContext, scene: dict[str, str], settings: Settings
) -> None:
    severities, any_vi, sectors, _, districts, _, states = page.filter_options(app_context, "vi")
    assert [o["value"] for o in severities] == [str(s) for s in Severity]
    assert {o["value"] for o in sectors} == {s.id for s in settings.city.sectors}
    assert "Hải Châu" in [o["value"] for o in districts]
    assert [o["value"] for o in states][0] == "open" and any_vi == t("alerts.filter.any", "vi")
    english = page.filter_options(app_context, "en")
    assert english[0][0]["label"] == t("control_room.severity.extreme", "en")
    assert page.filter_labels(app_context, "en")[0] == t("alerts.filter.severity", "en")


def test_a_link_with_an_alert_id_opens_on_that_alert(app_context: WebContext, scene: dict[str, str]) -> None:
    tree = page.layout(app_context, alert=scene["extreme"])
    stores = [part for part in walk(tree) if isinstance(part, dcc.Store) and part.id == ids.ALERTS_SELECTED]
    assert [store.data for store in stores] == [scene["extreme"]]


def test_a_burst_draws_the_first_lines_counts_the_rest_and_a_press_draws_the_next(
    app_context: WebContext, fake_store: Store
) -> None:
    lines = alert_queue.QUEUE_LINES
    raised = [raise_alert(fake_store, f"urn:test:burst-{n}", Severity.SEVERE, 60 - n * 0.01) for n in range(lines)]
    raised += [raise_alert(fake_store, f"urn:test:later-{n}", Severity.SEVERE, 30 - n * 0.01, district="Sơn Trà")
               for n in range(30)]

    _, summary, queue, _, _ = page.refresh_queue(app_context, 0, "en", *QUERY_OPEN, None, 0, [], 0, None, None)
    assert rows(queue) == raised[:lines]  # the first lines in queue order (oldest first within a severity)
    more = [button.to_plotly_json()["props"] for button in with_class(queue, "aq-more")]
    assert [(button["id"], button["data-more"]) for button in more] == [(ids.alerts_more("queue"), "30")]
    assert t("alerts.summary.open", "en", n=lines + 30) in text(summary)  # the summary counts them all

    shown = alerts_groups.next_lines(None)
    assert shown == 2 * lines
    _, _, queue, _, _ = page.refresh_queue(app_context, 1, "en", *QUERY_OPEN, None, 0, [], 0, shown, None)
    assert rows(queue) == raised and with_class(queue, "aq-more") == []

    # the filters reach the alarms past the first lines without drawing more
    _, _, filtered, _, _ = page.refresh_queue(app_context, 2, "en", [], [], ["Sơn Trà"], "open", None, 0, [], 0,
                                              None, None)
    assert rows(filtered) == raised[lines:] and with_class(filtered, "aq-more") == []
