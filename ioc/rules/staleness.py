"""Staleness rules: a feed, or each sensor of a feed, silent longer than its expected interval times a
factor; judged on the timer too, since silence delivers no batch, and cleared by the next batch."""

from __future__ import annotations

from datetime import datetime

from ioc.config import Feed, StalenessRule
from ioc.i18n import local_time
from ioc.model import Batch, from_iso
from ioc.rules.base import RuleContext, Verdict
from ioc.rules.registry import RuleKind, register


def staleness_verdicts(context: RuleContext, rule: StalenessRule, now: datetime, *, batch_feed: Feed | None,
                       batch: Batch | None) -> list[Verdict]:
    """Silence as verdicts: after a batch (`batch_feed` delivered it) or on the timer (both None)."""
    feeds = [f for f in context.settings.feeds if f.enabled and rule.feed in (None, f.name)]
    if batch_feed is not None:
        feeds = [f for f in feeds if f.name == batch_feed.name]
    if not feeds:
        return []
    if rule.target == "feed":
        return silent_feeds(context, rule, feeds, now, just_delivered=batch_feed is not None)
    feed = feeds[0]
    health = context.store.feed_health(feed.name)
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
               "observed_at": from_iso(e.get("observed_at"))} for e in context.store.entities_of_feed(feed.name)]
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


def silent_feeds(context: RuleContext, rule: StalenessRule, feeds: list[Feed], now: datetime, *,
                 just_delivered: bool) -> list[Verdict]:
    health = context.store.all_health(f.name for f in feeds)
    verdicts = []
    for feed in feeds:
        limit = (rule.expected_interval or feed.interval) * (rule.factor or feed.stale_factor)
        state = health.get(feed.name)
        last = state.last_success if state else None
        if just_delivered:
            breach: bool | None = False
        elif last is None:
            breach = True if (now - context.started).total_seconds() > limit else None
        else:
            breach = (now - last).total_seconds() > limit
        when = local_time(last, "%H:%M:%S %d/%m") if last else "—"
        verdicts.append(Verdict(
            subject=f"feed:{feed.name}", breach=breach, at=now, place=feed.agency_name.vi,
            message=f"{feed.name}: last data {when} (> {limit:g} s)",
            clear_note=f"{feed.name} delivered again",
        ))
    return verdicts


def _after_batch(context: RuleContext, rule: StalenessRule, feed: Feed, batch: Batch, now: datetime
                 ) -> list[Verdict]:
    return staleness_verdicts(context, rule, now, batch_feed=feed, batch=batch)


def _on_timer(context: RuleContext, rule: StalenessRule, now: datetime) -> list[Verdict]:
    return staleness_verdicts(context, rule, now, batch_feed=None, batch=None)


register(RuleKind("staleness", on_batch=_after_batch, on_tick=_on_timer))
