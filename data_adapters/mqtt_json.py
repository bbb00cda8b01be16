"""Reader of JSON messages that sensors push over MQTT (flood levels, water pressure), via the feed's mapping.

The runner's MQTT worker (ioc.mqtt) hands this reader the messages received since the last flush as a JSON
array of envelopes [{"topic": ..., "payload": {...}}]; the simulator's HTTP fallback serves the same shape,
and `ioc adapters test mqtt-json --file` also takes one bare message or a list of bare messages.
When the mapping names no id field that a message holds, the last topic level is the sensor id
(`danang/drainage/flood/FL-07` -> `FL-07`), as most sensor fleets publish one topic per device.
"""

from __future__ import annotations

from typing import Any

from data_adapters.contract import Batch, FeedContext, PayloadError, Reader, load_json, read_records, register
from data_adapters.mapping import MISSING, MappedRecords, check_mapping, load_mapping, resolve

TOPIC_ID_FIELD = "_topic_id"


@register
class MqttJsonReader(Reader):
    id = "mqtt-json"

    def check_mapping(self, mapping: dict[str, Any]) -> None:
        check_mapping(mapping)

    def parse(self, payload: bytes, feed: FeedContext) -> Batch:
        mapping = load_mapping(feed, self.id)
        document = load_json(payload)
        messages = document if isinstance(document, list) else [document]
        records = MappedRecords(mapping, feed)

        def read(_where: str, item: tuple[int, Any]) -> None:
            index, raw = item
            topic, message = _unwrap(raw, index)
            record = dict(message)
            if topic and resolve(record, mapping.id) is MISSING:
                # the device id lives in the topic, not in the message
                record[mapping.id] = topic.rstrip("/").rsplit("/", 1)[-1]
            label = f"message[{index}]" + (f" ({topic})" if topic else "")
            records.add(record, lambda field: f"{label}.{field}")

        return read_records(records.batch(), ((f"message[{i}]", (i, m)) for i, m in enumerate(messages)), read)


def _unwrap(item: Any, index: int) -> tuple[str | None, dict[str, Any]]:
    if not isinstance(item, dict):
        raise PayloadError(f"message[{index}]: expected a JSON object, got {type(item).__name__}")
    if "topic" in item and "payload" in item:
        message = item["payload"]
        if not isinstance(message, dict):
            raise PayloadError(f"message[{index}] ({item['topic']}): payload is not a JSON object")
        return str(item["topic"]), message
    return None, item
