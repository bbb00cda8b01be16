"""The $filter parser: the supported subset parses to a checked tree; anything else is a 400 naming where."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from ioc.odata.errors import ODataError
from ioc.odata.filter import (
    MAX_DEPTH,
    Call,
    Compare,
    Literal,
    Logical,
    Not,
    Prop,
    conjuncts,
    equal_to,
    parse_filter,
    properties_of,
)
from ioc.odata.model import EdmType
from ioc.odata.sets import BY_NAME

ENTITIES = BY_NAME["Entities"]
ALERTS = BY_NAME["Alerts"]


def test_comparisons_of_every_literal_kind() -> None:
    assert parse_filter("district eq 'Hải Châu'", ENTITIES) == Compare(
        "eq", Prop("district", EdmType.STRING), Literal("Hải Châu", "string"))
    assert parse_filter("lat ge -16.5e0", ENTITIES) == Compare("ge", Prop("lat", EdmType.DECIMAL),
                                                               Literal(-16.5, "number"))
    moment = parse_filter("observed_at lt 2026-12-06T09:30:00+07:00", ENTITIES)
    assert isinstance(moment, Compare) and isinstance(moment.right, Literal)
    assert moment.right.value == datetime(2026, 12, 6, 9, 30, tzinfo=timezone(timedelta(hours=7)))
    zulu = parse_filter("observed_at gt 2026-12-06T02:30:00.5Z", ENTITIES)
    assert isinstance(zulu, Compare) and zulu.right == Literal(datetime(2026, 12, 6, 2, 30, 0, 500000, UTC),
                                                               "datetime")
    assert parse_filter("flapping eq true", ALERTS) == Compare("eq", Prop("flapping", EdmType.BOOLEAN),
                                                               Literal(True, "boolean"))
    assert parse_filter("district eq null", ENTITIES) == Compare("eq", Prop("district", EdmType.STRING),
                                                                 Literal(None, "null"))
    # a quote inside a text literal is doubled, as OData writes it
    assert parse_filter("name eq 'Chợ Cồn''s gate'", ENTITIES) == Compare(
        "eq", Prop("name", EdmType.STRING), Literal("Chợ Cồn's gate", "string"))


def test_and_binds_tighter_than_or_and_parentheses_and_not_group() -> None:
    tree = parse_filter("type eq 'a' or type eq 'b' and not (lat gt 1)", ENTITIES)
    assert isinstance(tree, Logical) and tree.op == "or"
    assert isinstance(tree.right, Logical) and tree.right.op == "and" and isinstance(tree.right.right, Not)
    grouped = parse_filter("(type eq 'a' or type eq 'b') and lat gt 1", ENTITIES)
    assert isinstance(grouped, Logical) and grouped.op == "and" and isinstance(grouped.left, Logical)


def test_text_functions() -> None:
    assert parse_filter("contains(name,'Trạm')", ENTITIES) == Call("contains", Prop("name", EdmType.STRING), "Trạm")
    assert parse_filter("not startswith(id, 'urn:ioc')", ENTITIES) == Not(
        Call("startswith", Prop("id", EdmType.STRING), "urn:ioc"))
    assert isinstance(parse_filter("endswith(name, 'A')", ENTITIES), Call)


@pytest.mark.parametrize(("text", "says"), [
    ("", "empty"),
    ("foo eq 1", "'foo' is not a property of Entities"),
    ("district eq 1", "cannot compare string with number"),
    ("lat eq 'x'", "cannot compare number with string"),
    ("lat gt null", "null compares with eq and ne only"),
    ("observed_at gt 2026-12-06T02:00:00", "needs a time zone"),
    ("observed_at gt 2026-13-06T02:00:00Z", "not a valid date-time"),
    ("tolower(name) eq 'a'", "function 'tolower' is not supported"),
    ("contains(lat, '1')", "takes a text property first"),
    ("contains(name, 1)", "takes a quoted text second"),
    ("name eq 'a' name", "unexpected 'name' after a complete expression"),
    ("name eq", "ends too early"),
    ("name has 'a'", "expected one of eq, ge, gt, le, lt, ne"),
    ("(name eq 'a'", "ends too early"),
    ("name eq 'a' & lat gt 1", "unexpected '&'"),
    ("'a' eq 'b'", "needs a property on one side"),
    ("name in ('a','b')", "expected one of"),
    ("lat add 1 gt 2", "expected one of"),
])
def test_what_is_not_supported_is_refused_with_where_and_why(text: str, says: str) -> None:
    with pytest.raises(ODataError) as refused:
        parse_filter(text, ENTITIES)
    assert says in refused.value.message and refused.value.status == 400 and refused.value.target == "$filter"


def test_refusals_name_the_position() -> None:
    with pytest.raises(ODataError, match=r"position 13: unexpected '&'"):
        parse_filter("name eq 'a' & lat gt 1", ENTITIES)


def test_nesting_and_length_are_bounded() -> None:
    deep = "not (" * (MAX_DEPTH + 1) + "lat gt 1" + ")" * (MAX_DEPTH + 1)
    with pytest.raises(ODataError, match="nested deeper"):
        parse_filter(deep, ENTITIES)
    with pytest.raises(ODataError, match="longer than"):
        parse_filter("name eq '" + "a" * 3000 + "'", ENTITIES)


def test_conjuncts_properties_and_pinned_values() -> None:
    tree = parse_filter("(feed eq 'air' or feed eq 'bus') and lat gt 16 and contains(name, 'x')", ENTITIES)
    parts = conjuncts(tree)
    assert len(parts) == 3
    assert properties_of(tree) == {"feed", "lat", "name"}
    assert equal_to(parts[0], "feed") == {"air", "bus"}
    assert equal_to(parts[1], "feed") is None
    # an `or` with anything but the feed does not pin it
    assert equal_to(parse_filter("feed eq 'air' or lat gt 1", ENTITIES), "feed") is None
    assert equal_to(parse_filter("feed ne 'air'", ENTITIES), "feed") is None
