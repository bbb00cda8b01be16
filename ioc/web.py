"""The dashboard's server: the Dash app factory, the context its callbacks read, its cache and /healthz."""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import dash
import flask
import redis
from flask_caching import Cache

from ioc.city_map import district_layer
from ioc.config import PROJECT_ROOT, Feed, Settings, resolve_path
from ioc.i18n import DEFAULT_LANGUAGE, LANGUAGES, t
from ioc.model import utcnow
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


@dataclass(frozen=True, slots=True)
class LiveState:
    """The cheap reads a screen makes on every tick to decide whether anything needs redrawing."""

    changes: int
    health: dict[str, FeedHealth | None]
    stale_feeds: tuple[str, ...]

    def signature(self, lang: str) -> dict[str, Any]:
        # JSON-shaped so it can sit in a dcc.Store between ticks
        return {"changes": self.changes, "lang": lang, "stale": list(self.stale_feeds)}


_active: WebContext | None = None


def current() -> WebContext:
    """The context of the app serving this request (or of the last app created, outside a request)."""
    if flask.has_app_context():
        context = flask.current_app.extensions.get("ioc")
        if context is not None:
            return context
    if _active is None:
        raise RuntimeError("ioc.web.create_app has not been called")
    return _active


def language(lang: Any) -> str:
    """The interface language a browser asked for, the default when it asked for something unknown."""
    return lang if lang in LANGUAGES else DEFAULT_LANGUAGE


def live_state(store: Store, settings: Settings, now: datetime) -> LiveState:
    health = store.all_health(feed.name for feed in settings.feeds)
    stale = tuple(
        feed.name
        for feed in settings.feeds
        if feed.enabled and (health.get(feed.name) is None or health[feed.name].stale_at(now))
    )
    return LiveState(store.change_counter(), health, stale)


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
    from ioc.auth import may

    context = current()
    body, status = health_report(context.store, context.settings, context.redis_kind)
    if not may("health.full"):
        body = public_health(body)
    response = flask.jsonify(body)
    response.status_code = status
    response.headers["Cache-Control"] = "no-store"
    return response


def create_app(
    store: Store, settings: Settings, *, redis_kind: str, cookie_secure: bool | None = None
) -> dash.Dash:
    """The multi-page dashboard of one city: control room at /, feed health at /feeds, administration at
    /admin, open data at /api/v1/, probe at /healthz; every page, callback and route behind ioc.guard.

    `cookie_secure`: session cookies over HTTPS only; default from roles.yaml (true) or IOC_COOKIE_SECURE.
    """
    global _active
    # imported here because the pages read this module's `current()`
    from ioc import api, guard
    from ioc.audit import audit_config_changes
    from ioc.auth import load_roles
    from layouts import admin, alerts, control_room, feeds, reports, shell

    roles = load_roles(settings.directory)

    app = dash.Dash(
        __name__,
        use_pages=True,
        pages_folder="",
        assets_folder=str(PROJECT_ROOT / "assets"),
        # page components exist only while their page is shown
        suppress_callback_exceptions=True,
        title=settings.city.name.get(DEFAULT_LANGUAGE),
        # the browser tab would otherwise flash "Updating..." on every live refresh
        update_title=None,
    )
    cache = Cache(app.server, config=cache_config(store, redis_kind))
    context = WebContext(store=store, settings=settings, redis_kind=redis_kind, cache=cache)
    app.server.extensions["ioc"] = context
    _active = context

    city_name = settings.city.name.get(DEFAULT_LANGUAGE)
    # (page module, path, its name's catalogue key, order): the admin page sorts last, after any new page
    pages = (
        (control_room, "/", "nav.control_room", 0),
        (feeds, "/feeds", "nav.feeds", 1),
        (alerts, "/alerts", "nav.alerts", 2),
        (reports, "/reports", "nav.reports", 3),
        (admin, "/admin", "nav.admin", 90),
    )
    for page, path, name_key, order in pages:
        name = t(name_key, DEFAULT_LANGUAGE)
        dash.register_page(
            page.__name__, path=path, name=name, title=f"{name} · {city_name}", order=order, layout=page.layout
        )
    app.layout = shell.layout
    shell.register_callbacks(app)
    control_room.register_callbacks(app)
    feeds.register_callbacks(app)
    alerts.register_callbacks(app)
    admin.register_callbacks(app)
    reports.register_callbacks(app)
    app.server.add_url_rule("/healthz", "healthz", _healthz, methods=["GET"])
    security = guard.install(app, store, roles, cookie_secure=guard.cookie_secure_default(roles, cookie_secure),
                             tile_url=settings.city.tile_url)
    api.install(app.server, security)
    with contextlib.suppress(redis.RedisError, OSError):
        # rules, targets and roles are files: the first start on a changed file writes the change to the trail
        audit_config_changes(store.redis, store.keys, Path(settings.directory), actor="config-file")
    return app
