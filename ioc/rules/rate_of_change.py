"""Rate-of-change rules: a metric rising (or falling) by more than an amount within a window, read from
the entity's observation stream in Redis (a flood sensor rising 20 cm in 30 minutes)."""

from __future__ import annotations

from datetime import datetime

from ioc.config import Feed, RateOfChangeRule
from ioc.model import Batch, from_iso
from ioc.rules.base import RuleContext, Verdict, minutes, number, places
from ioc.rules.registry import RuleKind, register

STREAM_READINGS = 240  # newest readings read for a rate of change: hours of a minutely sensor


def rate_of_change_verdicts(context: RuleContext, rule: RateOfChangeRule, feed: Feed, batch: Batch,
                            now: datetime) -> list[Verdict]:
    ids = sorted({obs.entity_id for obs in batch.observations if obs.metric == rule.metric})
    if not ids:
        return []
    store = context.store
    pipe = store.redis.pipeline(transaction=False)
    for entity_id in ids:
        pipe.xrevrange(store.keys.observations(entity_id, rule.metric), count=STREAM_READINGS)
    known = places(context, batch, ids)
    window = minutes(rule.within_minutes)
    verdicts = []
    for entity_id, rows in zip(ids, pipe.execute(), strict=True):
        series = []
        unit = ""
        for _, fields in rows:
            value, at = number(fields.get("v")), from_iso(fields.get("t"))
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
        info = known.get(entity_id, {})
        verdicts.append(Verdict(
            subject=entity_id, breach=breach, at=newest_at, place=info.get("name") or entity_id,
            message=f"{rule.metric} {sign}{change:g} {unit} / {rule.within_minutes:g} min → {newest:g} {unit}",
            value=newest, district=info.get("district"), location=info.get("location"),
            clear_note=f"condition cleared: {rule.metric} {sign}{change:g} {unit} / {rule.within_minutes:g} min",
        ))
    return verdicts


register(RuleKind("rate_of_change", on_batch=rate_of_change_verdicts))
