"""Redis Sentinel URLs: how they read, and a real failover (a master, a replica and a sentinel started here;
the master killed with -9 while a feed ingests and an operator acknowledges) that ingestion and
acknowledgements ride through, losing at most the replication window before the kill."""

from __future__ import annotations

import shutil
import subprocess
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import redis

from ioc.alerts.book import AlertConflict
from ioc.model import Alert, Batch, Entity, Severity
from ioc.redis_conn import (
    _safe,
    client_from_url,
    connect,
    free_port,
    parse_sentinel_url,
    redis_url,
    start_redis_server,
)
from ioc.store import Store
from tests.conftest import missing_service
from tests.waiting import wait_until

# What docs/deploy.md states: replication is asynchronous, so the writes a master acknowledged in the last
# moment before it died (its replication lag, milliseconds on a LAN) may be missing on the replica promoted.
# Every acknowledgement older than this before the kill must be there.
LOSS_WINDOW_S = 1.0


def test_a_sentinel_url_names_its_sentinels_service_and_database() -> None:
    target = parse_sentinel_url("redis+sentinel://:s3cret@10.0.0.1:26379,10.0.0.2,[::1]:26380/ioc-danang/2")
    assert target.sentinels == [("10.0.0.1", 26379), ("10.0.0.2", 26379), ("::1", 26380)]
    assert (target.service, target.db, target.password, target.tls) == ("ioc-danang", 2, "s3cret", False)
    tls = parse_sentinel_url("rediss+sentinel://ops:pw@s1:26379/ioc?sentinel_password=spw")
    assert (tls.username, tls.password, tls.sentinel_password, tls.db, tls.tls) == ("ops", "pw", "spw", 0, True)


@pytest.mark.parametrize(("url", "says"), [
    ("redis+sentinel:///ioc/0", "no sentinel host"),
    ("redis+sentinel://s1:port/ioc", "is not host:port"),
    ("redis+sentinel://s1:26379", "service name"),
    ("redis+sentinel://s1:26379/ioc/zero", "must be a number"),
    ("redis+sentinel://s1:26379/ioc/0?master=x", "unknown option master"),
])
def test_a_wrong_sentinel_url_says_what_is_wrong(url: str, says: str) -> None:
    with pytest.raises(ValueError, match=says):
        parse_sentinel_url(url)


def test_printed_sentinel_urls_hide_both_passwords() -> None:
    shown = _safe("redis+sentinel://ops:pw@s1:26379/ioc?sentinel_password=spw")
    assert "pw" not in shown.replace("sentinel_password", "") and "spw" not in shown


@dataclass
class SentinelSet:
    binary: str
    master: subprocess.Popen[bytes]
    master_port: int
    replica: subprocess.Popen[bytes]
    replica_port: int
    sentinel: subprocess.Popen[bytes]
    sentinel_port: int

    @property
    def url(self) -> str:
        return f"redis+sentinel://127.0.0.1:{self.sentinel_port}/ioc/0"

    def master_address(self) -> tuple[str, int]:
        host, port = redis.Redis(port=self.sentinel_port).sentinel_get_master_addr_by_name("ioc")
        return host.decode() if isinstance(host, bytes) else host, int(port)


