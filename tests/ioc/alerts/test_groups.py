"""Flood grouping: related alarms folded into one line with a count and nothing lost, the group's summary rhythm
(group wait, group interval), the flood state (more than 10 alarms in 10 minutes), and acknowledging a group
acknowledging each member on its own timeline and in the audit stream (real redis-server)."""

from __future__ import annotations

from datetime import timedelta

import pytest
import redis

from ioc.alerts import AlertBook, AlertRecord
from ioc.alerts.groups import (
    AlarmGroup,
    acknowledge_group,
    find_group,
    flood_state,
    fold,
    members_of,
    settled_at,
)
from ioc.config_alarms import Grouping
from ioc.keys import Keys
from ioc.model import AlertState, Severity
from tests.ioc.alerts.scene import T0, flood_alert

GROUPING = Grouping(group_by=["rule", "area"], group_wait_seconds=30, group_interval_seconds=120,
                    flood={"alarms": 10, "minutes": 10, "group_by": ["rule"]})


def raise_flood(book: AlertBook, count: int, *, district: str = "Hải Châu", start: int = 0,
                severity: Severity = Severity.SEVERE, rule: str = "flood-level-high", kind: str = "threshold",
                step: timedelta = timedelta(seconds=20)) -> list[str]:
    ids = []
    for number in range(start, start + count):
        alert = flood_alert(f"urn:ioc:danang:flood-sensors:FL-{number:02d}", severity, T0 + number * step)
        alert.rule_id, alert.district = rule, district
        ids.append(book.raise_alert(alert, extra={"kind": kind})[0].id)
    return ids


def groups(lines: list[AlarmGroup | AlertRecord]) -> list[AlarmGroup]:
    return [line for line in lines if isinstance(line, AlarmGroup)]


def test_related_alarms_fold_into_one_line_with_a_count_and_nothing_is_lost(book: AlertBook) -> None:
    in_hai_chau = raise_flood(book, 5)
    in_cam_le = raise_flood(book, 3, district="Cẩm Lệ", start=10, severity=Severity.MODERATE)
    alone = raise_flood(book, 1, district="Sơn Trà", start=20)
    warning = raise_flood(book, 2, district="Hải Châu", start=30, rule="cap-warning", kind="relay")
    records = book.records()

    lines = fold(records, GROUPING, T0 + timedelta(minutes=30))

    found = groups(lines)
    assert sorted((g.label["area"], g.count) for g in found) == [("Cẩm Lệ", 3), ("Hải Châu", 5)]
    hai_chau = next(g for g in found if g.label["area"] == "Hải Châu")
    assert sorted(hai_chau.ids) == sorted(in_hai_chau)
    assert hai_chau.worst == Severity.SEVERE
    assert (hai_chau.first, hai_chau.last) == (T0, T0 + 4 * timedelta(seconds=20))
    assert hai_chau.key == "rule=flood-level-high|area=Hải Châu"
    assert find_group(lines, hai_chau.key) is hai_chau
    # relayed warnings do not group here (not in `kinds`), a lone alarm stays a line of its own
    singles = [line.id for line in lines if isinstance(line, AlertRecord)]
    assert sorted(singles) == sorted(alone + warning)
    assert len(lines) == 5
    # every alarm is behind exactly one line
    assert sorted(r.id for r in members_of(lines)) == sorted(r.id for r in records)
    assert sorted(in_cam_le) == sorted(next(g for g in found if g.label["area"] == "Cẩm Lệ").ids)
    # the worst line first: the severe group before the moderate one
    assert lines.index(hai_chau) < lines.index(next(g for g in found if g.label["area"] == "Cẩm Lệ"))


def test_in_a_flood_the_queue_folds_by_the_coarser_labels(book: AlertBook) -> None:
    for number, district in enumerate(("Hải Châu", "Cẩm Lệ", "Sơn Trà", "Thanh Khê")):
        raise_flood(book, 2, district=district, start=10 * number)

    calm, flooded = (fold(book.records(), GROUPING, T0, flood=flood) for flood in (False, True))

    assert len(calm) == 4 and all(isinstance(line, AlarmGroup) for line in calm)
    assert [(g.key, g.count) for g in groups(flooded)] == [("rule=flood-level-high", 8)]
    assert [area for area, _ in groups(flooded)[0].areas] == ["Cẩm Lệ", "Hải Châu", "Sơn Trà", "Thanh Khê"]


