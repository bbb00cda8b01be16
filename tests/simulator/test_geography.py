"""The simulator's map of Da Nang: districts from the boundaries file, sampling inside them, distances."""

from __future__ import annotations

import random

import shapely

from simulator.geography import (
    BUS_CORRIDORS,
    STREETS,
    WARDS,
    ascii_fold,
    bearing_deg,
    distance_km,
    industrial_zone,
    load_districts,
)


def test_the_seven_districts_with_names_streets_and_wards() -> None:
    names = [d.name for d in load_districts()]
    assert len(names) == 7
    assert set(names) == set(STREETS) == set(WARDS)


def test_sampled_points_fall_inside_the_district() -> None:
    rng = random.Random(3)
    for district in load_districts():
        for _ in range(50):
            lon, lat = district.sample_point(rng)
            assert shapely.contains_xy(district.polygon, lon, lat), district.name


def test_the_industrial_zone_is_inside_lien_chieu() -> None:
    zone = industrial_zone(load_districts())
    assert zone.name == "Liên Chiểu"
    assert zone.settled.area > 0
    assert zone.polygon.contains(zone.settled.buffer(-1e-6))


def test_distances_and_bearings() -> None:
    cho_han, cau_rong_east = (108.2245, 16.0680), (108.2300, 16.0612)
    assert 0.8 < distance_km(cho_han, cau_rong_east) < 1.0
    assert distance_km(cho_han, cho_han) == 0
    assert round(bearing_deg((108.2, 16.0), (108.2, 16.1))) == 0  # due north
    assert round(bearing_deg((108.2, 16.0), (108.3, 16.0))) == 90  # due east


def test_ascii_fold_for_email_handles() -> None:
    assert ascii_fold("Đà Nẵng") == "Da Nang"
    assert ascii_fold("Nguyễn Thị Ánh") == "Nguyen Thi Anh"


def test_bus_corridors_are_named_after_real_streets() -> None:
    streets = {s for c in BUS_CORRIDORS for s in c.streets}
    assert {"Nguyễn Văn Linh", "Điện Biên Phủ", "Ngô Quyền", "Nguyễn Tất Thành"} <= streets
    assert len({c.id for c in BUS_CORRIDORS}) == len(BUS_CORRIDORS)
