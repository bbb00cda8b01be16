"""The 2025 reorganisation's mapping file: the shipped Da Nang file is valid and covers every area of the
boundaries file; shares add up and conserve totals; a broken file is refused naming file, entry and field."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from ioc.area_mapping import MAPPING_FILE, load_area_mapping
from ioc.areas import area_index
from ioc.config import ConfigError, Settings

SHIPPED = Path(__file__).resolve().parents[2] / "config" / "danang" / MAPPING_FILE


def write(tmp_path: Path, document: dict) -> Path:
    path = tmp_path / MAPPING_FILE
    path.write_text(yaml.safe_dump(document, allow_unicode=True), encoding="utf-8")
    return path


def small() -> dict:
    return {
        "source": "test", "licence": "MIT", "effective": "2025-07-01",
        "new_areas": [{"name": "Phường A", "code": "00001", "kind": "Phường"},
                      {"name": "Phường B", "code": "00002", "kind": "Phường"},
                      {"name": "Xã C", "code": "00003", "kind": "Xã"}],
        "old_areas": {"Old 1": {"w1": ["Phường A"], "w2": ["Phường A"], "w3": ["Phường A", "Phường B"]},
                      "Old 2": {"w4": ["Xã C"]}},
    }


def test_the_shipped_mapping_covers_every_area_of_the_boundaries_file(settings: Settings) -> None:
    mapping = load_area_mapping(SHIPPED)
    assert len(mapping.new_areas) == 94  # the wards, communes and special zone of the merged city
    mapping.check_old_areas(area_index(settings.city).names, SHIPPED)
    for old, shares in mapping.shares.items():
        assert sum(shares.values()) == pytest.approx(1.0), old
    raw = yaml.safe_load(SHIPPED.read_text(encoding="utf-8"))["old_areas"]["Hải Châu"]
    went_to_hai_chau = sum(1 for targets in raw.values() if targets == ["Phường Hải Châu"])
    assert mapping.new_areas_of("Hải Châu")["Phường Hải Châu"] == pytest.approx(went_to_hai_chau / len(raw))


def test_shares_count_a_split_ward_equally_and_apportion_conserves_totals(tmp_path: Path) -> None:
    mapping = load_area_mapping(write(tmp_path, small()))
    assert mapping.new_areas_of("Old 1") == pytest.approx({"Phường A": 2.5 / 3, "Phường B": 0.5 / 3})
    assert mapping.new_areas_of("Old 2") == {"Xã C": 1.0}
    apportioned = mapping.apportion({"Old 1": 30.0, "Old 2": 4.0})
    assert apportioned == pytest.approx({"Phường A": 25.0, "Phường B": 5.0, "Xã C": 4.0})
    assert sum(apportioned.values()) == pytest.approx(34.0)
    with pytest.raises(KeyError):
        mapping.apportion({"Old 3": 1.0})


@pytest.mark.parametrize(("change", "says"), [
    (lambda d: d["new_areas"][1].update(code="12"), "new_areas[1] (Phường B): code:"),
    (lambda d: d["new_areas"][2].update(name="Phường A"), "name given twice: Phường A"),
    (lambda d: d["old_areas"]["Old 2"].update(w4=["Xã D"]), "old_areas.Old 2.w4: not in new_areas: Xã D"),
    (lambda d: d["old_areas"]["Old 2"].update(w4=[]), "old_areas.Old 2.w4: goes to no new area"),
    (lambda d: d["old_areas"].update({"Old 3": {}}), "old_areas.Old 3: lists no ward"),
    (lambda d: d.pop("licence"), "licence: Field required"),
    (lambda d: d.update(effective="soon"), "effective:"),
    (lambda d: d.update(extra=1), "extra: Extra inputs are not permitted"),
])
def test_a_broken_file_is_refused_naming_file_entry_and_field(tmp_path: Path, change, says: str) -> None:
    document = small()
    change(document)
    path = write(tmp_path, document)
    with pytest.raises(ConfigError) as refused:
        load_area_mapping(path)
    assert str(path) in str(refused.value) and says in str(refused.value)


def test_old_areas_must_match_the_boundaries_file(tmp_path: Path) -> None:
    path = write(tmp_path, small())
    mapping = load_area_mapping(path)
    mapping.check_old_areas(["Old 1", "Old 2"], path)
    with pytest.raises(ConfigError, match=r"no entry for Old 9 .*Old 2: not an area of the boundaries file"):
        mapping.check_old_areas(["Old 1", "Old 9"], path)


def test_a_missing_or_unreadable_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="file not found"):
        load_area_mapping(tmp_path / "nothing.yaml")
    broken = tmp_path / "broken.yaml"
    broken.write_text("new_areas: [", encoding="utf-8")
    with pytest.raises(ConfigError, match="not valid YAML"):
        load_area_mapping(broken)
