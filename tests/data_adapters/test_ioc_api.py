"""Another IOC as a feed, IOC to IOC on loopback: a second app serves its open-data API with an API key, and
this one polls it by configuration alone."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import fakeredis
import httpx
import pytest
from werkzeug.serving import make_server

from data_adapters.base import FeedContext, PayloadError, get_reader
from ioc.areas import area_index
from ioc.config import Feed, Settings
from ioc.model import Batch, Entity, Observation, utcnow
from ioc.runner import poll_feed
from ioc.store import Store
from layouts.app import create_app

FIXTURES = Path(__file__).parents[1] / "fixtures"
STATIONS = 5
PHONE = "0905 123 456"


@dataclass
class Peer:
    url: str
    key: str
    feed: str
    seen: list[dict[str, str]]


@pytest.fixture
def peer(settings: Settings) -> Iterator[Peer]:
    """The other IOC: its own store and app with some stations, served in a thread, and a key for this one."""
    store = Store(fakeredis.FakeRedis(server=fakeredis.FakeServer(), decode_responses=True), "danang")
    feed = settings.feeds[0]
    now = utcnow()
    entities = [Entity(id=f"urn:ioc:danang:{feed.name}:st-{n}", type="AirQualityObserved", agency=feed.agency,
                       sector=feed.sector, name=f"Trạm {n}", location=(108.20 + n / 100, 16.06),
                       attributes={"pm25": 20.0 + n, "status": "ok"}, observed_at=now, feed=feed.name)
                for n in range(STATIONS)]
    store.write_batch(feed.name, Batch(entities=entities, observations=[
        Observation(e.id, "pm25", e.attributes["pm25"], "µg/m³", now) for e in entities]), now=now)
    # personal data that slipped into the other IOC's Redis past its own scrub: this IOC must not keep it
    records = store.keys.entities_of_feed(feed.name)
    record = json.loads(store.redis.hget(records, entities[0].id))
    record["name"] = f"Trạm 0, gọi {PHONE}"
    record["attributes"] = {**record["attributes"], "reporter_phone": "0236 3822 123"}
    store.redis.hset(records, entities[0].id, json.dumps(record))

    app = create_app(store, settings, redis_kind="in-process", cookie_secure=False)
    key = app.server.extensions["ioc_security"].users.issue_api_key("danang-neighbour", actor="admin-1")
    seen: list[dict[str, str]] = []

    def recording(environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        seen.append({"path": environ["PATH_INFO"], "query": environ.get("QUERY_STRING", ""),
                     "key": environ.get("HTTP_X_API_KEY", "")})
        return app.server(environ, start_response)

    server = make_server("127.0.0.1", 0, recording, threaded=True)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield Peer(url=f"http://127.0.0.1:{server.server_port}", key=key, feed=feed.name, seen=seen)
    server.shutdown()


def _neighbour_feed(url: str, **overrides: Any) -> Feed:
    fields: dict[str, Any] = dict(
        name="hoian-air", agency="hoian-ioc", agency_name={"vi": "IOC Hội An", "en": "Hoi An IOC"},
        sector="environment", reader="ioc-api", url=url, interval=60, timeout=5.0, retries=0,
        auth={"type": "api_key", "key": {"env": "HOIAN_IOC_API_KEY"}}, mapping={"units": {"pm25": "µg/m³"}})
    fields.update(overrides)
    return Feed(**fields)


def _poll(feed: Feed, store: Store, settings: Settings) -> Any:
    with httpx.Client(timeout=feed.timeout) as http:
        return poll_feed(feed, store=store, http=http, areas=area_index(settings.city), sleep=lambda s: None)


def test_another_iocs_entities_arrive_page_by_page(peer: Peer, fake_store: Store, settings: Settings,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOIAN_IOC_API_KEY", peer.key)
    feed = _neighbour_feed(f"{peer.url}/api/v1/entities?sector=environment&limit=2")

    outcome = _poll(feed, fake_store, settings)

    assert outcome.ok, outcome.error
    assert outcome.records == STATIONS and outcome.observations == STATIONS
    pages = [hit for hit in peer.seen if hit["path"] == "/api/v1/entities"]
    assert len(pages) == 3 and all(hit["key"] == peer.key for hit in pages)
    assert all("format=geojson" in hit["query"] for hit in pages)
    arrived = {e["id"]: e for e in fake_store.entities_of_feed("hoian-air")}
    first = arrived[f"urn:ioc:danang:hoian-air:danang:{peer.feed}:st-0"]
    assert len(arrived) == STATIONS
    assert first["type"] == "AirQualityObserved" and first["sector"] == "environment"
    assert first["agency"] == "hoian-ioc" and first["district"]  # placed in this city's areas again
    assert first["attributes"]["pm25"] == 20.0 and first["attributes"]["status"] == "ok"
    assert first["attributes"]["source_id"] == f"urn:ioc:danang:{peer.feed}:st-0"
    newest = fake_store.recent_observations(first["id"], "pm25", count=1)
    assert newest and float(newest[0]["v"]) == 20.0 and newest[0]["u"] == "µg/m³"


def test_personal_data_from_another_ioc_is_still_scrubbed(peer: Peer, fake_store: Store, settings: Settings,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOIAN_IOC_API_KEY", peer.key)
    served = httpx.get(f"{peer.url}/api/v1/entities?format=geojson", headers={"X-API-Key": peer.key}).text
    assert PHONE in served and "reporter_phone" in served  # the other IOC does send them
    assert _poll(_neighbour_feed(f"{peer.url}/api/v1/entities"), fake_store, settings).ok
    first = fake_store.entity(f"urn:ioc:danang:hoian-air:danang:{peer.feed}:st-0")
    assert first is not None and PHONE not in first["name"] and first["name"].startswith("Trạm 0")
    assert "reporter_phone" not in first["attributes"]
    stored = json.dumps(fake_store.entities_of_feed("hoian-air"), ensure_ascii=False)
    assert PHONE not in stored and "0236 3822 123" not in stored


def test_without_a_valid_key_the_feed_fails_with_the_reason(peer: Peer, fake_store: Store, settings: Settings,
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOIAN_IOC_API_KEY", "ioc_not-the-key")
    outcome = _poll(_neighbour_feed(f"{peer.url}/api/v1/entities"), fake_store, settings)
    assert not outcome.ok and outcome.error == f"HTTP 401 from {peer.url}/api/v1/entities?format=geojson"
    assert fake_store.entities_of_feed("hoian-air") == []


def test_the_mapping_is_checked_at_load() -> None:
    reader = get_reader("ioc-api")
    reader.check_mapping({"entity_type": "NeighbourStation", "units": {"pm25": "µg/m³"}, "max_pages": 5})
    for bad in ({"colour": "red"}, {"units": ["pm25"]}, {"max_pages": 0}, {"entity_type": ""}):
        with pytest.raises(ValueError):
            reader.check_mapping(bad)


def test_a_page_that_is_not_the_api_is_refused() -> None:
    context = FeedContext(name="hoian-air", agency="hoian-ioc", sector="environment")
    with pytest.raises(PayloadError, match="FeatureCollection"):
        get_reader("ioc-api").parse(b'{"count": 0, "items": []}', context)
    with pytest.raises(PayloadError, match=r"features\[0\].id"):
        get_reader("ioc-api").parse(b'{"type": "FeatureCollection", "features": [{"type": "Feature"}]}', context)


def test_one_bad_feature_is_counted_and_the_others_are_read() -> None:
    context = FeedContext(name="hoian-air", agency="hoian-ioc", sector="environment")
    page = json.loads((FIXTURES / "ioc-api" / "hoian-entities.geojson").read_text(encoding="utf-8"))
    page["features"][0]["geometry"]["coordinates"] = [1108.3, 15.9]  # off the globe
    batch = get_reader("ioc-api").parse(json.dumps(page).encode(), context)
    assert [e.id for e in batch.entities] == ["urn:ioc:danang:hoian-air:hoian:air-stations:HA-02"]
    (problem,) = batch.problems
    assert problem.refused and problem.where == "features[0]" and "WGS84" in problem.reason
