"""The alert page's group lines and flood banner as plain functions: related alarms on one line with their
count, a line that opens onto its members (each an ordinary row that opens the alarm), the flood banner, and
what is out of service; and the words in both languages."""

from __future__ import annotations

from datetime import timedelta

import pytest

from ioc import alert_queue
from ioc.alerts.groups import AlarmGroup, flood_state, fold
from ioc.alerts.service import Service
from ioc.config import Settings
from ioc.i18n import local_time, t
from ioc.model import Alert, Severity, utcnow
from ioc.store import Store
from ioc.web import WebContext, context_of
from layouts import alerts as page
from layouts import alerts_groups
from layouts.app import create_app
from tests.layouts.dom import text, with_class

QUERY_OPEN = ([], [], [], "open")


@pytest.fixture
def app_context(fake_store: Store, settings: Settings) -> WebContext:
    # without the city's recurring maintenance window, which would show on a Sunday night whatever the test does
    quiet = settings.model_copy(update={"maintenance": []})
    return context_of(create_app(fake_store, quiet, redis_kind="in-process").server)


def raise_floods(store: Store, count: int, *, district: str = "Cẩm Lệ", minutes_ago: float = 30,
                 spacing: timedelta = timedelta(minutes=2), start: int = 0) -> list[str]:
    ids = []
    for number in range(start, start + count):
        at = utcnow() - timedelta(minutes=minutes_ago) + (number - start) * spacing
        alert, _ = store.alerts.raise_alert(
            Alert(id="", rule_id="flood-level-high", entity_id=f"urn:ioc:danang:flood-sensors:FL-{number:02d}",
                  title=f"Ngập sâu FL-{number:02d}", severity=Severity.SEVERE, sector="emergency",
                  agency="danang-drainage", district=district, raised_at=at, updated_at=at),
            extra={"kind": "threshold", "place": f"FL-{number:02d}"})
        ids.append(alert.id)
    return ids


def group_heads(queue: object) -> list[dict[str, str]]:
    return [line.to_plotly_json()["props"] for line in with_class(queue, "aq-group")]


def single_rows(queue: object) -> list[str]:
    return [row.to_plotly_json()["props"]["data-alert"] for row in with_class(queue, "aq-row")
            if "data-alert" in row.to_plotly_json()["props"]]


def test_related_alarms_are_one_line_with_their_count_that_opens_onto_them(app_context: WebContext,
                                                                           fake_store: Store) -> None:
    members = raise_floods(fake_store, 5)
    alone = raise_floods(fake_store, 1, district="Sơn Trà", start=20)

    _, _, queue, flood, _ = page.refresh_queue(app_context, 0, "en", *QUERY_OPEN, None, 0, [], 0, None, None)

    heads = group_heads(queue)
    assert [(h["data-group"], h["data-count"]) for h in heads] == [("rule=flood-level-high|area=Cẩm Lệ", "5")]
    assert single_rows(queue) == alone  # the members are behind the closed line
    assert t("alerts.group.count", "en", n=5) in text(queue) and "Cẩm Lệ 5" in text(queue)
    assert "Deep flooding at sensor" in text(queue)  # the rule's title in the interface language
    assert flood is None  # six alarms in half an hour: no flood

    opened = [heads[0]["data-group"]]
    _, _, queue, _, _ = page.refresh_queue(app_context, 0, "en", *QUERY_OPEN, None, 0, opened, 0, None, None)
    assert sorted(single_rows(queue)) == sorted(members + alone)
    assert t("alerts.group.acknowledge", "en", n=5) in text(queue)


def test_more_than_ten_alarms_in_ten_minutes_is_a_flood_on_the_page(app_context: WebContext,
                                                                   fake_store: Store) -> None:
    raise_floods(fake_store, 6, minutes_ago=8, spacing=timedelta(seconds=30))
    raise_floods(fake_store, 5, district="Thanh Khê", minutes_ago=8, spacing=timedelta(seconds=30), start=10)

    _, _, queue, flood, _ = page.refresh_queue(app_context, 0, "vi", *QUERY_OPEN, None, 0, [], 0, None, None)

    assert flood is not None and flood.to_plotly_json()["props"]["data-flood"] == "1"
    assert t("alerts.flood.title", "vi") in text(flood) and "11" in text(flood)
    # in the flood the two districts fold into one line for the rule
    assert [(h["data-group"], h["data-count"]) for h in group_heads(queue)] == [("rule=flood-level-high", "11")]
    assert "Cẩm Lệ 6 · Thanh Khê 5" in text(queue)


