"""Chooses the Redis the IOC talks to: IOC_REDIS_URL, else a redis-server it starts, else an in-process one."""

from __future__ import annotations

import atexit
import fcntl
import os
import shutil
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import redis


@dataclass
class RedisHandle:
    client: redis.Redis
    kind: str  # "server" (a real redis-server) or "in-process" (fakeredis)
    description: str
    url: str | None = None
    _process: subprocess.Popen[bytes] | None = field(default=None, repr=False)
    _lock: IO[str] | None = field(default=None, repr=False)

    def close(self) -> None:
        if self._process and self._process.poll() is None:
            self._process.terminate()
            try:
                self._process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self._process.kill()
        if self._lock is not None:
            self._lock.close()  # lets the next IOC use the data folder
            self._lock = None


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def data_dir() -> Path:
    """Where a redis-server the IOC starts keeps its data: IOC_DATA_DIR, else the user's data folder."""
    configured = os.environ.get("IOC_DATA_DIR")
    if configured:
        return Path(configured).expanduser()
    base = os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share"
    return Path(base) / "ioc" / "redis"


def start_redis_server(binary: str, port: int | None = None, data: Path | None = None
                       ) -> tuple[subprocess.Popen[bytes], str]:
    """Start a private redis-server on a free loopback port; return it and its URL once it answers.

    With `data`, it keeps an append-only file there, written to disk every second (appendfsync everysec): a
    crash or kill -9 loses at most the last second of writes, and the next start reads it all back. Without,
    it keeps nothing (tests and benchmarks)."""
    port = port or free_port()
    if data is None:
        persistence = ["--save", "", "--appendonly", "no", "--dir", tempfile.mkdtemp(prefix="ioc-redis-")]
    else:
        data.mkdir(parents=True, exist_ok=True)
        persistence = ["--save", "", "--appendonly", "yes", "--appendfsync", "everysec", "--dir", str(data)]
    process = subprocess.Popen(
        [binary, "--port", str(port), "--bind", "127.0.0.1", *persistence],
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
        data, lock, note = _claim(data_dir())
        process, started_url = start_redis_server(binary, data=data)
        handle = RedisHandle(
            redis.Redis.from_url(started_url, decode_responses=True, socket_connect_timeout=2, socket_timeout=5),
            "server",
            f"redis-server started from {binary} at {started_url}, {note}",
            started_url,
            process,
            lock,
        )
        atexit.register(handle.close)
        return handle
    import fakeredis

    return RedisHandle(
        fakeredis.FakeRedis(server=fakeredis.FakeServer(), decode_responses=True),
        "in-process",
        "in-process Redis (fakeredis): no IOC_REDIS_URL and no redis-server on PATH; data lives in this process",
    )


def _claim(folder: Path) -> tuple[Path | None, IO[str] | None, str]:
    """The data folder for this process alone (two redis-servers on one append-only file would corrupt it):
    (folder, its held lock, what to print), or no folder when another IOC on this machine holds it."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
        lock = (folder / "ioc.lock").open("w")
    except OSError as error:
        return None, None, f"keeping nothing: cannot use {folder} ({error.strerror})"
    try:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        lock.close()
        return None, None, f"keeping nothing: another IOC uses {folder}"
    return folder, lock, f"data kept in {folder} (append-only, fsync every second)"


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
