"""A filter reads no more of Redis than it must: the feeds and entity ids it pins are the only ones read,
and on Observations only the streams of the rows its cheap part keeps (counted by redis-server itself)."""

from __future__ import annotations

from types import SimpleNamespace

import flask
import pytest

from ioc import odata
from ioc.config import Settings
from ioc.model import Batch, Entity, Observation, utcnow
from ioc.store import Store

pytestmark = pytest.mark.integration
DISTRICTS = ["Hải Châu", "Sơn Trà", "Thanh Khê"]


@pytest.fixture
def client(store: Store, settings: Settings) -> flask.testing.FlaskClient:
    now = utcnow()
    for feed in [feed for feed in settings.feeds if feed.enabled][:3]:
        entities = [Entity(id=f"urn:t:{feed.name}:{n}", type="Sensor", agency=feed.agency, sector=feed.sector,
                           name=f"S{n}", location=(108.2, 16.0), district=DISTRICTS[n % 3],
                           attributes={"level": float(n), "depth": 1.0}, observed_at=now, feed=feed.name)
                    for n in range(30)]
        observations = [Observation(e.id, metric, e.attributes[metric], "cm", now)
                        for e in entities for metric in ("level", "depth")]
        store.write_batch(feed.name, Batch(entities=entities, observations=observations), now=now)
    # the OData routes alone on a bare app: no control-room thread reads Redis while the server counts
    app = flask.Flask(__name__)
    app.extensions["ioc"] = SimpleNamespace(store=store, settings=settings)
    odata.install(app, security=None)
    return app.test_client()


def calls(store: Store) -> dict[str, int]:
    stats = store.redis.info("commandstats")
    return {name.removeprefix("cmdstat_"): value["calls"] for name, value in stats.items()}


def read(client: flask.testing.FlaskClient, store: Store, path: str) -> tuple[dict, dict[str, int]]:
    store.redis.config_resetstat()
    response = client.get(path)
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.get_json(), calls(store)


def test_a_filter_on_the_feed_reads_that_feeds_hash_only(client: flask.testing.FlaskClient, store: Store,
                                                        settings: Settings) -> None:
    feed = next(feed.name for feed in settings.feeds if feed.enabled)
    body, counted = read(client, store, f"/odata/v4/Entities?$filter=feed eq '{feed}' and district eq 'Sơn Trà'")
    assert len(body["value"]) == 10 and {row["feed"] for row in body["value"]} == {feed}
    assert counted["hgetall"] == 1
    _, everything = read(client, store, "/odata/v4/Entities?$filter=district eq 'Sơn Trà'")
    assert everything["hgetall"] == sum(1 for feed in settings.feeds if feed.enabled)


def test_a_filter_on_ids_reads_those_entities_only(client: flask.testing.FlaskClient, store: Store,
                                                   settings: Settings) -> None:
    feed = next(feed.name for feed in settings.feeds if feed.enabled)
    wanted = f"id eq 'urn:t:{feed}:4' or id eq 'urn:t:{feed}:7' or id eq 'urn:nobody'"
    body, counted = read(client, store, f"/odata/v4/Entities?$filter=({wanted}) and lat gt 0")
    assert sorted(row["id"] for row in body["value"]) == [f"urn:t:{feed}:4", f"urn:t:{feed}:7"]
    assert counted.get("hgetall", 0) == 0 and counted["hmget"] >= 1
    one, by_key = read(client, store, f"/odata/v4/Entities('urn:t:{feed}:4')")
    assert one["id"] == f"urn:t:{feed}:4" and by_key.get("hgetall", 0) == 0


def test_observations_read_the_streams_of_the_rows_kept_only(client: flask.testing.FlaskClient,
                                                             store: Store) -> None:
    body, counted = read(client, store,
                         "/odata/v4/Observations?$filter=district eq 'Hải Châu' and metric eq 'level' and value ge 3")
    # 3 feeds x 10 entities in Hải Châu, one metric: 30 streams read of the 180
    assert counted["xrevrange"] == 30
    assert sorted(row["value"] for row in body["value"]) == sorted([float(n) for n in range(3, 30, 3)] * 3)
    _, everything = read(client, store, "/odata/v4/Observations?$filter=value ge 3")
    assert everything["xrevrange"] == 180  # a filter on the value alone needs every stream
