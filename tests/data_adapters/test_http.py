"""The readers' shared HTTP layer: following next links in the body, Link headers, and offset/limit paging."""

from __future__ import annotations

import json
import threading
import tracemalloc
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from data_adapters.base import PayloadError, load_json
from data_adapters.http import Paging, PayloadTooLarge, fetch_pages, parsed
from ioc.runner import make_http_client

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


# --- the bounds every answer is held to, against a real server on loopback ------------------------------


class MisbehavingAgency:
    """An agency server that trickles, floods or nests; each path is one way of being a bad neighbour."""

    def __init__(self) -> None:
        from werkzeug.serving import make_server

        self.stop = threading.Event()
        self.server = make_server("127.0.0.1", 0, self.app, threaded=True)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()

    def app(self, environ: dict[str, Any], start_response: Any) -> Any:
        path = environ["PATH_INFO"]
        if path == "/trickle":  # one byte at a time, each well within the read timeout, never finishing
            start_response("200 OK", [("Content-Type", "application/json")])
            return self._trickle()
        if path == "/flood":  # 50 MB without saying so in advance
            start_response("200 OK", [("Content-Type", "application/json")])
            return (b"[" + b"0," * 512 * 1024 for _ in range(50))
        if path == "/announced":
            start_response("200 OK", [("Content-Type", "application/json"), ("Content-Length", str(50 << 20))])
            return [b"["]
        start_response("200 OK", [("Content-Type", "application/json")])
        return [b"[" * 100_000 + b"]" * 100_000]  # /nested: deeper than any parser should follow

    def _trickle(self) -> Iterator[bytes]:
        yield b"["
        while not self.stop.wait(0.1):
            yield b" "

    def close(self) -> None:
        self.stop.set()
        self.server.shutdown()


@pytest.fixture
def misbehaving() -> Iterator[MisbehavingAgency]:
    agency = MisbehavingAgency()
    yield agency
    agency.close()


def test_a_trickling_answer_is_cut_at_the_whole_answer_deadline(misbehaving: MisbehavingAgency) -> None:
    with make_http_client(timeout=1.0) as client, pytest.raises(httpx.ReadTimeout, match="whole answer"):
        client.get(misbehaving.url + "/trickle")  # without the bound this never returns


@pytest.mark.parametrize("path", ["/flood", "/announced"])
def test_an_oversized_answer_is_refused_while_it_arrives_and_memory_stays_bounded(
    misbehaving: MisbehavingAgency, path: str
) -> None:
    tracemalloc.start()
    try:
        with make_http_client(timeout=30.0, max_bytes=8 << 20) as client, pytest.raises(PayloadTooLarge):
            client.get(misbehaving.url + path)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    # bounded by the 8 MB limit (what was read, and its copy as the body is joined), never by the 50 MB sent
    assert peak < 3 * (8 << 20)


def test_a_deeply_nested_payload_is_a_refused_payload_not_a_crash(misbehaving: MisbehavingAgency) -> None:
    with make_http_client(timeout=10.0) as client:
        body = client.get(misbehaving.url + "/nested").content

    with pytest.raises(PayloadError):
        load_json(body)
