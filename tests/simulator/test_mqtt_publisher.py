"""The simulator's MQTT side: sensors pushed to a real mosquitto broker, and the HTTP fallback when there is none."""

from __future__ import annotations

import json
import logging
import queue
import threading
from collections.abc import Iterator

import httpx
import paho.mqtt.client as mqtt
import pytest

from data_adapters.base import get_reader
from ioc.runner import feed_context
from simulator.city import SimCity
from simulator.clock import SimClock
from simulator.feeds.mqtt import FLOOD_TOPIC, PRESSURE_TOPIC
from simulator.mqtt_publisher import MqttPublisher, broker_address
from simulator.server import SimulatorServer, start
from simulator.water import flood_sensors, pressure_sensors

from .agency_feeds import feed_named
from .conftest import MORNING, _free_port

WAIT_S = 20.0

pytestmark = pytest.mark.integration


class Subscriber:
    """A paho client subscribed to the simulator's sensor topics, collecting what arrives."""

    def __init__(self, url: str) -> None:
        host, port, _user, _password = broker_address(url)
        self.messages: queue.Queue[tuple[str, dict]] = queue.Queue()
        self._subscribed = threading.Event()
        self.client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id="ioc-simulator-test")
        self.client.on_connect = self._on_connect
        self.client.on_subscribe = lambda *_args: self._subscribed.set()
        self.client.on_message = lambda _c, _u, msg: self.messages.put((msg.topic, json.loads(msg.payload)))
        self.client.connect(host, port)
        self.client.loop_start()
        assert self._subscribed.wait(WAIT_S), "could not subscribe to the test broker"

    def _on_connect(self, client: mqtt.Client, *_args: object) -> None:
        client.subscribe([(f"{FLOOD_TOPIC}/+", 0), (f"{PRESSURE_TOPIC}/+", 0)])

    def topics_until(self, wanted: set[str]) -> dict[str, dict]:
        """Messages by topic, until every wanted topic has arrived (or WAIT_S without a message)."""
        seen: dict[str, dict] = {}
        while not wanted <= set(seen):
            try:
                topic, payload = self.messages.get(timeout=WAIT_S)
            except queue.Empty:
                break
            seen[topic] = payload
        return seen

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


@pytest.fixture
def subscriber(mosquitto_url: str) -> Iterator[Subscriber]:
    listening = Subscriber(mosquitto_url)
    yield listening
    listening.close()


@pytest.fixture
def simulator(mosquitto_url: str) -> Iterator[SimulatorServer]:
    server = start(port=0, seed=42, speed=60, start=MORNING, mqtt_url=mosquitto_url, mqtt_interval=0.5)
    yield server
    server.stop()


def test_every_sensor_publishes_to_its_topic(subscriber: Subscriber, simulator: SimulatorServer) -> None:
    city = simulator.city
    wanted = {f"{FLOOD_TOPIC}/{s.id}" for s in flood_sensors(city)} | {
        f"{PRESSURE_TOPIC}/{s.id}" for s in pressure_sensors(city)
    }
    seen = subscriber.topics_until(wanted)
    assert set(seen) == wanted
    flood = seen[f"{FLOOD_TOPIC}/FL-07"]
    assert flood["sensor_id"] == "FL-07" and set(flood) == {"sensor_id", "lat", "lon", "water_level_cm",
                                                            "battery_pct", "ts"}
    assert "pressure_bar" in seen[f"{PRESSURE_TOPIC}/WP-01"]
    assert simulator.publisher is not None and simulator.publisher.connected


def test_pushed_messages_parse_with_the_feeds_reader(subscriber: Subscriber, simulator: SimulatorServer) -> None:
    feed = feed_named("flood-sensors")
    wanted = {f"{FLOOD_TOPIC}/{s.id}" for s in flood_sensors(simulator.city)}
    seen = subscriber.topics_until(wanted)
    # the runner's MQTT worker hands the reader what arrived as envelopes, like the HTTP fallback serves
    envelopes = [{"topic": topic, "payload": payload} for topic, payload in seen.items() if topic in wanted]
    batch = get_reader(feed.reader).parse(json.dumps(envelopes).encode(), feed_context(feed, "danang"))
    assert len(batch.entities) == len(wanted)
    assert all("water_level_cm" in e.attributes and e.location for e in batch.entities)


def test_the_http_fallback_serves_the_same_messages(simulator: SimulatorServer) -> None:
    document = httpx.get(simulator.url + "/mqtt/danang/drainage/flood", timeout=10).json()
    assert {d["topic"] for d in document} == {f"{FLOOD_TOPIC}/{s.id}" for s in flood_sensors(simulator.city)}
    index = httpx.get(simulator.url + "/", timeout=10).json()
    assert index["mqtt"]["broker"].startswith("mqtt://127.0.0.1:")
    assert f"{FLOOD_TOPIC}/+" in index["mqtt"]["topics"]


def test_stop_ends_the_publisher(mosquitto_url: str) -> None:
    server = start(port=0, start=MORNING, mqtt_url=mosquitto_url, mqtt_interval=0.2)
    publisher = server.publisher
    assert publisher is not None and publisher.running
    server.stop()
    assert not publisher.running and not publisher.connected


def test_an_unreachable_broker_is_logged_once_and_http_carries_on(caplog: pytest.LogCaptureFixture) -> None:
    url = f"mqtt://127.0.0.1:{_free_port()}"  # nothing listens there
    caplog.set_level(logging.INFO, logger="simulator.mqtt")
    publisher = MqttPublisher(url, SimClock(MORNING), SimCity(42), retry=0.05)
    attempted = threading.Event()
    connect = publisher._connect

    def counting_connect() -> bool:
        result = connect()
        if publisher.attempts >= 3:
            attempted.set()
        return result

    publisher._connect = counting_connect  # type: ignore[method-assign]
    publisher.start()
    try:
        assert attempted.wait(WAIT_S)
    finally:
        publisher.stop()
    assert not publisher.running and not publisher.connected and publisher.published == 0
    warnings = [r for r in caplog.records if "unreachable" in r.getMessage()]
    assert len(warnings) == 1 and url in warnings[0].getMessage()


def test_a_simulator_with_an_unreachable_broker_still_serves_http() -> None:
    server = start(port=0, start=MORNING, mqtt_url=f"mqtt://127.0.0.1:{_free_port()}")
    try:
        response = httpx.get(server.url + "/mqtt/danang/water/pressure", timeout=10)
        assert response.status_code == 200 and len(response.json()) == len(pressure_sensors(server.city))
    finally:
        server.stop()
    assert server.publisher is not None and not server.publisher.running


def test_only_mqtt_urls_are_accepted() -> None:
    assert broker_address("mqtt://broker.example.org") == ("broker.example.org", 1883, None, None)
    assert broker_address("mqtt://ioc:secret@10.0.0.5:1884") == ("10.0.0.5", 1884, "ioc", "secret")
    with pytest.raises(ValueError, match="mqtt://"):
        broker_address("http://127.0.0.1:1883")
