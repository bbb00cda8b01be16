"""`ioc alerts` as an operator runs it: a subprocess against a real redis-server through IOC_REDIS_URL."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import timedelta

import pytest
import redis

from ioc.alerts import AlertBook
from ioc.config import PROJECT_ROOT
from ioc.keys import Keys
from ioc.model import Alert, Severity, utcnow

pytestmark = pytest.mark.integration


def ioc(*args: str, url: str | None, actor: str = "lan") -> subprocess.CompletedProcess[str]:
    env = {key: value for key, value in os.environ.items() if key not in ("IOC_REDIS_URL", "IOC_ACTOR")}
    if url:
        env["IOC_REDIS_URL"] = url
    env["IOC_ACTOR"] = actor
    return subprocess.run([sys.executable, "-m", "ioc", *args], cwd=PROJECT_ROOT, env=env, capture_output=True,
                          text=True, timeout=60)


@pytest.fixture
def queue(redis_client: redis.Redis) -> dict[str, str]:
    """Three open alerts and one resolved, as the rules would leave them."""
    book = AlertBook(redis_client, Keys("danang"))
    now = utcnow()
    ids = {}
    for name, severity, minutes in (("minor", Severity.MINOR, 30), ("severe", Severity.SEVERE, 5),
                                    ("extreme", Severity.EXTREME, 1), ("done", Severity.MODERATE, 50)):
        alert, _ = book.raise_alert(Alert(
            id="", rule_id="flood-level-high", entity_id=f"urn:ioc:danang:flood-sensors:{name}",
            title=f"Ngập sâu — {name}", severity=severity, sector="emergency", agency="danang-drainage",
            district="Cẩm Lệ", value=40.0, raised_at=now - timedelta(minutes=minutes),
            updated_at=now - timedelta(minutes=minutes)))
        ids[name] = alert.id
    book.resolve(ids["done"], actor="minh", note="đã xử lý")
    return ids


def test_list_shows_the_open_queue_most_severe_first(queue: dict[str, str], redis_server_url: str) -> None:
    result = ioc("alerts", "list", "--json", url=redis_server_url)
    assert result.returncode == 0, result.stderr
    listed = json.loads(result.stdout)
    assert [a["id"] for a in listed] == [queue["extreme"], queue["severe"], queue["minor"]]
    assert listed[0]["severity"] == "extreme" and listed[0]["state"] == "new"

    resolved = json.loads(ioc("alerts", "list", "--state", "resolved", "--json", url=redis_server_url).stdout)
    assert [a["id"] for a in resolved] == [queue["done"]]
    text = ioc("alerts", "list", url=redis_server_url).stdout
    assert text.splitlines()[0].startswith(f"{queue['extreme']}  EXTREME")


def test_ack_assign_resolve_and_show_the_timeline(queue: dict[str, str], redis_server_url: str) -> None:
    alert_id = queue["severe"]
    ack = ioc("alerts", "ack", alert_id, "--note", "đang xem camera", url=redis_server_url)
    assert ack.returncode == 0 and f"{alert_id} acknowledged by lan" in ack.stdout
    assign = ioc("alerts", "assign", alert_id, "--to", "danang-drainage", "--note", "đội 3", url=redis_server_url)
    assert assign.returncode == 0 and "assigned to danang-drainage by lan" in assign.stdout
    resolve = ioc("alerts", "resolve", alert_id, "--note", "đã thông cống", url=redis_server_url, actor="minh")
    assert resolve.returncode == 0 and "resolved by minh" in resolve.stdout

    shown = json.loads(ioc("alerts", "show", alert_id, "--json", url=redis_server_url).stdout)
    assert shown["state"] == "resolved" and shown["assignee"] == "danang-drainage"
    assert [(e["action"], e["actor"], e["note"]) for e in shown["timeline"]] == [
        ("raised", "system", ""), ("acknowledged", "lan", "đang xem camera"),
        ("assigned", "lan", "đội 3"), ("resolved", "minh", "đã thông cống")]
    text = ioc("alerts", "show", alert_id, url=redis_server_url).stdout
    assert "acknowledged" in text and "“đã thông cống”" in text


def test_a_second_acknowledgement_is_refused_naming_the_first(queue: dict[str, str], redis_server_url: str) -> None:
    assert ioc("alerts", "ack", queue["minor"], url=redis_server_url, actor="lan").returncode == 0
    second = ioc("alerts", "ack", queue["minor"], url=redis_server_url, actor="minh")
    assert second.returncode == 1
    assert f"refused: alert {queue['minor']} is already acknowledged by lan" in second.stderr


def test_resolve_needs_a_note_and_unknown_ids_are_named(queue: dict[str, str], redis_server_url: str) -> None:
    no_note = ioc("alerts", "resolve", queue["minor"], url=redis_server_url)
    assert no_note.returncode == 2 and "--note" in no_note.stderr
    unknown = ioc("alerts", "ack", "A999999", url=redis_server_url)
    assert unknown.returncode == 2 and "no alert A999999" in unknown.stderr


def test_without_ioc_redis_url_it_says_so_and_starts_nothing() -> None:
    result = ioc("alerts", "list", url=None)
    assert result.returncode == 2
    assert "IOC_REDIS_URL is not set" in result.stderr


def test_shelve_list_and_unshelve_from_a_terminal(queue: dict[str, str], redis_server_url: str) -> None:
    refused = ioc("alerts", "shelve", queue["severe"], "--minutes", "100000", "--reason", "x", url=redis_server_url)
    assert refused.returncode == 2 and "minutes" in refused.stderr

    shelved = ioc("alerts", "shelve", queue["severe"], "--minutes", "30", "--reason", "crew on site",
                  url=redis_server_url, actor="lan")
    assert shelved.returncode == 0, shelved.stderr
    listed = json.loads(ioc("alerts", "shelved", "--json", url=redis_server_url).stdout)
    assert [(item["id"], item["by"], item["reason"]) for item in listed] == [(queue["severe"], "lan", "crew on site")]

    back = ioc("alerts", "unshelve", queue["severe"], url=redis_server_url)
    assert back.returncode == 0 and json.loads(ioc("alerts", "shelved", "--json", url=redis_server_url).stdout) == []
    timeline = json.loads(ioc("alerts", "show", queue["severe"], "--json", url=redis_server_url).stdout)["timeline"]
    assert [entry["action"] for entry in timeline][-2:] == ["shelved", "unshelved"]
