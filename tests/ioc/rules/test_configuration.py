"""Rule configuration: the demo covers every kind, and errors name the file, the entry and the field."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml

from ioc.config import DEFAULT_CONFIG_DIR, ConfigError, Settings, load_settings


@pytest.fixture
def city_dir(tmp_path: Path) -> Path:
    target = tmp_path / "city"
    shutil.copytree(DEFAULT_CONFIG_DIR, target)
    return target


def _edit_rules(city: Path, change: Any) -> None:
    path = city / "rules.yaml"
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    change(data)
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")


def test_the_demo_rules_cover_every_kind(settings: Settings) -> None:
    assert {r.kind for r in settings.rules} == {"threshold", "rate_of_change", "staleness", "geofence", "relay",
                                                 "state"}
    assert all(r.procedure is None or r.procedure in settings.procedures for r in settings.rules)


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (lambda d: d["rules"][0].update(clear_at=60), r"rules\[0\] \(pm25-high\): threshold: .*clear_at \(60\)"),
        (lambda d: d["rules"][0].update(kind="psychic"), r"rules\[0\] \(pm25-high\): .*'psychic'"),
        (lambda d: d["rules"][0].update(procedure="nope"), r"rules\[0\] \(pm25-high\): procedure: 'nope'"),
        (lambda d: d["rules"][2].update(within_minutes=0),
         r"rules\[2\] \(flood-rising\): rate_of_change\.within_minutes"),
        (lambda d: d["rules"][3].update(zones="assets/zones/missing.geojson"),
         r"rules\[3\] \(flood-reports-in-low-zone\): geofence\.zones: .*zones file not found"),
        (lambda d: d["rules"][4].update(readers=["carrier-pigeon"]),
         r"rules\[4\] \(cap-warning\): readers: unknown reader 'carrier-pigeon'"),
        (lambda d: d["rules"][4].update(severity="apocalyptic"), r"rules\[4\] \(cap-warning\): relay\.severity"),
        (lambda d: d["rules"].append(dict(d["rules"][0])), "rule id 'pm25-high' is declared twice"),
        (lambda d: d["grouping"].update(group_by=["rule", "ward"]), r"grouping\.group_by\.1: "),
        (lambda d: d["grouping"]["flood"].update(minutes=0), r"grouping\.flood\.minutes: "),
        (lambda d: d["maintenance"][0].update(feeds=["no-such-feed"]),
         r"maintenance\[0\] \(cameras-firmware\): feeds: 'no-such-feed' is not a declared feed"),
        (lambda d: d["maintenance"][0].update(start="2am"), r"maintenance\.0\.start: .*HH:MM"),
    ],
)
def test_rule_errors_name_file_entry_and_field(city_dir: Path, change: Any, expected: str) -> None:
    _edit_rules(city_dir, change)
    with pytest.raises(ConfigError, match="rules.yaml: " + expected if "declared" not in expected else expected):
        load_settings(city_dir)
