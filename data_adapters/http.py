"""The readers' shared HTTP layer: a plain GET, and following a paged collection into one payload.

Servers page in one of four ways: a next link inside the body (SensorThings `@iot.nextLink`, a JSON `next`),
an RFC 8288 `Link: <...>; rel="next"` header (NGSI-LD brokers), or only by offset and limit in the query
(`$skip`/`$top`, `offset`/`limit`). A reader says which with a `Paging` and gets one merged document back,
so `parse` reads a paged collection exactly as it reads a single page. The payload comes back as `Fetched`
bytes that carry the document already parsed while looking for the next page, so `parse` parses it once.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx

from data_adapters.base import PayloadError

log = logging.getLogger(__name__)

DEFAULT_MAX_PAGES = 50


def get(client: httpx.Client, url: str | httpx.URL) -> httpx.Response:
    """GET and raise on an HTTP error: the runner retries and records them."""
    response = client.get(url)
    response.raise_for_status()
    return response


class Fetched(bytes):
    """A payload as served (or its pages merged) with the JSON document it was parsed into while fetching.

    Still the payload's bytes for whatever keeps or shows one (a refused payload is stored for inspection);
    `parsed` hands a reader the document instead of parsing the same bytes a second time.
    """

    document: Any

    def __new__(cls, payload: bytes, document: Any) -> Fetched:
        fetched = super().__new__(cls, payload)
        fetched.document = document
        return fetched


def parsed(payload: bytes, load: Callable[[bytes], Any]) -> Any:
    """The payload's document: the one parsed while fetching, else `load(payload)` (a file, a pushed message)."""
    if isinstance(payload, Fetched):
        return payload.document
    return load(payload)


@dataclass(frozen=True, slots=True)
class Paging:
    """How a server pages a collection, and which members of the first page the merged document keeps."""

    members: str = "value"  # the array each page holds; "" when a page is the array itself
    next_link: str = ""  # body member holding the next page's URL, e.g. "@iot.nextLink"
    link_header: bool = False  # follow `Link: <url>; rel="next"`
    offset_param: str = ""  # when the server gives no link: the offset parameter ("$skip", "offset") ...
    limit_param: str = ""  # ... the page size parameter ("$top", "limit") ...
    limit: int = 0  # ... and the page size asked for
    kept: tuple[str, ...] = ()  # first-page members carried into the merged document ("@iot.count")
    kind: str = "collection"  # what a page is called in an error ("SensorThings collection")


def fetch_pages(
    client: httpx.Client,
    url: str,
    paging: Paging,
    *,
    load: Callable[[bytes], Any],
    max_pages: int = DEFAULT_MAX_PAGES,
    feed_name: str = "",
) -> bytes:
    """GET `url` and every next page (at most `max_pages`) into one document of all members.

    A single page is returned as the server sent it, and with the document `load` made of it (`Fetched`), so
    `parse` does not load it again. A page that does not load is returned as plain bytes: `parse` says what is
    wrong with it. A page that links to one already read ends the walk: a server linking a page to itself
    would keep us there forever.
    """
    response = get(client, _first_url(url, paging))
    try:
        first = load(response.content)
    except PayloadError:
        return response.content  # parse says what is wrong with it
    members = _members(first, paging)
    following = _next_url(response, first, paging, len(members or []), len(members or []))
    if members is None or following is None:
        return Fetched(response.content, first)
    collected: list[Any] = list(members)
    visited = {str(response.url)}
    pages = 1
    while following is not None and pages < max_pages:
        if str(following) in visited:
            break
        visited.add(str(following))
        response = get(client, following)
        page = load(response.content)
        found = _members(page, paging)
        if found is None:
            raise PayloadError(
                f"page {pages + 1} ({following}): not a {paging.kind} (no '{paging.members}' array)"
            )
        collected.extend(found)
        pages += 1
        following = _next_url(response, page, paging, len(collected), len(found))
    if following is not None and pages >= max_pages:
        log.warning("feed %s: stopped after %d pages; raise mapping.max_pages to read them all", feed_name, pages)
    document: Any = collected
    if paging.members:
        document = {paging.members: collected}
        for key in paging.kept:
            if key in first:
                document[key] = first[key]
    return Fetched(json.dumps(document, ensure_ascii=False).encode(), document)


def _first_url(url: str, paging: Paging) -> str | httpx.URL:
    if paging.offset_param and paging.limit_param and paging.limit:
        return httpx.URL(url).copy_merge_params({paging.limit_param: paging.limit})
    return url


def _members(document: Any, paging: Paging) -> list[Any] | None:
    if not paging.members:
        return document if isinstance(document, list) else None
    if isinstance(document, dict) and isinstance(document.get(paging.members), list):
        return document[paging.members]
    return None


def _next_url(response: httpx.Response, document: Any, paging: Paging, read: int, on_page: int) -> httpx.URL | None:
    """The next page's URL, or None when this was the last page."""
    if paging.next_link:
        link = document.get(paging.next_link) if isinstance(document, dict) else None
        if isinstance(link, str) and link:
            return response.url.join(link)
    if paging.link_header:
        link = response.links.get("next", {}).get("url")
        if link:
            return response.url.join(link)
    if paging.offset_param and paging.limit and on_page >= paging.limit:
        # a full page may have more behind it; a short (or empty) one is the last
        return response.url.copy_set_param(paging.offset_param, read)
    return None
