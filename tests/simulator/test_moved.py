"""The simulator moved to another city's centre: GeoJSON geometries and lon/lat fields shifted at any depth,
everything else untouched; served over HTTP in front of a running simulator; and Hue's configuration, whose
feeds it serves, loads and lands inside Hue's outline."""

from __future__ import annotations

import httpx
import pytest

from ioc.areas import area_index
from ioc.config import PROJECT_ROOT, load_settings
from ioc.redis_conn import free_port
from simulator.moved import MovedFeeds, shifted
from simulator.server import start as start_simulator


def test_geometries_and_coordinate_fields_are_moved() -> None:
    payload = {"features": [{"type": "Feature", "geometry": {"type": "Point", "coordinates": [108.2, 16.05]},
                             "properties": {"name": "Hải Châu", "count": 3}}],
               "requests": [{"lat": 16.0, "long": 108.1, "status": "open"}],
               "Things": [{"Locations": [{"location": {"type": "Polygon",
                                                       "coordinates": [[[108.0, 16.0], [108.1, 16.0, 5.0]]]}}]}],
               "station": {"lon": 108.2, "lat": "16.0"}}
    moved = shifted(payload, -0.6, 0.4)
    assert moved["features"][0]["geometry"]["coordinates"] == [107.6, 16.45]
    assert moved["features"][0]["properties"] == {"name": "Hải Châu", "count": 3}
    assert moved["requests"][0] == {"lat": 16.4, "long": 107.5, "status": "open"}
    assert moved["Things"][0]["Locations"][0]["location"]["coordinates"] == [[[107.4, 16.4], [107.5, 16.4, 5.0]]]
    assert moved["station"] == {"lon": 108.2, "lat": "16.0"}  # a text latitude is not a coordinate pair


@pytest.mark.integration
def test_hue_feeds_land_in_hue() -> None:
    hue = load_settings(PROJECT_ROOT / "config" / "hue")
    home = load_settings(PROJECT_ROOT / "config" / "danang").city.center
    simulator = start_simulator(host="127.0.0.1", port=free_port(), seed=7)
    front = MovedFeeds(simulator.url, free_port(), (hue.city.center[0] - home[0], hue.city.center[1] - home[1]))
    front.start()
    try:
        body = httpx.get(front.url + "/traffic-police/incidents.geojson", timeout=10).json()
        points = [tuple(f["geometry"]["coordinates"][:2]) for f in body["features"] if f.get("geometry")]
        assert points
        areas = area_index(hue.city).assign(points)
        assert sum(area == "Huế" for area in areas) >= 0.9 * len(points)
        # payloads that are not JSON pass as they are
        assert httpx.get(front.url + "/health/beds.csv", timeout=10).text.count(",") > 3
    finally:
        front.stop()
        simulator.stop()
    assert {feed.agency for feed in hue.feeds} == {"hue-dae", "hue-s", "hue-traffic-police", "hue-kttv", "hue-pccc"}
