"""Delivery through real servers on loopback (aiosmtpd, an HTTP recorder) from a real Redis outbox: sends,
retries, give-ups, cancellations and restarts, each audited; time is an injected clock."""

from __future__ import annotations

import hashlib
import hmac
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import pytest
import redis

from ioc.alerts import AlertBook
from ioc.audit import AuditQuery, AuditTrail
from ioc.keys import Keys
from ioc.model import Severity
from ioc.notifications import NotificationSettings, Notifier, Outbox
from tests.ioc.notifications.conftest import BOT_TOKEN, ZONE, Clock, raise_alert, settings_document
from tests.ioc.notifications.local_servers import HttpRecorder, MailServer

pytestmark = pytest.mark.integration
KEYS = Keys("danang")


def notifier(client: redis.Redis, smtp: MailServer, http: HttpRecorder, clock: Clock, **overrides: object
             ) -> Notifier:
    settings = NotificationSettings.model_validate(
        settings_document(smtp_port=smtp.port, http_url=http.url, **overrides))
    return Notifier(client, KEYS, settings, city="Đà Nẵng", zone=ZONE, clock=clock, threads=4)


def audited(client: redis.Redis, action: str) -> list:
    return AuditTrail(client, KEYS).search(AuditQuery(action=action, limit=1000))


def test_email_webhook_and_telegram_reach_real_servers_and_each_send_is_audited(
        redis_client: redis.Redis, smtp: MailServer, http: HttpRecorder) -> None:
    clock = Clock()
    alert_id = raise_alert(redis_client)
    worker = notifier(redis_client, smtp, http, clock)
    try:
        report = worker.tick()
    finally:
        worker.close()

    assert (report.sent, report.retrying, report.failed) == (3, 0, 0)
    [mail] = smtp.received
    assert mail.recipients == ["op-a@city.example"] and mail.sender == "ioc@city.example"
    assert mail.message["Subject"] == "[IOC Đà Nẵng] Nghiêm trọng: Ngập sâu — Hải Châu"
    assert alert_id in mail.message.get_content()
    [emailed] = [n for n in worker.outbox.recent(alert_id=alert_id) if n["channel"] == "email"]
    assert mail.message["Message-ID"] == f"<{emailed['id']}@city.example>"  # the same if ever sent again
    [hook] = http.received("/hook")
    body = hook.json()
    assert body["alert"]["id"] == alert_id and body["recipient"] == "op-a" and body["address"] == "op-a"
    assert hook.headers["idempotency-key"] == body["id"]
    expected = hmac.new(b"hook-secret", hook.body, hashlib.sha256).hexdigest()
    assert hook.headers["x-ioc-signature"] == f"sha256={expected}"
    [telegram] = http.received("/sendMessage")
    assert telegram.path == f"/bot{BOT_TOKEN}/sendMessage"
    assert telegram.json()["chat_id"] == "1001" and "Ngập sâu — Hải Châu" in telegram.json()["text"]
    # the message says what the alert is, not the reading or anything a citizen reported
    assert "0.62" not in telegram.json()["text"] and "level" not in mail.message.get_content()

    sent = audited(redis_client, "notification.sent")
    assert sorted((e.extra["person"], e.extra["channel"]) for e in sent) == [
        ("op-a", "email"), ("op-a", "hook"), ("op-b", "telegram")]
    assert all(e.object == f"alert:{alert_id}" and "@" not in e.note for e in sent)
    timeline = AlertBook(redis_client, KEYS).timeline(alert_id)
    assert Counter(entry["action"] for entry in timeline)["notification.sent"] == 3


