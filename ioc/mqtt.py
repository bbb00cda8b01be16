"""Pushed feeds: subscribes to an MQTT broker, ingests what sensors publish, and falls back to HTTP polling.

A feed whose url is `mqtt://host:port/<topic filter>` is run by an `MqttFeedWorker` instead of a poll loop.
Messages are buffered and ingested every `interval` seconds through the same path as polled payloads
(ioc.runner.ingest_payload), so health, privacy, districts and rules behave the same. While the broker is
unreachable the worker polls the feed's `fallback_url` (if any) and says so in the feed's health.
"""

from __future__ import annotations

import json
import logging
import re
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import paho.mqtt.client as mqtt

from ioc.areas import AreaIndex
from ioc.config import Feed
from ioc.model import Batch
from ioc.rules import RuleEngine
from ioc.runner import BatchListener, PollOutcome, ingest_payload, make_http_client, poll_feed
from ioc.store import Store

log = logging.getLogger("ioc.mqtt")
BROKER_RETRY_S = 30.0
MAX_BUFFERED_MESSAGES = 50_000  # a flood of messages while Redis is slow must not eat the machine


@dataclass(frozen=True, slots=True)
class BrokerAddress:
    host: str
    port: int
    topic: str


def parse_mqtt_url(url: str) -> BrokerAddress:
    """`mqtt://host:1883/danang/drainage/flood/+` -> host, port, topic filter (`#` kept: it is no fragment)."""
    if not url.startswith("mqtt://"):
        raise ValueError(f"not an mqtt:// URL: {url}")
    rest = url.removeprefix("mqtt://")
    netloc, _, topic = rest.partition("/")
    host, _, port = netloc.partition(":")
    if not host or not topic:
        raise ValueError(f"an mqtt:// URL needs a host and a topic filter: {url}")
    return BrokerAddress(host=host, port=int(port or 1883), topic=topic)


def envelopes(messages: Sequence[tuple[str, bytes]]) -> bytes:
    """The messages as the mqtt-json reader reads them; a message that is not JSON stays as text so the
    reader refuses it with a clear error and it is kept for inspection."""
    items: list[dict[str, Any]] = []
    for topic, raw in messages:
        try:
            payload: Any = json.loads(raw)
        except (UnicodeDecodeError, json.JSONDecodeError):
            payload = raw.decode("utf-8", errors="replace")
        items.append({"topic": topic, "payload": payload})
    return json.dumps(items, ensure_ascii=False).encode()


# how the mqtt-json reader names the message of an envelope list it refused ("message[3] (topic)")
_MESSAGE_LABEL = re.compile(r"message\[(\d+)\]")


def _refused_messages(batch: Batch) -> list[int]:
    """The positions of the messages the reader refused, in order, each once."""
    found = (_MESSAGE_LABEL.match(problem.where) for problem in batch.refused)
    return sorted({int(match.group(1)) for match in found if match})


