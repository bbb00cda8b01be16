"""The city's vocabulary: metric aliases, unit spellings and codes, conversions, snake case."""

from __future__ import annotations

import pytest

from ioc.vocabulary import convert, known_unit, metric_name, snake_case, unit_symbol


@pytest.mark.parametrize("name", ["pm25", "PM2.5", "pm2_5", "pm2p5", "PM 2.5"])
def test_pm25_has_one_name(name: str) -> None:
    assert metric_name(name) == "pm25"


def test_vietnamese_names_are_known_without_their_accents() -> None:
    assert metric_name("Nhiệt độ") == "temperature" and metric_name("Mực nước") == "water_level"
    assert metric_name("mystery") is None


@pytest.mark.parametrize(
    ("code", "symbol"),
    [("GQ", "µg/m³"), ("KMH", "km/h"), ("CEL", "°C"), ("P1", "%"), ("CMT", "cm"), ("MTR", "m"), ("MMT", "mm"),
     ("GL", "g/L"), ("M1", "mg/L"), ("wmoUnit:degC", "°C"), ("http://codes.wmo.int/common/unit/km_h-1", "km/h"),
     ("ug/m3", "µg/m³"), ("μg/m³", "µg/m³"), ("[degF]", "°F"), ("knots", "kn")],
)
def test_unit_codes_and_spellings_name_one_symbol(code: str, symbol: str) -> None:
    assert known_unit(code) == symbol


@pytest.mark.parametrize(
    ("value", "unit", "to", "expected"),
    [
        (0.035, "mg/m³", None, (35.0, "µg/m³")),
        (35.0, "GQ", None, (35.0, "µg/m³")),
        (10.0, "m/s", None, (36.0, "km/h")),
        (1.5, "MTR", "cm", (150.0, "cm")),
        (25.0, "mm", "cm", (2.5, "cm")),
        (300.15, "K", None, (27.0, "°C")),
        (86.0, "°F", None, (30.0, "°C")),
        (101325.0, "Pa", None, (1013.25, "hPa")),
        (1.5, "m", None, (1.5, "m")),  # a length stays a length unless a level asks for cm
        (3.0, "wmoUnit:furlong", None, (3.0, "furlong")),
    ],
)
def test_values_convert_to_the_city_unit(value: float, unit: str, to: str | None, expected: tuple) -> None:
    assert convert(value, unit, to=to) == (pytest.approx(expected[0]), expected[1])


def test_mixing_ratios_need_a_known_gas() -> None:
    value, unit = convert(20.0, "ppb", metric="no2")
    assert unit == "µg/m³" and value == pytest.approx(20 * 46.0055 / 24.45, abs=1e-6)
    assert convert(20.0, "ppb", metric="mystery") == (20.0, "ppb")


def test_unknown_units_are_kept_as_published() -> None:
    assert unit_symbol("veh/15min") == "veh/15min"


@pytest.mark.parametrize(
    ("name", "snake"),
    [("averageVehicleSpeed", "average_vehicle_speed"), ("stationID", "station_id"), ("N-TOT", "n_tot"),
     ("pH", "ph"), ("Nhiệt độ", "nhiet_do"), ("individualCount", "individual_count")],
)
def test_snake_case(name: str, snake: str) -> None:
    assert snake_case(name) == snake
