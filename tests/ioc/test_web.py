"""The dashboard server: pages registered, context reachable, cache choice, and /healthz in both Redis states."""

from __future__ import annotations

import gzip
import json
from datetime import timedelta
from typing import Any

import dash
import redis
from dash import Input, Output
from dash._utils import split_callback_id

from ioc import web
from ioc.config import Settings
from ioc.model import utcnow
from ioc.pages import Callback, Frame
from ioc.store import Store
from layouts import FRAME, PAGES, ids
from layouts.app import create_app
from tests.conftest import unreachable_redis
from tests.layouts.dom import add_user, client_sign_in

PROBE_OUTPUT = "test-probe-city"
PROBE_INPUT = "test-probe-ask"


def test_pages_are_registered_at_their_paths(fake_store: Store, settings: Settings) -> None:
    app = create_app(fake_store, settings, redis_kind="in-process")

    paths = {page["module"]: page["path"] for page in dash.page_registry.values()}

    assert paths["layouts.control_room"] == "/"
    assert paths["layouts.feeds"] == "/feeds"
    assert all(callable(dash.page_registry[module]["layout"]) for module in paths)
    declared = web.context_of(app.server).pages
    assert {page.module: page.path for page in declared} == {page.module: page.path for page in PAGES}
    assert [page.order for page in declared] == sorted(page.order for page in PAGES)  # nav order


def test_pages_and_layout_are_served(fake_store: Store, settings: Settings) -> None:
    app = create_app(fake_store, settings, redis_kind="in-process", cookie_secure=False)
    add_user(app, "admin-1", "admin")
    client = app.server.test_client()
    client_sign_in(client, "admin-1")

    for path in ("/", "/feeds"):
        assert client.get(path).status_code == 200
    layout = client.get("/_dash-layout").get_data(as_text=True)
    assert ids.LANG in layout and ids.CLOCK_TIME in layout
    dependencies = client.get("/_dash-dependencies").get_data(as_text=True)
    assert ids.CITY_MAP in dependencies and ids.FEEDS_BOARD in dependencies


def test_responses_travel_compressed_to_a_browser_that_accepts_it(fake_store: Store, settings: Settings) -> None:
    app = create_app(fake_store, settings, redis_kind="in-process", cookie_secure=False)
    add_user(app, "admin-1", "admin")
    client = app.server.test_client()
    client_sign_in(client, "admin-1")

    zipped = client.get("/_dash-layout", headers={"Accept-Encoding": "gzip"})
    plain = client.get("/_dash-layout")

    assert zipped.headers.get("Content-Encoding") == "gzip"
    assert gzip.decompress(zipped.get_data()) == plain.get_data()  # same body, fewer bytes
    assert len(zipped.get_data()) < len(plain.get_data()) / 2
    # a page holding a CSRF token never is: its compressed size must not give the token away (BREACH)
    sign_in_page = app.server.test_client().get("/login", headers={"Accept-Encoding": "gzip"})
    assert sign_in_page.status_code == 200 and "csrf" in sign_in_page.get_data(as_text=True).lower()
    assert "Content-Encoding" not in sign_in_page.headers


def test_each_app_finds_its_own_context(fake_store: Store, fake_redis: redis.Redis, settings: Settings) -> None:
    first = create_app(fake_store, settings, redis_kind="in-process")
    other_store = Store(fake_redis, "other")
    second = create_app(other_store, settings, redis_kind="server")

    assert web.context_of(first.server).store is fake_store
    assert web.context_of(second.server).store is other_store
    with first.server.app_context():
        assert web.request_context().store is fake_store  # the app serving the request, not the last created
    with second.server.app_context():
        assert web.request_context().redis_kind == "server"


def _probe_frame() -> Frame:
    """The city's frame plus one callback that answers with the city of the context it was handed."""
    probe = Callback(outputs=(Output(PROBE_OUTPUT, "children"),), inputs=(Input(PROBE_INPUT, "n_clicks"),),
                     function=lambda context, clicks: f"{context.store.city}:{clicks}")
    return Frame(layout=FRAME.layout, callbacks=(*FRAME.callbacks, probe))


def _ask_probe(app: dash.Dash, clicks: int) -> Any:
    client = app.server.test_client()
    assert client_sign_in(client, "operator-1").status_code == 302
    key = f"{PROBE_OUTPUT}.children"
    body = {"output": key, "outputs": split_callback_id(key),
            "inputs": [{"id": PROBE_INPUT, "property": "n_clicks", "value": clicks}], "state": [],
            "changedPropIds": [f"{PROBE_INPUT}.n_clicks"]}
    response = client.post("/_dash-update-component", data=json.dumps(body), content_type="application/json")
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.get_json()["response"][PROBE_OUTPUT]["children"]