def test_group_row_words_and_the_new_members_since_its_summary(settings: Settings, fake_store: Store) -> None:
    raise_floods(fake_store, 4, minutes_ago=100 / 60, spacing=timedelta(seconds=25))  # 100, 75, 50, 25 s ago
    now = utcnow()
    group = next(line for line in fold(fake_store.alerts.records(), settings.grouping, now)
                 if isinstance(line, AlarmGroup))

    row = alert_queue.group_row(group, settings, "vi", now, None)

    assert row.count == 4 and row.severity == "severe" and not row.expanded and row.members == []
    assert row.title == "Ngập sâu tại cảm biến" and row.areas_text == "Cẩm Lệ 4"
    assert row.when_text == t("alerts.group.when", "vi", first=local_time(group.first, "%H:%M"),
                              last=local_time(group.last, "%H:%M"))
    # settled 30 s after the first alarm (70 s ago; next in 50 s): the two raised since show as new
    assert group.new == 2 and row.new_text == t("alerts.group.new", "vi", n=2)
    assert row.can_acknowledge and row.loud


def test_the_flood_banner_text_in_both_languages(fake_store: Store, settings: Settings) -> None:
    raise_floods(fake_store, 11, minutes_ago=5, spacing=timedelta(seconds=10))
    flood = flood_state(fake_store.redis, fake_store.keys, settings.grouping)
    for lang in ("vi", "en"):
        banner = alert_queue.flood_banner(flood, lang)
        assert banner.active and banner.text == t("alerts.flood.title", lang) and "11" in banner.detail


def test_what_is_out_of_service_shows_above_the_queue(app_context: WebContext, fake_store: Store) -> None:
    assert alerts_groups.service_line(app_context, 0, "en", 0) is None
    Service(fake_store.redis, fake_store.keys, app_context.settings).take_out(
        "feed", "traffic-cameras", actor="lan", reason="firmware")

    shown = alerts_groups.service_line(app_context, 0, "en", 0)

    assert t("alerts.service.out", "en", what="traffic-cameras") in text(shown)


def more_buttons(queue: object) -> list[dict[str, str]]:
    return [line.to_plotly_json()["props"] for line in with_class(queue, "aq-more")]


def test_a_group_of_a_burst_lists_its_first_members_and_draws_the_next_on_a_press(
    app_context: WebContext, fake_store: Store
) -> None:
    lines = alert_queue.QUEUE_LINES
    members = raise_floods(fake_store, lines + 20, spacing=timedelta(seconds=5))
    key = alert_queue.queue_lines(fake_store.alerts.records(limit=1000), app_context.settings.grouping,
                                  flood_state(fake_store.redis, fake_store.keys, app_context.settings.grouping),
                                  utcnow())[0].key

    _, _, queue, _, _ = page.refresh_queue(app_context, 0, "en", *QUERY_OPEN, None, 0, [key], 0, None, None)
    assert len(single_rows(queue)) == lines  # the opened group's first members, in queue order
    assert single_rows(queue) == members[:lines]
    more = more_buttons(queue)
    assert [(button["id"]["at"], button["data-more"]) for button in more] == [(key, "20")]
    assert t("alerts.group.more_members", "en", n=20) in text(queue)

    shown = alerts_groups.next_lines(lines)
    _, _, queue, _, _ = page.refresh_queue(app_context, 1, "en", *QUERY_OPEN, None, 0, [key], 0, shown, None)
    assert single_rows(queue) == members and more_buttons(queue) == []  # every member reachable

    # acknowledging the group acknowledges every member, the ones past the first lines too
    group = alerts_groups.current_group(app_context, key)
    assert group is not None and group.ids == members
