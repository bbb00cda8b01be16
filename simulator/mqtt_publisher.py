"""Pushes the simulated MQTT sensors (flood levels, water pressure) to a real broker, as the devices would.

A background thread publishes every sensor's latest message (retained, so a subscriber that joins later
gets each sensor's last reading at once) every `interval` seconds of real time. When the broker cannot be
reached it says so once, keeps serving nothing over MQTT (the HTTP fallback still works) and quietly tries
again every `retry` seconds; it says once more when it gets through.
"""

from __future__ import annotations

import logging
import threading
import uuid
from urllib.parse import urlsplit

import paho.mqtt.client as mqtt

from simulator.city import SimCity
from simulator.clock import SimClock
from simulator.feeds.common import json_bytes
from simulator.feeds.mqtt import PUBLISHERS

log = logging.getLogger("simulator.mqtt")

DEFAULT_PORT = 1883
PUBLISH_INTERVAL_S = 5.0
RETRY_S = 30.0
CONNECT_TIMEOUT_S = 5.0


def broker_address(url: str) -> tuple[str, int, str | None, str | None]:
    """(host, port, username, password) of an mqtt:// URL; ValueError for anything else."""
    parts = urlsplit(url)
    if parts.scheme != "mqtt" or not parts.hostname:
        raise ValueError(f"expected an mqtt://host[:port] URL, got '{url}'")
    return parts.hostname, parts.port or DEFAULT_PORT, parts.username, parts.password


class MqttPublisher:
    """Publishes every MQTT-pushed sensor of the simulated city to the broker at `url`."""

    def __init__(
        self,
        url: str,
        clock: SimClock,
        city: SimCity,
        *,
        interval: float = PUBLISH_INTERVAL_S,
        retry: float = RETRY_S,
    ) -> None:
        self.url = url
        self.host, self.port, username, password = broker_address(url)
        self.clock = clock
        self.city = city
        self.interval = interval
        self.retry = retry
        self.connected = False
        self.attempts = 0
        self.published = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="ioc-simulator-mqtt", daemon=True)
        # a broker drops the older of two clients with one id: every simulator gets its own
        client_id = f"ioc-simulator-{uuid.uuid4().hex[:12]}"
        self._client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=client_id)
        self._client.connect_timeout = CONNECT_TIMEOUT_S
        if username:
            self._client.username_pw_set(username, password)

    def start(self) -> MqttPublisher:
        self._thread.start()
        return self

    @property
    def running(self) -> bool:
        return self._thread.is_alive()

    def stop(self, timeout: float = 10.0) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout)
        if self.connected:
            self._client.disconnect()
            self._client.loop_stop()
            self.connected = False

    def publish_once(self) -> int:
        """Publish every sensor's message for the simulated now; returns how many were handed to the client."""
        now = self.clock.now()
        sent = 0
        for messages in PUBLISHERS.values():
            for topic, payload in messages(self.city, now):
                self._client.publish(topic, json_bytes(payload), qos=0, retain=True)
                sent += 1
        self.published += sent
        return sent

    def _connect(self) -> bool:
        self.attempts += 1
        try:
            self._client.connect(self.host, self.port, keepalive=30)
        except OSError as exc:
            if self.attempts == 1:
                log.warning("MQTT broker %s unreachable (%s): sensors are served over HTTP only", self.url, exc)
            return False
        # paho's network thread keeps the connection and reconnects on its own from here on
        self._client.loop_start()
        self.connected = True
        if self.attempts == 1:
            log.info("publishing MQTT sensors to %s", self.url)
        else:
            log.warning("MQTT broker %s reachable again: publishing sensors", self.url)
        return True

    def _run(self) -> None:
        while not self._stop.is_set():
            if not self.connected and not self._connect():
                self._stop.wait(self.retry)
                continue
            self.publish_once()
            self._stop.wait(self.interval)
