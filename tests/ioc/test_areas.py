"""Placing entities in the city's areas: both lookup paths agree, and invalid shapes do not crash."""

from __future__ import annotations

import random

import pytest

from ioc import areas as areas_module
from ioc.areas import AreaIndex, area_index


@pytest.fixture(scope="module")
def index(settings) -> AreaIndex:  # noqa: ANN001
    return area_index(settings.city)


def test_known_places_fall_in_their_districts(index: AreaIndex) -> None:
    # Da Nang cathedral (Hải Châu), Sơn Trà peninsula road, Hòa Khánh industrial zone, open sea, missing point
    places = [(108.2208, 16.0678), (108.25, 16.10), (108.15, 16.07), (108.40, 16.00), None]
    assert index.assign(places) == ["Hải Châu", "Sơn Trà", "Liên Chiểu", None, None]


def test_the_spatial_index_path_agrees_with_the_direct_test(index: AreaIndex, monkeypatch) -> None:  # noqa: ANN001
    rng = random.Random(3)
    minx, miny, maxx, maxy = index.bounds()
    points = [(rng.uniform(minx, maxx), rng.uniform(miny, maxy)) for _ in range(500)]
    direct = index.assign(points)
    monkeypatch.setattr(areas_module, "SMALL_AREA_COUNT", 0)
    assert index.assign(points) == direct
    assert len({a for a in direct if a}) == 7  # every district is hit by some of 500 random points


def test_event_areas_take_the_district_of_most_overlap(index: AreaIndex) -> None:
    square = {"type": "Polygon", "coordinates": [[[108.21, 16.06], [108.23, 16.06], [108.23, 16.075],
                                                  [108.21, 16.075], [108.21, 16.06]]]}
    assert index.assign_geometry(square) == "Hải Châu"
    bowtie = {"type": "Polygon", "coordinates": [[[108.21, 16.06], [108.23, 16.075], [108.23, 16.06],
                                                  [108.21, 16.075], [108.21, 16.06]]]}  # self-crossing
    assert index.assign_geometry(bowtie) == "Hải Châu"
    assert index.assign_geometry({"type": "Point", "coordinates": [108.15, 16.07]}) == "Liên Chiểu"