def test_the_group_summary_settles_after_group_wait_then_every_group_interval(book: AlertBook) -> None:
    assert settled_at(T0, GROUPING, T0 + timedelta(seconds=29)) is None
    assert settled_at(T0, GROUPING, T0 + timedelta(seconds=30)) == T0 + timedelta(seconds=30)
    assert settled_at(T0, GROUPING, T0 + timedelta(seconds=149)) == T0 + timedelta(seconds=30)
    assert settled_at(T0, GROUPING, T0 + timedelta(seconds=151)) == T0 + timedelta(seconds=150)

    raise_flood(book, 6, step=timedelta(seconds=30))  # raised at 0, 30, ... 150 s

    def new_at(seconds: int) -> int:
        return groups(fold(book.records(), GROUPING, T0 + timedelta(seconds=seconds)))[0].new

    assert new_at(20) == 6  # still gathering: every member is new
    assert new_at(40) == 4  # settled at 30 s: the two raised by then are in the summary
    assert new_at(160) == 0  # settled again at 150 s


def test_the_flood_state_is_more_than_ten_alarms_within_ten_minutes(redis_client: redis.Redis,
                                                                    book: AlertBook) -> None:
    raise_flood(book, 10, step=timedelta(seconds=50))  # 10 alarms from T0 to T0 + 7.5 min
    last = T0 + 9 * timedelta(seconds=50)

    assert not flood_state(redis_client, Keys("danang"), GROUPING, last).active
    raise_flood(book, 1, start=10, step=timedelta(seconds=50))
    now = T0 + 10 * timedelta(seconds=50)
    state = flood_state(redis_client, Keys("danang"), GROUPING, now)
    assert state.active and state.count == 11 and state.to_dict()["flood"] is True
    # ten minutes on, the first alarms are out of the window: no longer a flood
    assert not flood_state(redis_client, Keys("danang"), GROUPING, now + timedelta(minutes=3)).active


def test_acknowledging_a_group_acknowledges_each_new_member_on_its_own_timeline(redis_client: redis.Redis,
                                                                                book: AlertBook) -> None:
    ids = raise_flood(book, 4)
    book.acknowledge(ids[1], actor="lan", note="on it")
    group = groups(fold(book.records(), GROUPING, T0 + timedelta(minutes=5)))[0]

    outcome = acknowledge_group(book, group, actor="minh", note="crews sent", now=T0 + timedelta(minutes=6))

    assert sorted(outcome.acknowledged) == sorted([ids[0], ids[2], ids[3]]) and outcome.refused == []
    for alert_id in outcome.acknowledged:
        record = book.get(alert_id)
        assert record is not None and record.state == AlertState.ACKNOWLEDGED and record.acknowledged_by == "minh"
        last = book.timeline(alert_id)[-1]
        assert last["action"] == "acknowledged" and group.key in last["note"] and "crews sent" in last["note"]
    assert book.get(ids[1]).acknowledged_by == "lan"  # type: ignore[union-attr]
    audit = [fields for _, fields in redis_client.xrange(Keys("danang").audit())]
    assert sum(a["action"] == "acknowledged" and a["actor"] == "minh" for a in audit) == 3
    group_line = [a for a in audit if a["action"] == "alert_group.acknowledged"]
    assert len(group_line) == 1 and group_line[0]["object"] == f"alert-group:{group.key}"
    assert "3 of 4" in group_line[0]["note"]


def test_a_member_someone_resolved_meanwhile_is_refused_not_lost(book: AlertBook) -> None:
    ids = raise_flood(book, 3)
    group = groups(fold(book.records(), GROUPING, T0))[0]
    book.resolve(ids[0], actor="lan", note="sensor checked")  # after the queue was drawn

    outcome = acknowledge_group(book, group, actor="minh")

    assert outcome.refused == [ids[0]] and sorted(outcome.acknowledged) == sorted(ids[1:])


@pytest.mark.parametrize(("section", "message"), [
    ({"group_by": ["rule", "district"]}, "group_by.1"),
    ({"group_by": ["rule", "rule"]}, "named twice"),
    ({"min_members": 1}, "min_members"),
    ({"flood": {"alarms": 0}}, "flood.alarms"),
    ({"group_interval_seconds": 0}, "group_interval_seconds"),
])
def test_a_bad_grouping_section_is_refused_naming_the_field(section: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message.replace(".", r"\.")):
        Grouping.model_validate(section)
