"""Sharing agreements enforced on every route a peer IOC can call, over a real redis-server: a sweep of the
/api/v1 and /odata/v4 routes with a peer's key (outside its agreement 403), aggregates and ward granularity
never answer with entity rows, KPIs outside the agreement left out, a revocation or an expiry refuses at once,
and every grant, revocation and refusal in the audit trail."""

from __future__ import annotations

import json
from datetime import timedelta

import dash
import pytest
from flask.testing import FlaskClient

from ioc import api
from ioc.audit import AuditQuery, AuditTrail
from ioc.config import Settings
from ioc.model import Alert, Batch, Entity, Event, Observation, Severity, utcnow
from ioc.sharing import DATASETS, AgreementBook, SharingError
from ioc.store import Store
from layouts.app import create_app
from tests.layouts.dom import add_user

pytestmark = pytest.mark.integration
DISTRICTS = ["Hải Châu", "Sơn Trà", "Thanh Khê"]
# every route a peer can call, with the dataset it serves (None: a description, no data)
API_ROUTES = {f"{api.PREFIX}{path}": dataset for path, dataset in (
    ("/entities", "entities"), ("/observations/latest", "observations"), ("/kpis", "kpis"),
    ("/alerts", "alerts"), ("/events", "events"), ("/feeds", "feeds"),
    ("/history?from=2026-01-01T00:00:00Z&to=2026-01-02T00:00:00Z", "history"))}
ODATA_ROUTES = {"/odata/v4/Entities": "entities", "/odata/v4/Observations": "observations",
                "/odata/v4/Kpis": "kpis", "/odata/v4/KpiCatalogue": "kpis", "/odata/v4/Alerts": "alerts",
                "/odata/v4/Entities/$count": "entities", "/odata/v4/Alerts/$count": "alerts"}
DESCRIPTIONS = ("/api/v1/openapi.json", "/odata/v4/", "/odata/v4/$metadata")


@pytest.fixture
def app(store: Store, settings: Settings) -> dash.Dash:
    assert set(API_ROUTES.values()) | set(ODATA_ROUTES.values()) == set(DATASETS)  # the sweep covers them all
    assert {path.split("?")[0].removeprefix(api.PREFIX) for path in API_ROUTES} == set(api.ROUTES)
    now = utcnow()
    feed = settings.feeds[0]
    entities = [
        Entity(id=f"urn:ioc:danang:{feed.name}:st-{n}", type="AirQualityObserved", agency=feed.agency,
               sector=feed.sector, name=f"Trạm {n}", location=(108.2 + n / 100, 16.05), district=DISTRICTS[n % 3],
               attributes={"pm25": 20.0 + n}, observed_at=now, feed=feed.name)
        for n in range(6)
    ]
    observations = [Observation(e.id, "pm25", e.attributes["pm25"], "µg/m³", now) for e in entities]
    event = Event(id="urn:ioc:danang:cap:ev-1", type="typhoon", agency="danang-civil-defence", sector="emergency",
                  headline="Bão số 5", severity=Severity.SEVERE, expires=now + timedelta(hours=3),
                  location=(108.22, 16.07), district="Hải Châu")
    store.write_batch(feed.name, Batch(entities=entities, observations=observations, events=[event]), now=now)
    store.raise_alert(Alert(id="", rule_id="pm25-high", entity_id=entities[0].id, title="PM2.5 cao",
                            severity=Severity.SEVERE, sector="environment", agency=feed.agency,
                            district="Hải Châu", location=(108.2, 16.05)))
    app = create_app(store, settings, redis_kind="server", cookie_secure=False)
    add_user(app, "admin-1", "admin")
    return app


def book(app: dash.Dash) -> AgreementBook:
    security = app.server.extensions["ioc_security"]
    return AgreementBook(security.users.redis, security.users.keys, security.users)


def entity_ids(app: dash.Dash) -> list[str]:
    store = app.server.extensions["ioc"].store
    return [e["id"] for f in app.server.extensions["ioc"].settings.feeds[:1] for e in store.entities_of_feed(f.name)]


def get(client: FlaskClient, path: str, key: str) -> tuple[int, str]:
    response = client.get(path, headers={"X-API-Key": key})
    return response.status_code, response.get_data(as_text=True)


def test_every_route_outside_the_agreement_is_refused(app: dash.Dash) -> None:
    client = app.server.test_client()
    for allowed in DATASETS:
        key = book(app).grant("hue", name="Huế", datasets=[allowed], granularity="city", actor="admin-1")
        for path, dataset in {**API_ROUTES, **ODATA_ROUTES}.items():
            status, body = get(client, path, key)
            if dataset == allowed:
                assert status in (200, 400), (allowed, path, body)  # 400: history needs an archive folder's dates
            else:
                assert status == 403, (allowed, path, status)
                assert "agreement" in body
        for path in DESCRIPTIONS:
            assert get(client, path, key)[0] == 200


def test_aggregates_never_answer_with_entity_rows(app: dash.Dash) -> None:
    client = app.server.test_client()
    key = book(app).grant("hue", name="Huế", datasets=list(DATASETS), granularity="aggregates", actor="admin-1")
    ids = entity_ids(app)
    assert len(ids) == 6
    for path, dataset in {**API_ROUTES, **ODATA_ROUTES}.items():
        status, body = get(client, path, key)
        for entity_id in ids:
            assert entity_id not in body, path
        assert "Trạm" not in body and "urn:ioc:danang:cap:ev-1" not in body, path
        if dataset == "history":
            assert status == 403  # archived rows are per entity: city granularity only
        else:
            assert status == 200, (path, body)
    rows = json.loads(get(client, "/api/v1/observations/latest", key)[1])["items"]
    assert rows == [{"feed": app.server.extensions["ioc"].settings.feeds[0].name, "metric": "pm25", "unit": "µg/m³",
                     "count": 6, "mean": 22.5, "min": 20.0, "max": 25.0}]
    alerts = json.loads(get(client, "/odata/v4/Alerts", key)[1])["value"]
    assert alerts == [{"severity": "severe", "sector": "environment", "count": 1}]
    # one entity by key is an entity row
    assert get(client, f"/odata/v4/Entities('{ids[0]}')", key)[0] == 403
    assert get(client, "/odata/v4/Entities/$count", key)[1] == "6"


