"""A request's system query options ($filter, $select, $orderby, $top, $skip, $count, $skiptoken, $format)
read strictly into one Query, and the page of a collection it asks for. Unknown or repeated options, and the
ones the service does not implement ($expand, $search, $apply, ...), are refused with a 400 naming them."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from ioc.odata.errors import ODataError
from ioc.odata.filter import Node, parse_filter, properties_of
from ioc.odata.model import EntitySet

SUPPORTED = ("$filter", "$select", "$orderby", "$top", "$skip", "$count", "$skiptoken", "$format")
MAX_PAGE_SIZE = 1000  # rows per page at most; a client may ask for fewer with Prefer: odata.maxpagesize
_WHOLE = re.compile(r"\d{1,9}")
_ORDER_ITEM = re.compile(r"([A-Za-z_][A-Za-z0-9_]*)(?:\s+(asc|desc))?")
_MAX_PAGE_PREFERENCE = re.compile(r"(?:^|[,;\s])odata\.maxpagesize\s*=\s*(\d{1,9})", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class Query:
    filter: Node | None
    select: tuple[str, ...]
    order: tuple[tuple[str, bool], ...]  # (property, descending)
    top: int | None
    skip: int
    count: bool
    skiptoken: str | None  # where the page starts (ioc.odata.paging), as the previous page's next link gave it
    selected: bool  # $select given (the context URL then names the selected properties)

    def needs(self) -> set[str]:
        """Every property the query reads: selected, filtered on or sorted by."""
        needed = set(self.select) | {name for name, _ in self.order}
        if self.filter is not None:
            needed |= properties_of(self.filter)
        return needed


def _whole(option: str, text: str) -> int:
    if not _WHOLE.fullmatch(text.strip()):
        raise ODataError(f"{option}: '{text}' is not a whole number of 0 or more", target=option)
    return int(text)


def _known(entity_set: EntitySet, option: str, name: str) -> str:
    if entity_set.prop(name) is None:
        raise ODataError(f"{option}: '{name}' is not a property of {entity_set.name} "
                         f"(properties: {', '.join(entity_set.names)})", target=option)
    return name


def _select(entity_set: EntitySet, text: str | None) -> tuple[str, ...]:
    if text is None or text.strip() == "*":
        return entity_set.names
    names = [part.strip() for part in text.split(",")]
    if not all(names):
        raise ODataError("$select: an empty name in the list", target="$select")
    chosen = {_known(entity_set, "$select", name) for name in names}
    return tuple(name for name in entity_set.names if name in chosen)  # declaration order, no duplicates


def _order(entity_set: EntitySet, text: str | None) -> tuple[tuple[str, bool], ...]:
    if text is None:
        return ()
    order = []
    for part in text.split(","):
        match = _ORDER_ITEM.fullmatch(part.strip())
        if match is None:
            raise ODataError(f"$orderby: '{part.strip()}' is not 'property', 'property asc' or 'property desc'",
                             target="$orderby")
        order.append((_known(entity_set, "$orderby", match.group(1)), match.group(2) == "desc"))
    return tuple(order)


def check_options(args: Iterable[tuple[str, str]]) -> dict[str, str]:
    """The request's `$` options, each once and each one the service implements; other (custom) options pass."""
    options: dict[str, str] = {}
    for name, value in args:
        if not name.startswith("$"):
            continue
        if name not in SUPPORTED:
            raise ODataError(f"{name} is not supported by this service (supported: {', '.join(SUPPORTED)})",
                             target=name, code="NotImplemented", status=501 if name == "$apply" else 400)
        if name in options:
            raise ODataError(f"{name} is given more than once", target=name)
        options[name] = value
    fmt = options.get("$format")
    if fmt is not None and fmt.split(";")[0].strip().lower() not in ("json", "application/json"):
        raise ODataError(f"$format: '{fmt}' is not served; this service answers in JSON", target="$format")
    return options


def read_query(entity_set: EntitySet, args: Iterable[tuple[str, str]]) -> Query:
    """The Query a collection request asks for, or ODataError (400) naming the option at fault."""
    options = check_options(args)
    count = options.get("$count", "false").strip().lower()
    if count not in ("true", "false"):
        raise ODataError(f"$count: '{options['$count']}' is neither true nor false", target="$count")
    text = options.get("$filter")
    return Query(
        filter=parse_filter(text, entity_set) if text is not None else None,
        select=_select(entity_set, options.get("$select")),
        order=_order(entity_set, options.get("$orderby")),
        top=_whole("$top", options["$top"]) if "$top" in options else None,
        skip=_whole("$skip", options["$skip"]) if "$skip" in options else 0,
        count=count == "true",
        skiptoken=options.get("$skiptoken"),
        selected="$select" in options and options["$select"].strip() != "*",
    )


def page_size(headers: Mapping[str, str]) -> int:
    """Rows per page: the client's Prefer: odata.maxpagesize when smaller than the service's maximum."""
    match = _MAX_PAGE_PREFERENCE.search(headers.get("Prefer", ""))
    if match is None:
        return MAX_PAGE_SIZE
    return max(1, min(MAX_PAGE_SIZE, int(match.group(1))))
