"""The alert queue as screens read and act on it: filters, open versus resolved listings, operators' actions."""

from __future__ import annotations

from datetime import timedelta

import pytest

from ioc.alerts import ActionOutcome, AlertQuery, operator_action, select
from ioc.model import AlertState, Severity
from ioc.store import Store
from tests.ioc.alerts.scene import T0, flood_alert


@pytest.fixture
def queue(fake_store: Store) -> dict[str, str]:
    ids = {}
    for name, severity, minutes, district in (("minor", Severity.MINOR, 0, "Hải Châu"),
                                              ("severe", Severity.SEVERE, 5, "Cẩm Lệ"),
                                              ("extreme", Severity.EXTREME, 9, "Hải Châu")):
        alert = flood_alert(entity=f"e-{name}", severity=severity, at=T0 + timedelta(minutes=minutes))
        alert.district = district
        ids[name] = fake_store.alerts.raise_alert(alert)[0].id
    fake_store.alerts.resolve(ids["minor"], actor="lan", note="xong")
    return ids


def names(records: list, ids: dict[str, str]) -> list[str]:
    back = {alert_id: name for name, alert_id in ids.items()}
    return [back[r.id] for r in records]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        (AlertQuery.of(), ["extreme", "severe"]),
        (AlertQuery.of(state="all"), ["extreme", "severe", "minor"]),
        (AlertQuery.of(state="resolved"), ["minor"]),
        (AlertQuery.of(districts=["Hải Châu"], state="all"), ["extreme", "minor"]),
        (AlertQuery.of(severities=["severe", "minor"]), ["severe"]),
        (AlertQuery.of(sectors=["transport"], state="all"), []),
    ],
)
def test_a_query_lists_what_it_matches_in_queue_order(fake_store: Store, queue: dict[str, str],
                                                      query: AlertQuery, expected: list[str]) -> None:
    assert names(select(fake_store.alerts, query), queue) == expected


def test_only_listings_that_show_resolved_alerts_read_them() -> None:
    assert not AlertQuery.of().needs_resolved and not AlertQuery.of(state="new").needs_resolved
    assert AlertQuery.of(state="all").needs_resolved and AlertQuery.of(state="resolved").needs_resolved


def test_operator_actions_report_what_became_of_them(fake_store: Store, queue: dict[str, str]) -> None:
    book = fake_store.alerts
    assert operator_action(book, "acknowledge", None, actor="lan") == ActionOutcome("acknowledge", problem="no_alert")
    assert operator_action(book, "resolve", queue["severe"], actor="lan").problem == "need_note"
    assert operator_action(book, "assign", queue["severe"], actor="lan", assignee=" ").problem == "need_assignee"
    assert operator_action(book, "acknowledge", "A999999", actor="lan").problem == "not_found"

    done = operator_action(book, "acknowledge", queue["severe"], actor="lan", note="  xem camera  ")
    assert done.ok and done.record.state == AlertState.ACKNOWLEDGED
    assert book.timeline(queue["severe"])[-1]["note"] == "xem camera"
    refused = operator_action(book, "acknowledge", queue["severe"], actor="minh")
    assert not refused.ok and refused.refusal is not None and refused.refusal.by == "lan"
    with pytest.raises(ValueError, match="unknown action 'escalate'"):
        operator_action(book, "escalate", queue["severe"], actor="lan")
