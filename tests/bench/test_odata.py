"""bench/odata.py compares like with like: each OData query and its /api/v1 baseline give the same rows."""

from __future__ import annotations

from bench.odata import DISTRICTS, fill, query_pairs
from ioc.config import Settings
from ioc.store import Store
from layouts.app import create_app
from tests.layouts.dom import add_user


def test_each_pair_answers_the_same_question(fake_store: Store, settings: Settings) -> None:
    fill(fake_store, settings, 600)
    app = create_app(fake_store, settings, redis_kind="in-process", cookie_secure=False)
    add_user(app, "admin-1", "admin")
    key = app.server.extensions["ioc_security"].users.issue_api_key("bench-check", actor="admin-1")
    client = app.server.test_client()
    feed = next(f.name for f in settings.feeds if f.enabled)
    pairs = {name: (odata, plain) for name, odata, plain in query_pairs(feed, DISTRICTS[1])}

    def get(path: str) -> object:
        response = client.get(path, headers={"X-API-Key": key})
        assert response.status_code == 200, (path, response.get_data(as_text=True))
        return response

    for name in ("type+district", "feed+district"):
        odata, plain = pairs[name]
        ids = {row["id"] for row in get(odata).get_json()["value"]}  # type: ignore[attr-defined]
        assert ids and ids == {item["id"] for item in get(plain).get_json()["items"]}, name  # type: ignore[attr-defined]
    odata, plain = pairs["observations"]
    rows = {(row["entity_id"], row["metric"], row["value"]) for row in get(odata).get_json()["value"]}  # type: ignore[attr-defined]
    assert rows and rows == {(item["entity_id"], item["metric"], item["value"])
                             for item in get(plain).get_json()["items"]}  # type: ignore[attr-defined]
    odata, plain = pairs["count only"]
    everything = plain.replace("limit=1", "limit=5000")
    assert int(get(odata).get_data(as_text=True)) == get(everything).get_json()["count"] > 0  # type: ignore[attr-defined]
