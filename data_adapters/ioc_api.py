"""Another IOC's open-data API as a feed: its /api/v1/entities as GeoJSON, every `next` page, into entities.

A neighbouring city (or a district's own IOC) publishes what it sees through the same API this project
serves; declaring it is configuration only:

    - name: hoian-air
      reader: ioc-api
      url: https://ioc.hoian.example/api/v1/entities?sector=environment
      auth: {type: api_key, key: {env: HOIAN_IOC_API_KEY}}   # sent as X-API-Key

The API's filters (type, sector, agency, feed, district) go in the URL. Pages are followed by the API's
`Link: <...>; rel="next"` header. An entity keeps its type, name, geometry and attributes; it is placed in
this city's areas again, and its id becomes urn:ioc:<this city>:<this feed>:<the other IOC's id without
its urn:ioc: prefix>. Numbers become observations as of the entity's `observed_at`.

Mapping (agencies.yaml `mapping:`), all optional:
    entity_type: a type for every entity instead of the one the other IOC gives
    units:       {attribute: unit} for numeric attributes (the entities endpoint carries no units)
    max_pages:   the most pages followed in one poll (default 50)
"""

from __future__ import annotations

from typing import Any

import httpx

from data_adapters.contract import (
    DEFAULT_MAX_PAGES,
    Batch,
    Entity,
    FeedContext,
    Observation,
    Paging,
    PayloadError,
    Reader,
    fetch_pages,
    is_personal_key,
    load_json,
    parse_time,
    parsed,
    read_records,
    register,
    snake_case,
    utcnow,
)
from data_adapters.geojson import read_geometry

MAPPING_KEYS = frozenset({"entity_type", "units", "max_pages"})
PAGING = Paging(members="features", link_header=True, kept=("type",), kind="IOC open-data GeoJSON page")
URN_PREFIX = "urn:ioc:"


@register
class IocApiReader(Reader):
    """Reads an IOC's /api/v1/entities (this project's open-data API) into entities and observations."""

    id = "ioc-api"

    def check_mapping(self, mapping: dict[str, Any]) -> None:
        unknown = sorted(set(mapping) - MAPPING_KEYS)
        if unknown:
            raise ValueError(f"unknown key(s) {', '.join(unknown)} (known: {', '.join(sorted(MAPPING_KEYS))})")
        entity_type = mapping.get("entity_type")
        if entity_type is not None and (not isinstance(entity_type, str) or not entity_type.strip()):
            raise ValueError(f"entity_type: expected a type name, got {entity_type!r}")
        units = mapping.get("units", {})
        if not isinstance(units, dict) or not all(isinstance(u, str) for u in units.values()):
            raise ValueError(f"units: expected {{attribute: unit}}, got {units!r}")
        pages = mapping.get("max_pages", DEFAULT_MAX_PAGES)
        if isinstance(pages, bool) or not isinstance(pages, int) or pages < 1:
            raise ValueError(f"max_pages: expected a whole number of at least 1, got {pages!r}")

    def fetch(self, client: httpx.Client, feed: FeedContext) -> bytes:
        # GeoJSON is asked for explicitly: it is the form that carries geometry as geometry
        url = str(httpx.URL(feed.url).copy_set_param("format", "geojson"))
        max_pages = int(feed.mapping.get("max_pages", DEFAULT_MAX_PAGES))
        return fetch_pages(client, url, PAGING, load=load_json, max_pages=max_pages, feed_name=feed.name)

    def parse(self, payload: bytes, feed: FeedContext) -> Batch:
        document = parsed(payload, load_json)
        if not isinstance(document, dict) or not isinstance(document.get("features"), list):
            raise PayloadError("expected a GeoJSON FeatureCollection of an IOC's /api/v1/entities")
        batch = Batch()

        def read(where: str, feature: Any) -> None:
            entity, observations = _entity(feature, feed, where)
            batch.entities.append(entity)
            batch.observations.extend(observations)

        # one bad feature is counted on the batch and the others are read
        return read_records(batch, ((f"features[{i}]", f) for i, f in enumerate(document["features"])), read)


def _entity(feature: Any, feed: FeedContext, where: str) -> tuple[Entity, list[Observation]]:
    if not isinstance(feature, dict) or feature.get("type") != "Feature":
        raise PayloadError(f"{where}: expected a GeoJSON Feature")
    remote_id = feature.get("id")
    if not isinstance(remote_id, str) or not remote_id.strip():
        raise PayloadError(f"{where}.id: expected the other IOC's entity id, got {remote_id!r}")
    properties = feature.get("properties") or {}
    if not isinstance(properties, dict):
        raise PayloadError(f"{where}.properties: expected an object")
    attributes = properties.get("attributes") or {}
    if not isinstance(attributes, dict):
        raise PayloadError(f"{where}.properties.attributes: expected an object")
    location, geometry = read_geometry(feature.get("geometry"), field_name=f"{where}.geometry")
    observed_at = (parse_time(properties["observed_at"], field_name=f"{where}.properties.observed_at")
                   if properties.get("observed_at") else None)
    local = remote_id.removeprefix(URN_PREFIX)
    name = properties.get("name")
    entity = Entity(
        id=feed.urn(local),
        type=str(feed.mapping.get("entity_type") or properties.get("type") or "Entity"),
        agency=feed.agency,
        sector=feed.sector,
        name=name if isinstance(name, str) else "",
        location=location,
        geometry=geometry,
        observed_at=observed_at,
        feed=feed.name,
        attributes={"source_id": remote_id},
    )
    remote_feed = properties.get("feed")
    if isinstance(remote_feed, str) and remote_feed:
        entity.attributes["source_feed"] = remote_feed
    units: dict[str, str] = feed.mapping.get("units") or {}
    moment = observed_at or utcnow()
    observations: list[Observation] = []
    for key, value in attributes.items():
        # the other IOC leaves out fields named as personal; one whose name only contains such a word
        # ("reporter_phone") is dropped here before anything reads it, as the GeoJSON reader does
        if not isinstance(key, str) or is_personal_key(key):
            continue
        metric = snake_case(key)
        if not metric or metric == "source_id":
            continue
        if isinstance(value, int | float) and not isinstance(value, bool):
            entity.attributes[metric] = float(value)
            observations.append(Observation(entity.id, metric, float(value), units.get(key, ""), moment))
        elif isinstance(value, str | bool):
            entity.attributes.setdefault(metric, value)
    return entity, observations
