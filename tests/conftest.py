"""Shared test fixtures: a real redis-server for integration tests, fakeredis for unit tests, settings."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import fakeredis
import pytest
import redis
from argon2 import PasswordHasher
from redis.backoff import NoBackoff
from redis.retry import Retry

from ioc.config import Settings, load_settings
from ioc.redis_conn import start_redis_server
from ioc.store import Store
from tests.waiting import WaitTimeout, wait_until

FIXTURES = Path(__file__).parent / "fixtures"
# CI sets IOC_REQUIRE_SERVICES=1: a missing redis-server, broker or browser fails the run instead of skipping.
REQUIRE_SERVICES = os.environ.get("IOC_REQUIRE_SERVICES") == "1"


# The product hashes passwords with argon2id at 64 MiB and 3 passes, about 0.1 s a hash or a check, and the
# suite adds users and signs them in hundreds of times. Tests check what is stored and who may enter, not the
# cost, so they hash with argon2id at its smallest cost.
CHEAP_PASSWORD_HASHER = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)


@pytest.fixture(scope="session", autouse=True)
def cheap_password_hashes() -> Iterator[None]:
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr("ioc.auth._hasher", CHEAP_PASSWORD_HASHER)
        yield


@pytest.fixture(scope="session", autouse=True)
def private_secret_file(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """Apps started by tests keep their generated session-signing secret in a temporary file, not in the
    configuration directory of whoever runs the tests."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("IOC_SECRET_KEY_FILE", str(tmp_path_factory.mktemp("secret") / "secret_key"))
        yield


@pytest.fixture(scope="session", autouse=True)
def private_data_dir(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """A redis-server an IOC under test starts keeps its data in a temporary folder, not in the data folder of
    whoever runs the tests (where it would carry one run's city into the next)."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("IOC_DATA_DIR", str(tmp_path_factory.mktemp("ioc-data")))
        yield


def missing_service(what: str) -> None:
    if REQUIRE_SERVICES:
        pytest.fail(f"{what} is required (IOC_REQUIRE_SERVICES=1) but not available")
    pytest.skip(f"{what} not available")


def unreachable_redis(**options: Any) -> redis.Redis:
    """A client of a port nothing listens on, for tests of "Redis is down". Without retries: redis-py retries a
    refused connection three times with backoff by default, about 3.7 s a command spent waiting."""
    from ioc.redis_conn import free_port

    return redis.Redis(port=free_port(), retry=Retry(NoBackoff(), 0), **options)


@pytest.fixture(scope="session")
def redis_server_url() -> Iterator[str]:
    """A real redis-server: IOC_TEST_REDIS_URL if given (CI starts one), else one started for this run."""
    url = os.environ.get("IOC_TEST_REDIS_URL")
    if url:
        yield url
        return
    binary = shutil.which("redis-server")
    if not binary:
        missing_service("redis-server")
    process, started = start_redis_server(binary)
    try:
        yield started
    finally:
        process.terminate()
        process.wait(timeout=10)


@pytest.fixture
def redis_client(redis_server_url: str) -> Iterator[redis.Redis]:
    """A clean database on the real server for one test."""
    client = redis.Redis.from_url(redis_server_url, decode_responses=True)
    client.flushdb()
    yield client
    client.flushdb()
    client.close()


@pytest.fixture
def fake_redis() -> redis.Redis:
    return fakeredis.FakeRedis(server=fakeredis.FakeServer(), decode_responses=True)


@pytest.fixture(scope="session")
def settings() -> Settings:
    return load_settings()


@pytest.fixture
def store(redis_client: redis.Redis) -> Store:
    """A store on the real redis-server (integration)."""
    return Store(redis_client, "danang")


@pytest.fixture
def fake_store(fake_redis: redis.Redis) -> Store:
    """A store on fakeredis (unit tests of one piece)."""
    return Store(fake_redis, "danang")


@pytest.fixture(scope="session")
def mosquitto_url() -> Iterator[str]:
    """A real Mosquitto broker on a free loopback port, for the feeds that sensors push."""
    import socket
    import subprocess
    import tempfile

    from ioc.redis_conn import free_port

    binary = shutil.which("mosquitto") or ("/usr/sbin/mosquitto" if Path("/usr/sbin/mosquitto").exists() else None)
    if not binary:
        missing_service("mosquitto")
    port = free_port()
    workdir = Path(tempfile.mkdtemp(prefix="ioc-mqtt-"))
    conf = workdir / "mosquitto.conf"
    conf.write_text(f"listener {port} 127.0.0.1\nallow_anonymous true\npersistence false\n", encoding="utf-8")
    process = subprocess.Popen([binary, "-c", str(conf)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def broker_answers() -> bool:
        if process.poll() is not None:
            pytest.fail(f"mosquitto exited with {process.returncode}")
        socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
        return True

    try:
        wait_until(broker_answers, timeout=10, message=f"mosquitto on port {port}", ignoring=(OSError,))
    except WaitTimeout:
        process.kill()
        raise
    try:
        yield f"mqtt://127.0.0.1:{port}"
    finally:
        process.terminate()
        process.wait(timeout=10)
