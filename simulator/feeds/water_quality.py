"""The environment department's water-quality NGSI-LD broker: a WaterQualityObserved per station, every 15 min.

FIWARE Smart Data Model dataModel.WaterQuality/WaterQualityObserved: temperature (CEL), pH, turbidity
(NTU), O2 (dissolved oxygen, mg/L) and conductivity (S/m), on the Hàn and Cẩm Lệ rivers, the estuaries and
the city's lakes.
"""

from __future__ import annotations

from datetime import datetime

from simulator.city import SimCity
from simulator.feeds.common import FeedRequest
from simulator.feeds.ngsi import Entity, point, prop, render_entities, when
from simulator.water import WaterQualityReading, quality_sites, read_quality_site

ENTITY_TYPE = "WaterQualityObserved"
CONTEXT = "https://raw.githubusercontent.com/smart-data-models/dataModel.WaterQuality/master/context.jsonld"
SOURCE = "Sở Tài nguyên và Môi trường thành phố Đà Nẵng - Trung tâm Quan trắc Tài nguyên và Môi trường"


def render(city: SimCity, now: datetime, request: FeedRequest) -> tuple[bytes, str]:
    entities = [_entity(read_quality_site(city, site, now)) for site in quality_sites(city)]
    return render_entities(entities, ENTITY_TYPE, CONTEXT, request)


def _entity(reading: WaterQualityReading) -> Entity:
    site = reading.site
    return {
        "id": f"urn:ngsi-ld:WaterQualityObserved:danang:{site.id}",
        "type": ENTITY_TYPE,
        "name": prop(f"Trạm quan trắc nước {site.name}"),
        "source": prop(SOURCE),
        "location": point(site.lon, site.lat),
        "dateObserved": when(reading.observed_at),
        "temperature": prop(reading.temperature, unit_code="CEL"),
        "pH": prop(reading.ph),
        "turbidity": prop(reading.turbidity, unit_code="H79"),
        "O2": prop(reading.dissolved_oxygen, unit_code="M1"),
        "conductivity": prop(reading.conductivity, unit_code="D10"),
    }
