"""The dashboard's server: the app factory that registers declared pages, the context their callbacks
receive, its cache and /healthz. It knows no page itself: the caller passes them (layouts.app)."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import dash
import flask
import redis
from dash import ClientsideFunction
from flask_caching import Cache
from werkzeug.local import LocalProxy

from ioc import api, odata
from ioc.access import Access, cookie_secure_default, install
from ioc.audit import audit_config_changes
from ioc.auth import load_roles, may
from ioc.cities import Deployment, deployment_of, deployment_settings
from ioc.city_map import district_layer
from ioc.config import PROJECT_ROOT, Feed, Settings, resolve_path
from ioc.control_room import LiveCity
from ioc.i18n import DEFAULT_LANGUAGE, LANGUAGES, t
from ioc.model import utcnow
from ioc.pages import SIGNED_IN, Callback, Frame, Page, in_order
from ioc.redis_conn import redis_url
from ioc.store import FeedHealth, Store

# Ages on screen ("3 min ago") move even when no feed writes; redraw them at most this often.
AGE_STEP_SECONDS = 15
BASE_LAYER_SECONDS = 3600


@dataclass(frozen=True, slots=True)
class WebContext:
    """What every callback of one app needs: the city's store and configuration, and the app's cache."""

    store: Store
    settings: Settings
    redis_kind: str
    cache: Cache
    # the control room's shared layers and this process's decoded copies of them
    live: LiveCity
    # the app's declared pages in nav order (the frame lists them)
    pages: tuple[Page, ...] = ()


def context_of(server: flask.Flask) -> WebContext:
    """The context of the app installed on `server`."""
    return server.extensions["ioc"]


def request_context() -> WebContext:
    """The context of the app serving the current request (callbacks and layouts are handed it): with several
    cities, the context of the request's city (ioc.cities)."""
    deployment = deployment_of(flask.current_app)
    return deployment.current() if deployment is not None else context_of(flask.current_app)


def language(lang: Any) -> str:
    """The interface language a browser asked for, the default when it asked for something unknown."""
    return lang if lang in LANGUAGES else DEFAULT_LANGUAGE


