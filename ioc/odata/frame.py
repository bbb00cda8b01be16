"""A query's rows as one pandas frame: a $filter's syntax tree turned into a vectorised mask, $orderby as a
stable multi-key sort with OData's null order. Each filter is applied once over the whole frame."""

from __future__ import annotations

import operator
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from ioc.odata.filter import Call, Compare, Literal, Logical, Node, Not, Prop
from ioc.odata.model import EdmType, EntitySet, Property, coerce

_OPERATORS: dict[str, Callable[[Any, Any], Any]] = {
    "eq": operator.eq, "ne": operator.ne, "gt": operator.gt, "ge": operator.ge, "lt": operator.lt, "le": operator.le,
}


def to_frame(entity_set: EntitySet, rows: Sequence[Mapping[str, Any]],
             names: Iterable[str] | None = None) -> pd.DataFrame:
    """Rows as a frame of declared properties only (`names`, default all; the key always), each column of its
    declared type (a value of another type is null: $filter and $orderby never compare text with numbers);
    date-times parsed beside their text under `<name>\\x00t`, so comparisons and sorting use instants while
    answers keep the text. Only the columns a query reads are built: most of the cost is per column."""
    wanted = set(entity_set.names if names is None else names) | {entity_set.key.name}
    props = [prop for prop in entity_set.properties if prop.name in wanted]
    frame = pd.DataFrame.from_records(list(rows), columns=[prop.name for prop in props])
    for prop in props:
        frame[prop.name] = _typed(prop, frame[prop.name])
        if prop.type is EdmType.DATETIME:
            frame[_instant(prop.name)] = pd.to_datetime(frame[prop.name], utc=True, errors="coerce",
                                                        format="ISO8601")
    return frame


# pandas' own reading of a column's values (C code): when it already says the declared kind, the column is
# converted whole (numbers from text too: observation streams hold their values as text); only a column
# holding something else is coerced value by value
_NUMBERS = ("floating", "integer", "mixed-integer-float", "string", "empty")
_ALREADY = {EdmType.STRING: ("string", "empty"), EdmType.DATETIME: ("string", "empty"), EdmType.DECIMAL: _NUMBERS,
            EdmType.INT: _NUMBERS, EdmType.BOOLEAN: ("boolean", "empty")}


def _typed(prop: Property, column: pd.Series) -> pd.Series:
    kind = pd.api.types.infer_dtype(column, skipna=True)
    if kind not in _ALREADY[prop.type]:
        column = column.map(lambda value: coerce(prop, value), na_action="ignore")
    if prop.type in (EdmType.DECIMAL, EdmType.INT):
        numbers = pd.to_numeric(column, errors="coerce").astype("float64")
        infinite = np.isinf(numbers.to_numpy())
        return numbers.mask(infinite) if infinite.any() else numbers
    if prop.type in (EdmType.STRING, EdmType.DATETIME):
        empty = (column == "").to_numpy(dtype=bool, na_value=False)
        return column.mask(empty) if empty.any() else column  # '' is no value, as in the store's hashes
    return column.astype(object).where(column.notna(), None)


def _instant(name: str) -> str:
    return f"{name}\x00t"


def instant(text: str) -> pd.Timestamp | None:
    """A date-time text as the instant the frame compares (UTC), None when it is not one."""
    moment = pd.to_datetime(text, utc=True, errors="coerce", format="ISO8601")
    return None if pd.isna(moment) else moment


def column_of(frame: pd.DataFrame, entity_set: EntitySet, name: str) -> pd.Series:
    """The column a comparison or a sort reads: a date-time property's instants, any other its values."""
    prop = entity_set.prop(name)
    return frame[_instant(name)] if prop is not None and prop.type is EdmType.DATETIME else frame[name]


def _column(frame: pd.DataFrame, prop: Prop) -> pd.Series:
    return frame[_instant(prop.name)] if prop.type is EdmType.DATETIME else frame[prop.name]


def _side(frame: pd.DataFrame, side: Prop | Literal) -> Any:
    if isinstance(side, Prop):
        return _column(frame, side)
    if side.kind == "datetime":
        return pd.Timestamp(side.value).tz_convert("UTC")
    return side.value


def _present(frame: pd.DataFrame, side: Prop | Literal) -> pd.Series:
    if isinstance(side, Prop):
        return _column(frame, side).notna()
    return pd.Series(side.value is not None, index=frame.index, dtype=bool)


def mask(frame: pd.DataFrame, node: Node) -> pd.Series:
    """Which rows `node` holds for, by OData's rules: null equals only null, and an ordering comparison with a
    null is false."""
    if isinstance(node, Logical):
        left, right = mask(frame, node.left), mask(frame, node.right)
        return (left & right) if node.op == "and" else (left | right)
    if isinstance(node, Not):
        return ~mask(frame, node.operand)
    if isinstance(node, Call):
        texts = frame[node.prop.name]
        present = texts.notna()
        result = pd.Series(False, index=frame.index)
        if present.any():
            strings = texts[present].astype(str)
            if node.function == "contains":
                found = strings.str.contains(node.text, regex=False)
            elif node.function == "startswith":
                found = strings.str.startswith(node.text)
            else:
                found = strings.str.endswith(node.text)
            result[present] = found.to_numpy(dtype=bool)
        return result
    return _compare(frame, node)


def _compare(frame: pd.DataFrame, node: Compare) -> pd.Series:
    left_present, right_present = _present(frame, node.left), _present(frame, node.right)
    both = left_present & right_present
    result = pd.Series(False, index=frame.index, dtype=bool)
    if both.any():
        left, right = _side(frame, node.left), _side(frame, node.right)
        left = left[both] if isinstance(left, pd.Series) else left
        right = right[both] if isinstance(right, pd.Series) else right
        # `ne` is `not eq` once nulls are settled below: a null is unequal to any value
        compared = _OPERATORS["eq" if node.op == "ne" else node.op](left, right)
        result[both] = np.asarray(compared, dtype=bool)
    if node.op in ("eq", "ne"):
        equal = result | (~left_present & ~right_present)  # null eq null
        return equal if node.op == "eq" else ~equal
    return result


def sort(frame: pd.DataFrame, entity_set: EntitySet, keys: Sequence[tuple[str, bool]]) -> pd.DataFrame:
    """Sorted by each (property, descending) in turn; nulls come first ascending and last descending, as
    OData orders them. `keys` ends with the set's key (ioc.odata.paging.sort_keys), so pages never overlap."""
    for name, descending in reversed(keys):
        prop = entity_set.prop(name)
        column = _instant(name) if prop is not None and prop.type is EdmType.DATETIME else name
        frame = frame.sort_values(column, ascending=not descending, kind="stable",
                                  na_position="last" if descending else "first")
    return frame


def records(frame: pd.DataFrame, entity_set: EntitySet, names: Sequence[str]) -> list[dict[str, Any]]:
    """The frame's rows as JSON-ready dicts of `names`: NaN back to null, Int64 properties back to int."""
    columns = []
    for name in names:
        values = frame[name].to_numpy(dtype=object, na_value=None)
        prop = entity_set.prop(name)
        if prop is not None and prop.type is EdmType.INT:
            values = [None if value is None else int(value) for value in values]
        columns.append(values)
    return [dict(zip(names, row, strict=True)) for row in zip(*columns, strict=True)] if columns else \
        [{} for _ in range(len(frame))]
