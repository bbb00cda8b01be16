"""Which Redis the IOC uses: the configured URL, else a redis-server it starts, else an in-process one."""

from __future__ import annotations

import contextlib
import threading
import time
from pathlib import Path

import pytest
import redis

from ioc import redis_conn
from ioc.audit import AuditTrail
from ioc.config import load_settings
from ioc.model import Alert, Batch, Entity, Severity
from ioc.store import Store


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


def redis_binary() -> str:
    import shutil

    binary = shutil.which("redis-server")
    if not binary:
        from tests.conftest import missing_service

        missing_service("redis-server")
    return str(binary)


def test_the_redis_the_ioc_starts_keeps_its_data_for_the_next_start(monkeypatch: pytest.MonkeyPatch,
                                                                    tmp_path: Path) -> None:
    binary = redis_binary()
    monkeypatch.delenv("IOC_REDIS_URL", raising=False)
    monkeypatch.setenv("IOC_DATA_DIR", str(tmp_path / "data"))
    first = redis_conn.connect()
    try:
        assert "data kept in" in first.description
        first.client.set("ioc:danang:probe", "kept")
        second = redis_conn.connect()  # a second IOC on this machine meanwhile: never the same folder
        try:
            assert "another IOC uses" in second.description and second.client.get("ioc:danang:probe") is None
        finally:
            second.close()
    finally:
        first.close()  # a clean stop

    again = redis_conn.connect()
    try:
        assert again.client.get("ioc:danang:probe") == "kept"
    finally:
        again.close()
    assert binary


def test_a_kill_9_loses_no_acknowledgement_older_than_a_second(tmp_path: Path) -> None:
    """Redis dies mid-shift while a feed ingests and operators acknowledge: after a restart on the same data
    folder, every acknowledgement and audit entry made more than a second before the kill is there."""
    binary = redis_binary()
    settings = load_settings()
    process, url = redis_conn.start_redis_server(binary, data=tmp_path)
    store = Store(redis.Redis.from_url(url, decode_responses=True), settings.city.id)
    feed = settings.feeds[0]
    stop = threading.Event()

    def ingest() -> None:  # a feed writing all along, up to the kill
        n = 0
        while not stop.is_set():
            entity = Entity(id=f"urn:ioc:danang:{feed.name}:{n % 50}", type="AirQualityObserved",
                            agency=feed.agency, sector=feed.sector, location=(108.2, 16.05),
                            attributes={"pm25": float(n)}, feed=feed.name)
            with contextlib.suppress(redis.ConnectionError):
                store.write_batch(feed.name, Batch(entities=[entity]))
            n += 1

    writer = threading.Thread(target=ingest, daemon=True)
    writer.start()
    acknowledged = []
    for n in range(30):
        alert, _ = store.alerts.raise_alert(Alert(id="", rule_id="drill", entity_id=f"urn:drill:{n}",
                                                  title=f"drill {n}", severity=Severity.SEVERE,
                                                  sector="environment", agency="drill"))
        store.alerts.acknowledge(alert.id, actor="operator-1", note=f"seen {n}")
        acknowledged.append(alert.id)
    audit_before = AuditTrail(store.redis, store.keys).count()
    time.sleep(1.5)  # the recovery point: writes older than a second are on disk
    process.kill()  # SIGKILL: no shutdown, no final write
    process.wait(timeout=10)
    stop.set()
    writer.join(timeout=10)

    process, url = redis_conn.start_redis_server(binary, data=tmp_path)
    try:
        after = Store(redis.Redis.from_url(url, decode_responses=True), settings.city.id)
        records = [after.alerts.get(alert_id) for alert_id in acknowledged]
        assert all(record is not None and record.acknowledged_by == "operator-1" for record in records)
        assert AuditTrail(after.redis, after.keys).count() >= audit_before
        assert after.entities_of_feed(feed.name)  # and the city's things are back too
    finally:
        process.terminate()
        process.wait(timeout=10)