def test_messages_are_written_in_the_configured_language(
        redis_client: redis.Redis, smtp: MailServer, http: HttpRecorder) -> None:
    clock = Clock()
    raise_alert(redis_client)
    worker = notifier(redis_client, smtp, http, clock, language="en")
    try:
        worker.tick()
        clock.advance(minutes=25)
        worker.tick()
    finally:
        worker.close()
    first, reminder = (m.message for m in smtp.received if m.recipients[0] in ("op-a@city.example",
                                                                                  "sup@city.example"))
    assert first["Subject"] == "[IOC Đà Nẵng] Severe: Ngập sâu — Hải Châu"
    assert "Status: new alert, not acknowledged" in first.get_content()
    assert "Status: not acknowledged for 10 min, reminder 1" in reminder.get_content()


def test_zalo_oa_gets_its_documented_request(redis_client: redis.Redis, smtp: MailServer,
                                             http: HttpRecorder) -> None:
    clock = Clock()
    raise_alert(redis_client)
    worker = notifier(redis_client, smtp, http, clock)
    try:
        worker.tick()
        clock.advance(minutes=10)
        report = worker.tick()
    finally:
        worker.close()

    assert report.sent == 2  # the supervisor, by e-mail and by Zalo
    [zalo] = http.received("/zalo")
    assert zalo.path == "/zalo/v3.0/oa/message/cs" and zalo.headers["access_token"] == "zalo-access-token"
    assert zalo.json()["recipient"] == {"user_id": "2002"} and "Nghiêm trọng" in zalo.json()["message"]["text"]


def test_a_server_error_is_retried_after_a_backoff_and_every_failure_is_audited(
        redis_client: redis.Redis, smtp: MailServer, http: HttpRecorder) -> None:
    clock = Clock()
    alert_id = raise_alert(redis_client)
    http.answer_next("/hook", 503)
    http.answer_next("/hook", 502)
    worker = notifier(redis_client, smtp, http, clock)
    try:
        first = worker.tick()
        clock.advance(seconds=29)
        early = worker.tick()
        clock.advance(seconds=1)
        second = worker.tick()
        clock.advance(seconds=59)
        still_early = worker.tick()
        clock.advance(seconds=1)
        third = worker.tick()
    finally:
        worker.close()

    assert (first.sent, first.retrying) == (2, 1)
    assert (early.sent, early.retrying) == (0, 0)  # backoff 30 s: not before
    assert (second.sent, second.retrying) == (0, 1)
    assert (still_early.sent, still_early.retrying) == (0, 0)  # backoff doubled to 60 s
    assert (third.sent, third.retrying) == (1, 0)
    assert len(http.received("/hook")) == 3
    failures = audited(redis_client, "notification.failed")
    assert len(failures) == 2 and all("HTTP 50" in e.note and e.extra["channel"] == "hook" for e in failures)
    [hook] = [n for n in Outbox(redis_client, KEYS, worker.settings.delivery).recent(alert_id=alert_id)
              if n["channel"] == "hook"]
    assert (hook["status"], hook["attempts"], hook["last_error"]) == ("sent", "3", "")


def test_a_refused_request_is_given_up_at_once_and_a_silent_server_after_max_attempts(
        redis_client: redis.Redis, smtp: MailServer, http: HttpRecorder) -> None:
    clock = Clock()
    alert_id = raise_alert(redis_client)
    http.answer_next(f"/bot{BOT_TOKEN}/sendMessage", 400,
                     {"ok": False, "error_code": 400, "description": "Bad Request: chat not found"})
    document = settings_document(smtp_port=smtp.port, http_url=http.url)
    document["channels"]["hook"]["url"] = "http://127.0.0.1:9/hook"  # nothing listens there
    worker = Notifier(redis_client, KEYS, NotificationSettings.model_validate(document), city="Đà Nẵng",
                      zone=ZONE, clock=clock, threads=4)
    try:
        reports = [worker.tick()]
        for _ in range(4):
            clock.advance(minutes=5)
            reports.append(worker.tick())
    finally:
        worker.close()

    statuses = {n["channel"]: (n["status"], n["attempts"])
                for n in worker.outbox.recent(alert_id=alert_id) if n["step"] == "0"}
    assert statuses == {"email": ("sent", "1"), "telegram": ("failed", "1"), "hook": ("failed", "3")}
    given_up = [e for e in audited(redis_client, "notification.failed") if "given up" in e.note]
    assert sorted(e.extra["channel"] for e in given_up) == ["hook", "telegram"]
    assert any("chat not found" in e.note for e in given_up)
    assert all(BOT_TOKEN not in e.note for e in audited(redis_client, "notification"))


