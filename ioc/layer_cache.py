"""The dashboard's shared build cache: each feed's map layer (and the open alarms, ioc.alerts.open_snapshot)
built by one caller per change version, whatever the number of screens and dashboard workers."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable
from typing import Any, Protocol, TypeVar

import redis

Layer = TypeVar("Layer")

LAYER_TTL_SECONDS = 900
BUILD_WAIT_SECONDS = 2.0


class SharedCache(Protocol):
    """What the layer cache needs of flask-caching (Redis-backed across workers, or per process)."""

    def get(self, key: str) -> Any: ...
    def set(self, key: str, value: Any, timeout: int | None = None) -> Any: ...
    def add(self, key: str, value: Any, timeout: int | None = None) -> Any: ...
    def delete(self, key: str) -> Any: ...


def layer_cache_key(city: str, feed: str, version: int, lang: str) -> str:
    # flask-caching adds the city's web-cache prefix from ioc.keys; this is the entry's name within it
    return f"live-layer:{city}:{feed}:{version}:{lang}"


def shared_layer(cache: SharedCache, city: str, feed_name: str, version: int, lang: str,
                 build: Callable[[], Layer], *, on_build: Callable[[str], None] | None = None) -> Layer:
    """The feed's layer at `version`, built by exactly one caller across screens and workers."""
    key = layer_cache_key(city, feed_name, version, lang)
    return shared_value(cache, key, build, on_build=None if on_build is None else lambda: on_build(feed_name))


def shared_value(cache: SharedCache, key: str, build: Callable[[], Layer], *,
                 on_build: Callable[[], None] | None = None, timeout: int = LAYER_TTL_SECONDS) -> Layer:
    """The value cached under `key` (a name that changes with its data's version), built by exactly one caller.

    The first caller takes a short build lock in the shared cache; the others wait for its result (and build
    it themselves only if the builder vanished), so fifty screens seeing the same change cost one build.
    """
    value = _cache_get(cache, key)
    if value is not None:
        return value
    lock = key + ":building"
    took = _cache_call(cache.add, lock, 1, timeout=int(BUILD_WAIT_SECONDS) + 1)
    if not took:
        deadline = time.monotonic() + BUILD_WAIT_SECONDS
        while time.monotonic() < deadline:
            time.sleep(0.01)
            value = _cache_get(cache, key)
            if value is not None:
                return value
    value = build()
    if on_build is not None:
        on_build()
    _cache_call(cache.set, key, value, timeout=timeout)
    if took:
        _cache_call(cache.delete, lock)
    return value


def _cache_get(cache: SharedCache, key: str) -> Any:
    try:
        value = cache.get(key)
    except (redis.RedisError, OSError):
        return None  # a cache outage costs a rebuild, never the screen
    return value if value is not None else None


def _cache_call(call: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    with contextlib.suppress(redis.RedisError, OSError):
        return call(*args, **kwargs)
    return None

