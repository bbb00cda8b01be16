"""The mqtt-json reader: envelopes, bare messages, ids from topics, and refused payloads."""

from __future__ import annotations

from pathlib import Path

import pytest

from data_adapters.base import FeedContext, PayloadError, get_reader

FIXTURES = Path(__file__).parents[1] / "fixtures" / "mqtt-json"
MAPPING = {
    "id": "sensor_id", "lon": "lon", "lat": "lat", "time": "ts", "entity_type": "FloodSensor",
    "metrics": {"water_level_cm": {"field": "water_level_cm", "unit": "cm"}},
}
FEED = FeedContext(name="flood-sensors", agency="danang-drainage", sector="environment", mapping=MAPPING)


def parse(payload: bytes):  # noqa: ANN201
    return get_reader("mqtt-json").parse(payload, FEED)


def test_envelopes_take_missing_ids_from_the_topic() -> None:
    batch = parse((FIXTURES / "flood-sensor-envelopes.json").read_bytes())
    assert [e.id for e in batch.entities] == ["urn:ioc:danang:flood-sensors:FL-01",
                                              "urn:ioc:danang:flood-sensors:FL-07"]
    assert batch.entities[1].attributes["water_level_cm"] == 38.0
    assert batch.entities[1].location == (108.2119, 16.0412)
    assert {(o.metric, o.unit) for o in batch.observations} == {("water_level_cm", "cm")}
    assert batch.observations[0].time.isoformat() == "2026-11-27T08:00:00+00:00"


def test_a_bare_message_is_one_sensor() -> None:
    batch = parse((FIXTURES / "flood-sensor-message.json").read_bytes())
    assert len(batch.entities) == 1 and batch.entities[0].type == "FloodSensor"


@pytest.mark.parametrize(
    ("payload", "message"),
    [
        (b'[{"topic": "a/FL-1", "payload": {"lat": 16.0, "lon"', "not valid JSON"),
        (b'[{"topic": "a/FL-1", "payload": {"lat": 16.0, "lon": 108.2, "water_level_cm": "deep"}}]',
         "water_level_cm"),
        (b'[{"topic": "a/FL-1", "payload": "raw text"}]', "not a JSON object"),
        (b"[42]", "expected a JSON object"),
    ],
)
def test_bad_messages_are_refused_with_where_and_why(payload: bytes, message: str) -> None:
    with pytest.raises(PayloadError, match=message):
        parse(payload)


def test_an_empty_list_is_an_empty_batch() -> None:
    batch = parse(b"[]")
    assert batch.entities == [] and batch.observations == []


def test_the_reader_needs_a_mapping() -> None:
    with pytest.raises(PayloadError, match="needs a field mapping"):
        get_reader("mqtt-json").parse(b"{}", FeedContext(name="x", agency="a", sector="s"))
