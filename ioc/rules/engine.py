"""The rule engine: judges every configured rule on each stored batch (`evaluate`) and on a timer (`tick`).

Each rule kind (ioc.rules.<kind>) reduces what it sees to verdicts, one per subject (an entity, a feed, a
zone, an event): breached, cleared, or in between. One state machine here turns verdicts into alerts: the
condition of each rule and subject lives in Redis (`Keys.rule_state`), so restarts and several runners agree
on what is pending and what is active; the alert lifecycle itself is ioc.alerts.AlertBook. A feed or entity
out of service, or in a maintenance window (ioc.alerts.service), gets no new alarm: its breaches are set aside.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Sequence
from datetime import datetime
from typing import Any

import redis

from ioc.alerts import SYSTEM, AlertBook
from ioc.alerts.service import Service, Suppression
from ioc.config import Feed, Rule, Settings
from ioc.model import Alert, Batch, from_iso, to_iso, utcnow
from ioc.rules import escalation, registry
from ioc.rules.base import RuleContext, TickReport, Verdict, minutes, resolve_quietly
from ioc.store import Store

log = logging.getLogger("ioc.rules")

CLEAR, PENDING, ACTIVE = "clear", "pending", "active"


class RuleEngine:
    """Judges the city's rules; `evaluate` after each stored batch, `tick` on a timer for what silence means."""

    def __init__(self, settings: Settings, store: Store, *, started: datetime | None = None) -> None:
        self.settings = settings
        self.store = store
        self.book: AlertBook = store.alerts
        self.rules: list[Rule] = list(settings.rules)
        self.by_id = {rule.id: rule for rule in self.rules}
        # a feed that has never answered is not called silent before it had the time to answer once
        self.started = started or utcnow()
        self.context = RuleContext(settings=settings, store=store, started=self.started)
        # every configured kind has its module: a missing one fails here, not on the first batch
        self.kinds = {rule.kind: registry.kind_of(rule.kind) for rule in self.rules}
        self.service = Service(store.redis, store.keys, settings)
        self.suppressed = 0  # breaches set aside since start (out of service, maintenance), for logs and tests

    def rules_for(self, feed: Feed) -> list[Rule]:
        return [r for r in self.rules if r.feed in (None, feed.name)]

    # --- entry points ---------------------------------------------------------------------------------

    def evaluate(self, feed: Feed, batch: Batch, *, now: datetime | None = None) -> tuple[int, int]:
        """Raise or clear alerts for what a stored batch shows; returns (raised, cleared)."""
        now = now or utcnow()
        raised = cleared = 0
        rules = self.rules_for(feed)
        silenced = self.service.suppression(now) if rules else Suppression()
        for rule in rules:
            try:
                verdicts = self.kinds[rule.kind].on_batch(self.context, rule, feed, batch, now)
                r, c = self.judge(rule, verdicts, now, silenced)
            except redis.ConnectionError:
                raise
            except Exception:  # one rule's bug must not keep the other rules (or the poll) from working
                log.exception("rule %s failed on feed %s", rule.id, feed.name)
                continue
            raised, cleared = raised + r, cleared + c
        return raised, cleared

    def tick(self, now: datetime | None = None) -> TickReport:
        """What time alone changes: silent feeds and sensors, unacknowledged alerts, expired warnings."""
        now = now or utcnow()
        report = TickReport()
        silenced = self.service.suppression(now)
        for rule in self.rules:
            on_tick = self.kinds[rule.kind].on_tick
            if on_tick is None:
                continue
            try:
                r, c = self.judge(rule, on_tick(self.context, rule, now), now, silenced)
            except redis.ConnectionError:
                raise
            except Exception:
                log.exception("%s rule %s failed on the timer", rule.kind, rule.id)
                continue
            report.raised += r
            report.cleared += c
        escalation.sweep(self.context, self.by_id, now, report)
        return report

    # --- the state machine ------------------------------------------------------------------------------

    def judge(self, rule: Rule, verdicts: Sequence[Verdict], now: datetime,
              silenced: Suppression | None = None) -> tuple[int, int]:
        """Turn verdicts into alerts through each subject's condition (clear, pending, active) in Redis.

        A breach of a subject `silenced` covers is set aside before anything is read or written: no pending
        clock starts, so the alarm comes only from readings after it is back in service.
        """
        if silenced:
            kept = [v for v in verdicts if not (v.breach is True and silenced.silences(v.subject, v.district))]
            self.suppressed += len(verdicts) - len(kept)
            verdicts = kept
        if not verdicts:
            return 0, 0
        keys = self.store.keys
        pipe = self.store.redis.pipeline(transaction=False)
        for verdict in verdicts:
            pipe.hgetall(keys.rule_state(rule.id, verdict.subject))
            pipe.get(keys.alert_dedup(rule.id, verdict.subject))
        replies = pipe.execute()
        raised = cleared = 0
        for index, verdict in enumerate(verdicts):
            state, open_id = replies[2 * index], replies[2 * index + 1]
            condition = state.get("condition", CLEAR)
            if verdict.breach is True:
                raised += self._breached(rule, verdict, state, condition, open_id, now)
            elif verdict.breach is False:
                cleared += self._cleared(rule, verdict, condition, open_id, now)
            elif condition == PENDING:
                # back inside the hysteresis band before the minimum duration: the clock starts again
                self._reset(rule, verdict.subject)
            elif open_id:
                # inside the band with the alert open: it stays open, showing the latest value
                self.book.refresh(open_id, value=verdict.value, message=verdict.message, now=now)
        return raised, cleared

    def _breached(
        self, rule: Rule, verdict: Verdict, state: dict[str, str], condition: str, open_id: str | None,
        now: datetime,
    ) -> int:
        key = self.store.keys.rule_state(rule.id, verdict.subject)
        client = self.store.redis
        became_active = False
        if condition == CLEAR:
            # HSETNX: when two runners see the breach begin, the earlier start stands
            client.hsetnx(key, "since", to_iso(verdict.at))
            client.hset(key, "condition", PENDING)
            condition = PENDING
            state = {**state, "since": client.hget(key, "since") or to_iso(verdict.at)}
        if condition == PENDING:
            since = from_iso(state.get("since")) or verdict.at
            if verdict.at - since < minutes(getattr(rule, "for_minutes", 0.0)):
                return 0
            client.hset(key, "condition", ACTIVE)
            became_active = True
        updated = bool(verdict.signature) and verdict.signature != state.get("signature", "")
        if open_id:
            if became_active or updated:
                self.book.raise_alert(self._alert(rule, verdict, now), count=True)
                if updated:
                    client.hset(key, "signature", verdict.signature)
            else:
                self.book.refresh(open_id, value=verdict.value, message=verdict.message, now=now)
            return 0
        resolved_at = from_iso(state.get("resolved_at"))
        if verdict.signature and not updated and resolved_at:
            return 0  # a relayed event someone resolved stays resolved until its source updates it
        if rule.cooldown_minutes and resolved_at and now - resolved_at < minutes(rule.cooldown_minutes):
            return 0  # just resolved: not again so soon (raised after the cool-down if it persists)
        flapping = self._flapping(rule, verdict.subject, now)
        extra = {
            "kind": rule.kind,
            "place": verdict.place,
            "procedure": rule.procedure or "",
            "expires": to_iso(verdict.expires),
            "flapping": "1" if flapping else "",
            "area": json.dumps(verdict.area) if verdict.area else "",
            "zone": verdict.zone,
        }
        note = verdict.message
        if flapping:
            note += (f" · flapping: raised {rule.flap_cycles} times within {rule.flap_window_minutes:g} min; "
                     "held open until an operator resolves it")
        _, is_new = self.book.raise_alert(self._alert(rule, verdict, now), extra=extra, note=note)
        if verdict.signature:
            client.hset(key, "signature", verdict.signature)
        return int(is_new)

    def _cleared(self, rule: Rule, verdict: Verdict, condition: str, open_id: str | None, now: datetime) -> int:
        if condition != CLEAR:
            self._reset(rule, verdict.subject)
        if not open_id or not (rule.auto_resolve or verdict.force_clear):
            return 0
        record = self.book.get(open_id)
        if record is None or not record.is_open:
            return 0
        if record.flapping and not verdict.force_clear:
            if condition == ACTIVE:
                self.book.comment(open_id, actor=SYSTEM, action="condition_cleared", now=now,
                                  note=(verdict.clear_note or "condition cleared") + " · held open: flapping")
            return 0
        return int(self._resolve(open_id, verdict.clear_note or "condition cleared", now))

    def _reset(self, rule: Rule, subject: str) -> None:
        pipe = self.store.redis.pipeline(transaction=True)
        pipe.hset(self.store.keys.rule_state(rule.id, subject), "condition", CLEAR)
        pipe.hdel(self.store.keys.rule_state(rule.id, subject), "since")
        pipe.execute()

    def _resolve(self, alert_id: str, note: str, now: datetime) -> bool:
        return resolve_quietly(self.book, alert_id, note, now)

    def _flapping(self, rule: Rule, subject: str, now: datetime) -> bool:
        """Record this raise; True when it is the flap_cycles-th within the window."""
        if not rule.flap_cycles:
            return False
        key = self.store.keys.rule_raises(rule.id, subject)
        window = rule.flap_window_minutes * 60
        pipe = self.store.redis.pipeline(transaction=True)
        pipe.zadd(key, {f"{now.timestamp():.6f}": now.timestamp()})
        pipe.zremrangebyscore(key, "-inf", now.timestamp() - window)
        pipe.zcard(key)
        pipe.expire(key, int(window) + 60)
        count = pipe.execute()[2]
        return count >= rule.flap_cycles

    def _alert(self, rule: Rule, verdict: Verdict, now: datetime) -> Alert:
        title = verdict.title or (f"{rule.title.vi} — {verdict.place}" if verdict.place else rule.title.vi)
        return Alert(
            id="",
            rule_id=rule.id,
            entity_id=verdict.subject,
            title=title,
            severity=verdict.severity or rule.severity,
            sector=rule.sector,
            agency=rule.agency,
            district=verdict.district,
            message=verdict.message,
            value=verdict.value,
            raised_at=now,
            updated_at=now,
            location=verdict.location,
        )


class RuleTicker:
    """Calls `RuleEngine.tick` every `interval` seconds in its own thread until stopped."""

    def __init__(self, engine: RuleEngine, stop: Any, interval: float = 10.0) -> None:
        self.engine, self.stop, self.interval = engine, stop, interval

    def run(self) -> None:
        while not self.stop.is_set():
            started = time.monotonic()
            try:
                self.engine.tick()
            except redis.RedisError as exc:
                log.warning("rule tick: Redis unavailable: %s", exc)
            except Exception:  # keep ticking whatever one tick hit
                log.exception("rule tick failed")
            self.stop.wait(max(0.5, self.interval - (time.monotonic() - started)))
