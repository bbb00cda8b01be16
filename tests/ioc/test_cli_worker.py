"""`ioc worker` and `ioc scheduler` from a terminal: both need the city's shared Redis, and say so."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from ioc.config import PROJECT_ROOT


@pytest.mark.parametrize("command", [["worker"], ["scheduler"]])
def test_workers_and_schedulers_need_the_shared_redis(command: list[str]) -> None:
    env = {key: value for key, value in os.environ.items() if key != "IOC_REDIS_URL"}
    result = subprocess.run([sys.executable, "-m", "ioc", *command], cwd=PROJECT_ROOT, capture_output=True,
                            text=True, timeout=60, env=env)
    assert result.returncode == 2
    assert "IOC_REDIS_URL is not set" in result.stderr and "redis+sentinel://" in result.stderr


@pytest.mark.parametrize(("url", "says"), [
    ("redis+sentinel://s1:26379,s2:x/ioc/0", "'s2:x' is not host:port"),
    ("http://cache:6379/0", "Redis URL http://cache:6379/0"),
])
def test_a_wrong_redis_url_is_refused_with_what_is_wrong(url: str, says: str) -> None:
    result = subprocess.run([sys.executable, "-m", "ioc", "worker"], cwd=PROJECT_ROOT, capture_output=True,
                            text=True, timeout=60, env={**os.environ, "IOC_REDIS_URL": url})
    assert result.returncode == 2
    assert "configuration error" in result.stderr and says in result.stderr and "Traceback" not in result.stderr
