"""The store against a real redis-server: atomic batches, health, alert dedup under concurrency."""

from __future__ import annotations

import json
import threading
from datetime import UTC, datetime, timedelta

import pytest
import redis

from ioc.model import Alert, AlertState, Batch, Entity, Event, Observation, Severity
from ioc.store import Store

pytestmark = pytest.mark.integration
T0 = datetime(2026, 11, 27, 1, 0, tzinfo=UTC)


def _station(n: int, pm25: float, **extra: object) -> Entity:
    return Entity(
        id=f"urn:ioc:danang:air-stations:{n}", type="AirQualityStation", agency="danang-donre",
        sector="environment", name=f"Trạm {n}", location=(108.2 + n / 100, 16.05), district="Hải Châu",
        attributes={"pm25": pm25, **extra}, observed_at=T0,
    )


def _batch(*entities: Entity) -> Batch:
    return Batch(
        entities=list(entities),
        observations=[Observation(e.id, "pm25", e.attributes["pm25"], "µg/m³", T0) for e in entities],
    )


def test_a_batch_is_written_and_read_back(store: Store) -> None:
    store.write_batch("air-stations", _batch(_station(1, 12.5), _station(2, 70.0)), now=T0)
    entities = store.entities_of_feed("air-stations")
    assert [e["attributes"]["pm25"] for e in entities] == [12.5, 70.0]
    assert entities[0]["lon"] == pytest.approx(108.21) and entities[0]["district"] == "Hải Châu"
    assert entities[0]["ingested_at"] == "2026-11-27T01:00:00+00:00"
    history = store.recent_observations("urn:ioc:danang:air-stations:2", "pm25")
    assert history[-1]["v"] == "70.0" and history[-1]["u"] == "µg/m³"
    assert store.change_counter() == 1


def test_the_feed_set_is_replaced_by_each_poll(store: Store) -> None:
    store.write_batch("air-stations", _batch(_station(1, 1), _station(2, 2)))
    store.write_batch("air-stations", _batch(_station(2, 3)))
    assert [e["id"] for e in store.entities_of_feed("air-stations")] == ["urn:ioc:danang:air-stations:2"]


def test_personal_data_in_attributes_never_reaches_redis(store: Store, redis_client: redis.Redis) -> None:
    entity = _station(1, 5, phone="0905 123 456", note="liên hệ nguyen@gmail.com")
    store.write_batch("air-stations", _batch(entity))
    dump = " ".join(str(redis_client.hgetall(k)) for k in redis_client.keys("*entity*"))
    assert "0905" not in dump and "nguyen@gmail.com" not in dump


def test_a_write_refused_by_redis_surfaces_to_the_caller(store: Store, redis_client: redis.Redis) -> None:
    # A key of the wrong type (damage from outside the IOC) makes XADD fail inside MULTI/EXEC; the runner
    # must hear of it to record it in the feed's health.
    bad = _station(2, 9)
    redis_client.set(store.keys.observations(bad.id, "pm25"), "not a stream")
    with pytest.raises(redis.ResponseError, match="WRONGTYPE"):
        store.write_batch("air-stations", _batch(_station(1, 5), bad))


def test_health_records_success_failure_and_rejected_payloads(store: Store) -> None:
    store.record_success("air-stations", records=14, latency_ms=12.3, interval=10, stale_factor=3, now=T0)
    store.record_failure("air-stations", error="payload refused: bad", interval=10, stale_factor=3,
                         payload=b"{trunc", now=T0 + timedelta(seconds=5))
    health = store.feed_health("air-stations")
    assert health is not None
    assert health.record_count == 14 and health.consecutive_failures == 1
    assert health.last_error == "payload refused: bad"
    assert not health.stale_at(T0 + timedelta(seconds=29))
    assert health.stale_at(T0 + timedelta(seconds=31))
    rejected = store.rejected_payloads("air-stations")
    assert rejected[0]["payload"] == "{trunc" and rejected[0]["error"] == "payload refused: bad"


def test_rejected_payloads_are_capped(store: Store) -> None:
    for i in range(8):
        store.record_failure("f", error=f"e{i}", interval=1, stale_factor=1, payload=b"x" * 300_000)
    rejected = store.rejected_payloads("f")
    assert len(rejected) == 5 and rejected[0]["error"] == "e7"
    assert rejected[0]["truncated"] and len(rejected[0]["payload"]) == 256 * 1024