def age_step(now: datetime) -> int:
    return int(now.timestamp() // AGE_STEP_SECONDS)


def cache_config(store: Store, redis_kind: str) -> dict[str, Any]:
    """Redis-backed cache shared by all workers when there is a Redis server, else per process."""
    url = None if redis_kind == "in-process" else redis_url(store.redis)
    if url is None:
        return {"CACHE_TYPE": "SimpleCache", "CACHE_DEFAULT_TIMEOUT": BASE_LAYER_SECONDS}
    return {"CACHE_TYPE": "RedisCache", "CACHE_REDIS_URL": url, "CACHE_DEFAULT_TIMEOUT": BASE_LAYER_SECONDS,
            "CACHE_KEY_PREFIX": store.keys.web_cache_prefix()}


def map_base_layer(context: WebContext) -> list[dict[str, Any]]:
    """The districts layer of the map; built once per boundaries file, then served from the cache."""
    city = context.settings.city
    boundaries = resolve_path(city.boundaries)
    key = f"map-base:{city.id}:{city.area_name_property}:{boundaries}:{boundaries.stat().st_mtime_ns}"
    try:
        layer = context.cache.get(key)
    except redis.RedisError:
        layer = None  # a cache outage must not take the map down with it
    if layer is None:
        layer = district_layer(city)
        with contextlib.suppress(redis.RedisError):
            context.cache.set(key, layer)
    return layer


def _never_polled(feed: Feed) -> FeedHealth:
    return FeedHealth(
        feed=feed.name,
        last_success=None,
        last_attempt=None,
        last_error="",
        last_error_at=None,
        record_count=0,
        previous_record_count=0,
        fetch_latency_ms=None,
        consecutive_failures=0,
        interval=feed.interval,
        stale_factor=feed.stale_factor,
    )


def health_report(
    store: Store, settings: Settings, redis_kind: str, now: datetime | None = None
) -> tuple[dict[str, Any], int]:
    """The /healthz body and status: 200 when Redis answers, 503 when it does not; every feed listed."""
    now = now or utcnow()
    redis_status: dict[str, Any] = {"ok": True, "kind": redis_kind}
    health: dict[str, FeedHealth | None] = {}
    try:
        store.redis.ping()
        health = store.all_health(feed.name for feed in settings.feeds)
    except (redis.RedisError, OSError) as exc:
        # the class name only: the message carries host and port, which a public probe need not learn
        redis_status = {"ok": False, "kind": redis_kind, "error": type(exc).__name__}
    feeds = {
        feed.name: (health.get(feed.name) or _never_polled(feed)).to_dict(now) for feed in settings.feeds
    }
    return {"redis": redis_status, "feeds": feeds}, 200 if redis_status["ok"] else 503


def public_health(body: dict[str, Any]) -> dict[str, Any]:
    """What an anonymous probe learns: whether Redis answers and which feeds are fresh, no city data."""
    redis_status = {key: body["redis"][key] for key in ("ok", "kind")}
    feeds = {
        name: {"stale": feed["stale"], "ok": feed["last_success"] is not None and not feed["consecutive_failures"]}
        for name, feed in body["feeds"].items()
    }
    return {"redis": redis_status, "feeds": feeds}


def _healthz() -> flask.Response:
    full = may("health.full")  # first: it loads the signed-in user, and with them the request's city
    context = request_context()
    body, status = health_report(context.store, context.settings, context.redis_kind)
    if not full:
        body = public_health(body)
    response = flask.jsonify(body)
    response.status_code = status
    response.headers["Cache-Control"] = "no-store"
    return response


def _with_context(function: Callable[..., Any]) -> Callable[..., Any]:
    """A callback or layout as Dash calls it: the serving app's context fetched at call time, passed first."""

    def call(*args: Any, **kwargs: Any) -> Any:
        return function(request_context(), *args, **kwargs)

    call.__name__ = getattr(function, "__name__", "callback")
    call.__doc__ = function.__doc__
    return call


def register_callback(app: dash.Dash, access: Access, callback: Callback, needs: frozenset[str]) -> None:
    """Register one declared callback and record, under the output key Dash files it by, who may trigger it."""
    before = set(app.callback_map)
    dependencies = (*callback.outputs, *callback.inputs, *callback.states)
    if isinstance(callback.function, ClientsideFunction):
        app.clientside_callback(callback.function, *dependencies, prevent_initial_call=callback.prevent_initial_call)
    else:
        app.callback(*dependencies, prevent_initial_call=callback.prevent_initial_call)(
            _with_context(callback.function))
    for key in set(app.callback_map) - before:
        access.record(key, needs)


def city_context(app: dash.Dash, store: Store, settings: Settings, redis_kind: str, pages: tuple[Page, ...]
                 ) -> WebContext:
    """One city's context in `app`: its store, settings, live layers, and a cache of its own, whose entries
    (flask-caching prefix in Redis, or a separate in-process cache) no other city's screen can read."""
    cache = Cache(app.server, config=cache_config(store, redis_kind))
    base = district_layer(settings.city)
    return WebContext(store=store, settings=settings, redis_kind=redis_kind, cache=cache,
                      live=LiveCity(store=store, settings=settings, cache=cache, base=base, background=True),
                      pages=pages)


def create_app(
    store: Store,
    settings: Settings,
    *,
    redis_kind: str,
    pages: Sequence[Page],
    frame: Frame,
    cookie_secure: bool | None = None,
) -> dash.Dash:
    """The multi-page dashboard of one city: the declared `pages` inside `frame` (header, nav), open data at
    /api/v1/, probe at /healthz; every page, callback and route behind ioc.access.

    `cookie_secure`: session cookies over HTTPS only; default from roles.yaml (true) or IOC_COOKIE_SECURE.
    """
    roles = load_roles(settings.directory)
    # IOC_CITIES: the other cities this deployment serves beside `settings`' (checked before anything starts)
    cities = deployment_settings(settings)
    server = flask.Flask(__name__)
    # compressed: callbacks (JSON), scripts and styles. Not HTML: a page that carries a CSRF token next to
    # anything a visitor typed must not leak the token through its compressed size (BREACH)
    server.config["COMPRESS_MIMETYPES"] = ["application/json", "application/javascript", "text/javascript",
                                           "text/css"]
    app = dash.Dash(
        __name__,
        server=server,
        use_pages=True,
        pages_folder="",
        assets_folder=str(PROJECT_ROOT / "assets"),
        # page components exist only while their page is shown
        suppress_callback_exceptions=True,
        # several cities: no city's name in what every user's browser receives
        title="IOC" if len(cities) > 1 else settings.city.name.get(DEFAULT_LANGUAGE),
        # the browser tab would otherwise flash "Updating..." on every live refresh
        update_title=None,
        # every screen's tick and the plotly bundle travel compressed (flask-compress)
        compress=True,
    )
    contexts = {city.city.id: city_context(app, store if city is settings else Store(store.redis, city.city.id),
                                           city, redis_kind, in_order(pages)) for city in cities}
    context = contexts[settings.city.id]
    deployment = Deployment(contexts=contexts)
    app.server.extensions["ioc_cities"] = deployment
    # modules that read the app's context directly (open data, sign-in pages) get the request's city too
    app.server.extensions["ioc"] = LocalProxy(deployment.current) if deployment.several else context
    access = Access(app=app, pages=context.pages)

    city_name = "IOC" if deployment.several else settings.city.name.get(DEFAULT_LANGUAGE)
    for page in context.pages:
        name = t(page.title_key, DEFAULT_LANGUAGE)
        dash.register_page(page.module, path=page.path, name=name, title=f"{name} · {city_name}",
                           order=page.order, layout=_with_context(page.layout))
        for callback in page.callbacks:
            register_callback(app, access, callback, page.needs(callback))
        for route in page.routes:
            app.server.add_url_rule(route.rule, route.endpoint, _with_context(route.view), methods=["GET"])
    app.layout = _with_context(frame.layout)
    for callback in frame.callbacks:
        register_callback(app, access, callback, frozenset({callback.permission or SIGNED_IN}))
    app.server.add_url_rule("/healthz", "healthz", _healthz, methods=["GET"])
    security = install(app, access, store, roles, cookie_secure=cookie_secure_default(roles, cookie_secure),
                       tile_url=settings.city.tile_url)
    api.install(app.server, security)
    odata.install(app.server, security)
    for served in contexts.values():
        with contextlib.suppress(redis.RedisError, OSError):
            # rules, targets and roles are files: the first start on a changed file writes the change to the trail
            audit_config_changes(served.store.redis, served.store.keys, Path(served.settings.directory),
                                 actor="config-file")
    return app
