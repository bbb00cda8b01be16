"""WSGI entry point for production: `gunicorn -w 4 'ioc.wsgi:server'` with IOC_REDIS_URL set.

The dashboard is stateless (all shared state in Redis, its cache on Redis), so several workers serve one
city; the adapters run separately, as RQ jobs (`ioc scheduler` enqueues each feed's polls, `ioc worker`
processes run them; see docs/deploy.md).
"""

from __future__ import annotations

from ioc.config import load_settings
from ioc.redis_conn import connect
from ioc.store import Store
from layouts.app import create_app

_settings = load_settings()
_redis = connect(allow_embedded=False)
app = create_app(Store(_redis.client, _settings.city.id), _settings, redis_kind=_redis.kind)
server = app.server