def test_a_notification_queued_but_not_sent_when_the_worker_died_is_sent_once_by_the_next(
        redis_client: redis.Redis, smtp: MailServer, http: HttpRecorder) -> None:
    clock = Clock()
    alert_id = raise_alert(redis_client, severity=Severity.MODERATE)
    first = notifier(redis_client, smtp, http, clock)
    # the first worker queues, claims and dies before sending: nothing reached a server
    queued = first.plan()
    claimed = first.outbox.claim(clock())
    first.close()
    assert len(queued) == 3 and len(claimed) == 3 and smtp.received == [] and http.posted == []

    second = notifier(redis_client, smtp, http, clock)  # a restart: a new process on the same Redis
    try:
        assert second.plan() == []  # already queued: not again
        during_lease = second.deliver()
        clock.advance(minutes=2)
        after_lease = second.tick()
        clock.advance(minutes=30)
        later = second.tick()
    finally:
        second.close()

    assert during_lease.sent == 0  # the dead worker's lease holds them for 2 minutes
    assert after_lease.sent == 3 and later.sent == 0
    assert [m.recipients for m in smtp.received] == [["op-a@city.example"]]
    assert len(http.received("/hook")) == 1 and len(http.received("/sendMessage")) == 1
    assert len(audited(redis_client, "notification.sent")) == 3
    assert {n["status"] for n in second.outbox.recent(alert_id=alert_id)} == {"sent"}


def test_two_workers_on_one_redis_send_each_notification_once(
        redis_client: redis.Redis, smtp: MailServer, http: HttpRecorder) -> None:
    clock = Clock()
    for number in range(5):
        raise_alert(redis_client, entity=f"sensor-{number}")
    one, two = notifier(redis_client, smtp, http, clock), notifier(redis_client, smtp, http, clock)
    try:
        one.plan(), two.plan()
        # both claim and send at the same moment, from two threads, as two processes would
        with ThreadPoolExecutor(max_workers=2) as pool:
            reports = list(pool.map(lambda worker: worker.deliver(), (one, two)))
    finally:
        one.close(), two.close()
    assert sum(r.sent for r in reports) == 15
    assert len(smtp.received) == 5 and len(http.received("/hook")) == 5 and len(http.received("/sendMessage")) == 5


def mailed_to(smtp: MailServer) -> list[str]:
    """Who the relay received mail for, in order."""
    return [m.recipients[0] for m in smtp.received]


def test_escalation_over_time_tells_the_supervisor_reminds_and_stops_once_acknowledged(
        redis_client: redis.Redis, smtp: MailServer, http: HttpRecorder) -> None:
    clock = Clock()
    alert_id = raise_alert(redis_client)
    worker = notifier(redis_client, smtp, http, clock)
    book = AlertBook(redis_client, KEYS)

    try:
        worker.tick()
        assert mailed_to(smtp) == ["op-a@city.example"]
        clock.advance(minutes=9, seconds=59)
        worker.tick()
        assert mailed_to(smtp) == ["op-a@city.example"]
        clock.advance(seconds=1)
        worker.tick()
        assert mailed_to(smtp) == ["op-a@city.example", "sup@city.example"]
        clock.advance(minutes=15)
        worker.tick()
        assert mailed_to(smtp)[-1] == "sup@city.example" and len(mailed_to(smtp)) == 3  # reminder 1
        assert "nhắc lại lần 1" in smtp.received[-1].message.get_content()
        book.acknowledge(alert_id, actor="op-a", now=clock())
        clock.advance(minutes=30)
        report = worker.tick()
    finally:
        worker.close()
    assert report.sent == 0 and len(mailed_to(smtp)) == 3 and len(http.received("/sendMessage")) == 1


