"""Sensors that push over MQTT: the drainage company's flood sensors and the water company's pressure loggers.

Each sensor publishes one JSON message to `danang/drainage/flood/<sensor_id>` or
`danang/water/pressure/<sensor_id>` (the publisher in simulator.mqtt_publisher sends them to a broker).
For when no broker is reachable, GET /mqtt/<topic prefix> serves the latest message of every sensor as
the envelopes an MQTT client would have received: [{"topic": ..., "payload": {...}}, ...].
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Any

from simulator.city import SimCity
from simulator.feeds.common import JSON, FeedRequest, json_bytes, utc_iso
from simulator.water import flood_sensors, pressure_sensors, read_flood_sensor, read_pressure_sensor

FLOOD_TOPIC = "danang/drainage/flood"
PRESSURE_TOPIC = "danang/water/pressure"
HTTP_ROOT = "/mqtt/"

Message = tuple[str, dict[str, Any]]


def _messages(topic: str, sensors: Iterable[Any], read: Callable[[SimCity, Any, datetime], Any], metric: str,
              city: SimCity, now: datetime) -> list[Message]:
    """One JSON message per sensor on `<topic>/<sensor id>`, carrying its one measured value."""
    messages = []
    for sensor in sensors:
        reading = read(city, sensor, now)
        payload = {
            "sensor_id": sensor.id,
            "lat": sensor.lat,
            "lon": sensor.lon,
            metric: getattr(reading, metric),
            "battery_pct": reading.battery_pct,
            "ts": utc_iso(reading.observed_at),
        }
        messages.append((f"{topic}/{sensor.id}", payload))
    return messages


def flood_messages(city: SimCity, now: datetime) -> list[Message]:
    return _messages(FLOOD_TOPIC, flood_sensors(city), read_flood_sensor, "water_level_cm", city, now)


def pressure_messages(city: SimCity, now: datetime) -> list[Message]:
    return _messages(PRESSURE_TOPIC, pressure_sensors(city), read_pressure_sensor, "pressure_bar", city, now)


# topic prefix -> the messages its sensors publish; the HTTP fallback and the publisher share this table
PUBLISHERS: dict[str, Callable[[SimCity, datetime], list[Message]]] = {
    FLOOD_TOPIC: flood_messages,
    PRESSURE_TOPIC: pressure_messages,
}


def _envelopes(messages: list[Message]) -> bytes:
    return json_bytes([{"topic": topic, "payload": payload} for topic, payload in messages])


def render_flood_sensors(city: SimCity, now: datetime, request: FeedRequest) -> tuple[bytes, str]:
    return _envelopes(flood_messages(city, now)), JSON


def render_pressure_sensors(city: SimCity, now: datetime, request: FeedRequest) -> tuple[bytes, str]:
    return _envelopes(pressure_messages(city, now)), JSON