def _alert(entity: str = "urn:ioc:danang:air-stations:1", value: float = 60.0) -> Alert:
    return Alert(id="", rule_id="pm25-high", entity_id=entity, title="PM2.5", severity=Severity.SEVERE,
                 sector="environment", agency="danang-donre", value=value)


def test_one_open_alert_per_rule_and_entity(store: Store) -> None:
    first, new1 = store.raise_alert(_alert(value=60))
    again, new2 = store.raise_alert(_alert(value=65))
    assert new1 and not new2 and again.id == first.id
    stored = store.alert(first.id)
    assert stored is not None and stored.occurrences == 2 and stored.value == 65
    store.resolve_alert(first.id, actor="system", note="cleared")
    third, new3 = store.raise_alert(_alert(value=70))
    assert new3 and third.id != first.id
    assert [a.id for a in store.open_alerts()] == [third.id]


def test_concurrent_raises_leave_one_alert(store: Store, redis_server_url: str) -> None:
    clients = [Store(redis.Redis.from_url(redis_server_url, decode_responses=True), "danang") for _ in range(8)]
    barrier = threading.Barrier(len(clients))
    results: list[bool] = []

    def race(s: Store) -> None:
        barrier.wait()
        results.append(s.raise_alert(_alert())[1])

    threads = [threading.Thread(target=race, args=(s,)) for s in clients]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results.count(True) == 1
    alerts = store.open_alerts()
    assert len(alerts) == 1 and alerts[0].occurrences == 8


def test_resolving_twice_is_refused_and_timeline_is_kept(store: Store) -> None:
    alert, _ = store.raise_alert(_alert())
    store.resolve_alert(alert.id, actor="op1", note="done")
    with pytest.raises(ValueError, match="already resolved"):
        store.resolve_alert(alert.id, actor="op2")
    timeline = store.alert_timeline(alert.id)
    assert [(e["action"], e["actor"]) for e in timeline] == [("raised", "system"), ("resolved", "op1")]
    assert store.alert(alert.id).state == AlertState.RESOLVED


def test_open_alerts_sort_by_severity_then_age(store: Store) -> None:
    minor = _alert("e1")
    minor.severity = Severity.MINOR
    store.raise_alert(minor)
    store.raise_alert(_alert("e2"))
    assert [a.severity for a in store.open_alerts()] == [Severity.SEVERE, Severity.MINOR]


def test_active_events_expire(store: Store) -> None:
    now = datetime.now(UTC)
    batch = Batch(events=[
        Event(id="ev1", type="Typhoon", agency="cd", sector="emergency", headline="Bão số 9",
              severity=Severity.EXTREME, expires=now + timedelta(hours=1)),
        Event(id="ev2", type="Rain", agency="cd", sector="emergency", headline="Mưa",
              expires=now - timedelta(hours=1)),
    ])
    store.write_batch("warnings", batch)
    assert [e["id"] for e in store.active_events(now)] == ["ev1"]


@pytest.mark.parametrize("backend", ["server", "in-process"])
def test_an_event_a_full_feed_stops_listing_has_ended(backend, store: Store, fake_store: Store) -> None:  # noqa: ANN001
    target = store if backend == "server" else fake_store
    now = datetime.now(UTC)

    def warning(event_id: str) -> Event:
        return Event(id=event_id, type="Flood", agency="cd", sector="emergency", headline=event_id)

    target.write_batch("warnings", Batch(events=[warning("w1"), warning("w2")]))
    target.write_batch("warnings", Batch(events=[warning("w2")]))
    assert [e["id"] for e in target.active_events(now)] == ["w2"]
    target.write_batch("warnings", Batch(events=[warning("w3")]), replace=False)  # pushed: adds only
    assert sorted(e["id"] for e in target.active_events(now)) == ["w2", "w3"]