class MqttFeedWorker:
    def __init__(
        self, feed: Feed, *, store: Store, areas: AreaIndex, rules: RuleEngine | None, city: str,
        listeners: Sequence[BatchListener] = (), stop: threading.Event,
    ) -> None:
        self.feed = feed
        self.address = parse_mqtt_url(feed.url)
        self.store, self.areas, self.rules, self.city = store, areas, rules, city
        self.listeners = listeners
        self.stop_event = stop
        self.connected = threading.Event()
        self._buffer: list[tuple[str, bytes]] = []
        self._lock = threading.Lock()
        self.dropped = 0
        self.client = mqtt.Client(
            callback_api_version=mqtt.CallbackAPIVersion.VERSION2, client_id=f"ioc-{city}-{feed.name}"
        )
        self.client.on_connect = self._on_connect
        self.client.on_disconnect = self._on_disconnect
        self.client.on_message = self._on_message
        self.client.on_subscribe = self._on_subscribe

    # --- paho callbacks (network thread) ------------------------------------------------------------------
    def _on_connect(self, client: mqtt.Client, userdata: Any, flags: Any, reason: Any, props: Any) -> None:
        if not reason.is_failure:
            client.subscribe(self.address.topic, qos=1)

    def _on_subscribe(self, client: mqtt.Client, userdata: Any, mid: int, reasons: Any, props: Any) -> None:
        # connected counts from the broker's SUBACK: before it, messages published to the topic are not ours
        if reasons and not any(reason.is_failure for reason in reasons):
            self.connected.set()
            log.info("feed %s subscribed to %s on %s:%s", self.feed.name, self.address.topic,
                     self.address.host, self.address.port)

    def _on_disconnect(self, client: mqtt.Client, userdata: Any, flags: Any, reason: Any, props: Any) -> None:
        self.connected.clear()

    def _on_message(self, client: mqtt.Client, userdata: Any, message: mqtt.MQTTMessage) -> None:
        with self._lock:
            if len(self._buffer) >= MAX_BUFFERED_MESSAGES:
                self.dropped += 1
                return
            self._buffer.append((message.topic, bytes(message.payload)))

    # --- the worker loop -----------------------------------------------------------------------------------
    def connect(self) -> bool:
        try:
            self.client.connect(self.address.host, self.address.port, keepalive=30)
        except OSError as exc:
            self._record_unreachable(exc)
            return False
        self.client.loop_start()
        return self.connected.wait(5.0)

    def _record_unreachable(self, exc: Exception) -> None:
        fallback = " ; polling the HTTP fallback" if self.feed.fallback_url else ""
        self.store.record_failure(
            self.feed.name,
            error=f"MQTT broker {self.address.host}:{self.address.port} unreachable: {exc}{fallback}",
            interval=self.feed.interval, stale_factor=self.feed.stale_factor,
        )

    def flush(self) -> PollOutcome | None:
        """Ingest what arrived since the last flush. A refused message does not sink the good ones."""
        with self._lock:
            messages, self._buffer = self._buffer, []
        if not messages:
            return None
        outcome = self._ingest(messages)
        if not outcome.ok and len(messages) > 1:
            # one bad message refused the lot: ingest one by one so every good message is kept
            for message in messages:
                self._ingest([message])
        elif outcome.batch is not None and len(messages) > 1:
            # the good ones are stored; a message refused among them is a payload of its own with nothing in it
            # to trust, so alone it is refused whole and kept for inspection like a polled payload
            for index in _refused_messages(outcome.batch):
                self._ingest([messages[index]])
        return outcome

    def _ingest(self, messages: Sequence[tuple[str, bytes]]) -> PollOutcome:
        return ingest_payload(
            self.feed, envelopes(messages), store=self.store, areas=self.areas, rules=self.rules,
            city=self.city, listeners=self.listeners, replace=False,
        )

    def poll_fallback(self) -> PollOutcome | None:
        if not self.feed.fallback_url:
            return None
        feed = self.feed.model_copy(update={"url": self.feed.fallback_url})
        with make_http_client(feed.timeout) as http:
            return poll_feed(
                feed, store=self.store, http=http, areas=self.areas, rules=self.rules, city=self.city,
                sleep=self.stop_event.wait, listeners=self.listeners,
            )

    def run(self) -> None:
        next_broker_try = 0.0
        try:
            while not self.stop_event.is_set():
                started = time.monotonic()
                if not self.connected.is_set() and started >= next_broker_try:
                    self.client.loop_stop()
                    if not self.connect():
                        next_broker_try = started + BROKER_RETRY_S
                if self.connected.is_set():
                    self.flush()
                else:
                    self.poll_fallback()
                self.stop_event.wait(max(0.0, self.feed.interval - (time.monotonic() - started)))
        finally:
            self.flush()
            self.client.loop_stop()
            self.client.disconnect()
