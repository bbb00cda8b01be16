"""`ioc notifications list` shows what was sent and what failed, from the running IOC's Redis; `on-duty` the rota."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
import redis

from ioc.cli import main
from ioc.keys import Keys
from ioc.model import AlertState
from ioc.notifications import Outbox
from ioc.notifications.config import Delivery
from ioc.notifications.policy import Due

NOW = datetime(2026, 3, 3, 2, 0, tzinfo=UTC)


@pytest.mark.integration
def test_list_shows_sent_and_failed_notifications_of_an_alert(
        redis_client: redis.Redis, redis_server_url: str, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    outbox = Outbox(redis_client, Keys("danang"), Delivery(max_attempts=1))
    dues = [Due("A000007", "urgent", 0, 0, "op-day-1", "email", NOW),
            Due("A000007", "urgent", 0, 0, "op-day-2", "zalo", NOW),
            Due("A000008", "urgent", 0, 0, "op-day-1", "email", NOW)]
    outbox.queue(dues, NOW, {})
    first, second = (n for n in outbox.claim(NOW) if n["alert"] == "A000007")
    outbox.sent(first, AlertState.NEW, NOW)
    outbox.failed(second, "zalo: Zalo error -230 user has not interacted", retry=True, retry_after=None,
                  state=AlertState.NEW, now=NOW)
    monkeypatch.setenv("IOC_REDIS_URL", redis_server_url)

    assert main(["notifications", "list", "--alert", "A000007"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 2 and all("A000007" in line for line in lines)
    statuses = {line.split()[4]: line.split()[3] for line in lines}  # time is two words
    assert statuses == {"op-day-1": "sent", "op-day-2": "failed"}
    assert any("user has not interacted" in line for line in lines)

    assert main(["notifications", "list", "--status", "queued"]) == 0
    assert [line.split()[2] for line in capsys.readouterr().out.splitlines()] == ["A000008"]


def test_on_duty_names_the_shift_its_people_and_which_channels_are_on(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["notifications", "on-duty"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("shift: ") and "operator" in out and "email (off)" in out
