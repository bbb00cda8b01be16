"""The open-data API: keys required, JSON and GeoJSON, filters, no personal fields, no staff names, no raw
payloads, rate limits per key, and an OpenAPI 3 description of every route."""

from __future__ import annotations

import json
from datetime import timedelta
from urllib.parse import urlencode

import dash
import pytest
from flask.testing import FlaskClient

from ioc import api
from ioc.config import Settings
from ioc.model import Alert, Batch, Entity, Event, Observation, Severity, utcnow
from ioc.store import Store
from layouts.app import create_app
from tests.layouts.dom import add_user, client_sign_in


@pytest.fixture
def app(fake_store: Store, settings: Settings) -> dash.Dash:
    now = utcnow()
    feed = settings.feeds[0]
    entities = [
        Entity(id=f"urn:ioc:danang:{feed.name}:{n}", type="AirQualityObserved", agency=feed.agency,
               sector=feed.sector, name=f"Trạm {n}", location=(108.2 + n / 100, 16.05), district=district,
               attributes={"pm25": 20.0 + n, "status": "ok"}, observed_at=now, feed=feed.name)
        for n, district in enumerate(["Hải Châu", "Hải Châu", "Sơn Trà"])
    ]
    observations = [Observation(entity.id, "pm25", entity.attributes["pm25"], "µg/m³", now) for entity in entities]
    event = Event(id="urn:ioc:danang:cap:1", type="typhoon", agency="danang-civil-defence", sector="emergency",
                  headline="Bão số 5", severity=Severity.SEVERE, expires=now + timedelta(hours=3),
                  location=(108.22, 16.07))
    fake_store.write_batch(feed.name, Batch(entities=entities, observations=observations, events=[event]), now=now)
    # a personal field that slipped past a reader straight into Redis: the API must still not return it
    records = fake_store.keys.entities_of_feed(feed.name)
    record = json.loads(fake_store.redis.hget(records, entities[0].id))
    record["attributes"] = {"pm25": 20.0, "phone_number": "0905123456", "reporter": "Lan"}
    fake_store.redis.hset(records, entities[0].id, json.dumps(record))
    alert, _ = fake_store.raise_alert(Alert(id="", rule_id="pm25-high", entity_id=entities[0].id, title="PM2.5 cao",
                                            severity=Severity.SEVERE, sector="environment", agency=feed.agency,
                                            district="Hải Châu", location=(108.2, 16.05)))
    fake_store.alerts.assign(alert.id, to="Đội môi trường", actor="operator-lan")
    fake_store.record_failure(feed.name, error="bad", interval=60, stale_factor=3, payload=b'{"secret": "raw"}')
    app = create_app(fake_store, settings, redis_kind="in-process", cookie_secure=False)
    add_user(app, "admin-1", "admin")
    return app


@pytest.fixture
def key(app: dash.Dash) -> str:
    return app.server.extensions["ioc_security"].users.issue_api_key("bus-app", actor="admin-1")


def get(client: FlaskClient, path: str, key: str, **headers: str) -> object:
    return client.get(path, headers={"X-API-Key": key, **headers})


def test_every_data_route_needs_a_valid_key(app: dash.Dash) -> None:
    client = app.server.test_client()
    for path in api.ROUTES:
        assert client.get(api.PREFIX + path).status_code == 401
        assert client.get(api.PREFIX + path, headers={"X-API-Key": "ioc_not-a-key"}).status_code == 401


def test_a_revoked_key_stops_working(app: dash.Dash, key: str) -> None:
    client = app.server.test_client()
    assert get(client, "/api/v1/entities", key).status_code == 200  # type: ignore[attr-defined]
    app.server.extensions["ioc_security"].users.revoke_api_key("bus-app", actor="admin-1")
    assert get(client, "/api/v1/entities", key).status_code == 401  # type: ignore[attr-defined]


def test_a_signed_in_user_may_read_it_too(app: dash.Dash) -> None:
    client = app.server.test_client()
    client_sign_in(client, "admin-1")
    assert client.get("/api/v1/kpis").status_code == 200


def test_entities_by_type_and_district(app: dash.Dash, key: str) -> None:
    client = app.server.test_client()
    body = get(client, "/api/v1/entities?type=AirQualityObserved&district=Hải Châu", key).get_json()  # type: ignore[attr-defined]
    assert body["count"] == 2 and {item["district"] for item in body["items"]} == {"Hải Châu"}
    assert get(client, "/api/v1/entities?type=Bus", key).get_json()["count"] == 0  # type: ignore[attr-defined]


