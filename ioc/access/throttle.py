"""Sign-in and API rate counting: fixed-window counters in Redis, shared by every worker."""

from __future__ import annotations

import time
from dataclasses import dataclass

import redis

from ioc.keys import Keys


@dataclass(frozen=True, slots=True)
class Throttle:
    """Fixed-window counters in Redis, shared by every worker (keys from ioc.keys, in the city's slot)."""

    client: redis.Redis
    keys: Keys

    def _key(self, scope: str, who: str, window: int) -> tuple[str, int]:
        bucket = int(time.time() // window)
        return self.keys.rate_limit(scope, who, bucket), window - int(time.time() % window)

    def count(self, scope: str, who: str, window: int) -> int:
        key, _ = self._key(scope, who, window)
        return int(self.client.get(key) or 0)

    def hit(self, scope: str, who: str, window: int) -> tuple[int, int]:
        """Count one more; returns (count in this window, seconds until it ends)."""
        key, remaining = self._key(scope, who, window)
        pipe = self.client.pipeline(transaction=True)
        pipe.incr(key)
        pipe.expire(key, window + 1)
        count, _ = pipe.execute()
        return int(count), remaining

    def retry_after(self, window: int) -> int:
        return window - int(time.time() % window)
