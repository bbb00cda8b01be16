"""Two cities in one deployment (IOC_CITIES=danang,hue) on one real Redis, each with data no other city has:
a user of Da Nang only is swept through every registered page, every registered Dash callback (posted to Dash's
endpoint as the browser does), every route and every /api/v1 and /odata/v4 route, signed in and with a key of
Da Nang: nothing of Hue appears anywhere, and choosing Hue is refused and audited. The lists come from the
app's own registry, so a page, callback or route added later is swept without touching this test."""

from __future__ import annotations

import io
import json
import re
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import dash
import pytest
from flask.testing import FlaskClient
from pypdf import PdfReader

from ioc.access.permissions import is_page_content
from ioc.audit import AuditQuery
from ioc.cities import CITIES_ENV, SWITCH_PATH
from ioc.config import PROJECT_ROOT, Settings, load_settings
from ioc.model import Alert, Batch, Entity, Severity, utcnow
from ioc.store import Store
from layouts.app import create_app
from tests.ioc.access.conftest import access_of, callback_body, csrf_of, post_callback
from tests.layouts.dom import add_user, client_sign_in

# what only each city's data carries: names, entity ids and coordinates. Not the city's name: Da Nang's
# regional page names Hue as a peer IOC it has a sharing agreement with (ioc.sharing), which is no leak.
MARKS = {"danang": "DANANG-MARK-7Q", "hue": "HUE-MARK-9Z"}
PLACES = {"danang": (108.21317, 16.05419), "hue": (107.58123, 16.46271)}
HUE_TRACES = ("HUE-MARK-9Z", "urn:ioc:hue:", "107.58123", "16.46271")
DANANG_TRACES = ("DANANG-MARK-7Q", "urn:ioc:danang:", "108.21317", "16.05419")


def write_city(store: Store, settings: Settings) -> None:
    """Three entities per feed and an open alert, each naming the city's mark."""
    city, mark = settings.city.id, MARKS[settings.city.id]
    now = utcnow()
    for feed in (feed for feed in settings.feeds if feed.enabled):
        entities = [
            Entity(
                id=f"urn:ioc:{city}:{feed.name}:mark-{n}",
                type=feed.reader,
                agency=feed.agency,
                sector=feed.sector,
                name=f"{mark} {feed.name} {n}",
                location=(PLACES[city][0] + n * 1e-5, PLACES[city][1]),
                attributes={
                    **({feed.kpi.metric: 21.5} if feed.kpi and feed.kpi.metric else {}),
                    "value": 7.0,
                },
                observed_at=now - timedelta(seconds=5),
                feed=feed.name,
            )
            for n in range(3)
        ]
        store.write_batch(feed.name, Batch(entities=entities), now=now)
        store.record_success(
            feed.name,
            records=3,
            latency_ms=30.0,
            interval=feed.interval,
            stale_factor=feed.stale_factor,
            now=now,
        )
    feed = next(feed for feed in settings.feeds if feed.enabled)
    store.raise_alert(
        Alert(
            id="",
            rule_id="manual-mark",
            entity_id=f"urn:ioc:{city}:{feed.name}:mark-0",
            title=f"{mark} ngập sâu",
            severity=Severity.SEVERE,
            sector=feed.sector,
            agency=feed.agency,
            district=None,
            value=40.0,
            raised_at=now - timedelta(minutes=3),
            updated_at=now - timedelta(minutes=3),
            location=PLACES[city],
        )
    )


@pytest.fixture
def two_cities(store: Store, settings: Settings, monkeypatch: pytest.MonkeyPatch) -> Iterator[dash.Dash]:
    monkeypatch.setenv(CITIES_ENV, "danang,hue")
    hue = load_settings(PROJECT_ROOT / "config" / "hue")
    write_city(store, settings)
    write_city(Store(store.redis, hue.city.id), hue)
    # a Redis-backed dashboard cache, as in production: each city's entries under its own prefix
    app = create_app(store, settings, redis_kind="redis-server", cookie_secure=False)
    add_user(app, "danang-only", "admin")  # every permission, in Da Nang only: the widest sweep
    add_user(app, "both", "admin")
    app.server.extensions["ioc_security"].users.set_role("both", "admin", actor="test", city="hue")
    app.server.test_client().get("/healthz")  # Dash adds its page container's callback on the first request
    yield app


def sign_in(app: dash.Dash, name: str) -> FlaskClient:
    client = app.server.test_client()
    assert client_sign_in(client, name).status_code == 302
    return client