def test_geojson_by_parameter_or_accept_header(app: dash.Dash, key: str) -> None:
    client = app.server.test_client()
    for response in (get(client, "/api/v1/entities?format=geojson", key),
                     get(client, "/api/v1/entities", key, Accept="application/geo+json")):
        assert response.mimetype == "application/geo+json"  # type: ignore[attr-defined]
        collection = response.get_json()  # type: ignore[attr-defined]
        assert collection["type"] == "FeatureCollection" and len(collection["features"]) == 3
        point = collection["features"][0]
        assert point["geometry"]["type"] == "Point" and len(point["geometry"]["coordinates"]) == 2
        assert "name" in point["properties"]


def test_no_personal_field_and_no_staff_name_is_ever_returned(app: dash.Dash, key: str) -> None:
    client = app.server.test_client()
    everything = "".join(get(client, api.PREFIX + path, key).get_data(as_text=True)  # type: ignore[attr-defined]
                         for path in api.ROUTES)
    assert "0905123456" not in everything and "phone_number" not in everything and '"reporter"' not in everything
    assert "operator-lan" not in everything and "Đội môi trường" not in everything
    assert '"secret"' not in everything and "raw" not in everything  # refused payloads are not open data
    assert "PM2.5 cao" in everything and "Bão số 5" in everything


def test_latest_observations_carry_value_unit_and_time(app: dash.Dash, key: str) -> None:
    body = get(app.server.test_client(), "/api/v1/observations/latest?district=Sơn Trà", key).get_json()  # type: ignore[attr-defined]
    assert body["count"] == 1
    row = body["items"][0]
    assert (row["metric"], row["value"], row["unit"]) == ("pm25", 22.0, "µg/m³") and row["time"]


def test_kpis_alerts_and_events(app: dash.Dash, key: str, settings: Settings) -> None:
    client = app.server.test_client()
    kpis = get(client, "/api/v1/kpis", key).get_json()  # type: ignore[attr-defined]
    assert {row["feed"] for row in kpis["items"]} == {feed.name for feed in settings.feeds if feed.enabled}
    alerts = get(client, "/api/v1/alerts", key).get_json()  # type: ignore[attr-defined]
    assert alerts["items"][0]["state"] == "assigned" and "assignee" not in alerts["items"][0]
    events = get(client, "/api/v1/events?format=geojson", key).get_json()  # type: ignore[attr-defined]
    assert events["features"][0]["properties"]["headline"] == "Bão số 5"


def test_each_key_is_rate_limited(app: dash.Dash, key: str) -> None:
    limit = app.server.extensions["ioc_roles"].api.requests_per_minute
    client = app.server.test_client()
    statuses = [get(client, "/api/v1/kpis", key).status_code for _ in range(limit + 1)]  # type: ignore[attr-defined]
    assert statuses[:-1] == [200] * limit
    refused = get(client, "/api/v1/kpis", key)
    assert refused.status_code == 429 and int(refused.headers["Retry-After"]) > 0  # type: ignore[attr-defined]
    other = app.server.extensions["ioc_security"].users.issue_api_key("map-app", actor="admin-1")
    assert get(client, "/api/v1/kpis", other).status_code == 200  # type: ignore[attr-defined]


def test_openapi_describes_every_route_and_the_key(app: dash.Dash) -> None:
    document = app.server.test_client().get("/api/v1/openapi.json").get_json()
    assert document["openapi"].startswith("3.")
    assert set(document["paths"]) == set(api.ROUTES)
    assert document["components"]["securitySchemes"]["apiKey"] == {"type": "apiKey", "in": "header",
                                                                   "name": "X-API-Key"}
    served = {rule.rule.removeprefix(api.PREFIX) for rule in app.server.url_map.iter_rules()
              if rule.rule.startswith(api.PREFIX)}
    assert served == set(api.ROUTES) | {"/openapi.json"}


def test_the_api_only_reads(app: dash.Dash, key: str) -> None:
    client = app.server.test_client()
    for path in api.ROUTES:
        for method in ("POST", "PUT", "DELETE", "PATCH"):
            assert client.open(api.PREFIX + path, method=method, headers={"X-API-Key": key}).status_code == 405


def walk(client: FlaskClient, path: str, key: str) -> tuple[list[dict[str, object]], int]:
    """Every item of a collection, following its `next` links from `path`; returns (items, pages)."""
    items: list[dict[str, object]] = []
    pages = 0
    next_path: str | None = path
    while next_path:
        response = get(client, next_path, key)
        assert response.status_code == 200, response.get_data(as_text=True)  # type: ignore[attr-defined]
        body = response.get_json()  # type: ignore[attr-defined]
        items.extend(body["items"])
        pages += 1
        next_path = body["next"]
        assert pages < 100, "the next links go round in circles"
    return items, pages


