"""The alarm measures' lines: each against its EEMUA 191 / ISA-18.2 target, with the status that follows."""

from __future__ import annotations

from datetime import timedelta

from ioc.alerts.metrics import measure
from ioc.alerts.metrics_text import metric_lines
from ioc.config import AlarmSystem
from tests.ioc.alerts.test_metrics import HOUR, START, alarm

ONE = AlarmSystem(operator_positions=1)


def statuses(history: list, rules: AlarmSystem = ONE) -> dict[str, str]:
    return {
        line.key: line.status
        for line in metric_lines(measure(history, [], start=START, end=HOUR, rules=rules), "en")
    }


def test_the_average_rate_is_met_up_to_one_near_up_to_two_per_ten_minutes() -> None:
    six = [alarm(n, START + timedelta(minutes=10 * n)) for n in range(6)]  # 1 per 10 min
    assert statuses(six)["average"] == "met"
    assert (
        statuses(six + [alarm(10 + n, START + timedelta(minutes=10 * n, seconds=5)) for n in range(6)])[
            "average"
        ]
        == "near"
    )  # 2 per 10 min
    assert statuses([alarm(n, START + timedelta(seconds=n)) for n in range(13)])["average"] == "missed"


def test_the_top_ten_share_is_judged_only_past_ten_alarm_sources() -> None:
    ten = [alarm(n, START + timedelta(minutes=n), rule=f"r{n}") for n in range(10)]
    assert statuses(ten)["top_share"] == "no_data"  # ten sources: 100 % by construction
    many = [alarm(n, START + timedelta(seconds=n), rule=f"r{n}") for n in range(250)]
    assert statuses(many)["top_share"] == "met"  # 10 of 250 = 4 %


def test_the_priority_mix_is_met_near_its_target_and_missed_far_from_it() -> None:
    mix = ["extreme"] + ["severe"] * 3 + ["minor"] * 16
    assert (
        statuses([alarm(n, START + timedelta(minutes=n), severity=s) for n, s in enumerate(mix)])["mix"]
        == "met"
    )
    loud = ["extreme"] * 10 + ["minor"] * 10
    assert (
        statuses([alarm(n, START + timedelta(minutes=n), severity=s) for n, s in enumerate(loud)])["mix"]
        == "missed"
    )
    assert statuses([])["mix"] == "no_data"


def test_the_peak_says_when_and_stale_alarms_how_many_nobody_acknowledged() -> None:
    lines = {
        line.key: line
        for line in metric_lines(
            measure(
                [alarm(1, START + timedelta(minutes=25))],
                [alarm(2, START - timedelta(hours=30))],
                start=START,
                end=HOUR,
                rules=ONE,
            ),
            "en",
        )
    }
    assert lines["peak"].full_value == "1.0 · at 07:20 01/12"  # the interval from 00:20 UTC, in Da Nang time
    assert (lines["stale"].value, lines["stale"].note) == ("1", "1 not acknowledged")
