"""State rules: an entity reporting one of some named states (a camera `offline`, a lamp `defectiveLamp`) for
a minimum time; cleared when it reports any other state. Devices that say what is wrong in words."""

from __future__ import annotations

from datetime import datetime

from ioc.config import Feed, StateRule
from ioc.model import Batch
from ioc.rules.base import RuleContext, Verdict, places
from ioc.rules.registry import RuleKind, register


def state_verdicts(context: RuleContext, rule: StateRule, feed: Feed, batch: Batch, now: datetime
                   ) -> list[Verdict]:
    reported = {e.id: (str(e.attributes[rule.metric]), e.observed_at or now)
                for e in batch.entities if e.attributes.get(rule.metric) not in (None, "")}
    known = places(context, batch, reported)
    verdicts = []
    for entity_id, (state, at) in reported.items():
        info = known.get(entity_id, {})
        verdicts.append(Verdict(
            subject=entity_id, breach=state in rule.values, at=at, place=info.get("name") or entity_id,
            message=f"{rule.metric} = {state}", district=info.get("district"), location=info.get("location"),
            clear_note=f"condition cleared: {rule.metric} = {state}",
        ))
    return verdicts


register(RuleKind("state", on_batch=state_verdicts))
