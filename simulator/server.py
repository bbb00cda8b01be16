"""The simulator's HTTP server: serves every registered agency feed at simulated time, on localhost.

`start()` runs it in a daemon thread for `ioc demo` and the tests; `serve_forever()` blocks for
`ioc simulate`. GET / lists the feeds as JSON; any other path outside the registry is a 404. Given an
`mqtt_url`, the sensors that push over MQTT are also published to that broker (simulator.mqtt_publisher).
"""

from __future__ import annotations

import logging
import sys
import threading
from collections.abc import Callable
from datetime import datetime

from flask import Flask, Response, jsonify, request
from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server

from simulator.city import SimCity
from simulator.clock import SimClock
from simulator.feeds import FEEDS, BadFeedRequest, FeedRender, FeedRequest
from simulator.feeds.common import utc_iso
from simulator.feeds.mqtt import PUBLISHERS
from simulator.mqtt_publisher import MqttPublisher
from simulator.scenario import Scenario

log = logging.getLogger("simulator")


def create_app(clock: SimClock, city: SimCity, mqtt_url: str | None = None) -> Flask:
    """The WSGI app: one route per registered feed, rendered for the clock's current simulated time."""
    app = Flask("simulator")

    @app.get("/")
    def index() -> Response:
        base = request.host_url.rstrip("/")
        return jsonify(
            {
                "simulator": "Da Nang city IOC demo agencies",
                "seed": city.seed,
                "speed": clock.speed,
                "started": utc_iso(clock.start),
                "now": utc_iso(clock.now()),
                "feeds": [
                    {"path": path, "url": base + path, "about": _about(render)}
                    for path, render in FEEDS.items()
                ],
                "mqtt": {"broker": mqtt_url, "topics": [f"{prefix}/+" for prefix in PUBLISHERS]},
            }
        )

    for path, render in FEEDS.items():
        app.add_url_rule(path, endpoint=path, view_func=_view(clock, city, render))

    @app.errorhandler(404)
    def not_found(_error: Exception) -> tuple[Response, int]:
        return jsonify({"error": f"no feed at {request.path}", "feeds": list(FEEDS)}), 404

    return app


def _view(clock: SimClock, city: SimCity, render: FeedRender) -> Callable[[], Response]:
    def view() -> Response:
        feed_request = FeedRequest(request.args.items(), base_url=request.host_url)
        try:
            body, content_type = render(city, clock.now(), feed_request)
            status = 200
        except BadFeedRequest as exc:
            body, content_type, status = exc.body, exc.content_type, 400
        # a feed is live data: clients and proxies must come back for the next poll
        return Response(body, status=status, content_type=content_type, headers={"Cache-Control": "no-store"})

    return view


def _about(render: FeedRender) -> str:
    """The first line of the feed module's docstring: what the feed is, for the index."""
    module = sys.modules.get(render.__module__)
    doc = (module.__doc__ if module else None) or ""
    return doc.strip().splitlines()[0] if doc.strip() else ""


class _QuietHandler(WSGIRequestHandler):
    """Feeds are polled every few seconds: request lines go to debug logging, not the terminal."""

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        log.debug("%s %s %s", self.command, self.path, code)


class SimulatorServer:
    """A running simulator: its base `url`, `clock` and `city`; `stop()` shuts it down."""

    def __init__(
        self, server: BaseWSGIServer, clock: SimClock, city: SimCity, publisher: MqttPublisher | None = None
    ) -> None:
        self._server = server
        self.clock = clock
        self.city = city
        self.publisher = publisher
        self.url = f"http://{server.host}:{server.port}"
        self._thread = threading.Thread(target=server.serve_forever, name="ioc-simulator", daemon=True)

    def start(self) -> SimulatorServer:
        if self.publisher is not None:
            self.publisher.start()
        self._thread.start()
        return self

    def serve_in_foreground(self) -> None:
        """Serve on the calling thread until interrupted (Ctrl-C)."""
        if self.publisher is not None:
            self.publisher.start()
        try:
            self._server.serve_forever()
        except KeyboardInterrupt:
            pass
        finally:
            if self.publisher is not None:
                self.publisher.stop()
            self._server.server_close()

    @property
    def running(self) -> bool:
        return self._thread.is_alive()

    def stop(self) -> None:
        if self.publisher is not None:
            self.publisher.stop()
        # shutdown() waits for the serving loop to notice: only ask a loop that is running
        if self._thread.is_alive():
            self._server.shutdown()
            self._thread.join(timeout=10)
        self._server.server_close()

    def __enter__(self) -> SimulatorServer:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.stop()


def build(
    host: str = "127.0.0.1",
    port: int = 8061,
    seed: int = 42,
    speed: float = 1.0,
    start: datetime | None = None,
    *,
    mqtt_url: str | None = None,
    mqtt_interval: float = 5.0,
) -> SimulatorServer:
    """A simulator bound to host:port (0 picks a free port), not yet serving; with `mqtt_url`, a publisher
    that pushes the MQTT sensors to that broker every `mqtt_interval` real seconds once started."""
    clock = SimClock(start, speed)
    city = SimCity(seed, scenario=Scenario(clock.start))
    app = create_app(clock, city, mqtt_url)
    server = make_server(host, port, app, threaded=True, request_handler=_QuietHandler)
    publisher = MqttPublisher(mqtt_url, clock, city, interval=mqtt_interval) if mqtt_url else None
    return SimulatorServer(server, clock, city, publisher)


def start(
    host: str = "127.0.0.1",
    port: int = 8061,
    seed: int = 42,
    speed: float = 1.0,
    start: datetime | None = None,
    *,
    mqtt_url: str | None = None,
    mqtt_interval: float = 5.0,
) -> SimulatorServer:
    """Serve the simulator in a daemon thread (and publish to `mqtt_url` if given) and return at once."""
    return build(host, port, seed, speed, start, mqtt_url=mqtt_url, mqtt_interval=mqtt_interval).start()


def serve_forever(
    host: str = "127.0.0.1", port: int = 8061, seed: int = 42, speed: float = 1.0, *, mqtt_url: str | None = None
) -> None:
    """Serve the simulator in the foreground until interrupted (Ctrl-C), publishing to `mqtt_url` if given."""
    simulator = build(host, port, seed, speed, mqtt_url=mqtt_url)
    for path in FEEDS:
        print(f"  {simulator.url}{path}", flush=True)
    if mqtt_url:
        for prefix in PUBLISHERS:
            print(f"  {mqtt_url.rstrip('/')}/{prefix}/+", flush=True)
    simulator.serve_in_foreground()
