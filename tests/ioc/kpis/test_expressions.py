"""The kpis.yaml expression language: conditions, values, and what it refuses."""

from __future__ import annotations

import pytest

from ioc.kpis.expressions import ExpressionError, equality, parse_condition, parse_value


@pytest.mark.parametrize(
    ("text", "record", "expected"),
    [
        ("status == 'closed'", {"status": "closed"}, True),
        ("status == 'closed'", {"status": "open"}, False),
        ("filling_level > 80", {"filling_level": 80.5}, True),
        ("filling_level > 80", {"filling_level": "79"}, False),  # numeric text is a number
        ("delay_s >= -60 and delay_s <= 300", {"delay_s": -61}, False),
        ("delay_s >= -60 and delay_s <= 300", {"delay_s": 300}, True),
        ("status in ['defectiveLamp', 'brokenLantern']", {"status": "brokenLantern"}, True),
        ("status not in ['ok']", {"status": "ok"}, False),
        ("lamp_out == true", {"lamp_out": True}, True),
        ("lamp_out == true", {"lamp_out": "false"}, False),  # CSV text for a flag
        ("not congested", {"congested": False}, True),
        # times compare as times, whatever offset each is written with
        ("updated_datetime <= expected_datetime",
         {"updated_datetime": "2026-11-20T10:00:00+07:00", "expected_datetime": "2026-11-20T03:30:00+00:00"}, True),
        ("updated_datetime <= expected_datetime",
         {"updated_datetime": "2026-11-20T11:00:00+07:00", "expected_datetime": "2026-11-20T03:30:00+00:00"}, False),
        # a missing field makes a comparison false, never an error
        ("updated_datetime <= expected_datetime", {"updated_datetime": "2026-11-20T10:00:00+07:00"}, False),
        ("level > 1 or status == 'alarm'", {"status": "alarm"}, True),
    ],
)
def test_conditions(text: str, record: dict, expected: bool) -> None:
    assert parse_condition(text).test(record) is expected


def test_condition_names_the_fields_it_reads() -> None:
    assert parse_condition("updated_datetime <= expected_datetime and status == 'closed'").fields == {
        "updated_datetime", "expected_datetime", "status"}


def test_equality_mapping_accepts_a_list_of_values() -> None:
    condition = equality("status", ["da_tra_ket_qua", "qua_han"])
    assert condition.test({"status": "qua_han"}) and not condition.test({"status": "dang_xu_ly"})


@pytest.mark.parametrize(
    ("text", "record", "expected"),
    [
        ("customers_affected", {"customers_affected": 1240}, 1240.0),
        ("customers_affected", {"customers_affected": "n/a"}, None),
        ("customers_affected", {}, None),
        ("hours(requested_datetime, updated_datetime)",
         {"requested_datetime": "2026-11-20T08:00:00+07:00", "updated_datetime": "2026-11-20T03:30:00+00:00"}, 2.5),
        ("minutes(received_at, arrived_at)", {"received_at": 1726620180000, "arrived_at": 1726620900000}, 12.0),
        # closed before it was opened is a data error, not a zero
        ("hours(requested_datetime, updated_datetime)",
         {"requested_datetime": "2026-11-20T08:00:00+00:00", "updated_datetime": "2026-11-20T07:00:00+00:00"}, None),
    ],
)
def test_values(text: str, record: dict, expected: float | None) -> None:
    assert parse_value(text).of(record) == expected


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("status ==", "not a valid expression"),
        ("__import__('os').system('true')", "expected a comparison"),
        ("level > other.attribute", "expected a number"),
        ("status in 'abc'", "'in' needs a list"),
        ("level is 3", "not supported"),
        ("", "empty expression"),
    ],
)
def test_conditions_refused(text: str, message: str) -> None:
    with pytest.raises(ExpressionError, match=message):
        parse_condition(text)


@pytest.mark.parametrize("text", ["hours(a)", "max(a, b)", "a + b", "hours('a', b)"])
def test_values_refused(text: str) -> None:
    with pytest.raises(ExpressionError):
        parse_value(text)
