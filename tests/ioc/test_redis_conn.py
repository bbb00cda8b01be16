"""Which Redis the IOC uses: the configured URL, else a redis-server it starts, else an in-process one."""

from __future__ import annotations

import pytest

from ioc import redis_conn


def test_a_configured_url_wins(monkeypatch: pytest.MonkeyPatch, redis_server_url: str) -> None:
    monkeypatch.setenv("IOC_REDIS_URL", redis_server_url)
    handle = redis_conn.connect()
    assert handle.kind == "server" and "IOC_REDIS_URL" in handle.description
    assert handle.client.ping()


def test_a_redis_server_on_path_is_started(monkeypatch: pytest.MonkeyPatch) -> None:
    import shutil

    if not shutil.which("redis-server"):
        from tests.conftest import missing_service

        missing_service("redis-server")
    monkeypatch.delenv("IOC_REDIS_URL", raising=False)
    handle = redis_conn.connect()
    try:
        assert handle.kind == "server" and "started" in handle.description
        assert handle.client.ping()
    finally:
        handle.close()


def test_without_a_server_the_redis_is_in_process(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("IOC_REDIS_URL", raising=False)
    monkeypatch.setattr(redis_conn.shutil, "which", lambda name: None)
    handle = redis_conn.connect()
    assert handle.kind == "in-process" and "fakeredis" in handle.description
    handle.client.set("k", "v")
    assert handle.client.get("k") == "v"


def test_the_cli_can_insist_on_a_shared_redis(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("IOC_REDIS_URL", raising=False)
    with pytest.raises(RuntimeError, match="IOC_REDIS_URL"):
        redis_conn.connect(allow_embedded=False)


def test_printed_urls_hide_passwords() -> None:
    assert redis_conn._safe("redis://user:secret@host:6379/0") == "redis://***@host:6379/0"
