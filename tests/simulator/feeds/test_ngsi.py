"""The simulated NGSI-LD brokers: entity shape per Smart Data Model, and the query API Orion-LD answers."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pytest

from simulator.city import SimCity
from simulator.feeds import FEEDS, BadFeedRequest, FeedRequest
from simulator.feeds.ngsi import CORE_CONTEXT, key_values

from ..conftest import MORNING

BROKERS = {
    "/transport/ngsi-ld/v1/entities": "TrafficFlowObserved",
    "/parking/ngsi-ld/v1/entities": "OffStreetParking",
    "/water-quality/ngsi-ld/v1/entities": "WaterQualityObserved",
    "/sanitation/ngsi-ld/v1/entities": "WasteContainer",
    "/streetlights/ngsi-ld/v1/entities": "Streetlight",
}


def get(city: SimCity, path: str, **query: str) -> list[dict]:
    body, content_type = FEEDS[path](city, MORNING + timedelta(minutes=30), FeedRequest(query))
    assert content_type == "application/ld+json"
    return json.loads(body)


@pytest.mark.parametrize(("path", "entity_type"), BROKERS.items())
def test_entities_are_normalized_smart_data_models(city: SimCity, path: str, entity_type: str) -> None:
    entities = get(city, path, type=entity_type, limit="1000")
    assert entities
    for entity in entities:
        assert entity["id"].startswith(f"urn:ngsi-ld:{entity_type}:danang:")
        assert entity["type"] == entity_type
        assert entity["@context"][-1] == CORE_CONTEXT
        assert entity["location"]["type"] == "GeoProperty"
        assert entity["location"]["value"]["type"] == "Point"
        for name, attribute in entity.items():
            if name not in ("id", "type", "@context"):
                assert attribute["type"] in ("Property", "GeoProperty", "Relationship"), name
    assert len({e["id"] for e in entities}) == len(entities)


@pytest.mark.parametrize(("path", "entity_type"), BROKERS.items())
def test_key_values_drop_the_wrappers(city: SimCity, path: str, entity_type: str) -> None:
    normalized = get(city, path, type=entity_type, limit="1000")
    simplified = get(city, path, type=entity_type, limit="1000", options="keyValues")
    assert simplified == [key_values(entity) for entity in normalized]
    assert all(isinstance(e["location"], dict) and e["location"]["type"] == "Point" for e in simplified)
    assert all(not isinstance(v, dict) or "@value" not in v for e in simplified for v in e.values())


def test_limit_and_offset_page_through_the_entities(city: SimCity) -> None:
    path = "/streetlights/ngsi-ld/v1/entities"
    everything = get(city, path, limit="1000")
    assert len(everything) > 20
    assert len(get(city, path)) == 20  # Orion-LD's default page
    pages = [e["id"] for offset in range(0, len(everything), 25) for e in get(city, path, limit="25", offset=str(offset))]
    assert pages == [e["id"] for e in everything]


def test_another_type_is_an_empty_answer(city: SimCity) -> None:
    assert get(city, "/parking/ngsi-ld/v1/entities", type="TrafficFlowObserved") == []


@pytest.mark.parametrize("query", [{"limit": "0"}, {"limit": "5000"}, {"limit": "ten"}, {"options": "concise,x"}])
def test_bad_queries_are_problem_details(city: SimCity, query: dict[str, str]) -> None:
    with pytest.raises(BadFeedRequest) as refused:
        FEEDS["/parking/ngsi-ld/v1/entities"](city, MORNING, FeedRequest(query))
    problem = json.loads(refused.value.body)
    assert problem["type"].endswith("/BadRequestData") and problem["detail"]


SDM_SAMPLES = Path(__file__).parents[2] / "fixtures" / "fiware-sdm"
# what each model's readings are, as the published examples write them
READINGS = {
    "TrafficFlowObserved": {"intensity", "averageVehicleSpeed", "occupancy", "dateObserved"},
    "OffStreetParking": {"totalSpotNumber", "availableSpotNumber", "occupiedSpotNumber", "occupancy"},
    "WaterQualityObserved": {"pH", "temperature", "conductivity", "dateObserved"},
    "WasteContainer": {"location"},
    "Streetlight": {"powerState", "status", "powerConsumption", "circuit", "areaServed"},
}


@pytest.mark.parametrize(("path", "entity_type"), BROKERS.items())
def test_entities_match_the_published_smart_data_model_example(city: SimCity, path: str, entity_type: str) -> None:
    sample = json.loads((SDM_SAMPLES / entity_type / "example-normalized.jsonld").read_text(encoding="utf-8"))
    for entity in get(city, path, limit="1000"):
        assert sample["@context"][0] in entity["@context"]
        assert READINGS[entity_type] <= set(entity)
        for name in set(entity) & set(sample) - {"id", "type", "@context"}:
            # the same attribute in the same NGSI-LD form: Property, GeoProperty or Relationship
            assert entity[name]["type"] == sample[name]["type"], name
