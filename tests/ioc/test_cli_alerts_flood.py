"""`ioc alerts groups`, `ack-group`, `out`, `back`, `maintenance` and `service` as an operator runs them: a
subprocess against a real redis-server through IOC_REDIS_URL."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
import redis

from ioc.alerts import AlertBook
from ioc.keys import Keys
from ioc.model import Alert, AlertState, Severity, utcnow
from tests.ioc.test_cli_alerts import ioc

pytestmark = pytest.mark.integration


@pytest.fixture
def flood(redis_client: redis.Redis) -> list[str]:
    """Twelve flood sensors over their limit within a few minutes in two districts, and a lone camera."""
    book = AlertBook(redis_client, Keys("danang"))
    now = utcnow()
    ids = []
    for number in range(12):
        at = now - timedelta(minutes=6) + number * timedelta(seconds=20)
        alert, _ = book.raise_alert(Alert(
            id="", rule_id="flood-level-high", entity_id=f"urn:ioc:danang:flood-sensors:FL-{number:02d}",
            title=f"Ngập sâu FL-{number:02d}", severity=Severity.SEVERE, sector="emergency",
            agency="danang-drainage", district="Hải Châu" if number < 7 else "Cẩm Lệ", raised_at=at,
            updated_at=at), extra={"kind": "threshold"})
        ids.append(alert.id)
    return ids


def test_groups_shows_the_flood_and_a_line_per_rule(redis_server_url: str, flood: list[str]) -> None:
    shown = ioc("alerts", "groups", "--json", url=redis_server_url)
    assert shown.returncode == 0, shown.stderr
    body = json.loads(shown.stdout)
    assert body["flood"] is True and body["raised"] == 12 and body["limit"] == 10
    # in the flood the queue folds by rule: the two districts are one line of twelve
    assert [(line["group"], line["count"]) for line in body["lines"]] == [("rule=flood-level-high", 12)]
    assert sorted(body["lines"][0]["members"]) == sorted(flood)
    assert body["lines"][0]["labels"] == {"rule": "flood-level-high"}

    text = ioc("alerts", "groups", "--members", url=redis_server_url)
    assert text.stdout.startswith("FLOOD: 12 alarms") and "×12" in text.stdout
    assert all(alert_id in text.stdout for alert_id in flood)


def test_ack_group_acknowledges_each_member_as_the_actor(redis_server_url: str, redis_client: redis.Redis,
                                                         flood: list[str]) -> None:
    done = ioc("alerts", "ack-group", "rule=flood-level-high", "--note", "crews out", url=redis_server_url,
               actor="minh")

    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("12 of 12 acknowledged by minh")
    book = AlertBook(redis_client, Keys("danang"))
    for alert_id in flood:
        record = book.get(alert_id)
        assert record is not None and record.state == AlertState.ACKNOWLEDGED and record.acknowledged_by == "minh"
    missing = ioc("alerts", "ack-group", "rule=nothing", url=redis_server_url)
    assert missing.returncode == 2 and "no group line" in missing.stderr


def test_out_back_and_maintenance_from_the_command_line(redis_server_url: str, redis_client: redis.Redis) -> None:
    out = ioc("alerts", "out", "feed", "flood-sensors", "--reason", "pump station rewiring", url=redis_server_url)
    assert out.returncode == 0, out.stderr
    assert "feed:flood-sensors out of service until put back" in out.stdout
    refused = ioc("alerts", "out", "feed", "no-such-feed", "--reason", "x", url=redis_server_url)
    assert refused.returncode == 1 and "no feed 'no-such-feed'" in refused.stderr
    bad_time = ioc("alerts", "out", "feed", "air-stations", "--reason", "x", "--until", "tomorrow",
                   url=redis_server_url)
    assert bad_time.returncode == 2 and "not a date and time" in bad_time.stderr

    end = (utcnow() + timedelta(hours=2)).isoformat()
    window = ioc("alerts", "maintenance", "--areas", "Sơn Trà", "--feeds", "air-stations", "--end", end,
                 "--reason", "calibration", url=redis_server_url)
    assert window.returncode == 0, window.stderr
    window_id = window.stdout.split()[1].rstrip(":")

    listed = json.loads(ioc("alerts", "service", "--json", url=redis_server_url).stdout)
    assert [(i["kind"], i["name"], i["by"]) for i in listed["out_of_service"]] == [("feed", "flood-sensors", "lan")]
    declared = [w for w in listed["maintenance"] if w["id"] == window_id]
    assert declared and declared[0]["active"] and declared[0]["areas"] == ["Sơn Trà"]

    assert ioc("alerts", "back", "feed", "flood-sensors", url=redis_server_url).returncode == 0
    assert ioc("alerts", "back", "feed", "flood-sensors", url=redis_server_url).returncode == 1
    assert ioc("alerts", "maintenance-cancel", window_id, url=redis_server_url).returncode == 0
    actions = [fields["action"] for _, fields in redis_client.xrange(Keys("danang").audit())]
    assert actions == ["service.out", "service.maintenance", "service.back", "service.maintenance_cancelled"]
