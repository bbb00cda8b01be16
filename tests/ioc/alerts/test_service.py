"""Out of service and maintenance windows on a real redis-server: what they silence, when they end by
themselves, what they refuse, and that every change is in the audit stream."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import redis

from ioc.alerts.service import (
    MAINTENANCE,
    OUT_OF_SERVICE,
    Service,
    ServiceRefused,
    feed_of,
    occurrences,
)
from ioc.config import Settings
from ioc.config_alarms import MaintenanceWindow
from ioc.keys import Keys

T0 = datetime(2026, 11, 27, 1, 0, tzinfo=UTC)  # Friday 08:00 in Da Nang
GAUGE = "urn:ioc:danang:flood-sensors:FL-07"
OTHER_GAUGE = "urn:ioc:danang:flood-sensors:FL-08"
STATION = "urn:ioc:danang:air-stations:hk"


@pytest.fixture
def service(redis_client: redis.Redis, settings: Settings) -> Service:
    return Service(redis_client, Keys("danang"), settings.model_copy(update={"maintenance": []}))


def audit(client: redis.Redis) -> list[dict[str, str]]:
    return [fields for _, fields in client.xrange(Keys("danang").audit())]


def test_the_feed_of_a_subject() -> None:
    assert feed_of(GAUGE) == "flood-sensors"
    assert feed_of("feed:air-stations") == "air-stations"
    assert feed_of("zone:hoa-xuan") is None


def test_a_feed_out_of_service_silences_its_sensors_and_its_own_silence(service: Service,
                                                                       redis_client: redis.Redis) -> None:
    service.take_out("feed", "flood-sensors", actor="lan", reason="pump station rewiring", now=T0)

    silenced = service.suppression(T0 + timedelta(minutes=5))

    assert silenced.silences(GAUGE) == OUT_OF_SERVICE
    assert silenced.silences("feed:flood-sensors") == OUT_OF_SERVICE
    assert silenced.silences(STATION) is None
    assert silenced.feed_state("flood-sensors") == OUT_OF_SERVICE
    entry = audit(redis_client)[-1]
    assert (entry["actor"], entry["action"], entry["object"]) == ("lan", "service.out", "feed:flood-sensors")
    assert "pump station rewiring" in entry["note"]

    assert service.put_back("feed", "flood-sensors", actor="lan", note="done", now=T0 + timedelta(hours=1))
    assert not service.suppression(T0 + timedelta(hours=1)).silences(GAUGE)
    assert audit(redis_client)[-1]["action"] == "service.back"
    assert not service.put_back("feed", "flood-sensors", actor="lan")  # nothing out: nothing written
    assert audit(redis_client)[-1]["action"] == "service.back" and len(audit(redis_client)) == 2


def test_an_entity_out_of_service_until_a_time_comes_back_by_itself(service: Service,
                                                                   redis_client: redis.Redis) -> None:
    service.take_out("entity", GAUGE, actor="lan", reason="sensor cleaned", until=T0 + timedelta(hours=2), now=T0)

    assert service.suppression(T0 + timedelta(hours=1)).silences(GAUGE) == OUT_OF_SERVICE
    assert service.suppression(T0 + timedelta(hours=1)).silences(OTHER_GAUGE) is None
    assert service.suppression(T0 + timedelta(hours=2)).silences(GAUGE) is None
    back = audit(redis_client)[-1]
    assert (back["actor"], back["action"], back["object"]) == ("system", "service.back", f"entity:{GAUGE}")
    assert service.out_of_service(T0 + timedelta(hours=3)) == []


def test_a_maintenance_window_silences_its_feeds_and_areas_only_while_it_holds(service: Service,
                                                                              redis_client: redis.Redis) -> None:
    window = service.declare_window(feeds=["air-stations"], areas=["Cẩm Lệ"], start=T0 + timedelta(hours=1),
                                    end=T0 + timedelta(hours=3), reason="calibration", actor="minh", now=T0)

    assert not service.suppression(T0 + timedelta(minutes=30))
    during = service.suppression(T0 + timedelta(hours=2))
    assert during.silences(STATION) == MAINTENANCE
    assert during.silences(GAUGE, district="Cẩm Lệ") == MAINTENANCE
    assert during.silences(GAUGE, district="Hải Châu") is None
    assert during.feed_state("air-stations") == MAINTENANCE and during.feed_state("flood-sensors") is None
    assert not service.suppression(T0 + timedelta(hours=3))
    assert audit(redis_client)[0]["object"] == f"maintenance:{window.id}"
    assert service.windows(T0 + timedelta(hours=4)) == []  # over: dropped (it stays in the audit stream)


def test_a_cancelled_window_silences_nothing(service: Service, redis_client: redis.Redis) -> None:
    window = service.declare_window(areas=["Sơn Trà"], start=T0, end=T0 + timedelta(hours=3), reason="drill",
                                    actor="minh", now=T0)

    assert service.cancel_window(window.id, actor="minh", note="drill called off", now=T0)

    assert not service.suppression(T0 + timedelta(hours=1))
    assert audit(redis_client)[-1]["action"] == "service.maintenance_cancelled"
    assert not service.cancel_window(window.id, actor="minh")


@pytest.mark.parametrize(("call", "message"), [
    (lambda s: s.take_out("feed", "no-such-feed", actor="lan", reason="x", now=T0), "no feed"),
    (lambda s: s.take_out("feed", "flood-sensors", actor="lan", reason="  ", now=T0), "reason"),
    (lambda s: s.take_out("entity", "FL-07", actor="lan", reason="x", now=T0), "not an entity id"),
    (lambda s: s.take_out("feed", "flood-sensors", actor="lan", reason="x", until=T0, now=T0), "future"),
    (lambda s: s.declare_window(start=T0, end=T0 + timedelta(hours=1), reason="x", actor="lan", now=T0),
     "feeds or areas"),
    (lambda s: s.declare_window(feeds=["flood-sensors"], start=T0, end=T0, reason="x", actor="lan", now=T0),
     "ends after"),
    (lambda s: s.declare_window(feeds=["nope"], start=T0, end=T0 + timedelta(hours=1), reason="x", actor="lan",
                                now=T0), "no feed 'nope'"),
])
def test_what_is_refused_says_why_and_changes_nothing(service: Service, redis_client: redis.Redis, call: object,
                                                     message: str) -> None:
    with pytest.raises(ServiceRefused, match=message):
        call(service)  # type: ignore[operator]
    assert not service.suppression(T0) and audit(redis_client) == []


def test_a_recurring_window_holds_on_its_weekdays_also_past_midnight(settings: Settings,
                                                                    redis_client: redis.Redis) -> None:
    nightly = MaintenanceWindow.model_validate({
        "id": "pumps", "reason": {"vi": "Bảo trì", "en": "Upkeep"}, "feeds": ["water-pressure"],
        "weekdays": ["fri"], "start": "23:00", "end": "01:00"})
    # Friday 23:30 and Saturday 00:30 in Da Nang are in it; Saturday 23:30 is not (not a Friday)
    friday_night = datetime(2026, 11, 27, 16, 30, tzinfo=UTC)
    assert [w.active(friday_night) for w in occurrences(nightly, friday_night)] == [True]
    assert any(w.active(friday_night + timedelta(hours=1)) for w in occurrences(nightly, friday_night
                                                                               + timedelta(hours=1)))
    assert not any(w.active(friday_night + timedelta(days=1)) for w in occurrences(nightly, friday_night
                                                                                  + timedelta(days=1)))
    service = Service(redis_client, Keys("danang"), settings.model_copy(update={"maintenance": [nightly]}))
    assert service.suppression(friday_night).feed_state("water-pressure") == MAINTENANCE


@pytest.mark.parametrize(("window", "message"), [
    ({"start": "25:00", "end": "01:00", "feeds": ["a"]}, "HH:MM"),
    ({"start": "01:00", "end": "01:00", "feeds": ["a"]}, "same time"),
    ({"start": "01:00", "end": "02:00"}, "feeds or areas"),
    ({"start": "01:00", "end": "02:00", "feeds": ["a"], "weekdays": ["monday"]}, "weekdays"),
])
def test_a_bad_recurring_window_is_refused_at_load(window: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        MaintenanceWindow.model_validate({"id": "w", "reason": {"vi": "x", "en": "x"}, **window})
