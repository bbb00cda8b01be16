"""The small expression language of kpis.yaml: conditions on a record's fields and the value it contributes.

    where:    status == 'closed'                     count_if: updated_datetime <= expected_datetime
    count_if: filling_level > 80                     count_if: status in ['defectiveLamp', 'brokenLantern']
    count_if: delay_s >= -60 and delay_s <= 300      value:    hours(requested_datetime, updated_datetime)

A bare name is a field of the record (an entity attribute, the observed metric, or an event field); a
literal is a number, a quoted string, true/false or a list of those. Expressions are parsed with Python's
`ast` and only the node types below are accepted, so configuration can never run code. Comparisons with
a missing field are false: a request without `expected_datetime` is not "on time".
"""

from __future__ import annotations

import ast
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

Record = Mapping[str, Any]

# duration functions of `value:` and the seconds in their unit
DURATIONS = {"seconds": 1.0, "minutes": 60.0, "hours": 3600.0, "days": 86400.0}
_COMPARE = {
    ast.Eq: lambda a, b: a == b,
    ast.NotEq: lambda a, b: a != b,
    ast.Lt: lambda a, b: a < b,
    ast.LtE: lambda a, b: a <= b,
    ast.Gt: lambda a, b: a > b,
    ast.GtE: lambda a, b: a >= b,
}
_NAMED_CONSTANTS = {"true": True, "false": False, "True": True, "False": False}


class ExpressionError(ValueError):
    """An expression of kpis.yaml is not one this language accepts; the message says which part."""


@dataclass(frozen=True, slots=True)
class Condition:
    """A parsed condition: `test(record)` is True or False; `fields` are the names it reads."""

    text: str
    test: Callable[[Record], bool] = field(repr=False, compare=False)
    fields: frozenset[str] = frozenset()


@dataclass(frozen=True, slots=True)
class ValueExpr:
    """A parsed value: `of(record)` is a float, or None when the record carries no usable value."""

    text: str
    of: Callable[[Record], float | None] = field(repr=False, compare=False)
    fields: frozenset[str] = frozenset()


# --- coercion ------------------------------------------------------------------------------------------------


