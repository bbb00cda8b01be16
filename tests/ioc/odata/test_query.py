"""System query options are read strictly: supported ones checked against the entity set, others refused,
and the page bounds follow $skip, $top, $skiptoken and the page size."""

from __future__ import annotations

import pytest

from ioc.odata.errors import ODataError
from ioc.odata.query import MAX_PAGE_SIZE, page_bounds, page_size, read_query
from ioc.odata.sets import BY_NAME

ENTITIES = BY_NAME["Entities"]


def test_a_full_query() -> None:
    query = read_query(ENTITIES, [("$filter", "lat gt 16"), ("$select", "name, id"), ("$orderby", "lat desc,name"),
                                  ("$top", "5"), ("$skip", "2"), ("$count", "true"), ("lang", "vi")])
    assert query.select == ("id", "name") and query.selected  # declaration order
    assert query.order == (("lat", True), ("name", False))
    assert (query.top, query.skip, query.count, query.skiptoken) == (5, 2, True, 0)
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
    ([("$skiptoken", "abc")], "$skiptoken", "whole number"),
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


def test_page_bounds() -> None:
    def bounds(total: int, size: int, **options: str) -> tuple[int, int, bool]:
        return page_bounds(read_query(ENTITIES, [(f"${k}", v) for k, v in options.items()]), total, size)

    assert bounds(25, 10) == (0, 10, True)
    assert bounds(25, 10, skiptoken="20") == (20, 25, False)
    assert bounds(25, 10, skip="5", top="12") == (5, 15, True)
    assert bounds(25, 10, skip="5", top="12", skiptoken="10") == (15, 17, False)
    assert bounds(25, 10, skip="30") == (25, 25, False)
    assert bounds(25, 10, top="0") == (0, 0, False)
