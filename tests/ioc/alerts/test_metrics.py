"""The alarm system's measures on constructed alarm histories whose answers are worked out by hand."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from ioc.alerts.metrics import Raised, measure
from ioc.config import AlarmSystem
from ioc.config_alarms import FloodLimit

START = datetime(2026, 12, 1, 0, 0, tzinfo=UTC)
HOUR = START + timedelta(hours=1)
RULES = AlarmSystem(operator_positions=2, chatter_raises=3, chatter_seconds=60, stale_hours=24).with_flood(
    FloodLimit(alarms=10, minutes=10)
)


def alarm(
    n: int,
    at: datetime,
    *,
    rule: str = "r",
    entity: str | None = None,
    severity: str = "moderate",
    acknowledged: datetime | None = None,
    resolved: datetime | None = None,
) -> Raised:
    return Raised(
        alert_id=f"A{n:06d}",
        rule_id=rule,
        entity_id=entity or f"e{n}",
        severity=severity,
        raised_at=at,
        acknowledged_at=acknowledged,
        resolved_at=resolved,
        title=f"{rule} {entity}",
    )


def burst(first: int, count: int, at: datetime) -> list[Raised]:
    return [alarm(first + k, at + timedelta(seconds=k)) for k in range(count)]


def test_rate_per_position_peak_and_flood_share_by_ten_minute_interval() -> None:
    # one hour = six 10-minute intervals; two positions, so a flood is more than 20 alarms in an interval
    history = (
        burst(0, 5, START + timedelta(minutes=1))  # interval 0: 5
        + burst(100, 21, START + timedelta(minutes=20))  # interval 2: 21, a flood
        + burst(200, 20, START + timedelta(minutes=50))
    )  # interval 5: 20, exactly the limit
    found = measure(history, [], start=START, end=HOUR, rules=RULES)

    assert found.total == 46
    assert found.intervals == 6
    assert found.average_rate == pytest.approx(46 / 6 / 2)
    assert found.peak_rate == 10.5
    assert found.peak_at == START + timedelta(minutes=20)
    assert found.flood_intervals == 1
    assert found.flood_share == pytest.approx(100 / 6)


def test_one_position_floods_at_eleven_and_a_quiet_window_is_all_zero() -> None:
    one = AlarmSystem(operator_positions=1)
    eleven = burst(0, 11, START)
    assert measure(eleven, [], start=START, end=HOUR, rules=one).flood_intervals == 1
    assert measure(eleven[:10], [], start=START, end=HOUR, rules=one).flood_intervals == 0

    quiet = measure([], [], start=START, end=HOUR, rules=one)
    assert (
        quiet.total,
        quiet.average_rate,
        quiet.peak_rate,
        quiet.peak_at,
        quiet.flood_share,
        quiet.top_share,
    ) == (0, 0.0, 0.0, None, 0.0, 0.0)
    assert quiet.priority_shares == {"high": 0.0, "medium": 0.0, "low": 0.0}


def test_alarms_outside_the_window_are_not_counted_and_the_end_is_excluded() -> None:
    history = [
        alarm(1, START - timedelta(seconds=1)),
        alarm(2, START),
        alarm(3, HOUR - timedelta(seconds=1)),
        alarm(4, HOUR),
    ]
    found = measure(history, [], start=START, end=HOUR, rules=RULES)
    assert found.total == 2
    assert {f.entity_id for f in found.top} == {"e2", "e3"}


def test_a_partial_last_interval_counts_as_one_and_the_average_uses_the_real_length() -> None:
    end = START + timedelta(minutes=25)  # intervals 0-10, 10-20, 20-25
    found = measure([alarm(1, START)], [], start=START, end=end, rules=AlarmSystem(operator_positions=1))
    assert found.intervals == 3
    assert found.average_rate == pytest.approx(1 / 2.5)


def test_an_empty_window_is_refused() -> None:
    with pytest.raises(ValueError, match="empty window"):
        measure([], [], start=HOUR, end=START, rules=RULES)


def test_top_ten_most_frequent_and_their_share_of_the_load() -> None:
    # twelve sources raised 12, 11, ..., 1 times: 78 alarms; the top ten hold 12 + ... + 3 = 75 of them
    history, n = [], 0
    for source in range(12):
        for repeat in range(12 - source):
            history.append(
                alarm(n, START + timedelta(minutes=5 * repeat), rule=f"rule-{source:02d}", entity="station")
            )
            n += 1
    found = measure(history, [], start=START, end=HOUR, rules=RULES)

    assert found.total == 78
    assert [f.count for f in found.top] == [12, 11, 10, 9, 8, 7, 6, 5, 4, 3]
    assert [f.rule_id for f in found.top][:2] == ["rule-00", "rule-01"]
    assert found.top[0].share == pytest.approx(100 * 12 / 78)
    assert found.top_share == pytest.approx(100 * 75 / 78)


def test_equal_counts_are_ranked_by_rule_then_entity() -> None:
    history = [
        alarm(1, START, rule="b", entity="x"),
        alarm(2, START, rule="a", entity="y"),
        alarm(3, START, rule="a", entity="x"),
    ]
    found = measure(history, [], start=START, end=HOUR, rules=RULES)
    assert [(f.rule_id, f.entity_id) for f in found.top] == [("a", "x"), ("a", "y"), ("b", "x")]


def test_chattering_is_three_raises_of_one_alarm_within_sixty_seconds() -> None:
    def raises(rule: str, seconds: list[int], first: int) -> list[Raised]:
        return [
            alarm(first + k, START + timedelta(seconds=s), rule=rule, entity="s1")
            for k, s in enumerate(seconds)
        ]

    history = (
        raises("within-50s", [0, 20, 50], 0)
        + raises("spread-40s", [0, 40, 80, 120], 10)  # any three span 80 s: not chattering
        + raises("four-in-30s", [0, 10, 20, 30], 20)
        + raises("twice", [0, 1], 30)
        + raises("exactly-60s", [0, 30, 60], 40)  # first to last at most 60 s: chattering
        + raises("other-entities", [0, 1, 2], 50)[:1]
        + [
            alarm(61, START + timedelta(seconds=1), rule="other-entities", entity="s2"),
            alarm(62, START + timedelta(seconds=2), rule="other-entities", entity="s3"),
        ]
    )
    found = measure(history, [], start=START, end=HOUR, rules=RULES)

    assert [(c.rule_id, c.most_in_span, c.raises) for c in found.chattering] == [
        ("four-in-30s", 4, 4),
        ("exactly-60s", 3, 3),
        ("within-50s", 3, 3),
    ]


def test_chattering_follows_the_configured_definition() -> None:
    history = [
        alarm(k, START + timedelta(seconds=40 * k), rule="r", entity="s") for k in range(3)
    ]  # 0, 40, 80
    assert measure(history, [], start=START, end=HOUR, rules=RULES).chattering == []
    wider = AlarmSystem(chatter_raises=3, chatter_seconds=90)
    assert [c.most_in_span for c in measure(history, [], start=START, end=HOUR, rules=wider).chattering] == [
        3
    ]


def test_stale_alarms_are_open_at_the_end_and_older_than_a_day() -> None:
    end = START + timedelta(days=3)
    standing = [
        alarm(1, end - timedelta(hours=30)),  # open, nobody acked
        alarm(2, end - timedelta(hours=25), acknowledged=end - timedelta(hours=24)),  # open, acked
        alarm(3, end - timedelta(hours=30), resolved=end - timedelta(hours=1)),  # resolved in time
        alarm(4, end - timedelta(hours=23)),  # open, too young
        alarm(5, end - timedelta(hours=48), resolved=end + timedelta(hours=1)),  # resolved after the end
        alarm(6, end - timedelta(hours=26), acknowledged=end + timedelta(minutes=5)),  # acked after the end
    ]
    # the window's own alarms are candidates too, and one passed both ways is counted once
    found = measure(standing[3:], standing, start=START, end=end, rules=RULES)

    assert [(s.alert_id, s.acknowledged) for s in found.stale] == [
        ("A000005", False),
        ("A000001", False),
        ("A000006", False),
        ("A000002", True),
    ]
    assert found.stale[0].hours_open == pytest.approx(48)
    assert found.stale_unacknowledged == 3


def test_priority_mix_counts_each_alarm_at_the_priority_it_was_raised_with() -> None:
    severities = ["extreme"] + ["severe"] * 3 + ["moderate"] * 10 + ["minor"] * 4 + ["unknown"] * 2
    history = [alarm(n, START + timedelta(minutes=n), severity=s) for n, s in enumerate(severities)]
    found = measure(history, [], start=START, end=HOUR, rules=RULES)

    assert found.priorities == {"high": 1, "medium": 3, "low": 16}
    assert found.priority_shares == {
        "high": pytest.approx(5.0),
        "medium": pytest.approx(15.0),
        "low": pytest.approx(80.0),
    }
    assert found.severities == {"extreme": 1, "severe": 3, "moderate": 10, "minor": 4, "unknown": 2}
