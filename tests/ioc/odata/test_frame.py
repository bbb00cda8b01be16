"""Filters and sorting over a frame follow OData's rules: null equals only null, ordering comparisons with
null are false, instants compare across offsets, nulls sort first ascending."""

from __future__ import annotations

from typing import Any

from ioc.odata.filter import parse_filter
from ioc.odata.frame import mask, records, sort, to_frame
from ioc.odata.sets import BY_NAME

ENTITIES = BY_NAME["Entities"]
ALERTS = BY_NAME["Alerts"]

ROWS: list[dict[str, Any]] = [
    {"id": "a", "name": "Trạm Hải Châu", "district": "Hải Châu", "lat": 16.05, "observed_at": "2026-12-06T02:00:00+00:00"},
    {"id": "b", "name": "Trạm Sơn Trà", "district": "Sơn Trà", "lat": 16.10, "observed_at": "2026-12-06T10:00:00+07:00"},
    {"id": "c", "name": None, "district": None, "lat": None, "observed_at": None},
    {"id": "d", "name": "Cầu Rồng", "district": "Hải Châu", "lat": "not a number", "observed_at": "2026-12-06T04:00:00Z"},
]


def ids(text: str, rows: list[dict[str, Any]] = ROWS) -> list[str]:
    frame = to_frame(ENTITIES, rows)
    return list(frame[mask(frame, parse_filter(text, ENTITIES)).to_numpy()]["id"])


def test_equality_and_null() -> None:
    assert ids("district eq 'Hải Châu'") == ["a", "d"]
    assert ids("district ne 'Hải Châu'") == ["b", "c"]  # a null is unequal to any value
    assert ids("district eq null") == ["c"]
    assert ids("district ne null") == ["a", "b", "d"]
    assert ids("name eq district") == ["c"]  # both null


def test_ordering_comparisons_skip_nulls_and_unusable_values() -> None:
    assert ids("lat gt 16") == ["a", "b"]  # 'not a number' was coerced to null
    assert ids("lat le 16.05") == ["a"]
    assert ids("not (lat gt 16.06)") == ["a", "c", "d"]


def test_instants_compare_across_offsets() -> None:
    # b is 03:00Z written as 10:00+07:00
    assert ids("observed_at gt 2026-12-06T02:30:00Z") == ["b", "d"]
    assert ids("observed_at lt 2026-12-06T10:30:00+07:00") == ["a", "b"]
    assert ids("observed_at eq 2026-12-06T03:00:00Z") == ["b"]


def test_text_functions_and_logic() -> None:
    assert ids("contains(name, 'Trạm')") == ["a", "b"]
    assert ids("startswith(name, 'Cầu') or endswith(name, 'Trà')") == ["b", "d"]
    assert ids("contains(name, '.*')") == []  # a literal, not a pattern
    assert ids("district eq 'Hải Châu' and not contains(name, 'Trạm')") == ["d"]


def test_sort_puts_nulls_first_ascending_last_descending_then_by_key() -> None:
    frame = to_frame(ENTITIES, ROWS)
    assert list(sort(frame, ENTITIES, [("lat", False), ("id", False)])["id"]) == ["c", "d", "a", "b"]
    assert list(sort(frame, ENTITIES, [("lat", True), ("id", False)])["id"]) == ["b", "a", "c", "d"]
    assert list(sort(frame, ENTITIES, [("district", False), ("observed_at", True), ("id", False)])["id"]) == ["c", "d", "a", "b"]


def test_records_give_json_values_of_the_declared_types() -> None:
    rows = [{"id": "x", "occurrences": "3", "flapping": True, "value": float("nan"), "escalations": None}]
    frame = to_frame(ALERTS, rows)
    out = records(frame, ALERTS, ("id", "occurrences", "flapping", "value", "escalations"))
    assert out == [{"id": "x", "occurrences": 3, "flapping": True, "value": None, "escalations": None}]
    assert type(out[0]["occurrences"]) is int


def test_an_empty_set_filters_and_sorts() -> None:
    assert ids("lat gt 1", []) == []
    frame = to_frame(ENTITIES, [])
    assert list(sort(frame, ENTITIES, [("lat", True), ("id", False)])["id"]) == []
