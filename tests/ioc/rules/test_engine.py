"""The state machine every kind goes through: flapping held open, cool-down after a resolve, several runners
sharing one pending condition; and the registry that dispatches by kind."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, get_args

import pytest

from ioc.config import Feed, Rule, Settings
from ioc.model import AlertState, Batch
from ioc.rules import RuleContext, RuleEngine, RuleKind, Verdict, registry
from ioc.store import Store
from tests.ioc.rules.scene import (
    GAUGE,
    T0,
    actions,
    alerts_of,
    engine_with,
    feed,
    reading,
    replay,
    rule,
)


def test_flapping_alerts_are_held_open_for_an_operator(fake_store: Store, settings: Settings) -> None:
    flood = feed("test-gauges")
    engine = engine_with(settings, fake_store, rule("threshold", metric="water_level", above=30,
                                                    flap_cycles=3, flap_window_minutes=60), feeds=[flood])
    replay(engine, fake_store, flood, GAUGE, "water_level", [40, 10, 40, 10, 40, 10, 40, 10],
           timedelta(minutes=2))

    records = alerts_of(fake_store, "test-threshold")
    assert len(records) == 3  # the third raise is held open: no fourth alert
    held = next(r for r in records if r.is_open)
    assert held.flapping and "flapping" in fake_store.alerts.timeline(held.id)[0]["note"]
    assert actions(fake_store, held.id) == ["raised", "condition_cleared", "condition_cleared"]
    assert held.alert.occurrences == 2  # the re-breach while held counts on the same alert
    assert sum(r.state == AlertState.RESOLVED for r in records) == 2


def test_no_new_alert_within_the_cooldown_after_a_resolve(fake_store: Store, settings: Settings) -> None:
    flood = feed("test-gauges")
    engine = engine_with(settings, fake_store, rule("threshold", metric="water_level", above=30,
                                                    cooldown_minutes=10), feeds=[flood])
    outcomes = replay(engine, fake_store, flood, GAUGE, "water_level", [40, 10, 40, 40, 40, 40, 40],
                      timedelta(minutes=3))

    # cleared at minute 3, breached again from minute 6; the cool-down ends at minute 13: raised at 15
    assert [raised for raised, _ in outcomes] == [1, 0, 0, 0, 0, 1, 0]
    assert len(alerts_of(fake_store, "test-threshold")) == 2


def test_an_operator_resolving_a_persisting_condition_sees_it_again_after_the_cooldown(
    fake_store: Store, settings: Settings
) -> None:
    flood = feed("test-gauges")
    engine = engine_with(settings, fake_store, rule("threshold", metric="water_level", above=30,
                                                    cooldown_minutes=5), feeds=[flood])
    replay(engine, fake_store, flood, GAUGE, "water_level", [40], timedelta(minutes=1))
    (first,) = alerts_of(fake_store, "test-threshold")
    fake_store.alerts.resolve(first.id, actor="operator", note="crew on site", now=T0 + timedelta(minutes=1))

    later = replay(engine, fake_store, flood, GAUGE, "water_level", [41, 42, 43], timedelta(minutes=3),
                   start=T0 + timedelta(minutes=2))
    assert [raised for raised, _ in later] == [0, 0, 1]


def test_several_runners_share_the_pending_condition(fake_store: Store, settings: Settings) -> None:
    flood = feed("test-gauges")
    spec = rule("threshold", metric="water_level", above=30, for_minutes=2)
    first, second = engine_with(settings, fake_store, spec, feeds=[flood]), engine_with(
        settings, fake_store, spec, feeds=[flood])
    replay(first, fake_store, flood, GAUGE, "water_level", [35, 36], timedelta(minutes=1))
    # a restarted or second runner picks up the breach that began two minutes ago
    outcome = replay(second, fake_store, flood, GAUGE, "water_level", [37], timedelta(minutes=1),
                     start=T0 + timedelta(minutes=2))
    assert outcome == [(1, 0)]


# --- the registry ----------------------------------------------------------------------------------------


def test_every_configured_kind_has_its_module() -> None:
    configured = {get_args(model.model_fields["kind"].annotation)[0] for model in get_args(get_args(Rule)[0])}
    assert set(registry.kinds()) == configured


def test_a_new_kind_is_one_registered_module(fake_store: Store, settings: Settings,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    """The engine dispatches on the rule's kind: a kind registered by its module is judged, no other edit."""
    seen: list[str] = []

    def always(context: RuleContext, rule_: Any, source: Feed, batch: Batch, now: datetime) -> list[Verdict]:
        seen.append(source.name)
        return [Verdict(subject=entity.id, breach=True, at=now, place=entity.name or entity.id,
                        message="always") for entity in batch.entities]

    monkeypatch.setitem(registry._KINDS, "always", RuleKind("always", on_batch=always))
    engine = engine_with(settings, fake_store, rule("threshold", metric="water_level", above=30))
    engine.rules = [engine.rules[0].model_copy(update={"kind": "always", "id": "test-always"})]
    engine.kinds = {"always": registry.kind_of("always")}
    flood = feed("test-gauges")

    assert engine.evaluate(flood, reading(GAUGE, "water_level", 1, T0), now=T0) == (1, 0)
    assert seen == ["test-gauges"] and alerts_of(fake_store, "test-always")[0].alert.message == "always"


def test_a_rule_of_an_unknown_kind_fails_when_the_engine_starts(fake_store: Store, settings: Settings) -> None:
    odd = settings.rules[0].model_copy(update={"kind": "psychic"})
    with pytest.raises(KeyError, match="no rule kind 'psychic' .*threshold"):
        RuleEngine(settings.model_copy(update={"rules": [odd]}), fake_store)
