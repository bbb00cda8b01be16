"""Configuration is validated at load, and errors name the file, the entry and the field."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml

from ioc.config import DEFAULT_CONFIG_DIR, ConfigError, expand_env, load_settings


@pytest.fixture
def city_dir(tmp_path: Path) -> Path:
    target = tmp_path / "city"
    shutil.copytree(DEFAULT_CONFIG_DIR, target)
    return target


def _edit(path: Path, change) -> None:  # noqa: ANN001
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    change(data)
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")


def test_the_demo_city_loads(settings) -> None:  # noqa: ANN001
    assert settings.city.id == "danang"
    assert {"air-stations", "citizen-requests", "bus-vehicles"} <= {f.name for f in settings.feeds}
    assert settings.rules


def test_a_bad_field_names_file_entry_and_field(city_dir: Path) -> None:
    def bad_interval(data: dict) -> None:
        data["feeds"][1]["interval"] = -5

    _edit(city_dir / "agencies.yaml", bad_interval)
    with pytest.raises(ConfigError) as err:
        load_settings(city_dir)
    message = str(err.value)
    assert "agencies.yaml" in message and "feeds[1] (citizen-requests)" in message and "interval" in message


def test_an_unknown_sector_is_refused(city_dir: Path) -> None:
    _edit(city_dir / "agencies.yaml", lambda d: d["feeds"][0].update(sector="space"))
    with pytest.raises(ConfigError, match=r"feeds\[0\] \(air-stations\): sector: 'space'"):
        load_settings(city_dir)


def test_an_unknown_reader_is_refused(city_dir: Path) -> None:
    _edit(city_dir / "agencies.yaml", lambda d: d["feeds"][2].update(reader="carrier-pigeon"))
    with pytest.raises(ConfigError, match=r"feeds\[2\] \(bus-vehicles\): reader: unknown reader 'carrier-pigeon'"):
        load_settings(city_dir)


def test_a_rule_needs_exactly_one_limit(city_dir: Path) -> None:
    _edit(city_dir / "rules.yaml", lambda d: d["rules"][0].update(below=3))
    with pytest.raises(ConfigError, match=r"rules.yaml: rules\[0\] \(pm25-high\)"):
        load_settings(city_dir)


def test_unknown_keys_are_refused_not_ignored(city_dir: Path) -> None:
    _edit(city_dir / "agencies.yaml", lambda d: d["feeds"][0].update(intervall=3))
    with pytest.raises(ConfigError, match="intervall"):
        load_settings(city_dir)


def test_invalid_yaml_names_the_file(city_dir: Path) -> None:
    (city_dir / "rules.yaml").write_text("rules: [", encoding="utf-8")
    with pytest.raises(ConfigError, match="rules.yaml: not valid YAML"):
        load_settings(city_dir)


def test_urls_take_their_host_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("IOC_SIM_URL", "http://10.1.2.3:9000")
    assert expand_env("${IOC_SIM_URL:-http://127.0.0.1:8061}/x") == "http://10.1.2.3:9000/x"
    monkeypatch.delenv("IOC_SIM_URL")
    assert expand_env("${IOC_SIM_URL:-http://127.0.0.1:8061}/x") == "http://127.0.0.1:8061/x"
    with pytest.raises(ValueError, match="NOT_SET_ANYWHERE"):
        expand_env("${NOT_SET_ANYWHERE}")
