"""The dashboard server: pages registered, context reachable, cache choice, and /healthz in both Redis states."""

from __future__ import annotations

from datetime import timedelta

import dash
import redis

from ioc import web
from ioc.config import Settings
from ioc.model import utcnow
from ioc.redis_conn import free_port
from ioc.store import Store
from layouts import ids
from tests.layouts.dom import add_user, client_sign_in


def test_pages_are_registered_at_their_paths(fake_store: Store, settings: Settings) -> None:
    web.create_app(fake_store, settings, redis_kind="in-process")

    paths = {page["module"]: page["path"] for page in dash.page_registry.values()}

    assert paths["layouts.control_room"] == "/"
    assert paths["layouts.feeds"] == "/feeds"
    assert all(callable(dash.page_registry[module]["layout"]) for module in paths)


def test_pages_and_layout_are_served(fake_store: Store, settings: Settings) -> None:
    app = web.create_app(fake_store, settings, redis_kind="in-process", cookie_secure=False)
    add_user(app, "admin-1", "admin")
    client = app.server.test_client()
    client_sign_in(client, "admin-1")

    for path in ("/", "/feeds"):
        assert client.get(path).status_code == 200
    layout = client.get("/_dash-layout").get_data(as_text=True)
    assert ids.LANG in layout and ids.CLOCK_TIME in layout
    dependencies = client.get("/_dash-dependencies").get_data(as_text=True)
    assert ids.CITY_MAP in dependencies and ids.FEEDS_BOARD in dependencies


def test_callbacks_reach_the_app_context(fake_store: Store, fake_redis: redis.Redis, settings: Settings) -> None:
    first = web.create_app(fake_store, settings, redis_kind="in-process")
    other_store = Store(fake_redis, "other")
    second = web.create_app(other_store, settings, redis_kind="in-process")

    assert web.current().store is other_store  # outside a request: the last app created
    with first.server.app_context():
        assert web.current().store is fake_store  # inside a request: the app serving it
    with second.server.app_context():
        assert web.current().redis_kind == "in-process"


def test_healthz_lists_every_feed_when_redis_answers(fake_store: Store, settings: Settings) -> None:
    fed = settings.feeds[0]
    fake_store.record_success(fed.name, records=4, latency_ms=12.5, interval=fed.interval,
                              stale_factor=fed.stale_factor, now=utcnow() - timedelta(seconds=1))
    app = web.create_app(fake_store, settings, redis_kind="in-process", cookie_secure=False)
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
    unreachable = redis.Redis(port=free_port(), socket_connect_timeout=0.5, decode_responses=True)
    client = web.create_app(Store(unreachable, "danang"), settings, redis_kind="server").server.test_client()

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
    web.create_app(fake_store, settings, redis_kind="in-process")
    context = web.current()
    first = web.map_base_layer(context)
    monkeypatch.setattr(web, "district_layer", lambda city: [])  # type: ignore[attr-defined]

    assert web.map_base_layer(context) == first
    assert first


def test_base_layer_on_a_real_redis_cache(store: Store, settings: Settings) -> None:
    web.create_app(store, settings, redis_kind="server")
    context = web.current()

    assert web.cache_config(store, "server")["CACHE_TYPE"] == "RedisCache"
    layer = web.map_base_layer(context)

    assert web.map_base_layer(context) == layer
    prefix = store.keys.web_cache_prefix()
    assert any(key.startswith(f"{prefix}map-base") for key in store.redis.keys(f"{prefix}*"))


def test_live_state_names_stale_feeds(fake_store: Store, settings: Settings) -> None:
    now = utcnow()
    fed = settings.feeds[0]
    fake_store.record_success(fed.name, records=1, latency_ms=1, interval=fed.interval,
                              stale_factor=fed.stale_factor, now=now)

    state = web.live_state(fake_store, settings, now)

    assert state.stale_feeds == tuple(feed.name for feed in settings.feeds[1:] if feed.enabled)
    assert state.changes == fake_store.change_counter()
    assert state.signature("en") == {"changes": state.changes, "lang": "en", "stale": list(state.stale_feeds)}
