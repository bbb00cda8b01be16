"""Notification benchmark: 50 recipients told within 5 s of an alert's escalation, through the real outbox.

Run: python3 bench/notify.py [--recipients 50] [--runs 5] [--interval 1.0] [--json]
It starts a private redis-server (or uses IOC_BENCH_REDIS_URL), a real SMTP server (aiosmtpd) and an HTTP
endpoint recording Telegram-format posts, all on loopback, and the notifier in a thread ticking every
`--interval` seconds (the demo's 1 s). Then, in the same run:
  ours:     a severe alert is escalated to extreme (AlertBook.escalate, as the rule engine does) whose policy
            tells every one of N recipients by e-mail and by Telegram; the time from the escalation to the last
            of the 2N messages received by the servers (planning, outbox, parallel sends, audit included);
            median and max of `--runs` alerts
  baseline: the same 2N messages sent one by one with no Redis at all: a new SMTP connection per e-mail
            (smtplib, as a plain script would) and one httpx POST after another
and prints both and their ratio. Target: all N told within 5 s.
"""

from __future__ import annotations

import argparse
import json
import os
import smtplib
import statistics
import sys
import threading
import time
from collections.abc import Callable
from datetime import timedelta
from email.message import EmailMessage
from pathlib import Path
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import httpx  # noqa: E402
import redis  # noqa: E402

from bench.common import bench_redis  # noqa: E402
from bench.common import stop as stop_redis  # noqa: E402
from ioc.alerts import AlertBook  # noqa: E402
from ioc.keys import Keys  # noqa: E402
from ioc.model import Alert, Severity, utcnow  # noqa: E402
from ioc.notifications import NotificationSettings, Notifier  # noqa: E402

# the same loopback servers the notification tests send to
from tests.ioc.notifications.local_servers import http_recorder, mail_server  # noqa: E402

ZONE = ZoneInfo("Asia/Ho_Chi_Minh")
KEYS = Keys("bench")


def settings(recipients: int, smtp_port: int, http_url: str) -> NotificationSettings:
    people = [{"id": f"staff-{n:02d}", "name": f"Staff {n}",
               "contacts": {"email": f"staff-{n:02d}@city.example", "telegram": str(100000 + n)}}
              for n in range(recipients)]
    return NotificationSettings.model_validate({
        "channels": {
            "email": {"type": "smtp", "enabled": True, "host": "127.0.0.1", "port": smtp_port,
                      "security": "none", "sender": "ioc@city.example"},
            "telegram": {"type": "telegram", "enabled": True, "token": {"env": "BENCH_BOT_TOKEN"},
                         "api_url": http_url},
        },
        "people": people,
        "shifts": [{"id": "all-day", "start": "00:00", "end": "00:00"}],
        "rota": [{"shift": "all-day", "roles": {"all-hands": [p["id"] for p in people]}}],
        "policies": [{"id": "extreme", "severities": ["extreme"], "steps": [{"after": "0m", "roles": ["all-hands"]}]}],
    })


def raise_severe(book: AlertBook, number: int) -> str:
    now = utcnow()
    alert = Alert(id="", rule_id="flood", entity_id=f"sensor-{number}", title="Ngập sâu — Hải Châu",
                  severity=Severity.SEVERE, sector="water", agency="water-board", raised_at=now, updated_at=now)
    return book.raise_alert(alert)[0].id


def wait_for(count: Callable[[], int], target: int, timeout: float = 60.0) -> float:
    deadline = time.perf_counter() + timeout
    while count() < target:
        if time.perf_counter() > deadline:
            raise SystemExit(f"only {count()} of {target} messages arrived in {timeout:.0f} s")
        time.sleep(0.002)
    return time.perf_counter()


def baseline(recipients: int, smtp_port: int, http_url: str, token: str) -> float:
    started = time.perf_counter()
    with httpx.Client(timeout=10) as http:
        for n in range(recipients):
            email = EmailMessage()
            email["From"], email["To"], email["Subject"] = "ioc@city.example", f"staff-{n:02d}@city.example", "x"
            email.set_content("EXTREME: Ngập sâu — Hải Châu")
            with smtplib.SMTP("127.0.0.1", smtp_port, timeout=10) as smtp:
                smtp.send_message(email)
            http.post(f"{http_url}/bot{token}/sendMessage",
                      json={"chat_id": str(100000 + n), "text": "EXTREME: Ngập sâu — Hải Châu"}).raise_for_status()
    return time.perf_counter() - started


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--recipients", type=int, default=50)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--interval", type=float, default=1.0, help="the notifier's round (demo: 1 s)")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    token = "123456:bench-token"
    os.environ["BENCH_BOT_TOKEN"] = token

    url, process = bench_redis()
    client = redis.Redis.from_url(url, decode_responses=True)
    client.flushdb()
    book = AlertBook(client, KEYS)
    n = args.recipients
    try:
        with mail_server() as smtp, http_recorder() as http:
            notifier = Notifier(client, KEYS, settings(n, smtp.port, http.url), city="Đà Nẵng", zone=ZONE)
            stop = threading.Event()
            thread = threading.Thread(target=notifier.run, args=(stop, args.interval), daemon=True)
            thread.start()
            ours: list[float] = []
            for run in range(args.runs):
                alert_id = raise_severe(book, run)
                before = len(smtp.received) + len(http.received("/sendMessage"))
                time.sleep(args.interval * 0.37 * (run + 1) % args.interval)  # land at varied points of a round
                started = time.perf_counter()
                book.escalate(alert_id, after=timedelta(0))
                done = wait_for(lambda: len(smtp.received) + len(http.received("/sendMessage")), before + 2 * n)
                ours.append(done - started)
            stop.set()
            thread.join(5)
            notifier.close()
            audited = client.xlen(KEYS.audit())
            received_before = len(smtp.received)
            one_by_one = baseline(n, smtp.port, http.url, token)
            assert len(smtp.received) == received_before + n
    finally:
        client.flushdb()
        client.close()
        stop_redis(process)

    result = {
        "recipients": n, "messages_per_escalation": 2 * n, "runs": args.runs, "interval_s": args.interval,
        "ours_median_s": round(statistics.median(ours), 3), "ours_max_s": round(max(ours), 3),
        "baseline_one_by_one_s": round(one_by_one, 3),
        "ratio_median_to_baseline": round(statistics.median(ours) / one_by_one, 2),
        "audit_entries": audited,
    }
    if args.json:
        print(json.dumps(result))
    else:
        print(f"escalation -> {n} recipients told ({2 * n} messages: e-mail + Telegram), {args.runs} runs, "
              f"notifier round {args.interval:g} s")
        print(f"  ours:     median {result['ours_median_s']:.3f} s, max {result['ours_max_s']:.3f} s "
              f"(target 5 s); {audited} audit entries written")
        print(f"  baseline: the same {2 * n} messages one by one, no Redis: {one_by_one:.3f} s")
        print(f"  ratio (median / baseline): {result['ratio_median_to_baseline']:.2f}")
    return 0 if max(ours) <= 5.0 else 1


if __name__ == "__main__":
    sys.exit(main())
