"""The readers' shared HTTP layer: a plain GET, following a paged collection into one payload, and the
bounds every answer is held to (a total time and a size, whatever the server does).

Servers page in one of four ways: a next link inside the body (SensorThings `@iot.nextLink`, a JSON `next`),
an RFC 8288 `Link: <...>; rel="next"` header (NGSI-LD brokers), or only by offset and limit in the query
(`$skip`/`$top`, `offset`/`limit`). A reader says which with a `Paging` and gets one merged document back,
so `parse` reads a paged collection exactly as it reads a single page. The payload comes back as `Fetched`
bytes that carry the document already parsed while looking for the next page, so `parse` parses it once.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import httpx

from data_adapters.base import PayloadError

log = logging.getLogger(__name__)

DEFAULT_MAX_PAGES = 50
# No agency payload we read comes near this; a larger one is a mistake or an attack, refused before it fills
# the memory of the process that reads it.
MAX_PAYLOAD_BYTES = 32 * 1024 * 1024


class PayloadTooLarge(httpx.RequestError):
    """An answer longer than the limit: refused while it arrives, never read whole."""


class BoundedTransport(httpx.BaseTransport):
    """A transport whose every answer must arrive whole within `deadline` seconds and `max_bytes` bytes.

    httpx's timeouts are per network phase: a server that trickles one byte a second never trips them and
    holds a poll (and its feed's thread) for ever. This bounds the whole answer, and the size while it streams.
    """

    def __init__(self, inner: httpx.BaseTransport, deadline: float, max_bytes: int = MAX_PAYLOAD_BYTES) -> None:
        self.inner, self.deadline, self.max_bytes = inner, deadline, max_bytes

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        started = time.monotonic()
        response = self.inner.handle_request(request)
        declared = response.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > self.max_bytes:
            response.close()
            raise PayloadTooLarge(f"{request.url} announces {int(declared):,} bytes, over the {self.max_bytes:,}"
                                  " a payload may have", request=request)
        response.stream = _BoundedStream(response.stream, request, started + self.deadline, self.deadline,
                                         self.max_bytes)
        return response

    def close(self) -> None:
        self.inner.close()


class _BoundedStream(httpx.SyncByteStream):
    def __init__(self, inner: Any, request: httpx.Request, until: float, deadline: float, max_bytes: int) -> None:
        self.inner, self.request, self.until, self.deadline, self.max_bytes = inner, request, until, deadline, max_bytes

    def __iter__(self) -> Iterator[bytes]:
        received = 0
        for chunk in self.inner:
            received += len(chunk)
            if received > self.max_bytes:
                raise PayloadTooLarge(f"{self.request.url} sent more than the {self.max_bytes:,} bytes a payload "
                                      "may have", request=self.request)
            if time.monotonic() > self.until:
                raise httpx.ReadTimeout(f"no whole answer within {self.deadline:g} s (the feed's timeout, for "
                                        "the whole answer)", request=self.request)
            yield chunk

    def close(self) -> None:
        close = getattr(self.inner, "close", None)
        if close is not None:
            close()


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
