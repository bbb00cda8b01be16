"""rules.yaml `alarm_system:`: validated at load, an error names the file and the field; left out, the
EEMUA 191 / ISA-18.2 defaults hold. Its flood limit is grouping.flood's, the one flood limit of the city."""

from __future__ import annotations

from pathlib import Path

import pytest

from ioc.config import ConfigError, load_settings
from tests.ioc.test_config import _edit, city_dir  # noqa: F401 - the fixture is used by name


def test_da_nang_has_two_operator_positions(settings) -> None:  # noqa: ANN001
    assert settings.alarm_system.operator_positions == 2
    assert (
        settings.alarm_system.flood_per_10_minutes,
        settings.alarm_system.chatter_raises,
        settings.alarm_system.chatter_seconds,
        settings.alarm_system.stale_hours,
    ) == (10, 3, 60, 24)


def test_no_operator_position_is_refused_naming_the_file_and_field(city_dir: Path) -> None:  # noqa: F811
    _edit(city_dir / "rules.yaml", lambda data: data["alarm_system"].update(operator_positions=0))
    with pytest.raises(ConfigError) as error:
        load_settings(city_dir)
    assert "rules.yaml" in str(error.value) and "alarm_system.operator_positions" in str(error.value)


def test_an_unknown_field_is_refused(city_dir: Path) -> None:  # noqa: F811
    _edit(city_dir / "rules.yaml", lambda data: data["alarm_system"].update(positions=3))
    with pytest.raises(ConfigError, match="alarm_system.positions"):
        load_settings(city_dir)


def test_left_out_the_defaults_hold(city_dir: Path) -> None:  # noqa: F811
    _edit(city_dir / "rules.yaml", lambda data: data.pop("alarm_system"))
    defaults = load_settings(city_dir).alarm_system
    assert (defaults.operator_positions, defaults.flood_per_10_minutes, defaults.window_hours) == (1, 10, 24)


def test_the_measures_flood_limit_is_grouping_flood_as_a_rate_per_10_minutes(city_dir: Path) -> None:  # noqa: F811
    _edit(city_dir / "rules.yaml", lambda data: data["grouping"].update(flood={"alarms": 12, "minutes": 5}))
    settings = load_settings(city_dir)
    assert (settings.grouping.flood.alarms, settings.grouping.flood.minutes) == (12, 5)
    assert settings.alarm_system.flood_per_10_minutes == 24


def test_a_flood_limit_set_in_alarm_system_is_refused_pointing_at_grouping_flood(city_dir: Path) -> None:  # noqa: F811
    _edit(city_dir / "rules.yaml", lambda data: data["alarm_system"].update(flood_per_10_minutes=10))
    with pytest.raises(ConfigError) as error:
        load_settings(city_dir)
    message = str(error.value)
    assert "rules.yaml" in message and "alarm_system.flood_per_10_minutes" in message and "grouping.flood" in message
