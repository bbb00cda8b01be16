"""The outbox in Redis: notifications queued once per alert step and person, claimed with a lease, settled audited.

A notification is queued in one transaction with the alert's planned marker, so however many planners run and
however often, each (alert, policy step, repeat, person, channel) is queued once. A worker claims due ones by
moving their outbox score a lease ahead: if it dies before settling them, the lease runs out and the next worker
sends them (at least once; a worker dying between the send and the settle is the one case of a repeat, and the
repeat carries the same notification id as Idempotency-Key or Message-ID).
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from datetime import datetime, timedelta

import redis

from ioc.alerts.timeline import write_entry
from ioc.keys import Keys
from ioc.model import AlertState, to_iso
from ioc.notifications.config import Delivery
from ioc.notifications.policy import NOBODY, Due

ACTOR = "notifications"
QUEUED, RETRYING, SENT, FAILED, CANCELLED, UNREACHABLE = (
    "queued", "retrying", "sent", "failed", "cancelled", "unreachable")
RECENT = 10_000
KEEP_FINAL = timedelta(days=30)
PLANNED_TTL = timedelta(days=90)


def notification_id(due: Due) -> str:
    return f"{due.alert_id}-{hashlib.sha1(due.key.encode()).hexdigest()[:10]}"


class Outbox:
    """Queue, claim and settle notifications of one city."""

    def __init__(self, client: redis.Redis, keys: Keys, delivery: Delivery) -> None:
        self.redis, self.keys, self.delivery = client, keys, delivery

    # --- queueing ---------------------------------------------------------------------------------------

    def queue(self, dues: Sequence[Due], now: datetime, states: dict[str, AlertState]) -> list[str]:
        """Queue every Due not queued before (per alert, atomically); returns the ids queued now."""
        by_alert: dict[str, list[Due]] = {}
        for due in dues:
            by_alert.setdefault(due.alert_id, []).append(due)
        # the planner asks every round for every open alert: one read tells which alerts have anything new,
        # and only those pay for a transaction
        pipe = self.redis.pipeline(transaction=False)
        for alert_id, group in by_alert.items():
            pipe.hmget(self.keys.notifications_planned(alert_id), [due.key for due in group])
        known = pipe.execute()
        queued: list[str] = []
        for (alert_id, group), marks in zip(by_alert.items(), known, strict=True):
            if all(marks):
                continue
            queued += self._queue_alert(alert_id, group, now, states.get(alert_id, AlertState.NEW))
        return queued

    def _queue_alert(self, alert_id: str, dues: list[Due], now: datetime, state: AlertState) -> list[str]:
        planned = self.keys.notifications_planned(alert_id)

        def _apply(pipe: redis.client.Pipeline) -> list[str]:
            already = pipe.hmget(planned, [due.key for due in dues])
            fresh = [due for due, known in zip(dues, already, strict=True) if not known]
            pipe.multi()
            for due in fresh:
                nid = notification_id(due)
                fields = {"id": nid, "alert": due.alert_id, "policy": due.policy, "step": str(due.step),
                          "repeat": str(due.repeat), "person": due.person, "channel": due.channel,
                          "due_at": to_iso(due.due_at), "queued_at": to_iso(now), "attempts": "0",
                          "status": QUEUED, "next_at": to_iso(now), "last_error": "", "sent_at": ""}
                pipe.hset(planned, due.key, nid)
                pipe.zadd(self.keys.notifications_recent(), {nid: now.timestamp()})
                if due.person == NOBODY:
                    # a step that reaches nobody is not sent but said, so a hole in the rota is seen
                    fields["status"] = UNREACHABLE
                    fields["last_error"] = "nobody on duty with an enabled channel"
                    pipe.hset(self.keys.notification(nid), mapping=fields)
                    pipe.expire(self.keys.notification(nid), KEEP_FINAL)
                    self._entry(pipe, fields, "notification.unreachable", state, now,
                                f"step {due.step + 1}: nobody on duty with an enabled channel")
                else:
                    pipe.hset(self.keys.notification(nid), mapping=fields)
                    pipe.zadd(self.keys.notifications_outbox(), {nid: now.timestamp()})
            if fresh:
                pipe.expire(planned, PLANNED_TTL)
                pipe.zremrangebyrank(self.keys.notifications_recent(), 0, -RECENT - 1)
            return [notification_id(due) for due in fresh]

        return self.redis.transaction(_apply, planned, value_from_callable=True)

    # --- delivering -------------------------------------------------------------------------------------

    def claim(self, now: datetime, limit: int = 200) -> list[dict[str, str]]:
        """Due notifications, each leased to this caller until now + lease (another worker skips them)."""
        outbox = self.keys.notifications_outbox()
        until = (now + self.delivery.lease).timestamp()

        def _apply(pipe: redis.client.Pipeline) -> list[str]:
            ids = pipe.zrangebyscore(outbox, "-inf", now.timestamp(), start=0, num=limit)
            pipe.multi()
            if ids:
                pipe.zadd(outbox, {nid: until for nid in ids}, xx=True)
            return list(ids)

        ids = self.redis.transaction(_apply, outbox, value_from_callable=True)
        if not ids:
            return []
        pipe = self.redis.pipeline(transaction=False)
        for nid in ids:
            pipe.hgetall(self.keys.notification(nid))
        return [fields for fields in pipe.execute() if fields]

    def sent(self, fields: dict[str, str], state: AlertState, now: datetime) -> None:
        attempts = int(fields.get("attempts") or 0) + 1
        self._final(fields, {"status": SENT, "sent_at": to_iso(now), "attempts": str(attempts), "last_error": ""},
                    "notification.sent", state, now, self._describe(fields))

    def failed(self, fields: dict[str, str], error: str, *, retry: bool, retry_after: float | None,
               state: AlertState, now: datetime) -> bool:
        """Record a failed attempt: queued again after a backoff, or given up. True when it will be retried."""
        attempts = int(fields.get("attempts") or 0) + 1
        note = f"{self._describe(fields)}: attempt {attempts}: {error}"
        if retry and attempts < self.delivery.max_attempts:
            wait = min(self.delivery.backoff * 2 ** (attempts - 1), self.delivery.backoff_max)
            if retry_after:
                wait = max(wait, timedelta(seconds=retry_after))
            next_at = now + wait
            pipe = self.redis.pipeline(transaction=True)
            pipe.hset(self.keys.notification(fields["id"]), mapping={
                "status": RETRYING, "attempts": str(attempts), "last_error": error, "next_at": to_iso(next_at)})
            pipe.zadd(self.keys.notifications_outbox(), {fields["id"]: next_at.timestamp()})
            self._entry(pipe, fields, "notification.failed", state, now, note + f"; again at {to_iso(next_at)}")
            pipe.execute()
            return True
        self._final(fields, {"status": FAILED, "attempts": str(attempts), "last_error": error},
                    "notification.failed", state, now, note + "; given up")
        return False

    def cancel(self, fields: dict[str, str], state: AlertState, now: datetime) -> None:
        self._final(fields, {"status": CANCELLED, "last_error": f"alert {state} before it was sent"},
                    "notification.cancelled", state, now, f"{self._describe(fields)}: alert {state}")

    # --- reading ----------------------------------------------------------------------------------------

    def recent(self, *, limit: int = 100, alert_id: str | None = None, status: str | None = None
               ) -> list[dict[str, str]]:
        """Newest first; filtered by alert and status."""
        if alert_id:
            ids = list(self.redis.hvals(self.keys.notifications_planned(alert_id)))
        else:
            ids = self.redis.zrevrange(self.keys.notifications_recent(), 0, RECENT)
        pipe = self.redis.pipeline(transaction=False)
        for nid in ids:
            pipe.hgetall(self.keys.notification(nid))
        found = [f for f in pipe.execute() if f and (not status or f.get("status") == status)]
        found.sort(key=lambda f: (f.get("queued_at", ""), f.get("id", "")), reverse=True)
        return found[:limit]

    # --- internals --------------------------------------------------------------------------------------

    @staticmethod
    def _describe(fields: dict[str, str]) -> str:
        repeat = int(fields.get("repeat") or 0)
        again = f" reminder {repeat}" if repeat else ""
        return (f"{fields.get('person')} by {fields.get('channel')} "
                f"(policy {fields.get('policy')} step {int(fields.get('step') or 0) + 1}{again})")

    def _final(self, fields: dict[str, str], changes: dict[str, str], action: str, state: AlertState,
               now: datetime, note: str) -> None:
        key = self.keys.notification(fields["id"])
        pipe = self.redis.pipeline(transaction=True)
        pipe.hset(key, mapping=changes)
        pipe.zrem(self.keys.notifications_outbox(), fields["id"])
        pipe.expire(key, KEEP_FINAL)
        self._entry(pipe, fields, action, state, now, note)
        pipe.execute()

    def _entry(self, pipe: redis.client.Pipeline, fields: dict[str, str], action: str, state: AlertState,
               now: datetime, note: str) -> None:
        # on the alert's timeline (seen with the alert) and so in the audit stream; never the address
        write_entry(pipe, self.keys, fields["alert"], actor=ACTOR, action=action, at=now, from_state=state,
                    to_state=state, note=note,
                    entry={"notification": fields["id"], "person": fields.get("person", ""),
                           "channel": fields.get("channel", "")})
