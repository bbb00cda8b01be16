"""The street-lighting company's NGSI-LD broker: a Streetlight entity per lamp on the main streets.

FIWARE Smart Data Model dataModel.Streetlighting/Streetlight: powerState (on / off), status (ok,
defectiveLamp, brokenLantern), illuminanceLevel (0..1, dimmed after 23:00), powerConsumption in W.
"""

from __future__ import annotations

from datetime import datetime

from simulator.city import SimCity
from simulator.feeds.common import FeedRequest
from simulator.feeds.ngsi import Entity, point, prop, render_entities, when
from simulator.street_assets import LampReading, read_lamp, streetlights
from simulator.traffic import street_label

ENTITY_TYPE = "Streetlight"
CONTEXT = "https://raw.githubusercontent.com/smart-data-models/dataModel.Streetlighting/master/context.jsonld"


def render(city: SimCity, now: datetime, request: FeedRequest) -> tuple[bytes, str]:
    entities = [_entity(read_lamp(city, lamp, now)) for lamp in streetlights(city)]
    return render_entities(entities, ENTITY_TYPE, CONTEXT, request)


def _entity(reading: LampReading) -> Entity:
    lamp = reading.lamp
    entity: Entity = {
        "id": f"urn:ngsi-ld:Streetlight:danang:{lamp.id}",
        "type": ENTITY_TYPE,
        "name": prop(f"Đèn {lamp.id} {street_label(lamp.street)}"),
        "areaServed": prop(street_label(lamp.street)),
        "circuit": prop(lamp.circuit),
        "location": point(lamp.lon, lamp.lat),
        "status": prop(reading.status),
        "powerState": prop("on" if reading.power_on else "off"),
        "illuminanceLevel": prop(reading.illuminance),
        "powerConsumption": prop(round(lamp.rated_w * reading.illuminance, 1), unit_code="WTT"),
        "dateModified": when(reading.observed_at),
    }
    if reading.switched_on_at is not None:
        entity["dateLastSwitchingOn"] = when(reading.switched_on_at)
    return entity
