"""System query options are read strictly: supported ones checked against the entity set, others refused,
and the page size follows the client's preference."""

from __future__ import annotations

import pytest

from ioc.odata.errors import ODataError
from ioc.odata.query import MAX_PAGE_SIZE, page_size, read_query
from ioc.odata.sets import BY_NAME

ENTITIES = BY_NAME["Entities"]


def test_a_full_query() -> None:
    query = read_query(ENTITIES, [("$filter", "lat gt 16"), ("$select", "name, id"), ("$orderby", "lat desc,name"),
                                  ("$top", "5"), ("$skip", "2"), ("$count", "true"), ("lang", "vi")])
    assert query.select == ("id", "name") and query.selected  # declaration order
    assert query.order == (("lat", True), ("name", False))
    assert (query.top, query.skip, query.count, query.skiptoken) == (5, 2, True, None)
    assert query.needs() == {"id", "name", "lat"}


def test_defaults() -> None:
    query = read_query(ENTITIES, [("$select", "*")])
    assert query.select == ENTITIES.names and not query.selected
    assert (query.filter, query.top, query.skip, query.count, query.order) == (None, None, 0, False, ())


@pytest.mark.parametrize(("args", "target", "says"), [
    ([("$expand", "x")], "$expand", "not supported"),
    ([("$search", "bus")], "$search", "not supported"),
    ([("$bogus", "1")], "$bogus", "not supported"),
    ([("$top", "1"), ("$top", "2")], "$top", "more than once"),
    ([("$top", "-1")], "$top", "whole number"),
    ([("$skip", "x")], "$skip", "whole number"),
    ([("$count", "yes")], "$count", "neither true nor false"),
    ([("$select", "id,,name")], "$select", "empty name"),
    ([("$select", "phone")], "$select", "'phone' is not a property of Entities"),
    ([("$orderby", "lat sideways")], "$orderby", "is not 'property'"),
    ([("$orderby", "height")], "$orderby", "'height' is not a property"),
    ([("$format", "xml")], "$format", "answers in JSON"),
])
def test_bad_options_are_refused_naming_the_option(args: list[tuple[str, str]], target: str, says: str) -> None:
    with pytest.raises(ODataError) as refused:
        read_query(ENTITIES, args)
    assert refused.value.target == target and says in refused.value.message
    assert refused.value.body()["error"]["target"] == target


def test_apply_is_not_implemented() -> None:
    with pytest.raises(ODataError) as refused:
        read_query(ENTITIES, [("$apply", "groupby((district))")])
    assert refused.value.status == 501


def test_page_size_honours_a_smaller_preference_only() -> None:
    assert page_size({}) == MAX_PAGE_SIZE
    assert page_size({"Prefer": "odata.maxpagesize=50"}) == 50
    assert page_size({"Prefer": "return=minimal, odata.maxpagesize=7"}) == 7
    assert page_size({"Prefer": f"odata.maxpagesize={MAX_PAGE_SIZE * 10}"}) == MAX_PAGE_SIZE
    assert page_size({"Prefer": "odata.maxpagesize=0"}) == 1