def test_a_feeds_active_events_read_like_entities(store: Store) -> None:
    now = datetime.now(UTC)
    batch = Batch(events=[
        Event(id="inc-1", type="TrafficIncident", agency="police", sector="safety", headline="Va chạm xe",
              severity=Severity.MODERATE, location=(108.22, 16.06), district="Hải Châu",
              expires=now + timedelta(hours=1)),
        Event(id="inc-0", type="TrafficIncident", agency="police", sector="safety", headline="Đã xử lý",
              expires=now - timedelta(minutes=1)),
    ])
    store.write_batch("traffic-incidents", batch)
    [incident] = store.events_of_feed("traffic-incidents", now)
    assert incident["name"] == "Va chạm xe" and incident["lon"] == 108.22 and incident["district"] == "Hải Châu"
    assert incident["attributes"]["severity"] == "moderate"


# --- change versions and one-round-trip reads ----------------------------------------------------------


def _warning(event_id: str) -> Event:
    return Event(id=event_id, type="Flood", agency="cd", sector="emergency", headline=event_id,
                 location=(108.22, 16.06), expires=datetime.now(UTC) + timedelta(hours=1))


@pytest.mark.parametrize("backend", ["server", "in-process"])
def test_a_batch_moves_its_own_feeds_version_only(backend, store: Store, fake_store: Store) -> None:  # noqa: ANN001
    target = store if backend == "server" else fake_store
    target.write_batch("air-stations", _batch(_station(1, 12.5), _station(2, 70.0)))
    target.write_batch("warnings", Batch(events=[_warning("w1")]))
    assert target.layer_versions() == {"air-stations": 1, "warnings": 1}

    target.write_batch("air-stations", _batch(_station(1, 13.0), _station(2, 70.0)))  # new values
    assert target.layer_versions() == {"air-stations": 2, "warnings": 1}

    target.write_batch("warnings", Batch())  # the warning has ended
    assert target.layer_versions() == {"air-stations": 2, "warnings": 2}
    target.write_batch("warnings", Batch(events=[_warning("w2")]), replace=False)  # a pushed message
    assert target.layer_versions() == {"air-stations": 2, "warnings": 3}
    assert target.change_counter() == 5  # the city-wide counter still moves with every write


def test_a_refused_payload_moves_no_version(fake_store: Store, settings) -> None:  # noqa: ANN001
    from ioc.areas import area_index
    from ioc.config import Feed
    from ioc.runner import ingest_payload

    feed = Feed(name="air", agency="danang-donre", agency_name={"vi": "a", "en": "a"}, sector="environment",
                reader="sensorthings", url="http://air.invalid/", interval=60)
    fake_store.write_batch("air", _batch(_station(1, 12.5)))
    before = fake_store.layer_versions()
    outcome = ingest_payload(feed, b'{"value": [truncated', store=fake_store, areas=area_index(settings.city))
    assert not outcome.ok and outcome.error.startswith("payload refused")
    assert fake_store.layer_versions() == before
    assert [e["attributes"]["pm25"] for e in fake_store.entities_of_feed("air")] == [12.5]


def _old_layout_read(entity: Entity, feed: str, ingested: str) -> dict[str, object]:
    """What the layout before entity records read back for an entity: its hash of text fields, decoded."""
    raw = {"lon": repr(entity.location[0]) if entity.location else "",
           "lat": repr(entity.location[1]) if entity.location else "",
           "geometry": json.dumps(entity.geometry) if entity.geometry else "",
           "attributes": json.dumps(entity.attributes)}
    return {"id": entity.id, "type": entity.type, "agency": entity.agency, "sector": entity.sector, "feed": feed,
            "name": entity.name, "lon": float(raw["lon"]) if raw["lon"] else None,
            "lat": float(raw["lat"]) if raw["lat"] else None,
            "geometry": json.loads(raw["geometry"]) if raw["geometry"] else None,
            "district": entity.district or None, "attributes": json.loads(raw["attributes"]),
            "observed_at": entity.observed_at.isoformat() if entity.observed_at else None,
            "ingested_at": ingested}


