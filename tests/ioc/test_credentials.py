"""Feeds with credentials against real local servers: each kind reaches the agency, OAuth2 tokens are reused and
renewed, a missing secret is the feed's error, and no secret reaches Redis, a log, the feeds page or the CLI."""

from __future__ import annotations

import base64
import json
import logging
import secrets
import shutil
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import plotly.utils
import pytest
import redis
import yaml
from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response

from ioc import credentials
from ioc.areas import area_index
from ioc.config import DEFAULT_CONFIG_DIR, PROJECT_ROOT, ConfigError, Feed, Settings, load_settings
from ioc.runner import poll_feed
from ioc.store import Store
from ioc.web import context_of
from layouts import feeds as feeds_page
from layouts.app import create_app

POINTS = {"type": "FeatureCollection", "features": [
    {"type": "Feature", "id": "p1", "geometry": {"type": "Point", "coordinates": [108.22, 16.07]},
     "properties": {"name": "Pump 1", "level": 1.5}},
]}


class Agency:
    """A local agency API and OAuth2 token endpoint that records every request it sees."""

    def __init__(self) -> None:
        self.requests: list[dict[str, Any]] = []
        self.client_id, self.client_secret = "ioc-danang", f"cs-{secrets.token_hex(8)}"
        self.expires_in: float | None = 3600
        self.issued: list[str] = []
        self.revoked: set[str] = set()
        self.token_status = 200
        self.refuse_all = False
        self.server = make_server("127.0.0.1", 0, self.app, threaded=True)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05},
                                       daemon=True)

    def seen(self, path: str) -> list[dict[str, Any]]:
        return [r for r in self.requests if r["path"] == path]

    @Request.application
    def app(self, request: Request) -> Response:
        self.requests.append({"path": request.path, "headers": dict(request.headers), "args": dict(request.args),
                              "form": dict(request.form), "url": request.url})
        if request.path == "/token":
            return self._token(request)
        if request.path == "/data":
            token = request.headers.get("Authorization", "").removeprefix("Bearer ")
            if token not in self.issued or token in self.revoked or self.refuse_all:
                return Response('{"error": "invalid_token"}', status=401, content_type="application/json")
            return Response(json.dumps(POINTS), content_type="application/geo+json")
        if request.path == "/open":
            return Response(json.dumps(POINTS), content_type="application/geo+json")
        if request.path.startswith("/echo"):
            # what a careless server does: quote the request, URL and headers, back in its answer
            echo = f"{request.url}\n" + "\n".join(f"{k}: {v}" for k, v in request.headers.items())
            return Response(echo, status=401 if request.path == "/echo-401" else 200, content_type="text/plain")
        if request.path == "/moved":
            return Response("", status=302, headers={"Location": request.args["to"]})
        return Response("not found", status=404)

    def _token(self, request: Request) -> Response:
        basic = request.authorization
        if (basic is None or basic.type != "basic" or (basic.username, basic.password)
                != (self.client_id, self.client_secret)) or request.form.get("grant_type") != "client_credentials":
            return Response(json.dumps({"error": "invalid_client", "error_description": f"got {basic}"}),
                            status=401, content_type="application/json")
        if self.token_status != 200:
            return Response("{}", status=self.token_status, content_type="application/json")
        token = f"at-{len(self.issued) + 1}-{secrets.token_hex(6)}"
        self.issued.append(token)
        answer: dict[str, Any] = {"access_token": token, "token_type": "Bearer"}
        if self.expires_in is not None:
            answer["expires_in"] = self.expires_in
        return Response(json.dumps(answer), content_type="application/json")


def _start() -> Agency:
    agency = Agency()
    agency.thread.start()
    return agency


@pytest.fixture
def agency() -> Iterator[Agency]:
    server = _start()
    yield server
    server.server.shutdown()


@pytest.fixture
def elsewhere() -> Iterator[Agency]:
    """Another host (another origin): must never see a feed's credentials."""
    server = _start()
    yield server
    server.server.shutdown()


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    """The token cache on a clock the test moves, emptied so each test fetches its own first token."""
    fake = Clock()
    monkeypatch.setattr(credentials.TOKENS, "clock", fake)
    credentials.TOKENS.clear()
    return fake


