"""Paging by sort key: pages walk the sorted rows once, within $skip and $top, in any $orderby with nulls;
a row added or removed between two pages neither repeats nor skips another; a forged token is refused."""

from __future__ import annotations

from typing import Any

import pytest

from ioc.odata.errors import ODataError
from ioc.odata.frame import sort, to_frame
from ioc.odata.paging import encode, page, sort_keys
from ioc.odata.query import read_query
from ioc.odata.sets import BY_NAME

ENTITIES = BY_NAME["Entities"]
ALERTS = BY_NAME["Alerts"]


def rows(count: int) -> list[dict[str, Any]]:
    return [{"id": f"e{n:03d}", "lat": None if n % 5 == 0 else float(n % 7), "name": f"n{n}",
             "observed_at": None if n % 4 == 0 else f"2026-12-06T0{n % 9}:00:00+00:00"} for n in range(count)]


def walk(data: list[dict[str, Any]], size: int, change: Any = None, **options: str) -> list[str]:
    """Every page's ids, following the tokens; `change(data, page_number)` edits the data between pages."""
    args = [(f"${name}", value) for name, value in options.items()]
    seen: list[str] = []
    number = 0
    while True:
        query = read_query(ENTITIES, args)
        frame = sort(to_frame(ENTITIES, data), ENTITIES, sort_keys(ENTITIES, query))
        served, token = page(frame, ENTITIES, query, size)
        seen += list(served["id"])
        if token is None:
            return seen
        args = [*[(n, v) for n, v in args if n != "$skiptoken"], ("$skiptoken", token)]
        number += 1
        if change:
            change(data, number)


def everything(data: list[dict[str, Any]], **options: str) -> list[str]:
    return walk(data, 10_000, **options)


@pytest.mark.parametrize("order", ["lat", "lat desc", "observed_at desc,lat", "name desc", "observed_at"])
def test_pages_walk_every_row_once_in_order(order: str) -> None:
    data = rows(53)
    assert walk(data, 7, orderby=order) == everything(data, orderby=order)
    assert len(set(everything(data, orderby=order))) == 53


def test_skip_and_top_frame_the_pages() -> None:
    data = rows(40)
    whole = everything(data, orderby="lat desc")
    assert walk(data, 6, orderby="lat desc", skip="5", top="17") == whole[5:22]
    assert walk(data, 6, top="12") == everything(data)[:12]
    assert walk(data, 6, skip="50") == []
    assert walk(data, 6, top="0") == []


def test_a_row_added_or_removed_between_pages_moves_no_other() -> None:
    data = rows(30)
    before = everything(data, orderby="lat")

    def add_early_row(rows_now: list[dict[str, Any]], number: int) -> None:
        if number == 1:  # sorts before everything already served
            rows_now.append({"id": "a-new", "lat": None, "name": "new", "observed_at": None})

    assert walk(data, 5, add_early_row, orderby="lat") == before

    data = rows(30)

    def remove_served_row(rows_now: list[dict[str, Any]], number: int) -> None:
        if number == 1:  # the last row of page one disappears (an alert resolved)
            rows_now[:] = [row for row in rows_now if row["id"] != before[4]]

    assert walk(data, 5, remove_served_row, orderby="lat") == before


def test_alerts_come_in_queue_order_without_orderby() -> None:
    data = [{"id": "A3", "severity_rank": 2, "raised_at": "2026-12-06T01:00:00Z"},
            {"id": "A1", "severity_rank": 0, "raised_at": "2026-12-06T03:00:00Z"},
            {"id": "A2", "severity_rank": 0, "raised_at": "2026-12-06T02:00:00Z"}]
    query = read_query(ALERTS, [])
    frame = sort(to_frame(ALERTS, data), ALERTS, sort_keys(ALERTS, query))
    assert list(page(frame, ALERTS, query, 10)[0]["id"]) == ["A2", "A1", "A3"]


@pytest.mark.parametrize("token", [
    "12", "not-base64!", encode(3, ["e001"]) + "x", encode(-1, [None, "e001"]), encode(3, [1.0]),
    encode(3, ["x", "e001"]), encode(3, [True, "e001"]),
])
def test_a_token_this_query_could_not_have_had_is_refused(token: str) -> None:
    query = read_query(ENTITIES, [("$orderby", "lat"), ("$skiptoken", token)])
    frame = sort(to_frame(ENTITIES, rows(5)), ENTITIES, sort_keys(ENTITIES, query))
    with pytest.raises(ODataError) as refused:
        page(frame, ENTITIES, query, 2)
    assert refused.value.target == "$skiptoken" and refused.value.status == 400
