"""What an `ioc` command that works on a running IOC opens: the city's store on the Redis at IOC_REDIS_URL."""

from __future__ import annotations

from typing import Any

from ioc.config import Settings


def running_city_store(settings: Settings, what: str) -> tuple[Any, Any]:
    """(Store, RedisHandle) of the city's Redis at IOC_REDIS_URL; never an embedded Redis, whose empty private
    data would show nothing and keep no change. `what` says what lives there, for the error."""
    from ioc.redis_conn import connect
    from ioc.store import Store

    try:
        handle = connect(allow_embedded=False)
    except RuntimeError as exc:
        raise SystemExit(f"error: {exc} ({what})") from None
    return Store(handle.client, settings.city.id), handle
