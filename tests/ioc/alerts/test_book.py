"""The alert book against a real redis-server: states with notes, refusals, races, dedup, listing, change marks."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
import redis

from ioc.alerts import ALERTS_LAYER, AlertBook, AlertConflict, AlertNotFound, AlertRecord, queue_order
from ioc.keys import Keys
from ioc.model import AlertState, Severity
from tests.ioc.alerts.scene import T0, audit, flood_alert

pytestmark = pytest.mark.integration


def test_new_acknowledged_assigned_resolved_each_with_a_note_and_an_audit_entry(
    book: AlertBook, redis_client: redis.Redis
) -> None:
    alert, is_new = book.raise_alert(flood_alert())
    assert is_new and book.get(alert.id).state == AlertState.NEW

    acked = book.acknowledge(alert.id, actor="lan", note="xem camera", now=T0 + timedelta(minutes=1))
    assigned = book.assign(alert.id, to="danang-drainage", actor="lan", note="đội 3", now=T0 + timedelta(minutes=2))
    resolved = book.resolve(alert.id, actor="minh", note="đã thông cống", now=T0 + timedelta(minutes=40))

    assert acked.state == AlertState.ACKNOWLEDGED and acked.acknowledged_by == "lan"
    assert assigned.state == AlertState.ASSIGNED and assigned.assignee == "danang-drainage"
    assert resolved.state == AlertState.RESOLVED and resolved.resolved_by == "minh"
    stored = book.get(alert.id)
    assert (stored.acknowledged_by, stored.assignee, stored.resolved_by) == ("lan", "danang-drainage", "minh")
    assert stored.resolved_at == T0 + timedelta(minutes=40)

    steps = [(e["action"], e["actor"], e["from"], e["to"], e["note"]) for e in book.timeline(alert.id)]
    assert steps == [
        ("raised", "system", "", "new", "water_level = 38 cm > 30 cm"),
        ("acknowledged", "lan", "new", "acknowledged", "xem camera"),
        ("assigned", "lan", "acknowledged", "assigned", "đội 3"),
        ("resolved", "minh", "assigned", "resolved", "đã thông cống"),
    ]
    assert [(e["action"], e["actor"], e["at"]) for e in audit(redis_client, alert.id)] == [
        (e["action"], e["actor"], e["at"]) for e in book.timeline(alert.id)]
    assert book.open_alerts() == [] and book.open_alert_for("flood-level-high", alert.entity_id) is None


def test_refusals_name_who_acted_first(book: AlertBook) -> None:
    alert, _ = book.raise_alert(flood_alert())
    book.acknowledge(alert.id, actor="lan", now=T0 + timedelta(minutes=1))
    with pytest.raises(AlertConflict, match="already acknowledged by lan") as refused:
        book.acknowledge(alert.id, actor="minh")
    assert refused.value.by == "lan" and refused.value.reason == "acknowledged"

    book.assign(alert.id, to="đội cứu hộ 2", actor="lan")
    with pytest.raises(AlertConflict, match="already assigned to đội cứu hộ 2 by lan"):
        book.acknowledge(alert.id, actor="minh")
    with pytest.raises(AlertConflict, match="already assigned to đội cứu hộ 2"):
        book.assign(alert.id, to="đội cứu hộ 2", actor="minh")
    assert book.assign(alert.id, to="danang-drainage", actor="minh").assignee == "danang-drainage"

    book.resolve(alert.id, actor="minh", note="xong")
    for change in (lambda: book.acknowledge(alert.id, actor="x"), lambda: book.assign(alert.id, to="y", actor="x"),
                   lambda: book.resolve(alert.id, actor="x")):
        with pytest.raises(AlertConflict, match="already resolved by minh"):
            change()
    with pytest.raises(AlertNotFound):
        book.acknowledge("A999999", actor="x")
    with pytest.raises(ValueError, match="someone to assign"):
        book.assign(alert.id, to="  ", actor="x")


def test_assigning_a_new_alert_acknowledges_it(book: AlertBook) -> None:
    alert, _ = book.raise_alert(flood_alert())
    record = book.assign(alert.id, to="Trần Văn Bình", actor="lan")
    assert record.acknowledged_by == "lan" and record.state == AlertState.ASSIGNED


def race(redis_url: str, count: int, act: Callable[[AlertBook, int], Any]) -> list[Any]:
    """Run `act` from `count` separate connections released at the same instant; results or exceptions."""
    books = [AlertBook(redis.Redis.from_url(redis_url, decode_responses=True), Keys("danang")) for _ in range(count)]
    barrier = threading.Barrier(count)
    results: list[Any] = [None] * count

    def run(index: int) -> None:
        barrier.wait()
        try:
            results[index] = act(books[index], index)
        except Exception as exc:  # the refusals are what the test looks at
            results[index] = exc

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


def test_operators_acknowledging_at_once_leave_exactly_one_acknowledgement(
    book: AlertBook, redis_server_url: str
) -> None:
    for attempt in range(5):  # several rounds: each is a fresh race
        alert, _ = book.raise_alert(flood_alert(entity=f"urn:ioc:danang:flood-sensors:FL-{attempt}"))
        results = race(redis_server_url, 6, lambda b, i, a=alert: b.acknowledge(a.id, actor=f"operator-{i}"))

        winners = [r for r in results if isinstance(r, AlertRecord)]
        refusals = [r for r in results if isinstance(r, AlertConflict)]
        assert len(winners) == 1 and len(refusals) == 5
        winner = winners[0].acknowledged_by
        assert all(r.by == winner and f"already acknowledged by {winner}" in str(r) for r in refusals)
        entries = [e for e in book.timeline(alert.id) if e["action"] == "acknowledged"]
        assert [e["actor"] for e in entries] == [winner]
        assert book.get(alert.id).acknowledged_by == winner


def test_resolve_racing_acknowledge_leaves_a_consistent_alert(book: AlertBook, redis_server_url: str) -> None:
    alert, _ = book.raise_alert(flood_alert())

    def act(b: AlertBook, index: int) -> AlertRecord:
        if index % 2:
            return b.resolve(alert.id, actor=f"op-{index}", note="xong")
        return b.acknowledge(alert.id, actor=f"op-{index}")

    results = race(redis_server_url, 6, act)
    final = book.get(alert.id)
    assert final.state == AlertState.RESOLVED
    assert sum(isinstance(r, AlertRecord) and r.state == AlertState.RESOLVED for r in results) == 1
    actions = [e["action"] for e in book.timeline(alert.id)]
    assert actions.count("resolved") == 1 and actions.count("acknowledged") <= 1
    assert actions[-1] == "resolved"


def test_several_runners_escalating_at_once_escalate_once(book: AlertBook, redis_server_url: str) -> None:
    alert, _ = book.raise_alert(flood_alert(severity=Severity.MODERATE))
    later = T0 + timedelta(minutes=6)
    results = race(redis_server_url, 4, lambda b, _i: b.escalate(alert.id, after=timedelta(minutes=5), now=later))
    assert sum(r is not None for r in results) == 1
    record = book.get(alert.id)
    assert record.alert.severity == Severity.SEVERE and record.escalations == 1


def test_dedup_counts_occurrences_and_never_lowers_severity(book: AlertBook) -> None:
    first, _ = book.raise_alert(flood_alert(severity=Severity.SEVERE))
    again, is_new = book.raise_alert(flood_alert(severity=Severity.MODERATE))
    assert not is_new and again.id == first.id
    stored = book.get(first.id)
    assert stored.alert.occurrences == 2 and stored.alert.severity == Severity.SEVERE
    book.raise_alert(flood_alert(severity=Severity.EXTREME))
    assert book.get(first.id).alert.severity == Severity.EXTREME


def test_queue_order_is_severity_then_age(book: AlertBook) -> None:
    book.raise_alert(flood_alert("e-minor-old", Severity.MINOR, T0))
    book.raise_alert(flood_alert("e-severe-new", Severity.SEVERE, T0 + timedelta(minutes=9)))
    book.raise_alert(flood_alert("e-severe-old", Severity.SEVERE, T0 + timedelta(minutes=1)))
    book.raise_alert(flood_alert("e-extreme", Severity.EXTREME, T0 + timedelta(minutes=30)))
    records = book.records()
    assert [r.alert.entity_id for r in records] == ["e-extreme", "e-severe-old", "e-severe-new", "e-minor-old"]
    assert records == sorted(records, key=queue_order)


def test_resolved_alerts_are_listed_only_when_asked(book: AlertBook) -> None:
    open_one, _ = book.raise_alert(flood_alert("a"))
    closed, _ = book.raise_alert(flood_alert("b"))
    book.resolve(closed.id, actor="lan", note="xong")
    assert [r.id for r in book.records()] == [open_one.id]
    assert {r.id for r in book.records(include_resolved=True)} == {open_one.id, closed.id}


def test_every_write_moves_the_change_counter_and_the_alert_layer_version(
    book: AlertBook, redis_client: redis.Redis
) -> None:
    keys = Keys("danang")

    def marks() -> tuple[int, int]:
        layer = redis_client.hget(keys.versions(), ALERTS_LAYER)
        return int(redis_client.get(keys.changes()) or 0), int(layer or 0)

    writes: list[Callable[[str], Any]] = [
        lambda _id: book.raise_alert(flood_alert()),  # a repeat of the open alert
        lambda _id: book.refresh(_id, value=41.0, message="water_level = 41 cm > 30 cm"),
        lambda _id: book.comment(_id, actor="lan", note="camera 12"),
        lambda _id: book.escalate(_id, after=timedelta(minutes=5), now=T0 + timedelta(minutes=6)),
        lambda _id: book.check_step(_id, 0, actor="lan"),
        lambda _id: book.acknowledge(_id, actor="lan"),
        lambda _id: book.resolve(_id, actor="lan", note="xong"),
    ]
    before = marks()
    alert, _ = book.raise_alert(flood_alert())
    assert marks() == (before[0] + 1, before[1] + 1)
    for write in writes:
        before = marks()
        write(alert.id)
        assert marks() == (before[0] + 1, before[1] + 1)
