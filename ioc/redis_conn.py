"""Chooses the Redis the IOC talks to: IOC_REDIS_URL, else a redis-server it starts, else an in-process one."""

from __future__ import annotations

import atexit
import os
import shutil
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from typing import Any

import redis


@dataclass
class RedisHandle:
    client: redis.Redis
    kind: str  # "server" (a real redis-server) or "in-process" (fakeredis)
    description: str
    url: str | None = None
    _process: subprocess.Popen[bytes] | None = field(default=None, repr=False)

    def close(self) -> None:
        if self._process and self._process.poll() is None:
            self._process.terminate()
            try:
                self._process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self._process.kill()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_redis_server(binary: str, port: int | None = None) -> tuple[subprocess.Popen[bytes], str]:
    """Start a private redis-server on a free loopback port; return it and its URL once it answers."""
    port = port or free_port()
    workdir = tempfile.mkdtemp(prefix="ioc-redis-")
    process = subprocess.Popen(
        [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
         "--dir", workdir],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"redis://127.0.0.1:{port}/0"
    client = redis.Redis.from_url(url)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            client.ping()
            return process, url
        except redis.ConnectionError:
            if process.poll() is not None:
                raise RuntimeError(f"{binary} exited with code {process.returncode}") from None
            time.sleep(0.05)
    process.kill()
    raise RuntimeError(f"{binary} did not answer on port {port} within 10 s")


def connect(url: str | None = None, *, allow_embedded: bool = True) -> RedisHandle:
    """The Redis to use, in order: the URL given (or IOC_REDIS_URL), a redis-server on PATH, fakeredis."""
    url = url or os.environ.get("IOC_REDIS_URL")
    if url:
        # Timeouts so a dead Redis shows as "down" on /healthz in seconds, not after the OS gives up.
        client = redis.Redis.from_url(
            url, decode_responses=True, health_check_interval=10, socket_connect_timeout=2, socket_timeout=5
        )
        return RedisHandle(client, "server", f"Redis at {_safe(url)} (IOC_REDIS_URL)", url)
    if not allow_embedded:
        raise RuntimeError("set IOC_REDIS_URL to the Redis of the running IOC")
    binary = shutil.which("redis-server")
    if binary:
        process, started_url = start_redis_server(binary)
        handle = RedisHandle(
            redis.Redis.from_url(started_url, decode_responses=True, socket_connect_timeout=2, socket_timeout=5),
            "server",
            f"redis-server started from {binary} at {started_url}",
            started_url,
            process,
        )
        atexit.register(handle.close)
        return handle
    import fakeredis

    return RedisHandle(
        fakeredis.FakeRedis(server=fakeredis.FakeServer(), decode_responses=True),
        "in-process",
        "in-process Redis (fakeredis): no IOC_REDIS_URL and no redis-server on PATH; data lives in this process",
    )


def _safe(url: str) -> str:
    """The URL without its password, for printing."""
    if "@" in url:
        scheme, rest = url.split("://", 1)
        return f"{scheme}://***@{rest.split('@', 1)[1]}"
    return url


def redis_url(client: Any) -> str | None:
    """A URL for a second connection to the store's Redis, None for an in-process or unusual client."""
    if type(client).__module__.startswith("fakeredis"):
        return None
    pool = getattr(client, "connection_pool", None)
    if pool is None:
        return None
    kwargs = pool.connection_kwargs
    auth = ""
    if kwargs.get("password"):
        auth = f"{kwargs.get('username') or ''}:{kwargs['password']}@"
    if kwargs.get("path"):
        return f"unix://{auth}{kwargs['path']}?db={kwargs.get('db', 0)}"
    if not kwargs.get("host"):
        return None
    scheme = "rediss" if issubclass(pool.connection_class, redis.SSLConnection) else "redis"
    return f"{scheme}://{auth}{kwargs['host']}:{kwargs.get('port', 6379)}/{kwargs.get('db', 0)}"
