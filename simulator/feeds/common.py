"""What every simulated feed shares: the request it is rendering for, refusing a bad one, JSON bytes."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, datetime
from typing import Any

from ioc.i18n import CITY_ZONE
from simulator.city import SimCity

JSON = "application/json; charset=utf-8"
DEFAULT_BASE_URL = "http://127.0.0.1:8061"


class FeedRequest(dict[str, str]):
    """The query arguments of one request (a plain dict), plus where the simulator was reached.

    `base_url` is the scheme and host the client used, so links a standard requires to be absolute
    (SensorThings' @iot.nextLink) point back at the same server.
    """

    def __init__(
        self, args: Mapping[str, str] | Iterable[tuple[str, str]] = (), *, base_url: str = DEFAULT_BASE_URL
    ) -> None:
        super().__init__(args)
        self.base_url = base_url.rstrip("/")


class BadFeedRequest(ValueError):
    """The client asked for something the standard does not allow; served as HTTP 400 with `body`."""

    def __init__(self, message: str, body: bytes | None = None, content_type: str = JSON) -> None:
        super().__init__(message)
        self.body = body if body is not None else json_bytes({"error": message})
        self.content_type = content_type


# render(city, now, request) -> (body, content type): the one signature every simulated feed has
FeedRender = Callable[[SimCity, datetime, FeedRequest], tuple[bytes, str]]


def json_bytes(document: Any) -> bytes:
    """Compact UTF-8 JSON (Vietnamese as is, not \\u-escaped), with keys in the order they were built."""
    return json.dumps(document, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def utc_iso(moment: datetime) -> str:
    """'2025-06-12T07:28:36Z', the form SensorThings servers publish."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def local_iso(moment: datetime) -> str:
    """'2025-06-12T14:28:36+07:00': agency systems in the city publish wall-clock time with its offset."""
    return moment.astimezone(CITY_ZONE).isoformat(timespec="seconds")