def test_paging_reaches_every_entity_past_the_largest_page(app: dash.Dash, key: str, fake_store: Store,
                                                          settings: Settings) -> None:
    feed = settings.feeds[0]
    now = utcnow()
    many = [Entity(id=f"urn:ioc:danang:{feed.name}:bulk-{n:05d}", type="AirQualityObserved", agency=feed.agency,
                   sector=feed.sector, name=f"Trạm {n}", location=(108.2, 16.05), district="Hải Châu",
                   attributes={"pm25": 1.0}, observed_at=now, feed=feed.name)
            for n in range(api.MAX_LIMIT + 50)]
    fake_store.write_batch(feed.name, Batch(entities=many), now=now, replace=False)
    stored = {entity["id"] for entity in fake_store.entities_of_feed(feed.name)}
    assert len(stored) > api.MAX_LIMIT

    items, pages = walk(app.server.test_client(), f"/api/v1/entities?limit={api.MAX_LIMIT}", key)
    ids = [str(item["id"]) for item in items]
    assert pages == 2 and len(ids) == len(set(ids)) and set(ids) == stored

    # GeoJSON pages carry the same link, as a Link header and as OGC API's `links`
    first = get(app.server.test_client(), f"/api/v1/entities?limit={api.MAX_LIMIT}&format=geojson", key)
    collection = first.get_json()  # type: ignore[attr-defined]
    assert len(collection["features"]) == api.MAX_LIMIT
    link = collection["links"][0]
    assert link["rel"] == "next" and f"<{link['href']}>; rel=\"next\"" == first.headers["Link"]  # type: ignore[attr-defined]
    rest = get(app.server.test_client(), link["href"], key).get_json()  # type: ignore[attr-defined]
    assert len(collection["features"]) + len(rest["features"]) == len(stored) and rest["links"] == []


@pytest.mark.parametrize("path", ["/api/v1/entities", "/api/v1/observations/latest", "/api/v1/alerts",
                                  "/api/v1/events"])
def test_every_collection_pages_one_item_at_a_time_to_the_same_items(app: dash.Dash, key: str, path: str) -> None:
    client = app.server.test_client()
    whole = get(client, path, key).get_json()  # type: ignore[attr-defined]
    assert whole["next"] is None and whole["count"] >= 1
    items, pages = walk(client, f"{path}?limit=1", key)
    assert items == whole["items"] and (pages > 1 or len(items) == 1)


def test_a_cursor_the_api_did_not_give_is_refused(app: dash.Dash, key: str) -> None:
    client = app.server.test_client()
    for cursor in ("not-a-cursor", "e30", "W10"):
        response = get(client, f"/api/v1/entities?cursor={cursor}", key)
        assert response.status_code == 400 and "cursor" in response.get_json()["error"]  # type: ignore[attr-defined]


def test_history_pages_through_the_archive_without_staff_names(
        app: dash.Dash, key: str, fake_store: Store, settings: Settings, tmp_path: object,
        monkeypatch: pytest.MonkeyPatch) -> None:
    from ioc.archive import Archiver

    monkeypatch.setenv("IOC_ARCHIVE_DIR", str(tmp_path))
    Archiver(fake_store.redis, fake_store.keys, tmp_path).archive_once()  # type: ignore[arg-type]
    client = app.server.test_client()
    now = utcnow()
    period = {"from": (now - timedelta(hours=1)).isoformat(), "to": (now + timedelta(hours=1)).isoformat()}
    first = get(client, "/api/v1/history?" + urlencode({**period, "feed": settings.feeds[0].name, "limit": 2}),
                key).get_json()  # type: ignore[attr-defined]
    assert first["count"] == 2 and first["next"]
    rest = get(client, first["next"], key).get_json()  # type: ignore[attr-defined]
    assert rest["count"] == 1 and rest["next"] is None
    assert sorted(row["value"] for row in first["items"] + rest["items"]) == [20.0, 21.0, 22.0]
    alerts = get(client, "/api/v1/history?" + urlencode({**period, "kind": "alerts"}), key).get_json()  # type: ignore[attr-defined]
    assert [row["action"] for row in alerts["items"]] == ["raised", "assigned"]
    assert "operator-lan" not in json.dumps(alerts) and "actor" not in alerts["items"][0]
    wrong = get(client, "/api/v1/history?" + urlencode({"from": "soon", "to": "later"}), key)
    assert wrong.status_code == 400  # type: ignore[attr-defined]
