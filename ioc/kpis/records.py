"""Which records of a stored batch a KPI counts, and what each one adds to the buckets of its hour and day."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from ioc.kpis.aggregates import CITY, district_scope, group_scope
from ioc.kpis.catalogue import Kpi
from ioc.kpis.expressions import as_time
from ioc.model import Batch


@dataclass(frozen=True, slots=True)
class Contribution:
    """What one record adds to its buckets."""

    time: datetime
    scopes: tuple[tuple[str, str], ...]  # (scope key token, label)
    value: float | None
    per: float | None
    hit: bool


def _entity_record(entity: Any) -> dict[str, Any]:
    record = dict(entity.attributes)
    record.update(type=entity.type, agency=entity.agency, sector=entity.sector, name=entity.name,
                  district=entity.district, observed_at=entity.observed_at)
    return record


def _event_record(event: Any) -> dict[str, Any]:
    return {
        "type": event.type, "agency": event.agency, "sector": event.sector, "headline": event.headline,
        "severity": str(event.severity), "urgency": event.urgency, "certainty": event.certainty,
        "status": event.status, "district": event.district, "onset": event.onset, "expires": event.expires,
        "ingested_at": event.ingested_at,
    }


def candidate_records(kpi: Kpi, batch: Batch, now: datetime) -> list[tuple[str, datetime, dict[str, Any]]]:
    """(dedup id, time, record) of every record of the batch the KPI's source selects, before dedup."""
    source = kpi.source
    assert source is not None
    found: list[tuple[str, datetime, dict[str, Any]]] = []
    if source.records == "observations":
        entities = {e.id: e for e in batch.entities}
        cache: dict[str, dict[str, Any] | None] = {}
        for obs in batch.observations:
            if obs.metric != source.metric:
                continue
            if obs.entity_id not in cache:
                entity = entities.get(obs.entity_id)
                if entity is None:
                    cache[obs.entity_id] = None if source.entity_type else {}
                else:
                    cache[obs.entity_id] = (
                        None if source.entity_type and entity.type != source.entity_type else _entity_record(entity)
                    )
            base = cache[obs.entity_id]
            if base is None:
                continue
            record = {**base, source.metric: obs.value}
            found.append((obs.entity_id, obs.time, record))
    elif source.records == "snapshots":
        # the fleet as this poll saw it, at the poll's time: each poll is a new record of every entity
        for entity in batch.entities:
            if not source.entity_type or entity.type == source.entity_type:
                found.append((entity.id, now, _entity_record(entity)))
    elif source.records == "entities":
        for entity in batch.entities:
            if source.entity_type and entity.type != source.entity_type:
                continue
            record = _entity_record(entity)
            moment = as_time(record.get(source.time)) if source.time else entity.observed_at
            if moment is not None:
                found.append((entity.id, moment, record))
    else:
        for event in batch.events:
            if source.entity_type and event.type != source.entity_type:
                continue
            record = _event_record(event)
            moment = as_time(record.get(source.time)) if source.time else (event.onset or event.ingested_at)
            if moment is not None:
                found.append((event.id, moment, record))
    return found


def selected(kpi: Kpi, record: Mapping[str, Any]) -> bool:
    """Whether a record passes the KPI's `where` conditions."""
    return kpi.source is not None and all(condition.test(record) for condition in kpi.source.where)


def contribution(kpi: Kpi, record: Mapping[str, Any], moment: datetime, zone: ZoneInfo) -> Contribution | None:
    """What a record adds, or None when the KPI's filters leave it out or it carries no usable value."""
    source = kpi.source
    assert source is not None
    if source.hours and moment.astimezone(zone).hour not in source.hours:
        return None
    if not selected(kpi, record):
        return None
    value = per = None
    expr = kpi.value_expr
    if expr is not None:
        value = expr.of(record)
        if value is None or math.isinf(value):
            return None
    if kpi.per is not None:
        per = kpi.per.of(record)
        if per is None or per <= 0:
            return None
    hit = bool(kpi.count_if.test(record)) if kpi.count_if is not None else False
    scopes: list[tuple[str, str]] = [(CITY, "")]
    district = record.get("district")
    if district:
        scopes.append((district_scope(district), district))
    if source.group_by:
        group = record.get(source.group_by)
        if group not in (None, ""):
            scopes.append((group_scope(str(group)), str(group)))
    return Contribution(moment, tuple(scopes), value, per, hit)