def as_number(value: Any) -> float | None:
    """A float from a number or numeric text; None for booleans, blanks, text and NaN."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int | float):
        number = float(value)
    elif isinstance(value, str):
        try:
            number = float(value.strip())
        except ValueError:
            return None
    else:
        return None
    return None if math.isnan(number) else number


def as_time(value: Any) -> datetime | None:
    """An aware datetime from ISO 8601 text, epoch seconds or a datetime; None otherwise."""
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int | float):
        # epoch milliseconds are what many JSON APIs publish (the 115 dispatch feed does)
        seconds = value / 1000 if value > 1e11 else value
        return datetime.fromtimestamp(seconds, UTC)
    if isinstance(value, str) and len(value) >= 10 and value[:4].isdigit() and value[4] == "-":
        try:
            moment = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
        except ValueError:
            return None
        return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    return None


def _comparable(a: Any, b: Any) -> tuple[Any, Any] | None:
    """Bring two values to one kind (number, time, truth or text), or None when they cannot be compared."""
    if a is None or b is None:
        return None
    if isinstance(a, bool) or isinstance(b, bool):
        truth = {"true": True, "false": False, "1": True, "0": False}
        left = a if isinstance(a, bool) else truth.get(str(a).strip().lower())
        right = b if isinstance(b, bool) else truth.get(str(b).strip().lower())
        return None if left is None or right is None else (left, right)
    left_number, right_number = as_number(a), as_number(b)
    if left_number is not None and right_number is not None:
        return left_number, right_number
    if isinstance(a, str) and isinstance(b, str):
        left_time, right_time = as_time(a), as_time(b)
        if left_time is not None and right_time is not None:
            return left_time, right_time
        return a, b
    if isinstance(a, datetime) or isinstance(b, datetime):
        left_time, right_time = as_time(a), as_time(b)
        return None if left_time is None or right_time is None else (left_time, right_time)
    return str(a), str(b)


def compare(op: type[ast.cmpop], a: Any, b: Any) -> bool:
    pair = _comparable(a, b)
    if pair is None:
        return False
    try:
        return bool(_COMPARE[op](*pair))
    except TypeError:
        return False


# --- parsing -------------------------------------------------------------------------------------------------


def _parse(text: str) -> ast.expr:
    if not isinstance(text, str) or not text.strip():
        raise ExpressionError("an empty expression")
    try:
        return ast.parse(text.strip(), mode="eval").body
    except SyntaxError as exc:
        raise ExpressionError(f"'{text}' is not a valid expression ({exc.msg})") from None


def _literal(node: ast.expr, text: str) -> Any:
    if isinstance(node, ast.Constant) and isinstance(node.value, str | int | float | bool):
        return node.value
    if isinstance(node, ast.Name) and node.id in _NAMED_CONSTANTS:
        return _NAMED_CONSTANTS[node.id]
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
        inner = _literal(node.operand, text)
        if isinstance(inner, int | float) and not isinstance(inner, bool):
            return -inner
    raise ExpressionError(f"'{text}': expected a number, a quoted text or true/false")


def _operand(node: ast.expr, text: str, fields: set[str]) -> Callable[[Record], Any]:
    """A field reference or a literal, as a function of the record."""
    if isinstance(node, ast.Name) and node.id not in _NAMED_CONSTANTS:
        fields.add(node.id)
        name = node.id
        return lambda record: record.get(name)
    if isinstance(node, ast.List | ast.Tuple):
        items = tuple(_literal(item, text) for item in node.elts)
        return lambda _record: items
    value = _literal(node, text)
    return lambda _record: value


def _condition(node: ast.expr, text: str, fields: set[str]) -> Callable[[Record], bool]:
    if isinstance(node, ast.BoolOp):
        parts = [_condition(value, text, fields) for value in node.values]
        if isinstance(node.op, ast.And):
            return lambda record: all(part(record) for part in parts)
        return lambda record: any(part(record) for part in parts)
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
        inner = _condition(node.operand, text, fields)
        return lambda record: not inner(record)
    if isinstance(node, ast.Compare):
        operands = [_operand(part, text, fields) for part in (node.left, *node.comparators)]
        tests: list[Callable[[Record], bool]] = []
        for index, op in enumerate(node.ops):
            left, right = operands[index], operands[index + 1]
            if isinstance(op, ast.In | ast.NotIn):
                if not isinstance(node.comparators[index], ast.List | ast.Tuple):
                    raise ExpressionError(f"'{text}': 'in' needs a list, e.g. status in ['a', 'b']")
                negate = isinstance(op, ast.NotIn)
                tests.append(
                    lambda r, left=left, right=right, negate=negate: negate
                    != any(compare(ast.Eq, left(r), item) for item in right(r))
                )
            elif type(op) in _COMPARE:
                kind = type(op)
                tests.append(lambda r, left=left, right=right, kind=kind: compare(kind, left(r), right(r)))
            else:
                raise ExpressionError(f"'{text}': operator {type(op).__name__} is not supported")
        return lambda record: all(test(record) for test in tests)
    if isinstance(node, ast.Name) and node.id not in _NAMED_CONSTANTS:
        # a bare field is true when it holds a true value ("congested")
        fields.add(node.id)
        name = node.id
        return lambda record: compare(ast.Eq, record.get(name), True)
    raise ExpressionError(f"'{text}': expected a comparison such as status == 'closed' or speed > 20")


def parse_condition(text: str) -> Condition:
    """Parse a condition; ExpressionError naming the offending part if it is not one."""
    fields: set[str] = set()
    test = _condition(_parse(text), text, fields)
    return Condition(text=text.strip(), test=test, fields=frozenset(fields))


def equality(name: str, wanted: Any) -> Condition:
    """`{status: closed}` in a `where:` mapping: the field equals the value (or one of a list's values)."""
    if isinstance(wanted, list | tuple):
        items = tuple(wanted)
        return Condition(
            text=f"{name} in {list(items)!r}",
            test=lambda record: any(compare(ast.Eq, record.get(name), item) for item in items),
            fields=frozenset({name}),
        )
    return Condition(
        text=f"{name} == {wanted!r}",
        test=lambda record: compare(ast.Eq, record.get(name), wanted),
        fields=frozenset({name}),
    )


def parse_value(text: str) -> ValueExpr:
    """A field name (its number) or a duration between two time fields: hours(a, b), minutes(a, b), ..."""
    node = _parse(text)
    if isinstance(node, ast.Name):
        name = node.id
        return ValueExpr(text=text.strip(), of=lambda record: as_number(record.get(name)), fields=frozenset({name}))
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in DURATIONS:
        if node.keywords or len(node.args) != 2 or not all(isinstance(a, ast.Name) for a in node.args):
            raise ExpressionError(f"'{text}': {node.func.id}() takes two field names, from and to")
        start, end = (arg.id for arg in node.args)  # type: ignore[attr-defined]
        unit = DURATIONS[node.func.id]

        def duration(record: Record) -> float | None:
            began, ended = as_time(record.get(start)), as_time(record.get(end))
            if began is None or ended is None or ended < began:
                return None  # a record closed before it was opened is a data error, not a zero
            return (ended - began).total_seconds() / unit

        return ValueExpr(text=text.strip(), of=duration, fields=frozenset({start, end}))
    raise ExpressionError(
        f"'{text}': expected a field name or {', '.join(f'{name}(from, to)' for name in DURATIONS)}"
    )
