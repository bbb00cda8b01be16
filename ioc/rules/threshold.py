"""Threshold rules: a metric of an entity past a limit for a minimum time, cleared past a second limit
(hysteresis), so a value hovering at the limit does not raise and clear on every reading."""

from __future__ import annotations

from datetime import datetime

from ioc.config import Feed, ThresholdRule
from ioc.model import Batch
from ioc.rules.base import RuleContext, Verdict, number, places
from ioc.rules.registry import RuleKind, register


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


def readings(batch: Batch, metric: str, now: datetime) -> dict[str, tuple[float, datetime, str]]:
    """The latest numeric value of a metric per entity in a batch: (value, time, unit)."""
    latest: dict[str, tuple[float, datetime, str]] = {}
    for entity in batch.entities:
        value = number(entity.attributes.get(metric))
        if value is not None:
            latest[entity.id] = (value, entity.observed_at or now, "")
    units: dict[str, str] = {}
    for obs in batch.observations:
        if obs.metric != metric:
            continue
        units[obs.entity_id] = obs.unit
        value = number(obs.value)
        if value is None:
            continue
        held = latest.get(obs.entity_id)
        if held is None or obs.time >= held[1]:
            latest[obs.entity_id] = (value, obs.time, obs.unit)
    return {entity_id: (v, t, unit or units.get(entity_id, "")) for entity_id, (v, t, unit) in latest.items()}


def threshold_verdicts(context: RuleContext, rule: ThresholdRule, feed: Feed, batch: Batch, now: datetime
                       ) -> list[Verdict]:
    latest = readings(batch, rule.metric, now)
    known = places(context, batch, latest)
    verdicts = []
    for entity_id, (value, at, unit) in latest.items():
        info = known.get(entity_id, {})
        verdicts.append(Verdict(
            subject=entity_id, breach=breaches(rule, value), at=at, place=info.get("name") or entity_id,
            message=describe(rule, value, unit), value=value, district=info.get("district"),
            location=info.get("location"),
            clear_note=f"condition cleared: {rule.metric} = {value:g} {unit}".strip(),
        ))
    return verdicts


register(RuleKind("threshold", on_batch=threshold_verdicts))
