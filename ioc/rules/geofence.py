"""Geofence rules: an entity or event inside a zone of a GeoJSON file (flood-prone areas, say), per
entity, or per zone with a count (`group_by: zone`: one count per zone and feed)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from functools import cache
from typing import Any

import shapely
from shapely.geometry import shape
from shapely.prepared import prep

from ioc.config import Feed, GeofenceRule, zone_features
from ioc.model import Batch
from ioc.rules.base import RuleContext, Verdict
from ioc.rules.registry import RuleKind, register


@dataclass(frozen=True, slots=True)
class Zone:
    id: str
    name: str
    name_en: str
    district: str | None
    geometry: Any
    prepared: Any = field(repr=False)

    def contains(self, point: tuple[float, float]) -> bool:
        return bool(self.prepared.contains(shapely.Point(point)))

    def touches(self, geometry: Any) -> bool:
        return bool(self.prepared.intersects(geometry))


@cache
def load_zones(relative: str) -> tuple[Zone, ...]:
    """The zones of a geofence file (validated when the configuration loaded)."""
    zones = []
    for feature in zone_features(relative):
        props = feature["properties"]
        geometry = shapely.make_valid(shape(feature["geometry"]))
        zones.append(Zone(id=str(props["id"]), name=str(props.get("name") or props["id"]),
                          name_en=str(props.get("name_en") or props.get("name") or props["id"]),
                          district=props.get("district"), geometry=geometry, prepared=prep(geometry)))
    return tuple(zones)


def matches(attributes: dict[str, Any], where: dict[str, Any]) -> bool:
    """The entity has every attribute value the rule asks for (a list in the rule: any of them)."""
    for name, wanted in where.items():
        have = attributes.get(name)
        options = wanted if isinstance(wanted, list) else [wanted]
        if not any(have == option or str(have) == str(option) for option in options):
            return False
    return True


def zone_of(zones: Sequence[Zone], location: tuple[float, float] | None, geometry: dict | None
            ) -> Zone | None:
    """The first zone holding the point, or else touching the shape (an event given as an area)."""
    if location is not None:
        return next((zone for zone in zones if zone.contains(location)), None)
    if geometry:
        try:
            shaped = shape(geometry)
        except (ValueError, TypeError, AttributeError, shapely.errors.GEOSException):
            return None
        return next((zone for zone in zones if zone.touches(shaped)), None)
    return None


def geofence_verdicts(context: RuleContext, rule: GeofenceRule, feed: Feed, batch: Batch, now: datetime
                      ) -> list[Verdict]:
    zones = load_zones(rule.zones)
    inside: list[tuple[str, Zone | None, dict[str, Any]]] = []  # (subject, zone, info)
    if "entities" in rule.targets:
        for entity in batch.entities:
            # the attribute test first: it is cheap, and most of a busy feed's entities fail it
            wanted = matches(entity.attributes, rule.where)
            zone = zone_of(zones, entity.location, entity.geometry) if wanted else None
            inside.append((entity.id, zone, {
                "name": entity.name or entity.id, "district": entity.district, "location": entity.location,
                "at": entity.observed_at or now}))
    if "events" in rule.targets:
        for event in batch.events:
            if rule.event_types and event.type not in rule.event_types:
                continue
            zone = None if event.status == "cancelled" else zone_of(zones, event.location, event.area)
            inside.append((event.id, zone, {
                "name": event.headline or event.id, "district": event.district, "location": event.location,
                "at": event.onset or now}))
    if rule.group_by == "entity":
        return [
            Verdict(subject=subject, breach=zone is not None, at=info["at"], place=info["name"],
                    message=f"{info['name']} ∈ {zone.name}" if zone else "",
                    district=info["district"] or (zone.district if zone else None),
                    location=info["location"], clear_note="outside the zone again",
                    zone=zone.id if zone else "")
            for subject, zone, info in inside
        ]
    counts = {zone.id: 0 for zone in zones}
    for _, zone, _ in inside:
        if zone is not None:
            counts[zone.id] += 1
    verdicts = []
    for zone in zones:
        count = counts[zone.id]
        breach = True if count >= rule.min_count else (False if count == 0 else None)
        point = zone.geometry.representative_point()
        verdicts.append(Verdict(
            subject=f"{feed.name}:zone:{zone.id}", breach=breach, at=now, place=zone.name,
            message=f"{count} × {zone.name}", district=zone.district,
            location=(round(point.x, 6), round(point.y, 6)), clear_note=f"0 × {zone.name}", zone=zone.id,
        ))
    return verdicts


register(RuleKind("geofence", on_batch=geofence_verdicts))
