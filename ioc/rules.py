"""Alert rules from configuration, judged on every stored batch and on a timer (`RuleEngine.tick`).

Five kinds (config: `kind:`): threshold (with minimum duration and hysteresis), rate of change (from the
observation streams), staleness (a feed or a sensor gone quiet), geofence (inside a zone) and relay (CAP
warnings and agency incidents with their own severity). Every rule reduces what it sees to verdicts, one
per subject (an entity, a feed, a zone, an event): breached, cleared, or in between. One state machine
turns verdicts into alerts: the condition of each rule and subject lives in Redis (`Keys.rule_state`), so
restarts and several runners agree on what is pending and what is active; the alert lifecycle itself is
ioc.alerts.AlertBook.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import cache
from typing import Any

import redis
import shapely
from shapely.geometry import shape
from shapely.prepared import prep

from ioc.alerts import SYSTEM, AlertBook, AlertConflict, AlertNotFound
from ioc.config import (
    Feed,
    GeofenceRule,
    RateOfChangeRule,
    RelayRule,
    Rule,
    Settings,
    StalenessRule,
    ThresholdRule,
    zone_features,
)
from ioc.i18n import local_time
from ioc.model import Alert, AlertState, Batch, Event, Severity, from_iso, to_iso, utcnow
from ioc.store import Store

log = logging.getLogger("ioc.rules")

STREAM_READINGS = 240  # newest readings read for a rate of change: hours of a minutely sensor
CLEAR, PENDING, ACTIVE = "clear", "pending", "active"


# --- verdicts --------------------------------------------------------------------------------------------


@dataclass(slots=True)
class Verdict:
    """What one rule concludes about one subject now: breached (True), cleared (False) or in between (None)."""

    subject: str
    breach: bool | None
    at: datetime
    place: str = ""
    message: str = ""
    value: float | None = None
    district: str | None = None
    location: tuple[float, float] | None = None
    severity: Severity | None = None  # relayed events bring their own
    title: str | None = None  # relayed events bring their own headline
    clear_note: str = ""
    force_clear: bool = False  # a CAP Cancel or an expired warning resolves whatever the rule says
    signature: str = ""  # relayed events: a change of content counts as a new occurrence
    expires: datetime | None = None
    area: dict[str, Any] | None = None  # a relayed warning's area, drawn on the alert's map


@dataclass(slots=True)
class TickReport:
    raised: int = 0
    cleared: int = 0
    escalated: int = 0


@dataclass(frozen=True, slots=True)
class Zone:
    id: str
    name: str
    name_en: str
    district: str | None
    geometry: Any
    prepared: Any = field(repr=False)

    def contains(self, point: tuple[float, float]) -> bool:
        return bool(self.prepared.contains(shapely.Point(point)))

    def touches(self, geometry: Any) -> bool:
        return bool(self.prepared.intersects(geometry))


@cache
def load_zones(relative: str) -> tuple[Zone, ...]:
    """The zones of a geofence file (validated when the configuration loaded)."""
    zones = []
    for feature in zone_features(relative):
        props = feature["properties"]
        geometry = shapely.make_valid(shape(feature["geometry"]))
        zones.append(Zone(id=str(props["id"]), name=str(props.get("name") or props["id"]),
                          name_en=str(props.get("name_en") or props.get("name") or props["id"]),
                          district=props.get("district"), geometry=geometry, prepared=prep(geometry)))
    return tuple(zones)


def breaches(rule: ThresholdRule, value: float) -> bool | None:
    """True past the limit, False back past the clear limit, None in the hysteresis band between."""
    if rule.above is not None:
        if value > rule.above:
            return True
        return False if value <= rule.clear_limit else None
    if value < rule.limit:
        return True
    return False if value >= rule.clear_limit else None


def describe(rule: ThresholdRule, value: float, unit: str) -> str:
    sign = ">" if value > rule.limit else ("<" if value < rule.limit else "=")
    return f"{rule.metric} = {value:g} {unit} {sign} {rule.limit:g} {unit}".replace("  ", " ").strip()


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or value is None:
        return None
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def _matches(attributes: dict[str, Any], where: dict[str, Any]) -> bool:
    for name, wanted in where.items():
        have = attributes.get(name)
        options = wanted if isinstance(wanted, list) else [wanted]
        if not any(have == option or str(have) == str(option) for option in options):
            return False
    return True


def _seconds(minutes: float) -> timedelta:
    return timedelta(minutes=minutes)


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

    def rules_for(self, feed: Feed) -> list[Rule]:
        return [r for r in self.rules if r.feed in (None, feed.name)]

    # --- entry points ---------------------------------------------------------------------------------

    def evaluate(self, feed: Feed, batch: Batch, *, now: datetime | None = None) -> tuple[int, int]:
        """Raise or clear alerts for what a stored batch shows; returns (raised, cleared)."""
        now = now or utcnow()
        raised = cleared = 0
        for rule in self.rules_for(feed):
            try:
                verdicts = self._verdicts(rule, feed, batch, now)
                r, c = self.judge(rule, verdicts, now)
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
        for rule in self.rules:
            if not isinstance(rule, StalenessRule):
                continue
            try:
                r, c = self.judge(rule, self._staleness(rule, now, batch_feed=None, batch=None), now)
            except redis.ConnectionError:
                raise
            except Exception:
                log.exception("staleness rule %s failed", rule.id)
                continue
            report.raised += r
            report.cleared += c
        for record in self.book.records():
            rule = self.by_id.get(record.alert.rule_id)
            if record.kind == "relay" and record.expires and record.expires <= now:
                if self._resolve(record.id, f"expired at {local_time(record.expires, '%H:%M %d/%m/%Y')}", now):
                    report.cleared += 1
                continue
            due = rule is not None and rule.escalate_after_minutes and record.state == AlertState.NEW
            if due and self.book.escalate(record.id, after=_seconds(rule.escalate_after_minutes), now=now):
                report.escalated += 1
        return report

    # --- the state machine ------------------------------------------------------------------------------

    def judge(self, rule: Rule, verdicts: Sequence[Verdict], now: datetime) -> tuple[int, int]:
        """Turn verdicts into alerts through each subject's condition (clear, pending, active) in Redis."""
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
            if verdict.at - since < _seconds(getattr(rule, "for_minutes", 0.0)):
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
        if rule.cooldown_minutes and resolved_at and now - resolved_at < _seconds(rule.cooldown_minutes):
            return 0  # just resolved: not again so soon (raised after the cool-down if it persists)
        flapping = self._flapping(rule, verdict.subject, now)
        extra = {
            "kind": rule.kind,
            "place": verdict.place,
            "procedure": rule.procedure or "",
            "expires": to_iso(verdict.expires),
            "flapping": "1" if flapping else "",
            "area": json.dumps(verdict.area) if verdict.area else "",
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
        try:
            self.book.resolve(alert_id, actor=SYSTEM, note=note, now=now)
            return True
        except (AlertConflict, AlertNotFound):
            return False  # resolved meanwhile by an operator or another runner

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

    # --- verdicts per kind -----------------------------------------------------------------------------

    def _verdicts(self, rule: Rule, feed: Feed, batch: Batch, now: datetime) -> list[Verdict]:
        if isinstance(rule, ThresholdRule):
            return self._threshold(rule, batch, now)
        if isinstance(rule, RateOfChangeRule):
            return self._rate_of_change(rule, batch, now)
        if isinstance(rule, StalenessRule):
            return self._staleness(rule, now, batch_feed=feed, batch=batch)
        if isinstance(rule, GeofenceRule):
            return self._geofence(rule, feed, batch, now)
        if isinstance(rule, RelayRule):
            return self._relay(rule, feed, batch, now)
        return []

    def _readings(self, batch: Batch, metric: str, now: datetime) -> dict[str, tuple[float, datetime, str]]:
        """The latest numeric value of a metric per entity in a batch: (value, time, unit)."""
        latest: dict[str, tuple[float, datetime, str]] = {}
        for entity in batch.entities:
            value = _number(entity.attributes.get(metric))
            if value is not None:
                latest[entity.id] = (value, entity.observed_at or now, "")
        units: dict[str, str] = {}
        for obs in batch.observations:
            if obs.metric != metric:
                continue
            units[obs.entity_id] = obs.unit
            value = _number(obs.value)
            if value is None:
                continue
            held = latest.get(obs.entity_id)
            if held is None or obs.time >= held[1]:
                latest[obs.entity_id] = (value, obs.time, obs.unit)
        return {entity_id: (v, t, unit or units.get(entity_id, "")) for entity_id, (v, t, unit) in latest.items()}

    def _entities(self, batch: Batch, ids: Iterable[str]) -> dict[str, dict[str, Any]]:
        """Name, district and location of entities, from the batch or else from the store."""
        known: dict[str, dict[str, Any]] = {
            e.id: {"name": e.name, "district": e.district, "location": e.location} for e in batch.entities
        }
        missing = [entity_id for entity_id in ids if entity_id not in known]
        for stored in self.store.entities(missing):
            location = (stored["lon"], stored["lat"]) if stored.get("lon") is not None else None
            known[stored["id"]] = {"name": stored.get("name"), "district": stored.get("district"),
                                   "location": location}
        return known

    def _threshold(self, rule: ThresholdRule, batch: Batch, now: datetime) -> list[Verdict]:
        readings = self._readings(batch, rule.metric, now)
        places = self._entities(batch, readings)
        verdicts = []
        for entity_id, (value, at, unit) in readings.items():
            info = places.get(entity_id, {})
            verdicts.append(Verdict(
                subject=entity_id, breach=breaches(rule, value), at=at, place=info.get("name") or entity_id,
                message=describe(rule, value, unit), value=value, district=info.get("district"),
                location=info.get("location"),
                clear_note=f"condition cleared: {rule.metric} = {value:g} {unit}".strip(),
            ))
        return verdicts

    def _rate_of_change(self, rule: RateOfChangeRule, batch: Batch, now: datetime) -> list[Verdict]:
        ids = sorted({obs.entity_id for obs in batch.observations if obs.metric == rule.metric})
        if not ids:
            return []
        pipe = self.store.redis.pipeline(transaction=False)
        for entity_id in ids:
            pipe.xrevrange(self.store.keys.observations(entity_id, rule.metric), count=STREAM_READINGS)
        places = self._entities(batch, ids)
        window = _seconds(rule.within_minutes)
        verdicts = []
        for entity_id, rows in zip(ids, pipe.execute(), strict=True):
            series = []
            unit = ""
            for _, fields in rows:
                value, at = _number(fields.get("v")), from_iso(fields.get("t"))
                if value is not None and at is not None:
                    series.append((at, value))
                    unit = unit or fields.get("u", "")
            if not series:
                continue
            newest_at, newest = max(series)
            recent = [value for at, value in series if newest_at - window <= at <= newest_at]
            change = newest - min(recent) if rule.rise is not None else max(recent) - newest
            breach = True if change > rule.amount else (False if change <= rule.clear_amount else None)
            sign = "+" if rule.rise is not None else "−"
            info = places.get(entity_id, {})
            verdicts.append(Verdict(
                subject=entity_id, breach=breach, at=newest_at, place=info.get("name") or entity_id,
                message=f"{rule.metric} {sign}{change:g} {unit} / {rule.within_minutes:g} min → {newest:g} {unit}",
                value=newest, district=info.get("district"), location=info.get("location"),
                clear_note=f"condition cleared: {rule.metric} {sign}{change:g} {unit} / {rule.within_minutes:g} min",
            ))
        return verdicts

    def _staleness(
        self, rule: StalenessRule, now: datetime, *, batch_feed: Feed | None, batch: Batch | None
    ) -> list[Verdict]:
        feeds = [f for f in self.settings.feeds if f.enabled and rule.feed in (None, f.name)]
        if batch_feed is not None:
            feeds = [f for f in feeds if f.name == batch_feed.name]
        if not feeds:
            return []
        if rule.target == "feed":
            return self._silent_feeds(rule, feeds, now, just_delivered=batch_feed is not None)
        feed = feeds[0]
        health = self.store.feed_health(feed.name)
        if batch is None and (health is None or health.stale_at(now)):
            # the whole feed is quiet: one feed alert says it, not one more per sensor
            return []
        limit = (rule.expected_interval or feed.interval) * (rule.factor or feed.stale_factor)
        entities = (
            [{"id": e.id, "name": e.name, "district": e.district, "location": e.location,
              "observed_at": e.observed_at} for e in batch.entities]
            if batch is not None
            else [{"id": e["id"], "name": e.get("name"), "district": e.get("district"),
                   "location": (e["lon"], e["lat"]) if e.get("lon") is not None else None,
                   "observed_at": from_iso(e.get("observed_at"))} for e in self.store.entities_of_feed(feed.name)]
        )
        verdicts = []
        for entity in entities:
            observed = entity["observed_at"]
            if observed is None:
                continue
            silent = (now - observed).total_seconds()
            verdicts.append(Verdict(
                subject=entity["id"], breach=silent > limit, at=now, place=entity["name"] or entity["id"],
                message=f"last reading {local_time(observed, '%H:%M:%S %d/%m')} (> {limit:g} s)",
                district=entity["district"], location=entity["location"],
                clear_note=f"reading again at {local_time(observed, '%H:%M:%S')}",
            ))
        return verdicts

    def _silent_feeds(self, rule: StalenessRule, feeds: list[Feed], now: datetime, *, just_delivered: bool
                      ) -> list[Verdict]:
        health = self.store.all_health(f.name for f in feeds)
        verdicts = []
        for feed in feeds:
            limit = (rule.expected_interval or feed.interval) * (rule.factor or feed.stale_factor)
            state = health.get(feed.name)
            last = state.last_success if state else None
            if just_delivered:
                breach: bool | None = False
            elif last is None:
                breach = True if (now - self.started).total_seconds() > limit else None
            else:
                breach = (now - last).total_seconds() > limit
            when = local_time(last, "%H:%M:%S %d/%m") if last else "—"
            verdicts.append(Verdict(
                subject=f"feed:{feed.name}", breach=breach, at=now, place=feed.agency_name.vi,
                message=f"{feed.name}: last data {when} (> {limit:g} s)",
                clear_note=f"{feed.name} delivered again",
            ))
        return verdicts

    def _geofence(self, rule: GeofenceRule, feed: Feed, batch: Batch, now: datetime) -> list[Verdict]:
        zones = load_zones(rule.zones)
        inside: list[tuple[str, str, Zone | None, dict[str, Any]]] = []  # (subject, kind, zone, info)
        if "entities" in rule.targets:
            for entity in batch.entities:
                # the attribute test first: it is cheap, and most of a busy feed's entities fail it
                zone = (self._zone_of(zones, entity.location, entity.geometry)
                        if _matches(entity.attributes, rule.where) else None)
                inside.append((entity.id, "entity", zone, {
                    "name": entity.name or entity.id, "district": entity.district, "location": entity.location,
                    "at": entity.observed_at or now}))
        if "events" in rule.targets:
            for event in batch.events:
                if rule.event_types and event.type not in rule.event_types:
                    continue
                zone = None if event.status == "cancelled" else self._zone_of(zones, event.location, event.area)
                inside.append((event.id, "event", zone, {
                    "name": event.headline or event.id, "district": event.district, "location": event.location,
                    "at": event.onset or now}))
        if rule.group_by == "entity":
            return [
                Verdict(subject=subject, breach=zone is not None, at=info["at"], place=info["name"],
                        message=f"{info['name']} ∈ {zone.name}" if zone else "",
                        district=info["district"] or (zone.district if zone else None),
                        location=info["location"], clear_note="outside the zone again")
                for subject, _, zone, info in inside
            ]
        counts = {zone.id: 0 for zone in zones}
        for _, _, zone, _ in inside:
            if zone is not None:
                counts[zone.id] += 1
        verdicts = []
        for zone in zones:
            count = counts[zone.id]
            breach = True if count >= rule.min_count else (False if count == 0 else None)
            point = zone.geometry.representative_point()
            verdicts.append(Verdict(
                subject=f"{feed.name}:zone:{zone.id}", breach=breach, at=now, place=zone.name,
                message=f"{count} × {zone.name}", district=zone.district,
                location=(round(point.x, 6), round(point.y, 6)), clear_note=f"0 × {zone.name}",
            ))
        return verdicts

    @staticmethod
    def _zone_of(zones: Sequence[Zone], location: tuple[float, float] | None, geometry: dict | None
                 ) -> Zone | None:
        if location is not None:
            return next((zone for zone in zones if zone.contains(location)), None)
        if geometry:
            try:
                shaped = shape(geometry)
            except (ValueError, TypeError, AttributeError, shapely.errors.GEOSException):
                return None
            return next((zone for zone in zones if zone.touches(shaped)), None)
        return None

    def _relay(self, rule: RelayRule, feed: Feed, batch: Batch, now: datetime) -> list[Verdict]:
        if rule.readers and feed.reader not in rule.readers:
            return []
        verdicts = []
        for event in batch.events:
            if rule.event_types and event.type not in rule.event_types:
                continue
            verdict = relay_verdict(rule, event, now)
            if verdict is not None:
                verdicts.append(verdict)
        if feed.url.startswith("mqtt://"):
            return verdicts  # pushed messages are news, not the whole picture: silence withdraws nothing
        # a polled feed lists what is in force: a warning or incident it no longer lists is over
        prefix = f"urn:ioc:{self.settings.city.id}:{feed.name}:"
        listed = {event.id for event in batch.events}
        for record in self.book.records():
            subject = record.alert.entity_id
            if record.alert.rule_id == rule.id and subject.startswith(prefix) and subject not in listed:
                verdicts.append(Verdict(subject=subject, breach=False, at=now,
                                        clear_note="no longer published by the source"))
        return verdicts


def relay_verdict(rule: RelayRule, event: Event, now: datetime) -> Verdict | None:
    """A source's event as a verdict: relayed while in force, cleared when cancelled or expired."""
    if event.status == "cancelled":
        return Verdict(subject=event.id, breach=False, at=now, force_clear=True,
                       clear_note=f"cancelled by the source: {event.headline}")
    expired = event.expires is not None and event.expires <= now
    if expired:
        return Verdict(subject=event.id, breach=False, at=now, force_clear=True,
                       clear_note=f"expired at {local_time(event.expires, '%H:%M %d/%m/%Y')}")
    if event.status not in rule.statuses or event.severity.rank > rule.min_severity.rank:
        return None
    severity = event.severity if event.severity != Severity.UNKNOWN else rule.severity
    description = event.description.strip().split("\n\n")[0][:400]
    return Verdict(
        subject=event.id, breach=True, at=event.onset or now, place=event.headline, title=event.headline,
        message=description or event.type, district=event.district, location=event.location,
        severity=severity, signature=f"{event.severity}|{event.headline}|{to_iso(event.expires)}",
        expires=event.expires, area=event.area,
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
