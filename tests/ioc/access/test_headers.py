"""The security headers of every response: a Content-Security-Policy that lets only this site's scripts and
Dash's own inline ones (by hash) run, no framing, no sniffing, and no caching of sign-in or API answers."""

from __future__ import annotations

import base64
import hashlib
import re

import dash

from ioc.access.headers import ContentPolicy
from tests.ioc.access.conftest import signed_in


def directive(policy: str, name: str) -> str:
    return next(part for part in policy.split("; ") if part.startswith(f"{name} "))


def test_security_headers_on_pages_and_sign_in(app: dash.Dash) -> None:
    for response in (signed_in(app, "admin").get("/"), app.server.test_client().get("/login")):
        headers = response.headers
        assert headers["X-Content-Type-Options"] == "nosniff"
        assert headers["X-Frame-Options"] == "DENY"
        assert headers["Referrer-Policy"] == "same-origin"
        policy = headers["Content-Security-Policy"]
        assert "frame-ancestors 'none'" in policy and "object-src 'none'" in policy
        script_src = directive(policy, "script-src")
        assert "'unsafe-inline'" not in script_src and "'unsafe-eval'" not in script_src
        assert "'sha256-" in script_src  # Dash's own inline renderer script, by hash


def test_the_pages_inline_scripts_are_all_covered_by_the_policy(app: dash.Dash) -> None:
    response = signed_in(app, "admin").get("/")
    # scripts inside HTML comments (Dash's note for old Internet Explorer) never run
    page = re.sub(r"<!--.*?-->", "", response.get_data(as_text=True), flags=re.S)
    policy = response.headers["Content-Security-Policy"]
    inline = re.findall(r"<script(?![^>]*\bsrc=)(?![^>]*application/json)[^>]*>(.*?)</script>", page, re.S)
    assert inline
    for script in inline:
        digest = base64.b64encode(hashlib.sha256(script.encode()).digest()).decode()
        assert f"'sha256-{digest}'" in policy


def test_sign_in_layout_and_api_answers_are_not_cached(app: dash.Dash) -> None:
    client = signed_in(app, "admin")
    for path in ("/login", "/_dash-layout", "/api/v1/kpis"):
        assert client.get(path).headers.get("Cache-Control") == "no-store", path
    assert client.get("/").headers.get("Cache-Control") != "no-store"


def test_images_come_from_this_site_and_the_configured_tile_server_only(app: dash.Dash) -> None:
    images = directive(app.server.test_client().get("/login").headers["Content-Security-Policy"], "img-src")
    assert images.split()[1:] == ["'self'", "data:", "blob:"]  # Da Nang draws its map without tiles
    tiles = ContentPolicy(app, "https://tiles.example.org/{z}/{x}/{y}.png").header()
    assert directive(tiles, "img-src").split()[1:] == ["'self'", "data:", "blob:", "https://tiles.example.org"]
    for unusable in ("javascript:alert(1)//{z}", "tiles/{z}/{x}/{y}.png", "ftp://tiles.example.org/{z}"):
        assert directive(ContentPolicy(app, unusable).header(), "img-src").split()[1:] == ["'self'", "data:", "blob:"]
