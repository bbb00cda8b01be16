"""The simulated city moved elsewhere: an HTTP front for a running simulator that serves its JSON feeds with
every coordinate shifted by a fixed offset, so a second demo city (Hue) gets live feeds around its own
centre from the same seeded simulator instead of a copy of it. Texts (street names) stay the simulator's."""

from __future__ import annotations

import http.server
import json
import threading
from typing import Any

import httpx

GEOMETRIES = {"Point", "MultiPoint", "LineString", "MultiLineString", "Polygon", "MultiPolygon"}
PAIRS = (("lon", "lat"), ("long", "lat"), ("longitude", "latitude"))


def _shift_coordinates(value: Any, dx: float, dy: float) -> Any:
    if isinstance(value, list) and len(value) >= 2 and all(isinstance(v, int | float) for v in value[:2]):
        return [round(value[0] + dx, 6), round(value[1] + dy, 6), *value[2:]]
    if isinstance(value, list):
        return [_shift_coordinates(item, dx, dy) for item in value]
    return value


def shifted(value: Any, dx: float, dy: float) -> Any:
    """`value` with GeoJSON geometries and lon/lat fields moved by (dx, dy) degrees, at any depth."""
    if isinstance(value, list):
        return [shifted(item, dx, dy) for item in value]
    if not isinstance(value, dict):
        return value
    out = {key: shifted(item, dx, dy) for key, item in value.items()}
    if out.get("type") in GEOMETRIES and "coordinates" in out:
        out["coordinates"] = _shift_coordinates(value["coordinates"], dx, dy)
    for lon, lat in PAIRS:
        if isinstance(out.get(lon), int | float) and isinstance(out.get(lat), int | float):
            out[lon] = round(out[lon] + dx, 6)
            out[lat] = round(out[lat] + dy, 6)
    return out


class MovedFeeds:
    """Serves `origin`'s feeds on `port`, JSON ones moved by `offset` (lon, lat degrees), others as they are."""

    def __init__(self, origin: str, port: int, offset: tuple[float, float], host: str = "127.0.0.1") -> None:
        self.origin = origin.rstrip("/")
        self.offset = offset
        client = httpx.Client(timeout=10)
        front = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 - the standard library's name
                try:
                    answer = client.get(front.origin + self.path)
                except httpx.HTTPError as exc:
                    self.send_error(502, f"simulator not reachable: {type(exc).__name__}")
                    return
                body = answer.content
                kind = answer.headers.get("content-type", "")
                if answer.status_code == 200 and "json" in kind:
                    body = json.dumps(shifted(json.loads(body), *front.offset), ensure_ascii=False).encode()
                self.send_response(answer.status_code)
                self.send_header("Content-Type", kind or "application/octet-stream")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *_args: object) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer((host, port), Handler)
        self.server.daemon_threads = True
        self.url = f"http://{host}:{self.server.server_address[1]}"

    def start(self) -> MovedFeeds:
        threading.Thread(target=self.server.serve_forever, name="moved-feeds", daemon=True).start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
