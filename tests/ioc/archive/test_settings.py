"""archive.yaml: the city's file loads, a wrong entry is refused naming it, the folder follows the environment."""

from __future__ import annotations

from pathlib import Path

import pytest

from ioc.archive import archive_dir, load_archive_settings

CITY = Path(__file__).resolve().parents[3] / "config" / "danang"


def test_the_citys_archive_file_loads_with_a_retention_per_kind() -> None:
    settings = load_archive_settings(CITY)
    assert settings.retention.days() == {"observations": 400, "entities": 90, "events": 400, "alerts": 3650,
                                         "kpis": 3660}


@pytest.mark.parametrize(("text", "named"), [
    ("retention: {observations: 0}", "retention.observations"),
    ("retention: {readings: 30}", "retention.readings"),
    ("interval: -5", "interval"),
])
def test_a_wrong_entry_is_refused_naming_it(tmp_path: Path, text: str, named: str) -> None:
    (tmp_path / "archive.yaml").write_text(text)
    with pytest.raises(ValueError, match=named):
        load_archive_settings(tmp_path)


def test_the_folder_follows_the_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("IOC_ARCHIVE_DIR", raising=False)
    monkeypatch.setenv("IOC_DATA_DIR", str(tmp_path / "data"))
    assert archive_dir() == tmp_path / "data" / "archive"
    monkeypatch.setenv("IOC_ARCHIVE_DIR", str(tmp_path / "elsewhere"))
    assert load_archive_settings(tmp_path).directory() == tmp_path / "elsewhere"
    (tmp_path / "archive.yaml").write_text(f"folder: {tmp_path / 'chosen'}\n")
    assert load_archive_settings(tmp_path).directory() == tmp_path / "chosen"
