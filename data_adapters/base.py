"""The adapter contract every agency reader implements: fetch a payload, parse it to the uniform model.

A reader never touches Redis, Dash or scheduling. The runner (ioc.runner) owns timeouts, retries,
the atomic write and the feed's health; a reader only says what a payload means, or raises
`PayloadError` when it cannot, in which case nothing of that payload is stored. One bad record never
loses its batch: a reader reads its records through `read_records`, which counts a refused record with
its reason on the batch (`Batch.problems`, shown in the feed's health) and reads on; a record kept without
a part it could not read is noted with `batch.note(where, reason, refused=False)`.

    class MyReader(Reader):
        id = "my-standard"
        def parse(self, payload: bytes, feed: FeedContext) -> Batch: ...

Register it with `@register` and name it in agencies.yaml as `reader: my-standard`. A reader module
imports all of this, with the model and the vocabulary, from `data_adapters.contract`.
"""

from __future__ import annotations

import codecs
import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, ClassVar, TypeVar

import httpx
import orjson

from ioc.model import Batch


class PayloadError(ValueError):
    """The payload (or, inside `read_records`, one record) is malformed or not what the reader expects."""


@dataclass(frozen=True, slots=True)
class FeedContext:
    """What a reader knows of the feed it parses: enough to name entities and read the mapping."""

    name: str
    agency: str
    sector: str
    city: str = "danang"
    url: str = ""
    mapping: dict[str, Any] = field(default_factory=dict)

    def urn(self, local_id: object) -> str:
        """Stable entity id: urn:ioc:<city>:<feed>:<local id as published by the agency>."""
        local = str(local_id).strip().replace(" ", "_")
        if not local:
            raise PayloadError("a record has an empty id")
        return f"urn:ioc:{self.city}:{self.name}:{local}"

    @classmethod
    def for_test(cls, reader_id: str, city: str = "danang") -> FeedContext:
        """The context `ioc adapters test` uses when no configured feed is named."""
        return cls(name=f"test-{reader_id}", agency="test", sector="test", city=city)


class Reader:
    """Base class of every reader. Subclasses set `id` and implement `parse`; `fetch` is a plain GET."""

    id: ClassVar[str] = ""
    #: what `ioc adapters test --file` needs to know: readers that can parse a file on its own
    reads_files: ClassVar[bool] = True

    def fetch(self, client: httpx.Client, feed: FeedContext) -> bytes:
        """Fetch one payload. Raise httpx errors as they come: the runner retries and records them."""
        response = client.get(feed.url)
        response.raise_for_status()
        return response.content

    def parse(self, payload: bytes, feed: FeedContext) -> Batch:  # pragma: no cover - abstract
        raise NotImplementedError

    def check_mapping(self, mapping: dict[str, Any]) -> None:
        """Validate a feed's `mapping:` when configuration loads; raise ValueError naming the field."""


_REGISTRY: dict[str, type[Reader]] = {}


def register(cls: type[Reader]) -> type[Reader]:
    """Class decorator: make a reader available under its `id`."""
    if not cls.id:
        raise TypeError(f"{cls.__name__} has no id")
    if cls.id in _REGISTRY and _REGISTRY[cls.id] is not cls:
        raise TypeError(f"reader id '{cls.id}' is registered twice")
    _REGISTRY[cls.id] = cls
    return cls


def get_reader(reader_id: str) -> Reader:
    load_all()
    try:
        return _REGISTRY[reader_id]()
    except KeyError:
        known = ", ".join(sorted(_REGISTRY))
        raise KeyError(f"unknown reader '{reader_id}' (known: {known})") from None


def reader_ids() -> list[str]:
    load_all()
    return sorted(_REGISTRY)


def load_all() -> None:
    """Import every reader module so that its @register runs (the list is data_adapters.READERS)."""
    import importlib

    from data_adapters import READER_MODULES

    for module in READER_MODULES:
        importlib.import_module(f"data_adapters.{module}")


# --- helpers shared by readers ----------------------------------------------------------------------


