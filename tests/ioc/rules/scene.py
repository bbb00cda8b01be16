"""Recorded series and small builders shared by the rule tests: rules as the configuration file gives them,
an engine judging only those, feeds, readings, and a replay that stores then evaluates as the runner does."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from ioc.config import Feed, Settings, Text
from ioc.model import Batch, Entity, Observation
from ioc.rules import RuleEngine
from ioc.store import Store

T0 = datetime(2026, 11, 27, 1, 0, tzinfo=UTC)
STATION = "urn:ioc:danang:air-stations:hk"
GAUGE = "urn:ioc:danang:flood-sensors:FL-07"
# inside the demo's Hòa Xuân flood-prone zone, and a point far from every zone (Sơn Trà peninsula)
IN_ZONE = (108.222, 16.010)
OUT_OF_ZONE = (108.27, 16.12)


def rule(kind: str, **fields: Any) -> dict[str, Any]:
    base = {"id": f"test-{kind.replace('_', '-')}", "kind": kind, "title": {"vi": "Thử", "en": "Test"},
            "sector": "emergency", "agency": "danang-civil-defence"}
    return {**base, **fields}


def engine_with(settings: Settings, store: Store, *rules: dict[str, Any], feeds: Sequence[Feed] = (),
                started: datetime = T0) -> RuleEngine:
    """An engine judging only the given rules (validated as the configuration file would be)."""
    from ioc.config import RuleFile

    parsed = RuleFile.model_validate({"rules": list(rules), "procedures": {
        "drill": {"title": {"vi": "Diễn tập", "en": "Drill"}, "steps": [{"vi": "Bước 1", "en": "Step 1"}]}}})
    changed = settings.model_copy(update={"rules": parsed.rules, "procedures": parsed.procedures,
                                          "feeds": [*settings.feeds, *feeds]})
    return RuleEngine(changed, store, started=started)


def feed(name: str, reader: str = "mqtt-json", interval: float = 60, sector: str = "emergency") -> Feed:
    return Feed(name=name, agency="danang-drainage", agency_name=Text(vi=name, en=name), sector=sector,
                reader=reader, url="http://127.0.0.1:9/unused", interval=interval)


def reading(entity_id: str, metric: str, value: float, at: datetime, *, unit: str = "cm",
            location: tuple[float, float] = (108.2119, 16.0412), name: str = "FL-07") -> Batch:
    entity = Entity(id=entity_id, type="FloodSensor", agency="danang-drainage", sector="emergency", name=name,
                    location=location, district="Hải Châu", attributes={metric: value}, observed_at=at)
    return Batch(entities=[entity], observations=[Observation(entity_id, metric, value, unit, at)])


def replay(engine: RuleEngine, store: Store, source: Feed, entity_id: str, metric: str,
           series: Sequence[float], step: timedelta, *, start: datetime = T0) -> list[tuple[int, int]]:
    """Feed a recorded series one reading per step, as the runner would: store, then evaluate."""
    outcomes = []
    for index, value in enumerate(series):
        at = start + index * step
        batch = reading(entity_id, metric, value, at)
        store.write_batch(source.name, batch, now=at)
        outcomes.append(engine.evaluate(source, batch, now=at))
    return outcomes


def alerts_of(store: Store, rule_id: str) -> list[Any]:
    return [r for r in store.alerts.records(include_resolved=True) if r.alert.rule_id == rule_id]


def actions(store: Store, alert_id: str) -> list[str]:
    return [entry["action"] for entry in store.alerts.timeline(alert_id)]
