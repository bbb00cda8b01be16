"""An alert as a rule raises it, and the audit stream of one alert, for the alert tests."""

from __future__ import annotations

from datetime import UTC, datetime

import redis

from ioc.keys import Keys
from ioc.model import Alert, Severity

T0 = datetime(2026, 11, 27, 1, 0, tzinfo=UTC)


def flood_alert(entity: str = "urn:ioc:danang:flood-sensors:FL-07", severity: Severity = Severity.SEVERE,
                at: datetime = T0) -> Alert:
    return Alert(id="", rule_id="flood-level-high", entity_id=entity, title="Ngập sâu — FL-07", severity=severity,
                 sector="emergency", agency="danang-drainage", district="Hải Châu", value=38.0,
                 message="water_level = 38 cm > 30 cm", raised_at=at, updated_at=at, location=(108.2119, 16.0412))


def audit(client: redis.Redis, alert_id: str) -> list[dict[str, str]]:
    return [fields for _, fields in client.xrange(Keys("danang").audit()) if fields["object"] == f"alert:{alert_id}"]