def _feed(url: str, auth: dict[str, Any] | None, **overrides: Any) -> Feed:
    fields: dict[str, Any] = dict(name="pumps", agency="danang-dpi", agency_name={"vi": "Sở", "en": "Dept"},
                                  sector="environment", reader="geojson", url=url, interval=60, timeout=2.0,
                                  retries=0, auth=auth)
    fields.update(overrides)
    return Feed(**fields)


def _poll(feed: Feed, store: Store, settings: Settings) -> Any:
    with httpx.Client(timeout=feed.timeout, follow_redirects=True) as http:
        return poll_feed(feed, store=store, http=http, areas=area_index(settings.city), sleep=lambda s: None)


def _oauth(agency: Agency, **extra: Any) -> dict[str, Any]:
    return {"type": "oauth2_client_credentials", "token_url": f"{agency.url}/token", "client_id": agency.client_id,
            "client_secret": {"env": "PUMPS_CLIENT_SECRET"}, **extra}


# --- configuration ------------------------------------------------------------------------------------


@pytest.fixture
def city_dir(tmp_path: Path) -> Path:
    target = tmp_path / "city"
    shutil.copytree(DEFAULT_CONFIG_DIR, target)
    return target


def _set_auth(city: Path, auth: Any, url: str | None = None) -> None:
    path = city / "agencies.yaml"
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    data["feeds"][0]["auth"] = auth
    if url:
        data["feeds"][0]["url"] = url
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")


def test_a_secret_written_into_the_file_is_refused_without_repeating_it(city_dir: Path) -> None:
    _set_auth(city_dir, {"type": "bearer", "token": "tok-WRITTEN-IN-7f3a"})
    with pytest.raises(ConfigError) as err:
        load_settings(city_dir)
    message = str(err.value)
    assert "agencies.yaml: feeds[0] (air-stations): auth.bearer.token" in message
    assert "by reference" in message and "tok-WRITTEN-IN-7f3a" not in message


@pytest.mark.parametrize(("auth", "field"), [
    ({"type": "api_key", "key": {"env": "A", "file": "b"}}, "auth.api_key.key"),
    ({"type": "api_key", "key": {}}, "auth.api_key.key"),
    ({"type": "api_key", "key": {"env": "A"}, "in": "cookie"}, "auth.api_key.in"),
    ({"type": "oauth2_client_credentials", "token_url": "ftp://x", "client_id": "c",
      "client_secret": {"env": "S"}}, "auth.oauth2_client_credentials.token_url"),
    ({"type": "kerberos"}, "auth"),
])
def test_a_bad_auth_names_file_entry_and_field(city_dir: Path, auth: dict[str, Any], field: str) -> None:
    _set_auth(city_dir, auth)
    with pytest.raises(ConfigError, match=rf"agencies.yaml: feeds\[0\] \(air-stations\): {field}"):
        load_settings(city_dir)


def test_every_kind_loads_by_reference(city_dir: Path) -> None:
    _set_auth(city_dir, {"type": "basic", "username": "ioc", "password": {"file": "secrets/pumps"}})
    feed = load_settings(city_dir).feeds[0]
    assert feed.auth is not None and feed.auth.type == "basic"


# --- each kind at the agency ----------------------------------------------------------------------------


@pytest.mark.parametrize(("auth", "check"), [
    ({"type": "bearer", "token": {"env": "PUMPS_SECRET"}},
     lambda r, s: r["headers"]["Authorization"] == f"Bearer {s}"),
    ({"type": "api_key", "key": {"env": "PUMPS_SECRET"}},
     lambda r, s: r["headers"]["X-Api-Key"] == s),
    ({"type": "api_key", "key": {"env": "PUMPS_SECRET"}, "in": "query", "name": "appid"},
     lambda r, s: r["args"] == {"appid": s, "page": "1"}),
    ({"type": "basic", "username": "ioc", "password": {"env": "PUMPS_SECRET"}},
     lambda r, s: r["headers"]["Authorization"] == "Basic " + base64.b64encode(f"ioc:{s}".encode()).decode()),
], ids=["bearer", "header-key", "query-key", "basic"])
def test_each_kind_of_credential_reaches_the_agency(agency: Agency, fake_store: Store, settings: Settings,
                                                    monkeypatch: pytest.MonkeyPatch, auth: dict[str, Any],
                                                    check: Any) -> None:
    secret = f"s3cr3t+{secrets.token_hex(6)}"
    monkeypatch.setenv("PUMPS_SECRET", secret)
    outcome = _poll(_feed(f"{agency.url}/open?page=1", auth), fake_store, settings)
    assert outcome.ok, outcome.error
    assert check(agency.seen("/open")[0], secret)


