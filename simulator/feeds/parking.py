"""The parking operator's NGSI-LD broker: an OffStreetParking entity per car park, updated every 2 minutes.

FIWARE Smart Data Model dataModel.Parking/OffStreetParking: totalSpotNumber, availableSpotNumber,
occupiedSpotNumber, occupancy (0..1) and status (open / full), with occupancyModified and dateModified.
"""

from __future__ import annotations

from datetime import datetime

from simulator.city import SimCity
from simulator.feeds.common import FeedRequest
from simulator.feeds.ngsi import Entity, address, point, prop, render_entities, when
from simulator.geography import district_of
from simulator.parking import ParkingReading, car_parks, read_car_park

ENTITY_TYPE = "OffStreetParking"
CONTEXT = "https://raw.githubusercontent.com/smart-data-models/dataModel.Parking/master/context.jsonld"
CATEGORIES = {
    "office": ["public", "feeChargedByTime", "shortTerm"],
    "market": ["public", "feeCharged", "shortTerm"],
    "shopping": ["underground", "public", "feeChargedByTime", "barrierAccess"],
    "hospital": ["public", "feeCharged", "barrierAccess"],
    "beach": ["public", "feeCharged", "shortTerm"],
    "airport": ["public", "feeChargedByTime", "barrierAccess", "mediumTerm"],
    "transport": ["public", "feeCharged", "mediumTerm"],
    "tourism": ["public", "feeCharged", "shortTerm"],
}


def render(city: SimCity, now: datetime, request: FeedRequest) -> tuple[bytes, str]:
    entities = [_entity(read_car_park(city, car_park, now)) for car_park in car_parks(city)]
    return render_entities(entities, ENTITY_TYPE, CONTEXT, request)


def _entity(reading: ParkingReading) -> Entity:
    car_park = reading.car_park
    full = reading.available <= max(2, car_park.total_spots // 100)
    return {
        "id": f"urn:ngsi-ld:OffStreetParking:danang:{car_park.id}",
        "type": ENTITY_TYPE,
        "name": prop(car_park.name),
        "category": prop(CATEGORIES[car_park.kind]),
        "allowedVehicleType": prop(["car", "motorcycle"]),
        "address": address(car_park.name.removeprefix("Bãi đỗ xe "), district_of(car_park.lon, car_park.lat) or ""),
        "location": point(car_park.lon, car_park.lat),
        "totalSpotNumber": prop(car_park.total_spots),
        "availableSpotNumber": prop(reading.available, observed_at=reading.observed_at),
        "occupiedSpotNumber": prop(reading.occupied, observed_at=reading.observed_at),
        "occupancy": prop(reading.occupancy, observed_at=reading.observed_at),
        "status": prop(["full"] if full else ["open"]),
        "occupancyModified": when(reading.observed_at),
        "dateModified": when(reading.observed_at),
    }
