"""Server-driven paging: a page ends at a row, and `$skiptoken` carries that row's sort key (and how many rows
of the client's `$top` were served), so the next page starts right after it. Unlike an offset, the token
neither repeats nor skips rows when the city's data changes between two pages (an entity added, an alert
resolved), as /api/v1's cursors do not."""

from __future__ import annotations

import base64
import json
from collections.abc import Sequence
from typing import Any

import pandas as pd

from ioc.odata.errors import ODataError
from ioc.odata.frame import column_of, instant
from ioc.odata.model import EdmType, EntitySet
from ioc.odata.query import Query


def sort_keys(entity_set: EntitySet, query: Query) -> list[tuple[str, bool]]:
    """The order rows are served in: $orderby (else the set's own order), then the key, which is unique."""
    order = list(query.order or entity_set.order)
    return [*order, (entity_set.key.name, False)]


def _bad(token: str) -> ODataError:
    return ODataError(f"$skiptoken: '{token[:40]}' is not one this service gave; follow @odata.nextLink",
                      target="$skiptoken")


def encode(served: int, key: Sequence[Any]) -> str:
    text = json.dumps([served, list(key)], ensure_ascii=False, separators=(",", ":"))
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


def decode(token: str, entity_set: EntitySet, keys: Sequence[tuple[str, bool]]) -> tuple[int, list[Any]]:
    """(rows served so far, sort key of the last one); ODataError for a token this query could not have had."""
    try:
        served, key = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
    except (ValueError, TypeError, UnicodeDecodeError):
        raise _bad(token) from None
    if not isinstance(served, int) or served < 0 or not isinstance(key, list) or len(key) != len(keys):
        raise _bad(token)
    for (name, _), value in zip(keys, key, strict=True):
        prop = entity_set.prop(name)
        numeric = prop is not None and prop.type in (EdmType.DECIMAL, EdmType.INT)
        if value is not None and not (isinstance(value, int | float) if numeric else isinstance(value, str)) \
                or isinstance(value, bool):
            raise _bad(token)
    return served, key


def _after(frame: pd.DataFrame, entity_set: EntitySet, keys: Sequence[tuple[str, bool]],
           key: Sequence[Any], token: str) -> pd.Series:
    """Which rows come strictly after `key` in the order of `keys` (nulls first ascending, last descending)."""
    later = pd.Series(False, index=frame.index, dtype=bool)
    same = pd.Series(True, index=frame.index, dtype=bool)
    for (name, descending), value in zip(keys, key, strict=True):
        prop = entity_set.prop(name)
        column = column_of(frame, entity_set, name)
        present = column.notna()
        if value is None:
            beyond = pd.Series(False, index=frame.index, dtype=bool) if descending else present
            equal = ~present
        else:
            if prop is not None and prop.type is EdmType.DATETIME:
                value = instant(value)
                if value is None:
                    raise _bad(token)
            beyond = pd.Series(False, index=frame.index, dtype=bool)
            equal = pd.Series(False, index=frame.index, dtype=bool)
            if present.any():
                values = column[present]
                beyond[present] = (values < value if descending else values > value).to_numpy(dtype=bool)
                equal[present] = (values == value).to_numpy(dtype=bool)
            if descending:
                beyond |= ~present  # nulls come last in descending order
        later |= same & beyond
        same &= equal
    return later


def page(frame: pd.DataFrame, entity_set: EntitySet, query: Query, size: int) -> tuple[pd.DataFrame, str | None]:
    """The rows of this page out of the sorted, filtered `frame`, and the token of the next page (None on the
    last): $skip and $top frame the rows the client asked for, pages of at most `size` walk through them."""
    keys = sort_keys(entity_set, query)
    window = frame.iloc[query.skip:] if query.top is None else frame.iloc[query.skip:query.skip + query.top]
    served = 0
    if query.skiptoken is not None:
        served, key = decode(query.skiptoken, entity_set, keys)
        window = window[_after(window, entity_set, keys, key, query.skiptoken).to_numpy()]
    budget = len(window) if query.top is None else max(0, min(len(window), query.top - served))
    rows = window.iloc[:min(size, budget)]
    if len(rows) >= budget or not len(rows):
        return rows, None
    last = rows.iloc[-1]
    key = [None if pd.isna(last[name]) else _plain(last[name]) for name, _ in keys]
    return rows, encode(served + len(rows), key)


def _plain(value: Any) -> Any:
    return value.item() if hasattr(value, "item") else value