def test_a_callback_receives_the_context_of_the_app_serving_it_first(
    fake_store: Store, fake_redis: redis.Redis, settings: Settings
) -> None:
    apps = {city: web.create_app(Store(fake_redis, city), settings, redis_kind="in-process", pages=PAGES,
                                 frame=_probe_frame(), cookie_secure=False)
            for city in ("danang", "other")}
    for app in apps.values():
        add_user(app, "operator-1", "operator")

    assert _ask_probe(apps["danang"], 2) == "danang:2"
    assert _ask_probe(apps["other"], 5) == "other:5"


def test_healthz_lists_every_feed_when_redis_answers(fake_store: Store, settings: Settings) -> None:
    fed = settings.feeds[0]
    fake_store.record_success(fed.name, records=4, latency_ms=12.5, interval=fed.interval,
                              stale_factor=fed.stale_factor, now=utcnow() - timedelta(seconds=1))
    app = create_app(fake_store, settings, redis_kind="in-process", cookie_secure=False)
    add_user(app, "integrator-1", "integrator")  # the full body is for integrators; anonymous see status only
    client = app.server.test_client()
    client_sign_in(client, "integrator-1")

    response = client.get("/healthz")

    assert response.status_code == 200
    body = response.get_json()
    assert body["redis"] == {"ok": True, "kind": "in-process"}
    assert set(body["feeds"]) == {feed.name for feed in settings.feeds}
    fresh = body["feeds"][fed.name]
    assert fresh["stale"] is False and fresh["record_count"] == 4 and fresh["fetch_latency_ms"] == 12.5
    assert fresh["last_success"].endswith("+00:00")
    for feed in settings.feeds[1:]:
        never = body["feeds"][feed.name]
        assert never["last_success"] is None and never["stale"] is True
        assert never["interval"] == feed.interval
        assert set(never) == set(fresh)


def test_healthz_reports_redis_down_with_503(settings: Settings) -> None:
    # nothing listens on a port we just freed: every command fails to connect
    unreachable = unreachable_redis(socket_connect_timeout=0.5, decode_responses=True)
    client = create_app(Store(unreachable, "danang"), settings, redis_kind="server").server.test_client()

    response = client.get("/healthz")

    assert response.status_code == 503
    body = response.get_json()
    assert body["redis"]["ok"] is False and body["redis"]["kind"] == "server"
    assert "127.0.0.1" not in response.get_data(as_text=True)
    assert set(body["feeds"]) == {feed.name for feed in settings.feeds}
    assert all(feed["stale"] is True for feed in body["feeds"].values())


def test_cache_is_per_process_without_a_redis_server(fake_store: Store) -> None:
    assert web.cache_config(fake_store, "in-process")["CACHE_TYPE"] == "SimpleCache"
    # a fake client cannot be reached from a second connection whatever the kind says
    assert web.cache_config(fake_store, "server")["CACHE_TYPE"] == "SimpleCache"


def test_cache_uses_the_stores_redis_server() -> None:
    client = redis.Redis.from_url("redis://:s3cret@10.0.0.7:6380/2", decode_responses=True)

    config = web.cache_config(Store(client, "danang"), "server")

    assert config["CACHE_TYPE"] == "RedisCache"
    assert config["CACHE_REDIS_URL"] == "redis://:s3cret@10.0.0.7:6380/2"
    assert web.redis_url(redis.Redis(unix_socket_path="/run/redis.sock", db=1)) == "unix:///run/redis.sock?db=1"


def test_base_layer_is_built_once_then_served_from_the_cache(
    fake_store: Store, settings: Settings, monkeypatch: object
) -> None:
    context = web.context_of(create_app(fake_store, settings, redis_kind="in-process").server)
    first = web.map_base_layer(context)
    monkeypatch.setattr(web, "district_layer", lambda city: [])  # type: ignore[attr-defined]

    assert web.map_base_layer(context) == first
    assert first


def test_base_layer_on_a_real_redis_cache(store: Store, settings: Settings) -> None:
    context = web.context_of(create_app(store, settings, redis_kind="server").server)

    assert web.cache_config(store, "server")["CACHE_TYPE"] == "RedisCache"
    layer = web.map_base_layer(context)

    assert web.map_base_layer(context) == layer
    prefix = store.keys.web_cache_prefix()
    assert any(key.startswith(f"{prefix}map-base") for key in store.redis.keys(f"{prefix}*"))
