"""The notifier: plans what open alerts are due, delivers the outbox through the channels, in a thread."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

import redis

from ioc.alerts import AlertBook, AlertRecord
from ioc.alerts.shelf import shelved_ids
from ioc.credentials import CredentialError
from ioc.keys import Keys
from ioc.model import AlertState, utcnow
from ioc.notifications.channels import DeliveryError, Sender, compose, make_sender
from ioc.notifications.config import NotificationSettings
from ioc.notifications.outbox import Outbox
from ioc.notifications.policy import due_notifications

log = logging.getLogger(__name__)


@dataclass(slots=True)
class DeliveryReport:
    sent: int = 0
    retrying: int = 0
    failed: int = 0
    cancelled: int = 0


class Notifier:
    """Plans and delivers one city's notifications. `clock` is injectable: tests move time, never sleep."""

    def __init__(
        self, client: redis.Redis, keys: Keys, settings: NotificationSettings, *, city: str, zone: ZoneInfo,
        senders: dict[str, Sender] | None = None, clock: Callable[[], datetime] = utcnow, threads: int = 8,
    ) -> None:
        self.redis, self.keys, self.settings = client, keys, settings
        self.city, self.zone, self.clock = city, zone, clock
        self.book = AlertBook(client, keys)
        self.outbox = Outbox(client, keys, settings.delivery)
        self.unavailable: dict[str, str] = {}
        if senders is None:
            senders = {}
            for name, channel in settings.enabled_channels.items():
                try:
                    senders[name] = make_sender(name, channel)
                except CredentialError as exc:
                    # the channel stays listed: its notifications fail, audited, naming the missing secret
                    self.unavailable[name] = str(exc)
                    log.warning("notification channel %s is not available: %s", name, exc)
        self.senders = senders
        self._pool = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="notify")

    @property
    def active(self) -> bool:
        """Anything to do: at least one channel is enabled."""
        return bool(self.settings.enabled_channels)

    def plan(self, now: datetime | None = None) -> list[str]:
        """Queue what every open alert is due now; returns the ids queued by this call."""
        now = now or self.clock()
        # a shelved alarm is set aside by an operator who knows of it: nobody more is told until it comes back
        shelved = shelved_ids(self.book.redis, self.book.keys, now)
        records = [record for record in self.book.records(limit=10_000) if record.id not in shelved]
        dues = [due for record in records for due in due_notifications(record, now, self.settings, self.zone)]
        return self.outbox.queue(dues, now, {r.id: r.state for r in records}) if dues else []

    def deliver(self, now: datetime | None = None, limit: int = 200) -> DeliveryReport:
        """Send what the outbox holds due now, in parallel; each result settled and audited."""
        now = now or self.clock()
        report = DeliveryReport()
        claimed = self.outbox.claim(now, limit)
        if not claimed:
            return report
        records = {fields["alert"]: self.book.get(fields["alert"]) for fields in claimed}
        jobs = []
        for fields in claimed:
            record = records[fields["alert"]]
            if record is None or record.state != AlertState.NEW:
                # every step is "while unacknowledged": once someone is on it, nobody more is told
                self.outbox.cancel(fields, record.state if record else AlertState.RESOLVED, self.clock())
                report.cancelled += 1
                continue
            jobs.append((fields, record, self._pool.submit(self._send, fields, record)))
        for fields, record, future in jobs:
            error = future.result()
            moment = self.clock()
            if error is None:
                self.outbox.sent(fields, record.state, moment)
                report.sent += 1
            elif self.outbox.failed(fields, str(error), retry=error.retry, retry_after=error.retry_after,
                                    state=record.state, now=moment):
                report.retrying += 1
            else:
                report.failed += 1
        return report

    def _send(self, fields: dict[str, str], record: AlertRecord) -> DeliveryError | None:
        channel, person_id = fields.get("channel", ""), fields.get("person", "")
        sender = self.senders.get(channel)
        if sender is None:
            reason = self.unavailable.get(channel, "channel not enabled in notifications.yaml")
            return DeliveryError(f"{channel}: {reason}", retry=channel in self.unavailable)
        person = self.settings.person(person_id)
        address = person.contacts.get(channel) if person else None
        if not address:
            return DeliveryError(f"{person_id} has no {channel} address in notifications.yaml", retry=False)
        step = int(fields.get("step") or 0)
        policy = next((p for p in self.settings.policies if p.id == fields.get("policy")), None)
        after = policy.steps[step].after.total_seconds() / 60 if policy and step < len(policy.steps) else 0.0
        message = compose(fields["id"], record, city=self.city, step=step, repeat=int(fields.get("repeat") or 0),
                          after_minutes=after, person=person_id, zone=self.zone,
                          language=self.settings.language)
        try:
            sender.send(message, address)
        except DeliveryError as exc:
            return exc
        except Exception as exc:  # a sender's bug is one failed notification, not a dead worker
            log.exception("sending %s failed", fields["id"])
            return DeliveryError(f"{channel}: {type(exc).__name__}: {exc}", retry=True)
        return None

    def tick(self, now: datetime | None = None) -> DeliveryReport:
        self.plan(now)
        return self.deliver(now)

    def run(self, stop: threading.Event, interval: float = 1.0) -> None:
        """Plan and deliver every `interval` seconds until `stop` is set."""
        while not stop.is_set():
            started = time.monotonic()
            try:
                self.tick()
            except redis.RedisError as exc:
                log.warning("notifications: Redis unavailable: %s", exc)
            except Exception:  # keep notifying whatever one round hit
                log.exception("notification round failed")
            stop.wait(max(0.05, interval - (time.monotonic() - started)))

    def close(self) -> None:
        self._pool.shutdown(wait=True)
        for sender in self.senders.values():
            sender.close()


def start_notifier(client: redis.Redis, keys: Keys, settings: NotificationSettings | None, *, city: str,
                   zone: ZoneInfo, interval: float = 1.0) -> tuple[Notifier, threading.Thread, threading.Event] | None:
    """The notifier in a daemon thread; None when no channel is enabled (notifications are off)."""
    if settings is None or not settings.enabled_channels:
        return None
    notifier = Notifier(client, keys, settings, city=city, zone=zone)
    stop = threading.Event()
    thread = threading.Thread(target=notifier.run, args=(stop, interval), name="notifier", daemon=True)
    thread.start()
    return notifier, thread, stop
