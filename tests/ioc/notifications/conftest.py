"""Notification test settings (channels on loopback servers), a movable clock and alerts to notify about."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import redis

from ioc.alerts import AlertBook
from ioc.keys import Keys
from ioc.model import Alert, Severity
from ioc.notifications import NotificationSettings
from tests.ioc.notifications.local_servers import HttpRecorder, MailServer, http_recorder, mail_server

ZONE = ZoneInfo("Asia/Ho_Chi_Minh")
# a Tuesday, 09:00 in Da Nang: the day shift is on duty
T0 = datetime(2026, 3, 3, 2, 0, tzinfo=UTC)
BOT_TOKEN = "123456:test-bot-token"


class Clock:
    """The notifier's time, moved by the test: no sleeps."""

    def __init__(self, start: datetime = T0) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> datetime:
        self.now += timedelta(**delta)
        return self.now


def settings_document(*, smtp_port: int = 25, http_url: str = "http://127.0.0.1:9", **overrides: Any
                      ) -> dict[str, Any]:
    document: dict[str, Any] = {
        "channels": {
            "email": {"type": "smtp", "enabled": True, "host": "127.0.0.1", "port": smtp_port,
                      "security": "none", "sender": "ioc@city.example", "timeout": 5},
            "hook": {"type": "webhook", "enabled": True, "url": f"{http_url}/hook",
                     "secret": {"env": "TEST_HOOK_SECRET"}, "timeout": 5},
            "telegram": {"type": "telegram", "enabled": True, "token": {"env": "TEST_BOT_TOKEN"},
                         "api_url": http_url, "timeout": 5},
            "zalo": {"type": "zalo_oa", "enabled": True, "access_token": {"env": "TEST_ZALO_TOKEN"},
                     "api_url": f"{http_url}/zalo/v3.0/oa/message/cs", "timeout": 5},
        },
        "people": [
            {"id": "op-a", "name": "Operator A", "contacts": {"email": "op-a@city.example", "hook": "op-a"}},
            {"id": "op-b", "name": "Operator B", "contacts": {"telegram": "1001"}},
            {"id": "op-night", "name": "Night operator", "contacts": {"email": "night@city.example"}},
            {"id": "op-weekend", "name": "Weekend operator", "contacts": {"email": "weekend@city.example"}},
            {"id": "sup", "name": "Supervisor", "contacts": {"email": "sup@city.example", "zalo": "2002"}},
            {"id": "sup-night", "name": "Night supervisor", "contacts": {"email": "sup-night@city.example"}},
            {"id": "director", "name": "Director", "contacts": {"telegram": "1003"}},
        ],
        "shifts": [{"id": "day", "start": "07:00", "end": "19:00"},
                   {"id": "night", "start": "19:00", "end": "07:00"}],
        "rota": [
            {"shift": "day", "roles": {"operator": ["op-a", "op-b"], "supervisor": ["sup"]}},
            {"shift": "night", "roles": {"operator": ["op-night"], "supervisor": ["sup-night"]}},
            {"shift": "night", "days": ["sat"], "roles": {"operator": ["op-weekend"]}},
        ],
        "policies": [
            {"id": "urgent", "severities": ["extreme", "severe"], "steps": [
                {"after": "0m", "roles": ["operator"]},
                {"after": "10m", "roles": ["supervisor"], "repeat_every": "15m", "repeat_max": 2},
                {"after": "30m", "people": ["director"]},
            ]},
            {"id": "routine", "severities": ["moderate"], "steps": [{"after": "0m", "roles": ["operator"]}]},
        ],
        "delivery": {"max_attempts": 3, "backoff": "30s", "backoff_max": "5m", "lease": "2m"},
    }
    document.update(overrides)
    return document


@pytest.fixture(autouse=True)
def channel_secrets(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TEST_HOOK_SECRET", "hook-secret")
    monkeypatch.setenv("TEST_BOT_TOKEN", BOT_TOKEN)
    monkeypatch.setenv("TEST_ZALO_TOKEN", "zalo-access-token")


@pytest.fixture
def notification_settings() -> NotificationSettings:
    return NotificationSettings.model_validate(settings_document())


@pytest.fixture
def smtp() -> Iterator[MailServer]:
    with mail_server() as server:
        yield server


@pytest.fixture
def http() -> Iterator[HttpRecorder]:
    with http_recorder() as recorder:
        yield recorder


def raise_alert(client: redis.Redis, *, severity: Severity = Severity.SEVERE, at: datetime = T0,
                entity: str = "sensor-1", title: str = "Ngập sâu — Hải Châu") -> str:
    alert = Alert(id="", rule_id="flood", entity_id=entity, title=title, severity=severity, sector="water",
                  agency="water-board", district="Hải Châu", message="level 0.62 m", value=0.62,
                  raised_at=at, updated_at=at)
    stored, _ = AlertBook(client, Keys("danang")).raise_alert(alert)
    return stored.id
