"""The sanitation company's NGSI-LD broker: a WasteContainer entity per sensor-equipped container.

FIWARE Smart Data Model dataModel.WasteManagement/WasteContainer: fillingLevel (0..1), status, storedWasteKind,
dateLastEmptying and nextActuationDeadline (the next collection round), cargoVolume in litres.
"""

from __future__ import annotations

from datetime import datetime

from simulator.city import SimCity
from simulator.feeds.common import FeedRequest, utc_iso
from simulator.feeds.ngsi import Entity, address, point, prop, render_entities, when
from simulator.street_assets import WasteReading, read_container, waste_containers

ENTITY_TYPE = "WasteContainer"
CONTEXT = "https://raw.githubusercontent.com/smart-data-models/dataModel.WasteManagement/master/context.jsonld"


def render(city: SimCity, now: datetime, request: FeedRequest) -> tuple[bytes, str]:
    entities = [_entity(read_container(city, container, now)) for container in waste_containers(city)]
    return render_entities(entities, ENTITY_TYPE, CONTEXT, request)


def _entity(reading: WasteReading) -> Entity:
    container = reading.container
    return {
        "id": f"urn:ngsi-ld:WasteContainer:danang:{container.id}",
        "type": ENTITY_TYPE,
        "name": prop(f"Thùng rác {container.id} - {container.street}"),
        "serialNumber": prop(container.id),
        "address": address(container.street, container.district),
        "location": point(container.lon, container.lat),
        "storedWasteKind": prop(["organic", "inorganic"]),
        "cargoVolume": prop(container.volume_l, unit_code="LTR"),
        "fillingLevel": prop(reading.filling_level, observed_at=reading.observed_at),
        "status": prop("lidOpen" if reading.lid_open else "ok"),
        "dateLastEmptying": when(reading.last_emptied),
        "nextActuationDeadline": prop(utc_iso(reading.next_collection)),
        "dateModified": when(reading.observed_at),
    }
