"""An alert record read back from its Redis hash, and its JSON form for the CLI and the API."""

from __future__ import annotations

import json

from ioc.alerts import AlertRecord, queue_order
from ioc.model import AlertState, Severity
from tests.ioc.alerts.scene import T0, flood_alert


def test_lifecycle_fields_survive_the_hash_and_the_json_form() -> None:
    alert = flood_alert()
    alert.id = "A000007"
    area = {"type": "Polygon", "coordinates": [[[108.2, 16.0], [108.3, 16.0], [108.3, 16.1], [108.2, 16.0]]]}
    raw = {**alert.to_hash(), "kind": "geofence", "place": "Hòa Xuân", "zone": "hoa-xuan", "flapping": "1",
           "area": json.dumps(area), "escalations": "2", "acknowledged_by": "lan", "procedure": "flooding"}

    record = AlertRecord.from_hash(raw)
    assert (record.id, record.kind, record.zone, record.place, record.procedure) == (
        "A000007", "geofence", "hoa-xuan", "Hòa Xuân", "flooding")
    assert record.flapping and record.escalations == 2 and record.area == area and record.is_open
    as_json = record.to_dict()
    assert as_json["zone"] == "hoa-xuan" and as_json["area"] == area and as_json["assignee"] is None
    assert json.loads(json.dumps(as_json, ensure_ascii=False)) == as_json


def test_an_alert_without_lifecycle_fields_reads_as_empty() -> None:
    alert = flood_alert(severity=Severity.MINOR, at=T0)
    alert.id = "A000008"
    record = AlertRecord.from_hash(alert.to_hash())
    assert (record.zone, record.kind, record.area, record.expires, record.flapping) == ("", "", None, None, False)
    assert record.state == AlertState.NEW and queue_order(record)[0] == Severity.MINOR.rank