def load_json(payload: bytes | str) -> Any:
    try:
        return orjson.loads(payload)  # several times faster than json on large collections
    except orjson.JSONDecodeError:
        pass
    # the standard library names the line and column of the problem, and reads what orjson refuses
    # but JSON allows in practice (NaN from some exporters)
    try:
        return json.loads(payload)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise PayloadError(f"not valid JSON: {exc}") from None
    except RecursionError:  # orjson stops at 1024 levels; the standard library at the interpreter's limit
        raise PayloadError("not read: nested deeper than any agency payload should be") from None


def parse_time(value: Any, *, field_name: str = "time") -> datetime:
    """ISO 8601 text or epoch seconds to an aware UTC datetime; PayloadError if neither."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return datetime.fromtimestamp(value, UTC)
    if isinstance(value, str) and value:
        text = value.strip()
        if text.isdigit():
            return datetime.fromtimestamp(int(text), UTC)
        # SensorThings phenomenonTime may be an interval "start/end": the end is when it was observed
        if "/" in text:
            text = text.split("/")[-1]
        try:
            moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
        except ValueError:
            raise PayloadError(f"{field_name}: '{value}' is not an ISO 8601 time") from None
        return moment.astimezone(UTC) if moment.tzinfo else moment.replace(tzinfo=UTC)
    raise PayloadError(f"{field_name}: missing or not a time ({value!r})")


def as_float(value: Any, *, field_name: str) -> float:
    if isinstance(value, bool):
        raise PayloadError(f"{field_name}: expected a number, got a boolean")
    try:
        return float(value)
    except (TypeError, ValueError):
        raise PayloadError(f"{field_name}: expected a number, got {value!r}") from None


def lon_lat(lon: Any, lat: Any, *, field_name: str = "location") -> tuple[float, float]:
    x, y = as_float(lon, field_name=f"{field_name}.lon"), as_float(lat, field_name=f"{field_name}.lat")
    if not (-180 <= x <= 180 and -90 <= y <= 90):
        raise PayloadError(f"{field_name}: ({x}, {y}) is not a WGS84 longitude/latitude")
    return (x, y)



# --- one record at a time -----------------------------------------------------------------------------

R = TypeVar("R")


def read_records(
    batch: Batch, records: Iterable[tuple[str, R]], read: Callable[[str, R], None], *, last: bool = True
) -> Batch:
    """`read(where, record)` for each record: one it refuses with a PayloadError is counted on the batch
    with its reason and the rest are read; a payload whose every record is refused is refused whole.

    `read` adds to the batch only once the record is wholly read, so a refused record leaves nothing behind.
    A PayloadError raised by `records` itself (the payload's structure, not one record) refuses the payload.
    A reader that assembles its batch from several parts passes `last=False` for each and calls
    `refuse_if_nothing_kept` on the assembled batch.
    """
    for where, record in records:
        try:
            read(where, record)
        except PayloadError as exc:
            batch.note(where, str(exc), refused=True)
    return refuse_if_nothing_kept(batch) if last else batch


def refuse_if_nothing_kept(batch: Batch) -> Batch:
    """The batch, unless every record of it was refused: then nothing is left to trust, and the payload is
    refused whole (so the runner keeps it for inspection), naming the first reason."""
    refused = batch.refused
    if refused and not batch.record_count:
        raise PayloadError(f"every record refused ({len(refused)}), the first: {refused[0]}")
    return batch


# Byte-order marks, longest first (UTF-32-LE's begins with UTF-16-LE's)
_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32"), (codecs.BOM_UTF32_BE, "utf-32"), (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16"),
)


def text_encoding(payload: bytes) -> str:
    """The encoding a text payload declares by its byte-order mark, else 'utf-8'. UTF-16 or UTF-32 without a
    mark (ASCII characters with NUL bytes between them) is refused naming it, rather than called corrupt."""
    for bom, encoding in _BOMS:
        if payload.startswith(bom):
            return encoding
    head = payload[:64]
    if head and head.count(0) * 4 >= len(head):
        width = "UTF-32" if head.count(0) * 4 >= len(head) * 3 else "UTF-16"
        raise PayloadError(f"{width} text without a byte-order mark: the agency must send UTF-8, or {width} with one")
    return "utf-8"