def test_a_secret_from_a_file_is_read_at_each_poll(agency: Agency, fake_store: Store, settings: Settings,
                                                   tmp_path: Path) -> None:
    path = tmp_path / "pumps-token"
    path.write_text("first-token\n", encoding="utf-8")
    feed = _feed(f"{agency.url}/open", {"type": "bearer", "token": {"file": str(path)}})
    assert _poll(feed, fake_store, settings).ok
    path.write_text("rotated-token\n", encoding="utf-8")
    assert _poll(feed, fake_store, settings).ok
    assert [r["headers"]["Authorization"] for r in agency.seen("/open")] == ["Bearer first-token",
                                                                            "Bearer rotated-token"]


def test_a_redirect_to_another_host_does_not_carry_the_key(agency: Agency, elsewhere: Agency, fake_store: Store,
                                                           settings: Settings, monkeypatch: pytest.MonkeyPatch
                                                           ) -> None:
    # httpx drops Authorization on a redirect to another origin, but not an API key header
    monkeypatch.setenv("PUMPS_SECRET", "key-for-pumps-only")
    feed = _feed(f"{agency.url}/moved?to={elsewhere.url}/open", {"type": "api_key", "key": {"env": "PUMPS_SECRET"}})
    assert _poll(feed, fake_store, settings).ok
    assert agency.seen("/moved")[0]["headers"]["X-Api-Key"] == "key-for-pumps-only"
    assert "X-Api-Key" not in elsewhere.seen("/open")[0]["headers"]