@pytest.mark.parametrize("backend", ["server", "in-process"])
def test_one_read_per_feed_returns_what_the_old_reads_returned(backend, store: Store, fake_store: Store) -> None:  # noqa: ANN001
    target = store if backend == "server" else fake_store
    stations = [_station(2, 70.0, status="ok"), _station(1, 12.5)]
    road = Entity(id="urn:ioc:danang:roads:1", type="Road", agency="danang-dot", sector="transport",
                  name="Đường 2/9", geometry={"type": "LineString", "coordinates": [[108.2, 16.0], [108.3, 16.1]]},
                  attributes={"congestion": 3}, observed_at=None)
    target.write_batch("air-stations", _batch(*stations), now=T0)
    target.write_batch("roads", Batch(entities=[road]), now=T0)
    ingested = "2026-11-27T01:00:00+00:00"
    expected_air = [_old_layout_read(e, "air-stations", ingested) for e in sorted(stations, key=lambda e: e.id)]
    expected_roads = [_old_layout_read(road, "roads", ingested)]

    assert target.entities_of_feed("air-stations") == expected_air
    assert target.entities_of_feeds(["air-stations", "roads", "nothing-yet"]) == {
        "air-stations": expected_air, "roads": expected_roads, "nothing-yet": []}
    assert target.entity(road.id) == expected_roads[0] and target.entity("urn:unknown") is None
    assert target.entities([road.id, "urn:unknown", stations[1].id]) == [expected_roads[0], expected_air[0]]
    assert sorted(e["id"] for e in target.all_entities()) == sorted([road.id, *(e.id for e in stations)])
    assert [e["id"] for e in target.entities_of_sector("transport")] == [road.id]


def test_a_screens_reads_are_one_command_per_feed(store: Store, redis_client: redis.Redis) -> None:
    store.write_batch("air-stations", _batch(*(_station(n, float(n)) for n in range(50))))
    store.write_batch("warnings", Batch(events=[_warning("w1"), _warning("w2")]))
    redis_client.config_resetstat()
    assert len(store.entities_of_feed("air-stations")) == 50
    assert [e["id"] for e in store.events_of_feed("warnings")] == ["w1", "w2"]
    calls = {name.removeprefix("cmdstat_"): stats["calls"]
             for name, stats in redis_client.info("commandstats").items()}
    calls.pop("config|resetstat", None)
    assert calls == {"hgetall": 2, "zrangebyscore": 1}  # no read per entity or per event


def test_the_garbage_collector_is_held_off_only_while_a_payload_is_ingested(fake_store: Store, settings) -> None:  # noqa: ANN001
    import gc

    from ioc.areas import area_index
    from ioc.config import Feed
    from ioc.runner import ingest_payload

    feed = Feed(name="air", agency="danang-donre", agency_name={"vi": "a", "en": "a"}, sector="environment",
                reader="sensorthings", url="http://air.invalid/", interval=60)
    areas = area_index(settings.city)
    assert gc.isenabled()
    ingest_payload(feed, b'{"value": [truncated', store=fake_store, areas=areas)
    assert gc.isenabled()
    gc.disable()  # whoever turned it off keeps it off
    try:
        ingest_payload(feed, b'{"value": []}', store=fake_store, areas=areas)
        assert not gc.isenabled()
    finally:
        gc.enable()


@pytest.mark.parametrize("backend", ["server", "in-process"])
def test_records_and_positions_arrive_whole_whatever_their_text(backend, store: Store, fake_store: Store) -> None:  # noqa: ANN001
    # records travel to the write script as one text cut by byte lengths: multi-byte names and empty ones
    # next to each other must each come back as written, and every position must land in the geo index
    target = store if backend == "server" else fake_store
    names = ["Trạm Hải Châu 1", "", "Đường 2/9 ☂", "x" * 3000, "Ngũ Hành Sơn"]
    entities = [
        Entity(id=f"urn:ioc:danang:air-stations:{n}", type="AirQualityStation", agency="danang-donre",
               sector="environment", name=name, location=(108.1 + n / 7, 16.0 + n / 13), district="Sơn Trà",
               attributes={"pm25": float(n), "note": name}, observed_at=T0)
        for n, name in enumerate(names)
    ]
    target.write_batch("air-stations", _batch(*entities), now=T0)
    stored = {entity["id"]: entity for entity in target.entities_of_feed("air-stations")}
    assert [stored[e.id]["name"] for e in entities] == names
    assert [stored[e.id]["attributes"]["note"] for e in entities] == names
    positions = target.redis.geopos(target.keys.geo(), *(e.id for e in entities))
    for entity, (lon, lat) in zip(entities, positions, strict=True):
        assert entity.location is not None
        assert lon == pytest.approx(entity.location[0], abs=1e-5) and lat == pytest.approx(entity.location[1], abs=1e-5)