def _spawn(binary: str, *args: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen([binary, *args], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


@pytest.fixture
def sentinel_set(tmp_path: Path) -> Iterator[SentinelSet]:
    """A master, its replica and one sentinel watching them (quorum 1), on free loopback ports."""
    binary = shutil.which("redis-server")
    if not binary:
        missing_service("redis-server")
    master, master_url = start_redis_server(binary)
    master_port = int(master_url.rsplit(":", 1)[1].split("/")[0])
    replica_port, sentinel_port = free_port(), free_port()
    (tmp_path / "replica").mkdir()
    replica = _spawn(binary, "--port", str(replica_port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
                     "--dir", str(tmp_path / "replica"), "--replicaof", "127.0.0.1", str(master_port))
    conf = tmp_path / "sentinel.conf"  # a sentinel rewrites its file as it learns: a file of its own
    conf.write_text(
        f"port {sentinel_port}\nbind 127.0.0.1\ndir {tmp_path}\n"
        f"sentinel monitor ioc 127.0.0.1 {master_port} 1\n"
        "sentinel down-after-milliseconds ioc 1000\nsentinel failover-timeout ioc 10000\n", encoding="utf-8")
    sentinel = None
    try:
        # the sentinel starts once the replica is in sync: its first look at the master then finds the replica
        # (it looks again only every 10 s)
        wait_until(lambda: redis.Redis(port=replica_port).info("replication")["master_link_status"] == "up",
                   timeout=15, message="the replica in sync", ignoring=(redis.ConnectionError, KeyError))
        sentinel = _spawn(binary, str(conf), "--sentinel")
        found = SentinelSet(binary, master, master_port, replica, replica_port, sentinel, sentinel_port)
        wait_until(lambda: redis.Redis(port=sentinel_port).sentinel_slaves("ioc"), timeout=15,
                   message="the sentinel to know the replica", ignoring=(redis.ConnectionError,))
        yield found
    finally:
        for process in (sentinel, replica, master):
            if process is not None and process.poll() is None:
                process.kill()
            process.wait(timeout=10)


@pytest.mark.integration
def test_a_sentinel_url_is_accepted_where_a_redis_url_is(sentinel_set: SentinelSet,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("IOC_REDIS_URL", sentinel_set.url)
    handle = connect()
    assert "Sentinel" in handle.description and handle.kind == "server"
    handle.client.set("ioc:{danang}:probe", "via sentinel")
    assert redis.Redis(port=sentinel_set.master_port, decode_responses=True).get("ioc:{danang}:probe") == "via sentinel"
    # no plain URL of today's master is handed out: it would be wrong after a failover
    assert redis_url(handle.client) is None
    assert client_from_url(sentinel_set.url, decode_responses=False).get("ioc:{danang}:probe") == b"via sentinel"


@pytest.mark.integration
def test_ingestion_and_acknowledgements_ride_through_a_failover(sentinel_set: SentinelSet, settings) -> None:  # noqa: ANN001
    store = Store(client_from_url(sentinel_set.url), settings.city.id)
    feed = settings.feeds[0]
    stop = threading.Event()
    ingested: list[float] = []  # when each batch write returned
    errors: list[str] = []
    killed_at = None

    def ingest() -> None:  # a feed writing all along, through the kill and the failover
        n = 0
        while not stop.is_set():
            entity = Entity(id=f"urn:ioc:danang:{feed.name}:{n % 50}", type="AirQualityObserved",
                            agency=feed.agency, sector=feed.sector, location=(108.2, 16.05),
                            attributes={"pm25": float(n)}, feed=feed.name)
            try:
                store.write_batch(feed.name, Batch(entities=[entity]))
                ingested.append(time.time())
            except redis.RedisError as exc:  # counted only when written; what went wrong is kept for the assert
                errors.append(f"{time.time() - (killed_at or 0):.1f} s: {exc!r}")
            n += 1
            stop.wait(0.01)

    writer = threading.Thread(target=ingest, daemon=True)
    writer.start()
    # drill n -> (its alert id, when its acknowledgement returned). Keyed by drill, not alert id: the alert
    # sequence lives in Redis too, so ids handed out in the lost window are handed out again after the failover
    acknowledged: dict[int, tuple[str, float]] = {}
    n = 0
    try:
        while len([t for _, t in acknowledged.values() if killed_at and t > killed_at]) < 20:
            alert, _ = store.alerts.raise_alert(Alert(
                id="", rule_id="drill", entity_id=f"urn:drill:{n}", title=f"drill {n}", severity=Severity.SEVERE,
                sector="environment", agency="drill"))
            try:
                store.alerts.acknowledge(alert.id, actor="operator-1", note=f"seen {n}")
            except AlertConflict as conflict:  # a retried acknowledgement that had gone through: it is ours
                assert "operator-1" in str(conflict)
            acknowledged[n] = (alert.id, time.time())
            n += 1
            if killed_at is None and n == 60:
                sentinel_set.master.kill()  # SIGKILL: no shutdown, nothing more reaches the replica
                sentinel_set.master.wait(timeout=10)
                killed_at = time.time()
        wait_until(lambda: ingested[-1] > killed_at, timeout=30, message=f"a batch written after the kill ({errors})")
    finally:
        stop.set()
        writer.join(timeout=30)

    assert sentinel_set.master_address() == ("127.0.0.1", sentinel_set.replica_port)  # the replica promoted
    promoted = Store(redis.Redis(port=sentinel_set.replica_port, decode_responses=True), settings.city.id)

    def kept(drill: int, alert_id: str) -> bool:
        record = promoted.alerts.get(alert_id)
        return (record is not None and record.alert.entity_id == f"urn:drill:{drill}"
                and record.acknowledged_by == "operator-1")

    lost = {drill: killed_at - at for drill, (alert_id, at) in acknowledged.items() if not kept(drill, alert_id)}
    # what was lost was acknowledged within the window before the kill; everything after it is there
    assert all(0 <= age <= LOSS_WINDOW_S for age in lost.values()), lost
    # ingestion went on after the failover, on the new master
    assert promoted.entities_of_feed(feed.name)
    print(f"failover: {len(lost)} of {len(acknowledged)} acknowledgements lost, the oldest "
          f"{max(lost.values(), default=0) * 1000:.0f} ms before the kill; first write after the kill "
          f"{(min(t for t in ingested if t > killed_at) - killed_at):.1f} s later; errors: {errors}")


@pytest.mark.integration
def test_workers_take_their_polls_through_sentinel(sentinel_set: SentinelSet, tmp_path: Path) -> None:
    """`ioc worker` on a Sentinel URL: RQ's queue and the polls' writes go to the master the sentinel names."""
    import os
    import sys

    from rq import Queue
    from werkzeug.serving import make_server

    from ioc.config import load_settings
    from ioc.keys import Keys
    from ioc.worker import PollCadence
    from tests.ioc.test_worker import FEEDS, SlowAgency, write_city

    agency = make_server("127.0.0.1", free_port(), SlowAgency(), threaded=True)
    threading.Thread(target=agency.serve_forever, daemon=True).start()
    try:
        # a cadence longer than the test: the polls wait in the queue for the worker (a job expires at its next slot)
        city = write_city(tmp_path, f"http://127.0.0.1:{agency.server_port}", interval=120)
        settings = load_settings(str(city))
        queue = Queue(Keys(settings.city.id).poll_queue(),
                      connection=client_from_url(sentinel_set.url, decode_responses=False))
        assert sorted(PollCadence(settings, queue).enqueue_due(time.time())) == sorted(FEEDS)
        log = tmp_path / "worker.log"
        try:
            done = subprocess.run([sys.executable, "-m", "ioc", "--config", str(city), "worker", "--burst"],
                                  env={**os.environ, "IOC_REDIS_URL": sentinel_set.url}, stdout=log.open("wb"),
                                  stderr=subprocess.STDOUT, timeout=30)
        finally:
            print(log.read_text())
        assert done.returncode == 0
    finally:
        agency.shutdown()
    on_master = Store(redis.Redis(port=sentinel_set.master_port, decode_responses=True), settings.city.id)
    health = on_master.all_health(FEEDS)
    assert all(health[feed] is not None and health[feed].record_count == 1 for feed in FEEDS)
    assert queue.count == 0 and len(queue.finished_job_registry) == len(FEEDS)