def test_acknowledged_while_waiting_for_a_retry_is_cancelled_not_sent(
        redis_client: redis.Redis, smtp: MailServer, http: HttpRecorder) -> None:
    clock = Clock()
    alert_id = raise_alert(redis_client)
    http.answer_next("/hook", 503)
    worker = notifier(redis_client, smtp, http, clock)
    try:
        worker.tick()
        AlertBook(redis_client, KEYS).acknowledge(alert_id, actor="op-a", now=clock())
        clock.advance(minutes=1)
        report = worker.tick()
    finally:
        worker.close()
    assert (report.sent, report.cancelled) == (0, 1) and len(http.received("/hook")) == 1
    [cancelled] = audited(redis_client, "notification.cancelled")
    assert cancelled.extra["channel"] == "hook" and "acknowledged" in cancelled.note


def test_severity_escalated_by_the_rules_tells_the_new_policys_people_at_once(
        redis_client: redis.Redis, smtp: MailServer, http: HttpRecorder) -> None:
    from datetime import timedelta

    clock = Clock()
    alert_id = raise_alert(redis_client, severity=Severity.MINOR)
    worker = notifier(redis_client, smtp, http, clock)
    try:
        assert worker.tick().sent == 0  # minor: no policy
        clock.advance(minutes=15)
        AlertBook(redis_client, KEYS).escalate(alert_id, after=timedelta(minutes=15), now=clock())  # -> moderate
        assert worker.tick().sent == 3  # routine: the operators
        clock.advance(minutes=15)
        AlertBook(redis_client, KEYS).escalate(alert_id, after=timedelta(minutes=15), now=clock())  # -> severe
        report = worker.tick()
    finally:
        worker.close()
    # urgent at 30 min: the operators again (a new policy), the supervisor (reminder 1 due) and the director
    assert report.sent == 3 + 2 + 1


def test_the_shipped_configuration_sends_nothing_until_a_channel_is_switched_on_then_delivers_in_a_thread(
        fake_redis: redis.Redis, http: HttpRecorder, monkeypatch: pytest.MonkeyPatch) -> None:
    from ioc.config import DEFAULT_CONFIG_DIR
    from ioc.model import utcnow
    from ioc.notifications import load_notifications, start_notifier
    from tests.waiting import wait_until

    assert start_notifier(fake_redis, KEYS, load_notifications(DEFAULT_CONFIG_DIR), city="Đà Nẵng",
                          zone=ZONE) is None
    monkeypatch.setenv("IOC_NOTIFY_WEBHOOK", "true")
    monkeypatch.setenv("IOC_NOTIFY_WEBHOOK_URL", f"{http.url}/duty")
    monkeypatch.setenv("IOC_NOTIFY_WEBHOOK_SECRET", "s3cret")
    alert_id = raise_alert(fake_redis, at=utcnow())
    started = start_notifier(fake_redis, KEYS, load_notifications(DEFAULT_CONFIG_DIR), city="Đà Nẵng",
                             zone=ZONE, interval=0.05)
    assert started is not None
    notifier, thread, stop = started
    try:
        # every shift of the shipped rota has an operator on the duty webhook
        posted = wait_until(lambda: http.received("/duty"), message="the on-duty operator's webhook post")
    finally:
        stop.set()
        thread.join(5)
        notifier.close()
    assert posted[0].json()["alert"]["id"] == alert_id and posted[0].json()["recipient"].startswith("op-")