def test_the_client_is_given_back_as_it_was(agency: Agency, fake_store: Store, settings: Settings,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PUMPS_SECRET", "only-for-pumps")
    with httpx.Client(timeout=2.0) as http:
        areas = area_index(settings.city)
        feed = _feed(f"{agency.url}/open", {"type": "api_key", "key": {"env": "PUMPS_SECRET"}})
        assert poll_feed(feed, store=fake_store, http=http, areas=areas).ok
        other = _feed(f"{agency.url}/open", None, name="other")
        assert poll_feed(other, store=fake_store, http=http, areas=areas).ok
        assert http.auth is None and http.event_hooks["request"] == []
    assert "X-Api-Key" not in agency.seen("/open")[1]["headers"]


@pytest.mark.parametrize(("auth", "expected"), [
    ({"type": "bearer", "token": {"env": "PUMPS_UNSET_TOKEN"}},
     "credentials: auth.token: environment variable PUMPS_UNSET_TOKEN is not set"),
    ({"type": "bearer", "token": {"file": "/nonexistent/pumps-token"}},
     "credentials: auth.token: secret file /nonexistent/pumps-token is not readable (No such file or directory)"),
])
def test_a_missing_secret_is_the_feeds_error_not_a_crash(agency: Agency, fake_store: Store, settings: Settings,
                                                         monkeypatch: pytest.MonkeyPatch, auth: dict[str, Any],
                                                         expected: str) -> None:
    monkeypatch.delenv("PUMPS_UNSET_TOKEN", raising=False)
    outcome = _poll(_feed(f"{agency.url}/open", auth), fake_store, settings)
    assert not outcome.ok and outcome.error == expected
    health = fake_store.feed_health("pumps")
    assert health.last_error == expected and health.consecutive_failures == 1
    assert agency.requests == []  # nothing is sent without its credentials


# --- OAuth2 client credentials against a real token endpoint -----------------------------------------------


def test_one_token_serves_many_polls_and_the_agency_sees_it(agency: Agency, fake_store: Store, settings: Settings,
                                                            monkeypatch: pytest.MonkeyPatch, clock: Clock) -> None:
    monkeypatch.setenv("PUMPS_CLIENT_SECRET", agency.client_secret)
    feed = _feed(f"{agency.url}/data", _oauth(agency, scope="read:pumps"))
    for _ in range(3):
        clock.now += 60
        assert _poll(feed, fake_store, settings).ok
    tokens = agency.seen("/token")
    assert len(tokens) == 1
    assert tokens[0]["form"] == {"grant_type": "client_credentials", "scope": "read:pumps"}
    assert [r["headers"]["Authorization"] for r in agency.seen("/data")] == [f"Bearer {agency.issued[0]}"] * 3


def test_a_token_is_renewed_shortly_before_it_expires(agency: Agency, fake_store: Store, settings: Settings,
                                                      monkeypatch: pytest.MonkeyPatch, clock: Clock) -> None:
    monkeypatch.setenv("PUMPS_CLIENT_SECRET", agency.client_secret)
    agency.expires_in = 600
    feed = _feed(f"{agency.url}/data", _oauth(agency, refresh_margin=30))
    assert _poll(feed, fake_store, settings).ok
    clock.now += 569  # 31 s of life left: still used
    assert _poll(feed, fake_store, settings).ok
    clock.now += 2  # 29 s left, inside the margin: renewed
    assert _poll(feed, fake_store, settings).ok
    assert len(agency.seen("/token")) == 2
    assert [r["headers"]["Authorization"] for r in agency.seen("/data")] == [
        f"Bearer {agency.issued[0]}", f"Bearer {agency.issued[0]}", f"Bearer {agency.issued[1]}"]


def test_a_401_fetches_a_new_token_once(agency: Agency, fake_store: Store, settings: Settings,
                                        monkeypatch: pytest.MonkeyPatch, clock: Clock) -> None:
    monkeypatch.setenv("PUMPS_CLIENT_SECRET", agency.client_secret)
    agency.expires_in = None  # kept until refused
    feed = _feed(f"{agency.url}/data", _oauth(agency))
    assert _poll(feed, fake_store, settings).ok
    agency.revoked.add(agency.issued[0])
    assert _poll(feed, fake_store, settings).ok
    assert len(agency.seen("/token")) == 2 and len(agency.seen("/data")) == 3
    # a server that refuses every token: one renewal, then the 401 is the poll's error (no loop)
    agency.refuse_all = True
    outcome = _poll(feed, fake_store, settings)
    assert not outcome.ok and outcome.error.startswith("HTTP 401 from")
    assert len(agency.seen("/token")) == 3 and len(agency.seen("/data")) == 5


def test_a_refused_client_is_a_clear_feed_error(agency: Agency, fake_store: Store, settings: Settings,
                                                monkeypatch: pytest.MonkeyPatch, clock: Clock) -> None:
    monkeypatch.setenv("PUMPS_CLIENT_SECRET", "wrong-secret-9c1e")
    outcome = _poll(_feed(f"{agency.url}/data", _oauth(agency)), fake_store, settings)
    assert outcome.error == (f"credentials: OAuth2 token endpoint {agency.url}/token answered HTTP 401 "
                             "(invalid_client)")
    assert fake_store.feed_health("pumps").last_error == outcome.error
    assert agency.seen("/data") == []


# --- no secret anywhere ---------------------------------------------------------------------------------


def redis_text(client: redis.Redis) -> str:
    """Every key and value of the database, as text."""
    read: dict[str, Any] = {
        "string": client.get, "hash": client.hgetall, "list": lambda k: client.lrange(k, 0, -1),
        "set": lambda k: sorted(client.smembers(k)), "zset": lambda k: client.zrange(k, 0, -1, withscores=True),
        "stream": client.xrange,
    }
    return "\n".join(f"{key} {read[client.type(key)](key)}" for key in client.scan_iter())


def ours(caplog: pytest.LogCaptureFixture) -> str:
    """This process's log as a handler would write it, without the stand-in agency's own access log."""
    formatter = logging.Formatter("%(name)s %(message)s")
    return "\n".join(formatter.format(r) for r in caplog.records if r.name != "werkzeug")


def _leak_forms(secret: str) -> list[str]:
    return [secret, base64.b64encode(f"ioc:{secret}".encode()).decode()]


@pytest.mark.parametrize("auth", [
    {"type": "api_key", "key": {"env": "PUMPS_SECRET"}, "in": "query", "name": "apikey"},
    {"type": "api_key", "key": {"env": "PUMPS_SECRET"}, "in": "query", "name": "x-pumps-k"},
    {"type": "api_key", "key": {"env": "PUMPS_SECRET"}},
    {"type": "bearer", "token": {"env": "PUMPS_SECRET"}},
    {"type": "basic", "username": "ioc", "password": {"env": "PUMPS_SECRET"}},
], ids=["query-key", "query-key-own-name", "header-key", "bearer", "basic"])
def test_no_secret_reaches_redis_logs_the_feeds_page_or_the_cli(
        agency: Agency, fake_store: Store, settings: Settings, monkeypatch: pytest.MonkeyPatch,
        caplog: pytest.LogCaptureFixture, city_dir: Path, auth: dict[str, Any]) -> None:
    sentinel = f"SENTINEL-{secrets.token_hex(8)}"
    monkeypatch.setenv("PUMPS_SECRET", sentinel)
    caplog.set_level(logging.DEBUG)
    # an error that names the URL (a key in its query), then a payload refused that echoes URL and headers
    for path in ("/echo-401", "/echo"):
        outcome = _poll(_feed(f"{agency.url}{path}?station=7", auth), fake_store, settings)
        assert not outcome.ok
    sent = str(agency.requests)
    assert any(form in sent for form in _leak_forms(sentinel))  # it was sent, to the agency only
    health = fake_store.feed_health("pumps")
    assert health.last_error.startswith("payload refused")
    assert fake_store.rejected_payloads("pumps")[0]["payload"].startswith(f"{agency.url}/echo")

    with_feed = settings.model_copy(update={"feeds": [*settings.feeds, _feed(f"{agency.url}/echo", auth)]})
    context = context_of(create_app(fake_store, with_feed, redis_kind="in-process").server)
    page = json.dumps([feeds_page.refresh_board(context, 0, "en", "pumps"),
                       feeds_page.refresh_details(context, "pumps", "en", 0, None)],
                      cls=plotly.utils.PlotlyJSONEncoder)
    assert "/echo" in page  # the refused payload is on the page, masked

    # the CLI lists a feed whose key was pasted into its URL through ${VAR}
    _set_auth(city_dir, auth, url=f"{agency.url}/echo?{auth.get('name', 'apikey')}=${{PUMPS_SECRET}}")
    listed = subprocess.run([sys.executable, "-m", "ioc", "--config", str(city_dir), "adapters", "list", "--json"],
                            cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=120, check=True)
    assert json.loads(listed.stdout)[0]["auth"] == auth["type"]

    logs = ours(caplog)
    assert "HTTP Request" in logs  # httpx's request lines were captured, masked
    for where, text in (("redis", redis_text(fake_store.redis)), ("logs", logs), ("feeds page", page),
                        ("cli", listed.stdout + listed.stderr)):
        for form in _leak_forms(sentinel):
            assert form not in text, f"the secret reached the {where}"


def test_no_oauth_secret_or_token_reaches_redis_or_logs(agency: Agency, fake_store: Store, settings: Settings,
                                                        monkeypatch: pytest.MonkeyPatch,
                                                        caplog: pytest.LogCaptureFixture, clock: Clock) -> None:
    monkeypatch.setenv("PUMPS_CLIENT_SECRET", agency.client_secret)
    caplog.set_level(logging.DEBUG)
    assert not _poll(_feed(f"{agency.url}/echo", _oauth(agency)), fake_store, settings).ok
    monkeypatch.setenv("PUMPS_CLIENT_SECRET", "wrong-and-secret-d41d")
    credentials.TOKENS.clear()
    assert not _poll(_feed(f"{agency.url}/echo", _oauth(agency)), fake_store, settings).ok
    stored, logs = redis_text(fake_store.redis), ours(caplog)
    assert agency.issued and "/echo" in stored
    for secret in (agency.client_secret, agency.issued[0], "wrong-and-secret-d41d"):
        assert secret not in stored and secret not in logs
