"""`ioc adapters new` writes a reader, a sample and a test that passes as written."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from ioc.config import PROJECT_ROOT
from ioc.scaffold import new_adapter


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A copy of the parts of the project the scaffold writes into."""
    shutil.copytree(PROJECT_ROOT / "data_adapters", tmp_path / "data_adapters",
                    ignore=shutil.ignore_patterns("__pycache__"))
    (tmp_path / "tests" / "data_adapters").mkdir(parents=True)
    (tmp_path / "tests" / "fixtures").mkdir()
    for init in (tmp_path / "tests" / "__init__.py", tmp_path / "tests" / "data_adapters" / "__init__.py"):
        init.write_text("", encoding="utf-8")
    return tmp_path


def test_the_scaffold_passes_its_own_test(project: Path) -> None:
    made = new_adapter("seaport_vessels", root=project)
    assert made.reader_id == "seaport-vessels"
    assert '"seaport_vessels",' in (project / "data_adapters" / "__init__.py").read_text(encoding="utf-8")
    env = {**os.environ, "PYTHONPATH": f"{project}{os.pathsep}{PROJECT_ROOT}"}
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(made.test)],
        cwd=project, env=env, capture_output=True, text=True, timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "5 passed" in result.stdout


def test_the_scaffold_refuses_bad_names_and_overwrites(project: Path) -> None:
    with pytest.raises(ValueError, match="lower_snake"):
        new_adapter("Seaport-Vessels", root=project)
    new_adapter("airport_flights", root=project)
    with pytest.raises(FileExistsError):
        new_adapter("airport_flights", root=project)
