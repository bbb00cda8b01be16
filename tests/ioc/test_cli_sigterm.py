"""`ioc demo` stopped with SIGTERM (systemd, kill, a container stop) stops the redis-server it started."""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import redis

from ioc.redis_conn import free_port
from tests.conftest import missing_service

ROOT = Path(__file__).resolve().parents[2]


def _started_redis_url(process: subprocess.Popen[str], within: float) -> str:
    deadline = time.monotonic() + within
    assert process.stdout is not None
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        if not line:
            break
        found = re.search(r"redis-server started from \S+ at (redis://\S+),", line)
        if found:
            return found.group(1)
    raise AssertionError("the demo never said which redis-server it started")


def test_sigterm_stops_the_demo_and_the_redis_server_it_started(tmp_path: Path) -> None:
    if shutil.which("redis-server") is None:
        missing_service("redis-server")
    env = {**os.environ, "IOC_DATA_DIR": str(tmp_path / "data"), "PYTHONUNBUFFERED": "1"}
    env.pop("IOC_REDIS_URL", None)
    process = subprocess.Popen(
        [sys.executable, "-m", "ioc", "demo", "--port", str(free_port()), "--sim-port", str(free_port()),
         "--mqtt-url", ""],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )
    client: redis.Redis | None = None
    try:
        url = _started_redis_url(process, within=60)
        client = redis.Redis.from_url(url, socket_connect_timeout=1)
        assert client.ping()

        process.send_signal(signal.SIGTERM)
        process.wait(timeout=60)

        with pytest.raises(redis.ConnectionError):
            client.ping()
        assert process.returncode == 130
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        if client is not None:
            # a server the demo left behind must not outlive the test either
            with contextlib.suppress(redis.ConnectionError):
                client.shutdown(nosave=True)
