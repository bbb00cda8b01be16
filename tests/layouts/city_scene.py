"""A believable moment of the demo city written into a store: entities per feed, health, a refused payload, an alert."""

from __future__ import annotations

import random
from datetime import datetime, timedelta

from ioc.areas import area_index
from ioc.config import Feed, Settings
from ioc.model import Alert, Batch, Entity, Severity, utcnow
from ioc.store import Store

# points in the urban districts, where the demo's sensors and vehicles are
URBAN_BOX = (108.150, 16.000, 108.250, 16.090)
STALE_FEED_INDEX = 1  # the second feed goes quiet, so every screen shows a stale feed
FAILING_FEED_INDEX = 2  # the third feed's last poll was refused
ENTITIES_PER_FEED = (14, 60, 28, 20)


def _entities(settings: Settings, feed: Feed, count: int, now: datetime, rng: random.Random) -> list[Entity]:
    index = area_index(settings.city)
    points: list[tuple[float, float]] = []
    districts: list[str | None] = []
    while len(points) < count:  # on land only: the box also covers part of the bay
        point = (rng.uniform(URBAN_BOX[0], URBAN_BOX[2]), rng.uniform(URBAN_BOX[1], URBAN_BOX[3]))
        district = index.assign([point])[0]
        if district is not None:
            points.append(point)
            districts.append(district)
    entities = []
    for number, (point, district) in enumerate(zip(points, districts, strict=True)):
        attributes: dict[str, float | str] = {}
        if feed.kpi and feed.kpi.metric:
            attributes[feed.kpi.metric] = round(rng.uniform(12, 45), 1)
        for key, wanted in (feed.kpi.where if feed.kpi else {}).items():
            attributes[key] = wanted if number % 3 else "closed"
        attributes.setdefault("value", round(rng.uniform(0, 100), 1))
        entities.append(
            Entity(
                id=f"urn:ioc:{settings.city.id}:{feed.name}:{number}",
                type=feed.reader,
                agency=feed.agency,
                sector=feed.sector,
                name=f"{feed.agency_name.vi} #{number + 1}",
                location=point,
                district=district,
                attributes=attributes,
                observed_at=now - timedelta(seconds=rng.randint(1, 30)),
                feed=feed.name,
            )
        )
    return entities


def populate(store: Store, settings: Settings, now: datetime | None = None, seed: int = 48) -> dict[str, str]:
    """Write the scene; returns which feed plays which part ({"stale": name, "failing": name, "alert": id})."""
    now = now or utcnow()
    rng = random.Random(seed)
    feeds = [feed for feed in settings.feeds if feed.enabled]
    parts: dict[str, str] = {}
    for position, feed in enumerate(feeds):
        entities = _entities(settings, feed, ENTITIES_PER_FEED[position % len(ENTITIES_PER_FEED)], now, rng)
        store.write_batch(feed.name, Batch(entities=entities), now=now)
        common = {"interval": feed.interval, "stale_factor": feed.stale_factor}
        if position == STALE_FEED_INDEX:
            quiet_since = now - timedelta(seconds=feed.interval * feed.stale_factor * 4 + 60)
            store.record_success(feed.name, records=len(entities), latency_ms=240.0, now=quiet_since, **common)
            parts["stale"] = feed.name
        elif position == FAILING_FEED_INDEX:
            store.record_success(feed.name, records=len(entities) + 2, latency_ms=95.0,
                                 now=now - timedelta(seconds=feed.interval), **common)
            store.record_failure(feed.name, error="PayloadError: expected a JSON array at the top level",
                                 payload=b'{"error": "maintenance", "retry_after": 120}', now=now, **common)
            parts["failing"] = feed.name
        else:
            store.record_success(feed.name, records=len(entities) + 1, latency_ms=40.0,
                                 now=now - timedelta(seconds=feed.interval * 2), **common)
            store.record_success(feed.name, records=len(entities), latency_ms=31.5 + position, now=now, **common)
    rule = settings.rules[0]
    target = next(e for e in store.entities_of_feed(rule.feed or feeds[0].name) if e.get("district"))
    alert, _ = store.raise_alert(
        Alert(
            id="",
            rule_id=rule.id,
            entity_id=target["id"],
            title=rule.title.vi,
            severity=rule.severity,
            sector=rule.sector,
            agency=rule.agency,
            district=target["district"],
            value=68.4,
            raised_at=now - timedelta(minutes=4),
            updated_at=now - timedelta(minutes=4),
            location=(target["lon"], target["lat"]),
        )
    )
    store.raise_alert(
        Alert(id="", rule_id="manual-flood", entity_id="urn:ioc:danang:manual:flood-1",
              title="Ngập sâu 40 cm tại đường Nguyễn Hữu Thọ", severity=Severity.MODERATE, sector="emergency",
              agency="danang-civil-defence", district="Hải Châu", value=40.0,
              raised_at=now - timedelta(minutes=17), updated_at=now - timedelta(minutes=17),
              location=(108.2153, 16.0381))
    )
    parts["alert"] = alert.id
    return parts
