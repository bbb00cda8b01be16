"""Reader of bespoke JSON REST feeds (power outages, ambulance dispatch, dossiers) via the feed's mapping."""

from __future__ import annotations

from typing import Any

from data_adapters.contract import Batch, FeedContext, PayloadError, Reader, load_json, read_records, register
from data_adapters.mapping import MISSING, MappedRecords, check_mapping, load_mapping, resolve


@register
class JsonReader(Reader):
    """Records found at the mapping's `records` path; dotted paths (with list indexes) reach nested fields."""

    id = "json"

    def check_mapping(self, mapping: dict[str, Any]) -> None:
        check_mapping(mapping)

    def parse(self, payload: bytes, feed: FeedContext) -> Batch:
        mapping = load_mapping(feed, self.id)
        document = load_json(payload)
        found = document if not mapping.records else resolve(document, mapping.records)
        where = mapping.records or "records"
        if found is MISSING:
            raise PayloadError(f"{where}: not in the document (mapping records: '{mapping.records}')")
        if not isinstance(found, list):
            raise PayloadError(f"{where}: expected a list of records, got {_kind(found)}")
        records = MappedRecords(mapping, feed, root=document)

        def read(label: str, record: Any) -> None:
            if not isinstance(record, dict):
                raise PayloadError(f"{label}: expected an object, got {_kind(record)}")
            records.add(record, lambda field: f"{label}.{field}")

        return read_records(records.batch(), ((f"{where}[{i}]", record) for i, record in enumerate(found)), read)


def _kind(value: Any) -> str:
    return {dict: "an object", list: "a list", str: "a string", bool: "a boolean", type(None): "null"}.get(
        type(value), "a number"
    )
