"""Escalation on the timer: unacknowledged alerts go up one severity step per period until acknowledged."""

from __future__ import annotations

from datetime import timedelta

from ioc.config import Settings
from ioc.model import Severity
from ioc.store import Store
from tests.ioc.rules.scene import (
    GAUGE,
    alerts_of,
    engine_with,
    feed,
    replay,
    rule,
)


def test_unacknowledged_alerts_escalate_one_step_per_period(fake_store: Store, settings: Settings) -> None:
    flood = feed("test-gauges")
    engine = engine_with(settings, fake_store, rule("threshold", metric="water_level", above=30,
                                                    severity="moderate", escalate_after_minutes=5),
                         feeds=[flood])
    replay(engine, fake_store, flood, GAUGE, "water_level", [40], timedelta(minutes=1))
    (alert,) = alerts_of(fake_store, "test-threshold")
    raised = alert.alert.raised_at

    assert engine.tick(raised + timedelta(minutes=4)).escalated == 0
    assert engine.tick(raised + timedelta(minutes=5)).escalated == 1
    assert engine.tick(raised + timedelta(minutes=6)).escalated == 0
    assert engine.tick(raised + timedelta(minutes=10)).escalated == 1
    record = fake_store.alerts.get(alert.id)
    assert record.alert.severity == Severity.EXTREME and record.escalations == 2
    entries = [e for e in fake_store.alerts.timeline(alert.id) if e["action"] == "escalated"]
    assert [(e["severity_from"], e["severity_to"]) for e in entries] == [("moderate", "severe"),
                                                                          ("severe", "extreme")]

    fake_store.alerts.acknowledge(alert.id, actor="operator", now=raised + timedelta(minutes=11))
    assert engine.tick(raised + timedelta(minutes=30)).escalated == 0
