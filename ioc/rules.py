"""Alert rules from configuration, evaluated against each batch a feed delivers.

The foundation rule kind is a threshold on an entity's latest value; each rule names its sector and the
agency that should act. One open alert per rule and entity (the store deduplicates).
"""

from __future__ import annotations

from ioc.config import Feed, Settings, ThresholdRule
from ioc.model import Alert, Batch, Entity
from ioc.store import Store


def breaches(rule: ThresholdRule, value: float) -> bool:
    if rule.above is not None:
        return value > rule.above
    assert rule.below is not None
    return value < rule.below


def describe(rule: ThresholdRule, value: float, unit: str) -> str:
    limit, sign = (rule.above, ">") if rule.above is not None else (rule.below, "<")
    return f"{rule.metric} = {value:g} {unit} {sign} {limit:g} {unit}".replace("  ", " ")


class RuleEngine:
    def __init__(self, settings: Settings, store: Store) -> None:
        self.store = store
        self.rules = list(settings.rules)

    def rules_for(self, feed: Feed) -> list[ThresholdRule]:
        return [r for r in self.rules if r.feed in (None, feed.name)]

    def evaluate(self, feed: Feed, batch: Batch) -> tuple[int, int]:
        """Raise or clear alerts for the entities in a batch; returns (raised, cleared)."""
        raised = cleared = 0
        rules = self.rules_for(feed)
        if not rules:
            return 0, 0
        units = {(o.entity_id, o.metric): o.unit for o in batch.observations}
        for entity in batch.entities:
            for rule in rules:
                value = _number(entity, rule.metric)
                if value is None:
                    continue
                if breaches(rule, value):
                    alert, is_new = self.store.raise_alert(
                        _alert_for(rule, entity, value, units.get((entity.id, rule.metric), ""))
                    )
                    raised += int(is_new)
                elif rule.auto_resolve:
                    open_id = self.store.open_alert_for(rule.id, entity.id)
                    if open_id:
                        try:
                            self.store.resolve_alert(
                                open_id, actor="system",
                                note=f"condition cleared: {rule.metric} = {value:g}",
                            )
                            cleared += 1
                        except ValueError:
                            pass  # resolved meanwhile by an operator
        return raised, cleared


def _number(entity: Entity, metric: str) -> float | None:
    value = entity.attributes.get(metric)
    if isinstance(value, bool) or value is None:
        return None
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def _alert_for(rule: ThresholdRule, entity: Entity, value: float, unit: str) -> Alert:
    place = entity.name or entity.id
    return Alert(
        id="",
        rule_id=rule.id,
        entity_id=entity.id,
        title=f"{rule.title.vi} — {place}",
        severity=rule.severity,
        sector=rule.sector,
        agency=rule.agency,
        district=entity.district,
        message=describe(rule, value, unit),
        value=value,
        location=entity.location,
    )
