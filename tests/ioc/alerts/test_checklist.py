"""Procedure checklists: ticks and unticks on the timeline, state unchanged."""

from __future__ import annotations

import pytest

from ioc.alerts import AlertBook
from ioc.model import AlertState
from tests.ioc.alerts.scene import flood_alert

pytestmark = pytest.mark.integration


def test_checklist_steps_are_ticked_on_the_timeline(book: AlertBook) -> None:
    alert, _ = book.raise_alert(flood_alert())
    assert book.check_step(alert.id, 1, actor="lan", label="Điều đội thoát nước")
    assert not book.check_step(alert.id, 1, actor="minh", label="Điều đội thoát nước")  # already ticked
    assert book.checklist(alert.id)[1]["by"] == "lan"
    assert book.check_step(alert.id, 1, actor="minh", done=False)
    assert book.checklist(alert.id) == {}
    entries = [(e["action"], e["actor"], e["note"], e["step"]) for e in book.timeline(alert.id)[1:]]
    assert entries == [("step_done", "lan", "Điều đội thoát nước", "1"), ("step_undone", "minh", "step 2", "1")]
    assert book.get(alert.id).state == AlertState.NEW  # ticking steps changes no state
