"""Pushed feeds through a real Mosquitto broker: messages stored, a bad message refused alone, HTTP fallback."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator

import paho.mqtt.client as mqtt
import pytest
from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response

from ioc.areas import area_index
from ioc.config import Feed
from ioc.mqtt import MqttFeedWorker, envelopes, parse_mqtt_url
from ioc.store import Store
from tests.waiting import wait_until

MAPPING = {
    "id": "sensor_id", "lon": "lon", "lat": "lat", "time": "ts", "entity_type": "FloodSensor",
    "metrics": {"water_level_cm": {"field": "water_level_cm", "unit": "cm"}},
}


def _message(sensor: str, level: float) -> dict[str, object]:
    return {"sensor_id": sensor, "lon": 108.2208, "lat": 16.0678, "water_level_cm": level,
            "ts": "2026-11-27T08:00:00Z"}


def _feed(url: str, fallback: str | None = None) -> Feed:
    return Feed(name="flood-sensors", agency="danang-drainage", agency_name={"vi": "Thoát nước", "en": "Drainage"},
                sector="environment", reader="mqtt-json", url=url, fallback_url=fallback, interval=0.3,
                mapping=MAPPING)


def test_mqtt_urls_keep_wildcards() -> None:
    address = parse_mqtt_url("mqtt://broker.local:1884/danang/drainage/flood/#")
    assert (address.host, address.port, address.topic) == ("broker.local", 1884, "danang/drainage/flood/#")
    assert parse_mqtt_url("mqtt://h/a/+").port == 1883
    with pytest.raises(ValueError):
        parse_mqtt_url("mqtt://h")


def test_envelopes_keep_non_json_messages_as_text() -> None:
    items = json.loads(envelopes([("t/1", b'{"a": 1}'), ("t/2", b"\xffnot json")]))
    assert items[0] == {"topic": "t/1", "payload": {"a": 1}}
    assert isinstance(items[1]["payload"], str)


def test_a_broken_message_among_good_ones_is_counted_and_kept_alone(fake_store: Store, settings) -> None:  # noqa: ANN001
    # the worker's buffer as a busy broker fills it between two flushes; no connection is made
    worker = MqttFeedWorker(_feed("mqtt://127.0.0.1:1/danang/drainage/flood/+"), store=fake_store,
                            areas=area_index(settings.city), rules=None, city="danang", stop=threading.Event())
    worker._buffer = [("danang/drainage/flood/FL-01", json.dumps(_message("FL-01", 12.5)).encode()),
                      ("danang/drainage/flood/FL-03", b"{broken"),
                      ("danang/drainage/flood/FL-02", json.dumps(_message("FL-02", 30.0)).encode())]
    outcome = worker.flush()

    assert outcome is not None and outcome.ok and outcome.records == 2
    assert [problem.where for problem in outcome.batch.refused] == ["message[1]"]
    # a message is a payload of its own: with nothing in it to trust it is kept to inspect, alone
    (rejected,) = fake_store.rejected_payloads("flood-sensors")
    assert "FL-03" in rejected["payload"] and "FL-01" not in rejected["payload"]
    assert {e["id"].rsplit(":", 1)[-1] for e in fake_store.entities_of_feed("flood-sensors")} == {"FL-01", "FL-02"}


def _run_worker(worker: MqttFeedWorker) -> threading.Thread:
    thread = threading.Thread(target=worker.run, daemon=True)
    thread.start()
    return thread


@pytest.mark.integration
def test_messages_from_a_real_broker_are_stored(mosquitto_url, store: Store, settings) -> None:  # noqa: ANN001
    stop = threading.Event()
    worker = MqttFeedWorker(_feed(f"{mosquitto_url}/danang/drainage/flood/+"), store=store,
                            areas=area_index(settings.city), rules=None, city="danang", stop=stop)
    thread = _run_worker(worker)
    assert worker.connected.wait(10)
    address = parse_mqtt_url(mosquitto_url + "/x")
    publisher = mqtt.Client(callback_api_version=mqtt.CallbackAPIVersion.VERSION2)
    publisher.connect(address.host, address.port)
    publisher.loop_start()
    publisher.publish("danang/drainage/flood/FL-01", json.dumps(_message("FL-01", 12.5)), qos=1).wait_for_publish()
    # the id may come from the topic alone
    bare = _message("x", 30.0)
    del bare["sensor_id"]
    publisher.publish("danang/drainage/flood/FL-02", json.dumps(bare), qos=1).wait_for_publish()
    publisher.publish("danang/drainage/flood/FL-03", b"{broken", qos=1).wait_for_publish()
    # both readings stored and the broken message refused: all three handled
    wait_until(lambda: len(store.entities_of_feed("flood-sensors")) >= 2
               and any("FL-03" in r["payload"] for r in store.rejected_payloads("flood-sensors")),
               timeout=10, message="two stored readings and the refused FL-03 message")
    stop.set()
    thread.join(5)
    publisher.disconnect()  # a connected client's loop_stop() waits out its network loop's 1 s select
    publisher.loop_stop()
    levels = {e["id"].rsplit(":", 1)[-1]: e["attributes"]["water_level_cm"]
              for e in store.entities_of_feed("flood-sensors")}
    assert levels == {"FL-01": 12.5, "FL-02": 30.0}
    assert store.entities_of_feed("flood-sensors")[0]["district"] == "Hải Châu"
    rejected = store.rejected_payloads("flood-sensors")
    assert any("FL-03" in r["payload"] for r in rejected)


@pytest.fixture
def fallback_server() -> Iterator[str]:
    @Request.application
    def app(request: Request) -> Response:
        body = [{"topic": "danang/drainage/flood/FL-09", "payload": _message("FL-09", 41.0)}]
        return Response(json.dumps(body), content_type="application/json")

    server = make_server("127.0.0.1", 0, app, threaded=True)
    # shutdown() waits for the serve loop's next poll: 0.5 s by default
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}/mqtt/flood"
    server.shutdown()


def test_an_unreachable_broker_falls_back_to_http(fallback_server, fake_store: Store, settings) -> None:  # noqa: ANN001
    from ioc.redis_conn import free_port

    stop = threading.Event()
    feed = _feed(f"mqtt://127.0.0.1:{free_port()}/danang/drainage/flood/+", fallback=fallback_server)
    worker = MqttFeedWorker(feed, store=fake_store, areas=area_index(settings.city), rules=None, city="danang",
                            stop=stop)
    thread = _run_worker(worker)
    wait_until(lambda: fake_store.entities_of_feed("flood-sensors"), timeout=10,
               message="the reading fetched from the HTTP fallback")
    stop.set()
    thread.join(5)
    [entity] = fake_store.entities_of_feed("flood-sensors")
    assert entity["attributes"]["water_level_cm"] == 41.0
    health = fake_store.feed_health("flood-sensors")
    assert "unreachable" in health.last_error and "fallback" in health.last_error
    assert health.last_success is not None
