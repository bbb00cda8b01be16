"""The entity sets the OData service serves and where each one's rows come from: the same open data as
/api/v1 (entities, the latest observation of each metric, KPIs, open alerts), never more: a row holds only its
set's declared properties, none of them personal, and alerts carry no staff names (ioc.api.STAFF_FIELDS)."""

from __future__ import annotations

import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ioc.api import STAFF_FIELDS
from ioc.kpis.tiles import feed_kpi
from ioc.odata.model import EdmType, EntitySet, Property
from ioc.privacy import is_personal_field

D, N, B, T = EdmType.DECIMAL, EdmType.INT, EdmType.BOOLEAN, EdmType.DATETIME
Rows = list[dict[str, Any]]


@dataclass(frozen=True, slots=True)
class Plan:
    """What a reader may skip: the `feeds` and `entities` the filter pins, `narrow` applies the filter's parts that
    need no costly property (a reader with costly properties calls it before reading them), the language."""

    feeds: frozenset[str] | None = None
    entities: frozenset[str] | None = None  # the entity ids the filter pins (None: any)
    narrow: Callable[[Rows], Rows] = field(default=lambda rows: rows)
    lang: str = "en"


def _feeds(context: Any, plan: Plan) -> list[str]:
    enabled = [feed.name for feed in context.settings.feeds if feed.enabled]
    return [name for name in enabled if plan.feeds is None or name in plan.feeds]


def _entities(context: Any, plan: Plan) -> Rows:
    feeds = _feeds(context, plan)
    if plan.entities is not None:
        # the entities the filter names, by id (two round trips), rather than every entity of every feed
        wanted = set(feeds)
        return [entity for entity in context.store.entities(sorted(plan.entities)) if entity.get("feed") in wanted]
    # one round trip for all the feeds the filter leaves (one feed's hash when it names the feed)
    by_feed = context.store.entities_of_feeds(feeds)
    return [entity for found in by_feed.values() for entity in found]  # each record names its feed


def _observations(context: Any, plan: Plan) -> Rows:
    """The newest observation of each numeric attribute of each entity, as /api/v1/observations/latest: the
    rows the cheap part of the filter keeps are known from the entities alone, and only their streams are read."""
    candidates = [
        {"id": f"{entity['id']}:{metric}", "entity_id": entity["id"], "feed": entity.get("feed"),
         "type": entity.get("type"), "district": entity.get("district"), "metric": metric,
         "lon": entity.get("lon"), "lat": entity.get("lat")}
        for entity in _entities(context, plan)
        for metric, value in (entity.get("attributes") or {}).items()
        if isinstance(value, int | float) and not isinstance(value, bool) and not is_personal_field(metric)
    ]
    rows = plan.narrow(candidates)
    store = context.store
    pipe = store.redis.pipeline(transaction=False)
    for row in rows:
        pipe.xrevrange(store.keys.observations(row["entity_id"], row["metric"]), count=1)
    found = []
    for row, newest in zip(rows, pipe.execute(), strict=True):
        if newest:
            fields = newest[0][1]
            found.append({**row, "value": fields.get("v"), "unit": fields.get("u", ""), "time": fields.get("t")})
    return found


def _kpis(context: Any, plan: Plan) -> Rows:
    """Each feed's headline number, as on the control room's tiles and /api/v1/kpis."""
    feeds = {feed.name: feed for feed in context.settings.feeds}
    rows = []
    for name, entities in context.store.entities_of_feeds(_feeds(context, plan)).items():
        feed = feeds[name]
        value = feed_kpi(feed, entities)
        rows.append({"id": f"feed:{name}", "feed": name, "agency": feed.agency, "sector": feed.sector,
                     "label": value.label.get(plan.lang), "value": value.value, "unit": value.unit})
    return rows


def _catalogue(context: Any, plan: Plan) -> Rows:
    """The city's KPI catalogue with targets (empty for a city without one, as /api/v1/kpis)."""
    try:
        from ioc.kpis.catalogue import load_catalogue

        kpis = load_catalogue(context.settings).kpis
    except (ImportError, ValueError, OSError):
        return []
    return [{"id": kpi.id, "name": kpi.name.get(plan.lang), "sector": kpi.sector, "agency": kpi.agency,
             "unit": kpi.unit, "target": kpi.target, "better": kpi.better} for kpi in kpis]


def _alerts(context: Any, plan: Plan) -> Rows:
    """Open alerts without who acknowledged, holds or resolved them (staff names are not open data)."""
    rows = []
    for record in context.store.alerts.records(limit=sys.maxsize):
        row = {key: value for key, value in record.to_dict().items() if key not in STAFF_FIELDS}
        row["severity_rank"] = record.alert.severity.rank
        location = row.pop("location", None)
        row["lon"], row["lat"] = (location[0], location[1]) if location else (None, None)
        rows.append(row)
    return rows


_PLACE = (Property("district", description="administrative area"), Property("lon", D), Property("lat", D))

SETS: tuple[EntitySet, ...] = (
    EntitySet("Entities", "Entity", "Stations, sensors, vehicles and requests as their feed's last poll left them",
              (Property("id"), Property("type"), Property("agency"), Property("sector"), Property("feed"),
               Property("name"), *_PLACE, Property("observed_at", T)), _entities,
              pins={"feeds": "feed", "entities": "id"}),
    EntitySet("Observations", "Observation", "The newest observation of each numeric metric of each entity",
              (Property("id", description="entity id and metric"), Property("entity_id"), Property("feed"),
               Property("type"), Property("metric"), Property("value", D), Property("unit"), Property("time", T),
               *_PLACE), _observations, costly=frozenset({"value", "unit", "time"}),
              pins={"feeds": "feed", "entities": "entity_id"}),
    EntitySet("Kpis", "FeedKpi", "Each feed's headline number, as on the control room's tiles",
              (Property("id"), Property("feed"), Property("agency"), Property("sector"), Property("label"),
               Property("value", D), Property("unit")), _kpis, pins={"feeds": "feed"}),
    EntitySet("KpiCatalogue", "Kpi", "The city's KPIs and their targets",
              (Property("id"), Property("name"), Property("sector"), Property("agency"), Property("unit"),
               Property("target", D), Property("better", description="higher or lower")), _catalogue),
    EntitySet("Alerts", "Alert", "Open alerts, most severe and longest waiting first",
              (Property("id"), Property("rule_id"), Property("kind"), Property("entity_id"), Property("title"),
               Property("place"), Property("severity"),
               Property("severity_rank", N, description="0 extreme, 1 severe, 2 moderate, 3 minor, 4 unknown"),
               Property("state"), Property("sector"),
               Property("agency"), Property("message"), Property("value", D), Property("occurrences", N),
               Property("raised_at", T), Property("updated_at", T), Property("expires", T),
               Property("escalations", N), Property("flapping", B), *_PLACE), _alerts,
              # the queue's order (ioc.alerts.record.queue_order): most severe, then longest waiting
              order=(("severity_rank", False), ("raised_at", False))),
)
BY_NAME: dict[str, EntitySet] = {entity_set.name: entity_set for entity_set in SETS}