# the test's SMTP server has no certificate; a real relay's login goes over STARTTLS or TLS
@pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")
def test_smtp_logs_in_with_the_secrets_it_is_given_by_reference_and_a_wrong_password_is_given_up(
        redis_client: redis.Redis, http: HttpRecorder, monkeypatch: pytest.MonkeyPatch) -> None:
    from tests.ioc.notifications.local_servers import mail_server

    monkeypatch.setenv("TEST_SMTP_USER", "ioc-relay")
    monkeypatch.setenv("TEST_SMTP_PASSWORD", "relay-password")
    clock = Clock()
    alert_id = raise_alert(redis_client, severity=Severity.MODERATE)
    with mail_server(login=("ioc-relay", "relay-password")) as smtp:
        document = settings_document(smtp_port=smtp.port, http_url=http.url)
        document["channels"]["email"].update(username={"env": "TEST_SMTP_USER"},
                                             password={"env": "TEST_SMTP_PASSWORD"})
        worker = Notifier(redis_client, KEYS, NotificationSettings.model_validate(document), city="Đà Nẵng",
                          zone=ZONE, clock=clock)
        try:
            assert worker.tick().sent == 3
        finally:
            worker.close()
        monkeypatch.setenv("TEST_SMTP_PASSWORD", "wrong-password")
        other = raise_alert(redis_client, severity=Severity.MODERATE, entity="sensor-2")
        wrong = Notifier(redis_client, KEYS, NotificationSettings.model_validate(document), city="Đà Nẵng",
                         zone=ZONE, clock=clock)
        try:
            report = wrong.tick()
        finally:
            wrong.close()
    assert smtp.logins == ["ioc-relay"] and [m.recipients for m in smtp.received] == [["op-a@city.example"]]
    assert (report.sent, report.failed) == (2, 1)  # 535 refuses the login: no retry will change it
    [refused] = [n for n in worker.outbox.recent(alert_id=other) if n["channel"] == "email"]
    assert refused["status"] == "failed" and "535" in refused["last_error"]
    assert "wrong-password" not in refused["last_error"] and alert_id != other


KILLED_WORKER = """
import os, signal, sys
import redis
from ioc.keys import Keys
from ioc.notifications import NotificationSettings, Notifier
from tests.ioc.notifications.conftest import T0, ZONE, settings_document

client = redis.Redis.from_url(sys.argv[1], decode_responses=True)
settings = NotificationSettings.model_validate(settings_document(smtp_port=int(sys.argv[2]), http_url=sys.argv[3]))
worker = Notifier(client, Keys("danang"), settings, city="Da Nang", zone=ZONE, clock=lambda: T0)
queued = worker.plan()
claimed = worker.outbox.claim(T0)
print(len(queued), len(claimed), flush=True)
os.kill(os.getpid(), signal.SIGKILL)
"""


def test_a_worker_process_killed_after_claiming_leaves_nothing_lost_and_nothing_twice(
        redis_client: redis.Redis, redis_server_url: str, smtp: MailServer, http: HttpRecorder) -> None:
    import signal
    import subprocess
    import sys

    from ioc.config import PROJECT_ROOT

    alert_id = raise_alert(redis_client)
    killed = subprocess.run([sys.executable, "-c", KILLED_WORKER, redis_server_url, str(smtp.port), http.url],
                            cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=60)
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    assert killed.stdout.split() == ["3", "3"] and smtp.received == [] and http.posted == []

    clock = Clock()
    worker = notifier(redis_client, smtp, http, clock)
    try:
        assert worker.tick().sent == 0  # still leased to the dead process
        clock.advance(minutes=2)
        assert worker.tick().sent == 3
        clock.advance(minutes=1)
        assert worker.tick().sent == 0
    finally:
        worker.close()
    assert len(smtp.received) == 1 and len(http.received("/hook")) == 1 and len(http.received("/sendMessage")) == 1
    assert {n["status"] for n in worker.outbox.recent(alert_id=alert_id)} == {"sent"}