def test_ward_granularity_rolls_up_by_area(app: dash.Dash) -> None:
    client = app.server.test_client()
    key = book(app).grant("hue", name="Huế", datasets=["entities", "observations", "alerts"], granularity="ward",
                          actor="admin-1")
    status, body = get(client, "/api/v1/observations/latest", key)
    assert status == 200
    rows = json.loads(body)["items"]
    assert {row["area"]: row["count"] for row in rows} == {"Hải Châu": 2, "Sơn Trà": 2, "Thanh Khê": 2}
    by_area = {row["area"]: row for row in rows}
    assert by_area["Hải Châu"]["mean"] == 21.5  # stations 0 and 3
    # placed at the area's own centre, never at a station
    assert all(row["lon"] is not None and (row["lon"], row["lat"]) != (108.2, 16.05) for row in rows)
    for entity_id in entity_ids(app):
        assert entity_id not in body
        assert entity_id not in get(client, "/api/v1/alerts", key)[1]
        assert entity_id not in get(client, "/odata/v4/Entities", key)[1]


def test_city_granularity_serves_the_open_data_as_published(app: dash.Dash) -> None:
    client = app.server.test_client()
    key = book(app).grant("hue", name="Huế", datasets=["entities"], granularity="city", actor="admin-1")
    status, body = get(client, "/api/v1/entities", key)
    assert status == 200 and len(json.loads(body)["items"]) == 6


def test_kpis_outside_the_agreement_are_left_out(app: dash.Dash) -> None:
    client = app.server.test_client()
    settings = app.server.extensions["ioc"].settings
    allowed = settings.feeds[0].name
    key = book(app).grant("hue", name="Huế", datasets=["kpis"], granularity="aggregates", kpis=[allowed],
                          actor="admin-1")
    body = json.loads(get(client, "/api/v1/kpis", key)[1])
    assert [row["id"] for row in body["items"]] == [f"feed:{allowed}"]
    assert body["catalogue"] == []
    odata = json.loads(get(client, "/odata/v4/Kpis", key)[1])["value"]
    assert [row["id"] for row in odata] == [f"feed:{allowed}"]
    assert get(client, f"/odata/v4/Kpis('feed:{settings.feeds[1].name}')", key)[0] == 403
    assert get(client, f"/odata/v4/Kpis('feed:{allowed}')", key)[0] == 200
    # another caller's key reads every KPI: the gate is for peers only
    other = app.server.extensions["ioc_security"].users.issue_api_key("bus-app", actor="admin-1")
    assert len(json.loads(get(client, "/api/v1/kpis", other)[1])["items"]) == len(settings.feeds)


def test_a_revocation_refuses_at_once_and_everything_is_audited(app: dash.Dash) -> None:
    client = app.server.test_client()
    agreements = book(app)
    key = agreements.grant("hue", name="Huế", datasets=["kpis", "alerts"], granularity="ward", actor="admin-1")
    assert get(client, "/api/v1/kpis", key)[0] == 200
    assert get(client, "/api/v1/entities", key)[0] == 403
    assert get(client, "/api/v1/entities", key)[0] == 403  # audited once a minute, not once a request
    assert agreements.revoke("hue", actor="admin-1")
    for path in [*API_ROUTES, *ODATA_ROUTES]:
        assert get(client, path, key)[0] in (401, 403), path
    assert not agreements.revoke("hue", actor="admin-1")
    trail = AuditTrail(agreements.redis, agreements.keys)
    actions = [(entry.action, entry.object) for entry in trail.search(AuditQuery())]
    assert ("sharing.granted", "peer:hue") in actions
    assert ("sharing.revoked", "peer:hue") in actions
    assert actions.count(("sharing.refused", "/api/v1/entities")) == 1
    assert ("apikey.revoked", "apikey:peer.hue") in actions


def test_an_expired_agreement_refuses(app: dash.Dash) -> None:
    client = app.server.test_client()
    key = book(app).grant("hue", name="Huế", datasets=["kpis"], granularity="city", days=1, actor="admin-1",
                          now=utcnow() - timedelta(days=2))
    assert get(client, "/api/v1/kpis", key)[0] == 403
    assert book(app).get("hue").in_force() is False


@pytest.mark.parametrize(("peer", "datasets", "granularity", "days", "says"), [
    ("Hue!", ["kpis"], "city", None, "peer id"), ("hue", ["weather"], "city", None, "datasets"),
    ("hue", [], "city", None, "datasets"), ("hue", ["kpis"], "street", None, "granularity"),
    ("hue", ["kpis"], "city", 0.0, "days")])
def test_a_bad_grant_says_what_is_wrong_and_changes_nothing(app: dash.Dash, peer: str, datasets: list[str],
                                                            granularity: str, days: float | None, says: str) -> None:
    agreements = book(app)
    with pytest.raises(SharingError, match=says):
        agreements.grant(peer, name="x", datasets=datasets, granularity=granularity, days=days, actor="admin-1")
    assert agreements.all() == []