def body_text(response: Any) -> str:
    """What a response says: a PDF's extracted text, anything else decoded (bytes not text kept as escapes)."""
    data = response.get_data()
    if response.mimetype == "application/pdf":
        return "\n".join(page.extract_text() or "" for page in PdfReader(io.BytesIO(data)).pages)
    return data.decode("utf-8", errors="backslashreplace")


def leaks(text: str, traces: tuple[str, ...] = HUE_TRACES) -> list[str]:
    return [trace for trace in traces if trace in text]


def concrete_paths(app: dash.Dash, rule: str) -> list[str]:
    """Every path a URL rule stands for that serves data: each OData set for <resource>, each declared page
    for the page route, a sample value for any other part."""
    if rule in ("/<path:path>",):
        return [page.path for page in access_of(app).pages]
    if "<resource>" in rule:
        return [rule.replace("<resource>", name) for name in app.server.extensions["ioc_rows"]]
    return [re.sub(r"<(?:[^:>]+:)?([^>]+)>", "sample", rule)]


def swept_routes(app: dash.Dash) -> list[str]:
    static = ("/static/", "/assets/", "/_dash-component-suites/")
    paths = []
    for rule in app.server.url_map.iter_rules():
        if "GET" in rule.methods and not rule.rule.startswith(static) and rule.rule != "/logout":
            paths.extend(concrete_paths(app, rule.rule))
    return sorted(set(paths))


def callback_requests(app: dash.Dash) -> Iterator[tuple[str, dict[str, Any]]]:
    """Every server-side callback as the browser posts it: the page container once per page, the others once
    as on first render and once as if their first input had changed (a tick, a click)."""
    pages = [page.path for page in access_of(app).pages]
    for key, spec in app.callback_map.items():
        if "callback" not in spec:
            continue  # clientside: it runs in the browser and reaches no server data
        if is_page_content(key):
            for path in pages:
                yield f"{key}@{path}", callback_body(app, key, pathname=path)
            continue
        yield key, callback_body(app, key)
        first = spec["inputs"][0] if spec["inputs"] else None
        if first and isinstance(first["id"], str):
            body = callback_body(app, key, changed=[f"{first['id']}.{first['property']}"])
            for item in body["inputs"]:
                if item["property"] in ("n_intervals", "n_clicks"):
                    item["value"] = 1
                elif item["property"] == "pathname":
                    item["value"] = "/"
            yield f"{key}#changed", body


def sweep(app: dash.Dash, client: FlaskClient, other: tuple[str, ...], own: tuple[str, ...]) -> None:
    """Every registered route and callback through `client`: none may answer with `other`'s traces; the
    sweep must have read real data (`own`'s traces) on pages' callbacks, /api/v1 and /odata/v4."""
    answered: dict[str, int] = {}
    with_own_data = []
    for path in swept_routes(app):
        response = client.get(path)
        text = body_text(response)
        assert not leaks(text, other), (path, leaks(text, other))
        answered[path] = response.status_code
        if leaks(text, own):
            with_own_data.append(path)
    for name, body in callback_requests(app):
        response = post_callback(client, body)
        text = body_text(response)
        assert not leaks(text, other), (name, leaks(text, other))
        answered[name] = response.status_code
        if leaks(text, own):
            with_own_data.append(name)
    ok = [name for name, status in answered.items() if status == 200]
    assert len(ok) > 40, answered
    assert any(name.startswith("/api/v1/") for name in with_own_data), with_own_data
    assert any(name.startswith("/odata/v4/") for name in with_own_data), with_own_data
    assert sum(1 for name in with_own_data if not name.startswith("/")) >= 3, with_own_data
    assert all(answered[path] == 200 for path in ("/", "/alerts", "/api/v1/entities", "/odata/v4/Entities"))


def test_a_user_of_one_city_sees_nothing_of_the_other_anywhere(two_cities: dash.Dash) -> None:
    sweep(two_cities, sign_in(two_cities, "danang-only"), HUE_TRACES, DANANG_TRACES)


def test_a_user_who_chose_the_other_city_sees_nothing_of_the_first(two_cities: dash.Dash) -> None:
    client = sign_in(two_cities, "both")
    assert client.post(SWITCH_PATH, data={"city": "hue", "csrf": csrf_of(client)}).status_code == 303
    sweep(two_cities, client, DANANG_TRACES, HUE_TRACES)