def test_telegram_asking_to_slow_down_is_retried_no_sooner_than_it_said(
        redis_client: redis.Redis, smtp: MailServer, http: HttpRecorder) -> None:
    clock = Clock()
    raise_alert(redis_client)
    http.answer_next(f"/bot{BOT_TOKEN}/sendMessage", 429, {
        "ok": False, "error_code": 429, "description": "Too Many Requests: retry after 120",
        "parameters": {"retry_after": 120}})
    worker = notifier(redis_client, smtp, http, clock)
    try:
        first = worker.tick()
        clock.advance(seconds=119)
        early = worker.tick()  # the 30 s backoff has passed, Telegram's 120 s not
        clock.advance(seconds=1)
        later = worker.tick()
    finally:
        worker.close()
    assert (first.sent, first.retrying) == (2, 1)
    assert (early.sent, early.retrying) == (0, 0) and (later.sent, later.retrying) == (1, 0)
    assert len(http.received("/sendMessage")) == 2



def test_smtp_over_starttls_checks_the_relays_certificate_and_logs_in_inside_tls(
        redis_client: redis.Redis, http: HttpRecorder, monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:  # noqa: ANN001
    import shutil
    import ssl
    import subprocess

    from tests.conftest import missing_service
    from tests.ioc.notifications.local_servers import mail_server

    if not shutil.which("openssl"):
        missing_service("openssl (to make the test relay's certificate)")
    cert, key = tmp_path / "relay.pem", tmp_path / "relay.key"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key), "-out",
                    str(cert), "-days", "1", "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1"],
                   check=True, capture_output=True, timeout=60)
    tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    tls.load_cert_chain(cert, key)
    monkeypatch.setenv("TEST_SMTP_PASSWORD", "relay-password")
    clock = Clock()
    raise_alert(redis_client, severity=Severity.MODERATE)
    with mail_server(login=("ioc-relay", "relay-password"), tls=tls) as smtp:
        document = settings_document(smtp_port=smtp.port, http_url=http.url)
        document["channels"]["email"].update(security="starttls", username="ioc-relay",
                                             password={"env": "TEST_SMTP_PASSWORD"})
        unverified = Notifier(redis_client, KEYS, NotificationSettings.model_validate(document),
                              city="Đà Nẵng", zone=ZONE, clock=clock)
        try:
            unverified.plan()
            refused = unverified.deliver()  # the system's CAs do not know the relay's certificate
        finally:
            unverified.close()
        document["channels"]["email"]["ca_file"] = str(cert)
        clock.advance(minutes=1)
        verified = Notifier(redis_client, KEYS, NotificationSettings.model_validate(document),
                            city="Đà Nẵng", zone=ZONE, clock=clock)
        try:
            sent = verified.deliver()
        finally:
            verified.close()
    assert (refused.sent, refused.retrying) == (2, 1)
    [failure] = audited(redis_client, "notification.failed")
    assert "CERTIFICATE_VERIFY_FAILED" in failure.note and failure.extra["channel"] == "email"
    assert sent.sent == 1 and smtp.logins == ["ioc-relay"] and len(smtp.received) == 1


def test_a_shelved_alarm_escalates_to_nobody_until_it_comes_back(
        redis_client: redis.Redis, smtp: MailServer, http: HttpRecorder) -> None:
    from ioc.alerts.shelf import Shelf
    from ioc.config import Shelving

    clock = Clock()
    alert_id = raise_alert(redis_client)
    worker = notifier(redis_client, smtp, http, clock)
    book = AlertBook(redis_client, KEYS)

    try:
        worker.tick()
        assert mailed_to(smtp) == ["op-a@city.example"]
        Shelf(redis_client, KEYS, Shelving()).shelve(book.get(alert_id), actor="op-a", reason="crew on site",
                                                     minutes=20, now=clock())
        clock.advance(minutes=15)
        worker.tick()
        assert mailed_to(smtp) == ["op-a@city.example"]  # past the supervisor's 10 minutes, but shelved
        clock.advance(minutes=6)
        worker.tick()
        assert "sup@city.example" in mailed_to(smtp)  # back from the shelf, still unacknowledged: escalated
    finally:
        worker.close()
