"""The OData service read by a real OData v4 client (python-odata) from the app on a real port, over a real
redis-server: $metadata reflected into entity classes, $filter/$orderby/$top built by the client, pages
followed by @odata.nextLink; and the same keys, rate budget and privacy as /api/v1."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import dash
import pytest
import requests
from odata import ODataService
from odata.exceptions import ODataError
from werkzeug.serving import make_server

from ioc.config import Settings
from ioc.model import Alert, Batch, Entity, Observation, Severity, utcnow
from ioc.odata.sets import BY_NAME
from ioc.privacy import is_personal_field
from ioc.store import Store
from layouts.app import create_app
from tests.layouts.dom import add_user

pytestmark = pytest.mark.integration
DISTRICTS = ["Hải Châu", "Sơn Trà", "Thanh Khê", None]
COUNT = 23


@pytest.fixture
def app(store: Store, settings: Settings) -> dash.Dash:
    now = utcnow()
    air, other = settings.feeds[0], settings.feeds[1]
    for feed, offset in ((air, 0), (other, 100)):
        entities = [
            Entity(id=f"urn:ioc:danang:{feed.name}:{n:03d}", type="AirQualityObserved" if feed is air else "Sensor",
                   agency=feed.agency, sector=feed.sector, name=f"Trạm {n}", location=(108.2 + n / 1000, 16.0 + n / 100),
                   district=DISTRICTS[n % 4], attributes={"pm25": float(n + offset), "status": "ok"},
                   observed_at=now - timedelta(minutes=n), feed=feed.name)
            for n in range(COUNT)
        ]
        observations = [Observation(e.id, "pm25", e.attributes["pm25"], "µg/m³", e.observed_at) for e in entities]
        store.write_batch(feed.name, Batch(entities=entities, observations=observations), now=now)
    # a personal field that slipped past a reader straight into Redis: OData must not serve it either
    records = store.keys.entities_of_feed(air.name)
    first = f"urn:ioc:danang:{air.name}:000"
    record = json.loads(store.redis.hget(records, first))
    record["attributes"] = {"pm25": 0.0, "phone_number": "0905123456", "reporter": "Lan"}
    record["email"] = "lan@example.vn"
    store.redis.hset(records, first, json.dumps(record))
    alert, _ = store.raise_alert(Alert(id="", rule_id="pm25-high", entity_id=first, title="PM2.5 cao",
                                       severity=Severity.SEVERE, sector="environment", agency=air.agency,
                                       district="Hải Châu", location=(108.2, 16.05), value=180.0))
    store.alerts.assign(alert.id, to="Đội môi trường", actor="operator-lan")
    app = create_app(store, settings, redis_kind="server", cookie_secure=False)
    add_user(app, "admin-1", "admin")
    return app


@pytest.fixture
def key(app: dash.Dash) -> str:
    return app.server.extensions["ioc_security"].users.issue_api_key("odata-app", actor="admin-1")


@pytest.fixture
def base_url(app: dash.Dash) -> Iterator[str]:
    server = make_server("127.0.0.1", 0, app.server, threaded=True)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}/odata/v4/"
    server.shutdown()
    thread.join(timeout=5)


def session_with(key: str | None, **headers: str) -> requests.Session:
    session = requests.Session()
    if key:
        session.headers["X-API-Key"] = key
    session.headers.update(headers)
    return session


def client(base_url: str, key: str | None, **headers: str) -> tuple[ODataService, requests.Session]:
    session = session_with(key, **headers)
    return ODataService(base_url, session=session, reflect_entities=True, quiet_progress=True), session


def test_the_client_reflects_every_entity_set_and_property_type(base_url: str, key: str) -> None:
    service, _ = client(base_url, key)
    assert set(service.entities) == set(BY_NAME)
    entity = service.entities["Entities"]
    assert type(entity.lat).__name__ == "DecimalProperty"
    assert type(entity.observed_at).__name__ == "DatetimeProperty"
    assert type(service.entities["Alerts"].flapping).__name__ == "BooleanProperty"
    assert type(service.entities["Alerts"].occurrences).__name__ == "IntegerProperty"
    assert entity.id.primary_key


def test_the_client_filters_sorts_and_limits(base_url: str, key: str, settings: Settings) -> None:
    service, _ = client(base_url, key)
    Entities = service.entities["Entities"]  # noqa: N806 (a class the client made)
    air = settings.feeds[0].name
    found = (service.query(Entities).filter(Entities.feed == air).filter(Entities.district == "Sơn Trà")
             .filter(Entities.lat > 16.05).order_by(Entities.lat.desc()).all())
    expected = sorted((n for n in range(COUNT) if n % 4 == 1 and 16.0 + n / 100 > 16.05), reverse=True)
    assert [item.id for item in found] == [f"urn:ioc:danang:{air}:{n:03d}" for n in expected]
    assert {item.name for item in found} == {f"Trạm {n}" for n in expected}
    top = service.query(Entities).filter(Entities.name.startswith("Trạm 1")).order_by(Entities.id.asc()).limit(3).all()
    assert [item.name for item in top] == ["Trạm 1", "Trạm 10", "Trạm 11"]
    assert service.query(Entities).filter(Entities.district == None).count() == 2 * 5  # noqa: E711 (client DSL)


def test_the_client_filters_by_instant_and_number_on_observations(base_url: str, key: str, settings: Settings) -> None:
    service, _ = client(base_url, key)
    Observations = service.entities["Observations"]  # noqa: N806
    cutoff = utcnow() - timedelta(minutes=10, seconds=30)
    rows = (service.query(Observations).filter(Observations.time > cutoff)
            .filter(Observations.value >= 100).order_by(Observations.value.asc()).all())
    assert [float(row.value) for row in rows] == [100.0 + n for n in range(11)]
    assert {row.unit for row in rows} == {"µg/m³"} and all(row.feed == settings.feeds[1].name for row in rows)


def test_the_client_follows_next_links_to_every_entity_once(base_url: str, key: str) -> None:
    service, session = client(base_url, key, Prefer="odata.maxpagesize=4")
    pages: list[str] = []
    session.hooks["response"].append(lambda response, *args, **kwargs: pages.append(response.url))
    Entities = service.entities["Entities"]  # noqa: N806
    ids = [item.id for item in service.query(Entities).order_by(Entities.lat.desc())]
    assert len(ids) == len(set(ids)) == 2 * COUNT
    assert len(pages) == -(-2 * COUNT // 4) and all("%24skiptoken=" in url or "$skiptoken=" in url for url in pages[1:])
    lats = [item.lat for item in service.query(Entities).order_by(Entities.lat.desc())]
    assert lats == sorted(lats, reverse=True)


def test_next_links_keep_the_filter_and_count(base_url: str, key: str) -> None:
    session = session_with(key, Prefer="odata.maxpagesize=5")
    url: str | None = f"{base_url}Entities?$filter=district eq 'Hải Châu'&$count=true&$select=id,district"
    seen: list[dict[str, Any]] = []
    while url:
        body = session.get(url).json()
        assert body["@odata.count"] == 12 and body["@odata.context"].endswith("$metadata#Entities(id,district)")
        seen += body["value"]
        url = body.get("@odata.nextLink")
    assert len(seen) == 12 and {row["district"] for row in seen} == {"Hải Châu"}
    assert all(set(row) == {"id", "district"} for row in seen)


def test_bad_queries_reach_the_client_as_odata_errors(base_url: str, key: str) -> None:
    service, session = client(base_url, key)
    Entities = service.entities["Entities"]  # noqa: N806
    with pytest.raises(ODataError) as refused:
        service.query(Entities).raw({"$filter": "tolower(name) eq 'x'"})
    assert "tolower" in refused.value.message and refused.value.code == "BadRequest"
    response = session.get(f"{base_url}Entities", params={"$expand": "Observations"})
    assert response.status_code == 400 and response.json()["error"]["target"] == "$expand"
    assert response.headers["OData-Version"] == "4.0"
    missing = session.get(f"{base_url}Buses")
    assert missing.status_code == 404 and "Entities" in missing.json()["error"]["message"]


def test_one_entity_by_key(base_url: str, key: str, settings: Settings) -> None:
    session = session_with(key)
    wanted = f"urn:ioc:danang:{settings.feeds[0].name}:007"
    body = session.get(f"{base_url}Entities('{wanted}')").json()
    assert body["id"] == wanted and body["@odata.context"].endswith("$metadata#Entities/$entity")
    assert session.get(f"{base_url}Entities('urn:nothing')").status_code == 404


def test_every_route_needs_a_key_or_a_session(base_url: str, key: str) -> None:
    for path in ("", "$metadata", "Entities", "Entities/$count", "Alerts"):
        response = requests.get(base_url + path)
        assert response.status_code == 401, path
        assert response.json()["error"]["message"] == "an X-API-Key header or a session is needed"
        assert requests.get(base_url + path, headers={"X-API-Key": "ioc_not-a-key"}).status_code == 401
    service, session = client(base_url, key)
    session.headers.pop("X-API-Key")  # the key withdrawn after reflection: the client's query is refused
    with pytest.raises(ODataError) as refused:
        service.query(service.entities["Entities"]).all()
    assert refused.value.status_code == "HTTP 401"


def test_nothing_personal_and_no_staff_name_in_any_set(base_url: str, key: str) -> None:
    session = session_with(key)
    everything = "".join(session.get(f"{base_url}{name}").text for name in BY_NAME)
    everything += session.get(f"{base_url}$metadata").text
    for secret in ("0905123456", "phone_number", "reporter", "lan@example.vn", "email", "operator-lan",
                   "Đội môi trường", "assignee", "assigned_by"):
        assert secret not in everything, secret
    assert "PM2.5 cao" in everything and "Trạm 7" in everything
    assert not [prop.name for entity_set in BY_NAME.values() for prop in entity_set.properties
                if is_personal_field(prop.name)]


def test_odata_and_api_v1_share_one_rate_budget_per_key(app: dash.Dash, key: str) -> None:
    limit = app.server.extensions["ioc_roles"].api.requests_per_minute
    web = app.server.test_client()
    headers = {"X-API-Key": key}
    statuses = [web.get("/api/v1/kpis" if n % 2 else "/odata/v4/Kpis?$top=1", headers=headers).status_code
                for n in range(limit)]
    assert statuses == [200] * limit
    refused = web.get("/odata/v4/Kpis", headers=headers)
    assert refused.status_code == 429 and int(refused.headers["Retry-After"]) > 0
    assert refused.get_json()["error"]["message"] == "too many requests for this key"
    assert web.get("/api/v1/kpis", headers=headers).status_code == 429
    other = app.server.extensions["ioc_security"].users.issue_api_key("other-app", actor="admin-1")
    answered = web.get("/odata/v4/Kpis", headers={"X-API-Key": other})
    assert answered.status_code == 200 and int(answered.headers["X-RateLimit-Remaining"]) == limit - 1
