"""The timeline and audit stream: notes scrubbed of personal data."""

from __future__ import annotations

import pytest

from ioc.alerts import AlertBook
from tests.ioc.alerts.scene import flood_alert

pytestmark = pytest.mark.integration


def test_notes_are_scrubbed_of_personal_data(book: AlertBook) -> None:
    alert, _ = book.raise_alert(flood_alert())
    book.acknowledge(alert.id, actor="lan", note="gọi anh Bình 0905 123 456")
    note = book.timeline(alert.id)[-1]["note"]
    assert "0905 123 456" not in note and "gọi anh Bình" in note
