"""The simulator's HTTP server: serves the registry over real HTTP on a free port, and stops cleanly."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import httpx
import pytest
from google.transit import gtfs_realtime_pb2

from simulator.feeds import FEEDS
from simulator.server import SimulatorServer, build, start

from .conftest import MORNING

THINGS = (
    "/sensorthings/v1.1/Things?$expand=Locations,Datastreams($expand=ObservedProperty,"
    "Observations($orderby=phenomenonTime%20desc;$top=1))"
)


@pytest.fixture(scope="module")
def simulator() -> Iterator[SimulatorServer]:
    # port 0: the operating system picks a free port, so parallel runs never collide
    server = start(port=0, seed=42, speed=60, start=MORNING)
    yield server
    server.stop()


@pytest.fixture
def client(simulator: SimulatorServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=simulator.url, timeout=10) as http:
        yield http


def test_start_reports_where_it_listens(simulator: SimulatorServer) -> None:
    assert simulator.url.startswith("http://127.0.0.1:")
    assert not simulator.url.endswith(":0")
    assert simulator.clock.speed == 60
    assert simulator.clock.start == MORNING
    assert simulator.city.seed == 42


@pytest.mark.parametrize(
    ("path", "content_type"),
    [
        (THINGS, "application/json"),
        ("/open311/v2/requests.json", "application/json"),
        ("/open311/v2/services.json", "application/json"),
        ("/gtfs-rt/vehicle-positions.pb", "application/x-protobuf"),
        ("/gtfs-rt/trip-updates.pb", "application/x-protobuf"),
        ("/gtfs-rt/service-alerts.pb", "application/x-protobuf"),
        ("/transport/ngsi-ld/v1/entities?type=TrafficFlowObserved", "application/ld+json"),
        ("/traffic-police/incidents.geojson", "application/geo+json"),
        ("/gbfs/3.0/gbfs.json", "application/json"),
        ("/cap/pctt/alerts.atom", "application/atom+xml"),
        ("/health/beds.csv", "text/csv"),
        ("/mqtt/danang/drainage/flood", "application/json"),
    ],
)
def test_each_feed_is_served_with_its_content_type(
    client: httpx.Client, path: str, content_type: str
) -> None:
    response = client.get(path)
    assert response.status_code == 200
    assert response.headers["content-type"].split(";")[0] == content_type
    assert response.headers["cache-control"] == "no-store"
    assert response.content


def test_feeds_are_rendered_at_simulated_time(client: httpx.Client, simulator: SimulatorServer) -> None:
    message = gtfs_realtime_pb2.FeedMessage()
    message.ParseFromString(client.get("/gtfs-rt/vehicle-positions.pb").content)
    served_at = message.header.timestamp
    assert int(MORNING.timestamp()) <= served_at <= int(simulator.clock.now().timestamp())
    # the simulated clock is 60x real time and started at a fixed date, not the real now
    assert served_at < int((MORNING + timedelta(days=1)).timestamp())


def test_next_links_lead_back_to_this_server(client: httpx.Client, simulator: SimulatorServer) -> None:
    document = client.get(THINGS + "&$top=4&$count=true").json()
    seen = [t["@iot.id"] for t in document["value"]]
    while "@iot.nextLink" in document:
        assert document["@iot.nextLink"].startswith(simulator.url + "/sensorthings/v1.1/Things?")
        document = client.get(document["@iot.nextLink"]).json()
        seen.extend(t["@iot.id"] for t in document["value"])
    assert sorted(seen) == sorted(s.id for s in simulator.city.stations)


def test_gbfs_discovery_links_back_to_this_server(client: httpx.Client, simulator: SimulatorServer) -> None:
    feeds = client.get("/gbfs/3.0/gbfs.json").json()["data"]["feeds"]
    assert {f["name"] for f in feeds} >= {"system_information", "station_information", "station_status"}
    for listed in feeds:
        assert listed["url"].startswith(simulator.url + "/gbfs/3.0/")
        assert client.get(listed["url"]).status_code == 200


def test_a_bad_ngsi_query_is_400(client: httpx.Client) -> None:
    response = client.get("/parking/ngsi-ld/v1/entities", params={"limit": "5000"})
    assert response.status_code == 400
    assert response.json()["type"].endswith("BadRequestData")


def test_index_lists_the_feeds(client: httpx.Client, simulator: SimulatorServer) -> None:
    response = client.get("/")
    assert response.status_code == 200
    index = response.json()
    assert [f["path"] for f in index["feeds"]] == list(FEEDS)
    assert all(f["url"] == simulator.url + f["path"] for f in index["feeds"])
    assert index["seed"] == 42


def test_unknown_path_is_404(client: httpx.Client) -> None:
    assert client.get("/sensorthings/v1.1/Sensors").status_code == 404
    assert client.get("/nothing/here").status_code == 404


def test_a_bad_query_is_400_in_the_standards_error_form(client: httpx.Client) -> None:
    response = client.get("/open311/v2/requests.json", params={"status": "pending"})
    assert response.status_code == 400
    assert response.json()[0]["code"] == 400


def test_stop_closes_the_port() -> None:
    server = start(port=0, start=MORNING)
    url = server.url
    assert server.running
    assert httpx.get(url + "/", timeout=5).status_code == 200
    server.stop()
    assert not server.running
    with pytest.raises(httpx.ConnectError):
        httpx.get(url + "/", timeout=2)


def test_a_simulator_built_but_never_started_stops_at_once() -> None:
    server = build(port=0)
    assert not server.running
    server.stop()
