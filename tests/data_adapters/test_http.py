"""The readers' shared HTTP layer: following next links in the body, Link headers, and offset/limit paging."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from data_adapters.base import PayloadError, load_json
from data_adapters.http import Paging, fetch_pages, parsed

ITEMS = [{"id": str(n)} for n in range(7)]


def client_for(handler: Any) -> httpx.Client:
    return httpx.Client(transport=httpx.MockTransport(handler))


def test_one_page_is_returned_as_the_server_sent_it() -> None:
    body = b'{"value": [{"id": "1"}], "@iot.count": 1}'
    with client_for(lambda request: httpx.Response(200, content=body)) as client:
        assert fetch_pages(client, "http://x/Things", Paging(next_link="@iot.nextLink"), load=load_json) == body


def test_link_headers_are_followed_into_one_array() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        offset = int(request.url.params.get("offset", 0))
        page = ITEMS[offset : offset + 3]
        headers = {"Link": f'</ngsi-ld/v1/entities?offset={offset + 3}>; rel="next"'} if offset + 3 < len(ITEMS) else {}
        return httpx.Response(200, json=page, headers=headers)

    with client_for(handler) as client:
        merged = fetch_pages(client, "http://broker/ngsi-ld/v1/entities", Paging(members="", link_header=True),
                             load=load_json)
    assert json.loads(merged) == ITEMS


def test_offset_and_limit_paging_stops_at_a_short_page() -> None:
    asked: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        asked.append(str(request.url))
        skip, top = int(request.url.params.get("$skip", 0)), int(request.url.params["$top"])
        return httpx.Response(200, json={"value": ITEMS[skip : skip + top]})

    paging = Paging(offset_param="$skip", limit_param="$top", limit=3)
    with client_for(handler) as client:
        merged = fetch_pages(client, "http://sta/v1.1/Things", paging, load=load_json)
    assert json.loads(merged) == {"value": ITEMS}
    assert len(asked) == 3


def test_max_pages_caps_the_walk() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        page = int(request.url.params.get("page", 0))
        return httpx.Response(200, json={"items": [page], "next": f"?page={page + 1}"})

    with client_for(handler) as client:
        merged = fetch_pages(client, "http://x/list", Paging(members="items", next_link="next"), load=load_json,
                             max_pages=4)
    assert json.loads(merged) == {"items": [0, 1, 2, 3]}


def test_a_later_page_of_another_shape_is_refused() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.params.get("page"):
            return httpx.Response(200, json={"error": "busy"})
        return httpx.Response(200, json={"value": [1], "@iot.nextLink": "?page=2"})

    with client_for(handler) as client, pytest.raises(PayloadError, match="page 2"):
        fetch_pages(client, "http://x/Things", Paging(next_link="@iot.nextLink"), load=load_json)


def test_the_fetched_document_is_handed_on_and_a_plain_payload_is_loaded() -> None:
    body = b'{"value": [{"id": "1"}]}'
    with client_for(lambda request: httpx.Response(200, content=body)) as client:
        fetched = fetch_pages(client, "http://x/Things", Paging(next_link="@iot.nextLink"), load=load_json)

    def refuse(payload: bytes) -> Any:
        raise AssertionError("loaded a second time")

    assert parsed(fetched, refuse) == {"value": [{"id": "1"}]}
    assert parsed(bytes(fetched), load_json) == {"value": [{"id": "1"}]}


def test_a_page_that_does_not_load_is_left_to_parse() -> None:
    with client_for(lambda request: httpx.Response(200, content=b"{oops")) as client:
        payload = fetch_pages(client, "http://x/Things", Paging(next_link="@iot.nextLink"), load=load_json)
    assert payload == b"{oops"
    with pytest.raises(PayloadError):
        parsed(payload, load_json)