def test_a_key_of_one_city_reads_only_that_city(two_cities: dash.Dash) -> None:
    users = two_cities.server.extensions["ioc_security"].users
    keys = {
        "danang": users.issue_api_key("app-danang", actor="test"),
        "hue": users.issue_api_key("app-hue", actor="test", city="hue"),
    }
    client = two_cities.server.test_client()
    data_routes = [path for path in swept_routes(two_cities) if path.startswith(("/api/v1/", "/odata/v4/"))]
    assert len(data_routes) >= 10
    seen = {"danang": 0, "hue": 0}
    for city, key in keys.items():
        other = HUE_TRACES if city == "danang" else DANANG_TRACES
        for path in data_routes:
            text = body_text(client.get(path, headers={"X-API-Key": key}))
            assert not leaks(text, other), (city, path, leaks(text, other))
            seen[city] += MARKS[city] in text
    assert seen["danang"] >= 3 and seen["hue"] >= 3, seen


def audit_entries(app: dash.Dash, action: str) -> list[tuple[str, str, str, str]]:
    """(actor, object, from, to) of the deployment's trail (the home city's) entries of `action`, oldest first."""
    trail = app.server.extensions["ioc_security"].audit
    found = trail.search(AuditQuery(action=action))
    return sorted((e.actor, e.object, e.from_state, e.to_state) for e in found if e.action == action)


def test_choosing_a_city_without_a_role_there_is_refused_and_audited(two_cities: dash.Dash) -> None:
    client = sign_in(two_cities, "danang-only")
    response = client.post(SWITCH_PATH, data={"city": "hue", "csrf": csrf_of(client)})
    assert response.status_code == 403
    assert audit_entries(two_cities, "city.refused") == [("danang-only", "city:hue", "danang", "")]
    # still Da Nang, and no switch in the header of someone with one city
    text = body_text(client.get("/api/v1/entities"))
    assert MARKS["danang"] in text and not leaks(text)
    assert "ioc-city-switch" not in json.dumps(client.get("/_dash-layout").get_json())


def test_a_user_with_roles_in_both_switches_and_then_reads_only_the_chosen_city(
    two_cities: dash.Dash,
) -> None:
    client = sign_in(two_cities, "both")
    assert "ioc-city-switch" in json.dumps(client.get("/_dash-layout").get_json())
    assert MARKS["danang"] in body_text(client.get("/api/v1/alerts"))
    # a post without the session's token changes nothing
    assert client.post(SWITCH_PATH, data={"city": "hue", "csrf": "forged"}).status_code == 400
    response = client.post(SWITCH_PATH, data={"city": "hue", "csrf": csrf_of(client), "next": "/alerts"})
    assert response.status_code == 303 and response.headers["Location"] == "/alerts"
    for path in ("/api/v1/alerts", "/api/v1/entities", "/odata/v4/Entities"):
        text = body_text(client.get(path))
        assert MARKS["hue"] in text and not leaks(text, DANANG_TRACES), path
    assert audit_entries(two_cities, "city.selected") == [("both", "city:hue", "danang", "hue")]


def test_managing_users_takes_the_home_citys_permission_whatever_another_city_grants(
    two_cities: dash.Dash,
) -> None:
    users = two_cities.server.extensions["ioc_security"].users
    add_user(two_cities, "hue-admin", "operator")
    users.set_role("hue-admin", "admin", actor="test", city="hue")
    client = sign_in(two_cities, "hue-admin")
    assert client.post(SWITCH_PATH, data={"city": "hue", "csrf": csrf_of(client)}).status_code == 303
    assert client.get("/reports").status_code == 200  # an administrator in Hue: Hue's pages
    # accounts are the deployment's: an administrator of Hue alone may not manage them (nor make themselves
    # an administrator of Da Nang)
    assert client.get("/admin").status_code == 403
    users_callback = next(key for key in two_cities.callback_map if "admin-users.children" in key)
    assert post_callback(client, callback_body(two_cities, users_callback)).status_code == 403
    both = sign_in(two_cities, "both")  # an administrator in both: in Hue too
    assert both.post(SWITCH_PATH, data={"city": "hue", "csrf": csrf_of(both)}).status_code == 303
    assert both.get("/admin").status_code == 200
    assert post_callback(both, callback_body(two_cities, users_callback)).status_code == 200


def test_each_city_has_a_dashboard_cache_of_its_own(two_cities: dash.Dash) -> None:
    # a cache entry named without its city (a layer, a snapshot, a drawing) still cannot reach another city
    contexts = two_cities.server.extensions["ioc_cities"].contexts
    danang, hue = contexts["danang"].cache, contexts["hue"].cache
    danang.set("same-name", MARKS["danang"])
    hue.set("same-name", MARKS["hue"])
    assert (danang.get("same-name"), hue.get("same-name")) == (MARKS["danang"], MARKS["hue"])
    client = contexts["danang"].store.redis
    assert client.keys("ioc:{hue}:web_cache:same-name") and client.keys("ioc:{danang}:web_cache:same-name")
