"""Chooses the Redis the IOC talks to: IOC_REDIS_URL, else a redis-server it starts, else an in-process one; and
turns a Redis URL into a client, a Sentinel URL (`redis+sentinel://`) into one that follows the master."""

from __future__ import annotations

import atexit
import fcntl
import os
import re
import shutil
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any
from urllib.parse import parse_qs, unquote

import redis
from redis.backoff import ExponentialBackoff
from redis.exceptions import ReadOnlyError
from redis.retry import Retry
from redis.sentinel import Sentinel, SentinelConnectionPool

from ioc.config_base import ConfigError

# redis+sentinel://[[user]:password@]host:port[,host:port...]/service[/db][?sentinel_password=...]
SENTINEL_SCHEMES = ("redis+sentinel", "rediss+sentinel")
SENTINEL_PORT = 26379
# How long a command waits for a new master after the old one died: Sentinel needs its down-after-milliseconds
# (5 s in docs/deploy.md) and a second or more to elect and promote (6.5 s in all, measured; longer on a busy
# machine); 0.1, 0.2, 0.4, 0.8 then 1 s a retry for 20 retries is about 17.5 s of waiting before the error
# reaches the caller.
FAILOVER_RETRIES = 20
FAILOVER_BACKOFF = ExponentialBackoff(cap=1.0, base=0.1)


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
        client = client_from_url(url)
        where = "Redis through Sentinel" if is_sentinel_url(url) else "Redis"
        return RedisHandle(client, "server", f"{where} at {_safe(url)} (IOC_REDIS_URL)", url)
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


def is_sentinel_url(url: str) -> bool:
    return url.partition("://")[0].lower() in SENTINEL_SCHEMES


def client_from_url(url: str, *, decode_responses: bool = True, **options: Any) -> redis.Redis:
    """A client of the Redis at `url`: `redis://`, `rediss://` and `unix://` as redis-py reads them, or
    `redis+sentinel://` (`rediss+sentinel://` for TLS to the master), which asks the sentinels for the
    service's master and, after a failover, for the new one.

    Timeouts so a dead Redis shows as "down" on /healthz in seconds, not after the OS gives up."""
    options = {"health_check_interval": 10, "socket_connect_timeout": 2, "socket_timeout": 5, **options}
    if not is_sentinel_url(url):
        try:
            return redis.Redis.from_url(url, decode_responses=decode_responses, **options)
        except ValueError as exc:  # a URL redis-py cannot read: said as the configuration error it is
            raise ConfigError(f"Redis URL {_safe(url)}: {exc}") from exc
    target = parse_sentinel_url(url)
    # A command that meets the dead master (refused, reset) or a demoted one (READONLY: redis-py then drops
    # the connection) is retried, and each retry asks the sentinels again, so it lands on the new master.
    retry = Retry(FAILOVER_BACKOFF, FAILOVER_RETRIES)
    sentinel_options = {"socket_connect_timeout": options["socket_connect_timeout"],
                        "socket_timeout": options["socket_timeout"]}
    if target.sentinel_password:
        sentinel_options["password"] = target.sentinel_password
    sentinel = Sentinel(target.sentinels, sentinel_kwargs=sentinel_options)
    master_options: dict[str, Any] = {"db": target.db, "decode_responses": decode_responses, "retry": retry,
                                      "retry_on_error": [ReadOnlyError], **options}
    if target.password is not None:
        master_options.update(username=target.username, password=target.password)
    if target.tls:
        master_options["ssl"] = True
    return sentinel.master_for(target.service, **master_options)


@dataclass(frozen=True)
class SentinelTarget:
    sentinels: list[tuple[str, int]]
    service: str
    db: int = 0
    username: str | None = None
    password: str | None = None
    sentinel_password: str | None = None
    tls: bool = False


def parse_sentinel_url(url: str) -> SentinelTarget:
    """`redis+sentinel://[[user]:password@]host:port[,host:port...]/service[/db][?sentinel_password=...]`;
    a ConfigError (a ValueError) naming what is wrong otherwise. The password is the master's (and the
    replicas')."""
    scheme, _, rest = url.partition("://")
    if scheme.lower() not in SENTINEL_SCHEMES:
        raise ConfigError(f"not a Sentinel URL (expected {' or '.join(s + '://' for s in SENTINEL_SCHEMES)})")
    rest, _, query = rest.partition("?")
    netloc, _, path = rest.partition("/")
    username = password = None
    if "@" in netloc:
        auth, _, netloc = netloc.rpartition("@")
        user, has_password, secret = auth.partition(":")
        username, password = (unquote(user) or None), (unquote(secret) if has_password else unquote(user))
        if not has_password:
            username = None
    sentinels = [_host_port(part, url) for part in netloc.split(",") if part]
    if not sentinels:
        raise ConfigError(f"{_safe(url)}: no sentinel host")
    parts = [part for part in path.split("/") if part]
    if not parts or len(parts) > 2:
        raise ConfigError(f"{_safe(url)}: expected /<service name>[/<db>] after the sentinels")
    if len(parts) == 2 and not parts[1].isdigit():
        raise ConfigError(f"{_safe(url)}: the database must be a number, not {parts[1]!r}")
    params = parse_qs(query)
    unknown = sorted(set(params) - {"sentinel_password"})
    if unknown:
        raise ConfigError(f"{_safe(url)}: unknown option {', '.join(unknown)} (known: sentinel_password)")
    return SentinelTarget(
        sentinels=sentinels, service=unquote(parts[0]), db=int(parts[1]) if len(parts) == 2 else 0,
        username=username, password=password, sentinel_password=params.get("sentinel_password", [None])[0],
        tls=scheme.lower().startswith("rediss"),
    )


def _host_port(part: str, url: str) -> tuple[str, int]:
    if part.startswith("["):  # [IPv6]:port
        host, _, port = part[1:].partition("]")
        port = port.removeprefix(":")
    else:
        host, _, port = part.rpartition(":") if ":" in part else (part, "", "")
    if not host or (port and not port.isdigit()):
        raise ConfigError(f"{_safe(url)}: {part!r} is not host:port")
    return host, int(port) if port else SENTINEL_PORT


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
    """The URL without its passwords (the server's, a sentinel's), for printing."""
    if "@" in url:
        scheme, rest = url.split("://", 1)
        url = f"{scheme}://***@{rest.rsplit('@', 1)[1]}"
    return re.sub(r"(sentinel_password=)[^&]*", r"\1***", url)


def redis_url(client: Any) -> str | None:
    """A URL for a second connection to the store's Redis, None for an in-process or unusual client."""
    if type(client).__module__.startswith("fakeredis"):
        return None
    pool = getattr(client, "connection_pool", None)
    if pool is None or isinstance(pool, SentinelConnectionPool):
        # a Sentinel client's master changes: a plain URL of today's master would be wrong after a failover
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
