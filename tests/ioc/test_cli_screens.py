"""`ioc screens` as an administrator runs it: a subprocess against a real redis-server through IOC_REDIS_URL."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
import redis

from ioc.config import PROJECT_ROOT
from ioc.keys import Keys
from ioc.wall.screens import ScreenBook

pytestmark = pytest.mark.integration


def ioc(*args: str, url: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "IOC_REDIS_URL": url}
    return subprocess.run([sys.executable, "-m", "ioc", "screens", *args], cwd=PROJECT_ROOT, env=env,
                          capture_output=True, text=True, timeout=60)


def test_add_list_key_and_revoke(redis_client: redis.Redis, redis_server_url: str) -> None:
    book = ScreenBook(redis_client, Keys("danang"))
    added = ioc("add", "wall-1", "--name", "Tường chính", "--url", "https://ioc.example.vn", url=redis_server_url)
    assert added.returncode == 0, added.stderr
    address = next(line for line in added.stdout.splitlines() if line.startswith("https://"))
    assert address.startswith("https://ioc.example.vn/wall/wall-1?key=ioc_screen_")
    first_key = address.split("key=", 1)[1]
    assert book.verify_key("wall-1", first_key) is not None

    again = ioc("add", "wall-1", url=redis_server_url)
    assert again.returncode == 2 and "already registered" in again.stderr

    rekeyed = ioc("key", "wall-1", url=redis_server_url)
    assert rekeyed.returncode == 0, rekeyed.stderr
    assert book.verify_key("wall-1", first_key) is None

    revoked = ioc("revoke", "wall-1", url=redis_server_url)
    assert revoked.returncode == 0 and "revoked" in revoked.stdout
    listing = json.loads(ioc("list", "--json", url=redis_server_url).stdout)
    assert [(screen["id"], screen["name"], screen["revoked"]) for screen in listing] == [
        ("wall-1", "Tường chính", True)]
    assert ioc("revoke", "wall-9", url=redis_server_url).returncode == 2
