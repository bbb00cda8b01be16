"""The security headers of every response, the Content-Security-Policy among them."""

from __future__ import annotations

from urllib.parse import urlsplit

import dash
import flask

from ioc.access.permissions import LOGIN_PATH


class ContentPolicy:
    """The Content-Security-Policy header: scripts from this site and Dash's own inline scripts (by hash)
    only; styles may be inline because Plotly writes its own <style> rules."""

    def __init__(self, app: dash.Dash, tile_url: str | None) -> None:
        self.app = app
        self.images = ["'self'", "data:", "blob:"]
        if tile_url:
            parts = urlsplit(tile_url.replace("{", "").replace("}", ""))
            if parts.scheme in ("http", "https") and parts.netloc:
                self.images.append(f"{parts.scheme}://{parts.netloc}")
        self._scripts: tuple[int, str] | None = None

    def header(self) -> str:
        inline = len(self.app._inline_scripts)
        if self._scripts is None or self._scripts[0] != inline:
            hashes = " ".join(self.app.csp_hashes())
            self._scripts = (len(self.app._inline_scripts), hashes)
        return "; ".join([
            "default-src 'self'",
            f"script-src 'self' {self._scripts[1]}",
            "style-src 'self' 'unsafe-inline'",
            f"img-src {' '.join(self.images)}",
            "font-src 'self' data:",
            "connect-src 'self'",
            "worker-src 'self' blob:",
            "object-src 'none'",
            "base-uri 'self'",
            "form-action 'self'",
            "frame-ancestors 'none'",
        ])


def add_headers(response: flask.Response, policy: ContentPolicy) -> flask.Response:
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["X-Frame-Options"] = "DENY"
    response.headers["Referrer-Policy"] = "same-origin"
    response.headers["Content-Security-Policy"] = policy.header()
    response.headers["Cross-Origin-Opener-Policy"] = "same-origin"
    if flask.request.path in (LOGIN_PATH, "/logout", "/_dash-layout") or flask.request.path.startswith(("/api/", "/odata/")):
        response.headers["Cache-Control"] = "no-store"
    return response
