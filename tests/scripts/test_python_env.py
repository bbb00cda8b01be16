"""The set-up scripts' choice of Python: install where allowed, else into .venv (PEP 668 systems)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

from ioc.config import PROJECT_ROOT

SYSTEM_PYTHON = Path("/usr/bin/python3")


def chosen(folder: Path, python: str) -> subprocess.CompletedProcess[str]:
    shutil.copy(PROJECT_ROOT / "scripts" / "python-env.sh", folder / "python-env.sh")
    return subprocess.run(["bash", "-c", "source ./python-env.sh && ioc_python"], cwd=folder, text=True,
                          capture_output=True, env={**os.environ, "PYTHON": python}, timeout=240)


def externally_managed(python: Path) -> bool:
    if not python.exists():
        return False
    stdlib = subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_path('stdlib'))"],
                            text=True, capture_output=True, check=True).stdout.strip()
    return (Path(stdlib) / "EXTERNALLY-MANAGED").exists()


def test_a_python_that_may_install_is_used_as_it_is(tmp_path: Path) -> None:
    managed = Path(sysconfig.get_path("stdlib"), "EXTERNALLY-MANAGED").exists() and sys.prefix == sys.base_prefix
    if managed:
        pytest.skip("this interpreter is itself managed by the system")

    result = chosen(tmp_path, sys.executable)

    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == sys.executable
    assert not (tmp_path / ".venv").exists()


@pytest.fixture
def system_python() -> Path:
    if not externally_managed(SYSTEM_PYTHON):
        pytest.skip("no system-managed Python (PEP 668) on this machine")
    return SYSTEM_PYTHON


def test_a_system_managed_python_gets_a_venv_made_once(tmp_path: Path, system_python: Path) -> None:
    first = chosen(tmp_path, str(system_python))

    assert first.returncode == 0, first.stderr
    assert first.stdout.strip() == ".venv/bin/python"
    assert "PEP 668" in first.stderr
    pip = subprocess.run([str(tmp_path / ".venv/bin/python"), "-m", "pip", "--version"], capture_output=True)
    assert pip.returncode == 0  # the venv can install
    again = chosen(tmp_path, str(system_python))
    assert again.stdout.strip() == ".venv/bin/python" and "PEP 668" not in again.stderr  # reused, not remade


def test_without_ensurepip_the_venv_gets_the_systems_pip(tmp_path: Path, system_python: Path) -> None:
    # Debian without python3-venv: `python3 -m venv` fails for want of ensurepip; everything else works
    fake = tmp_path / "python3"
    fake.write_text(f'#!/bin/sh\nif [ "$1 $2 $3" = "-m venv .venv" ]; then\n'
                    f'  echo "ensurepip is not available" >&2; exit 1\nfi\nexec {system_python} "$@"\n')
    fake.chmod(0o755)
    work = tmp_path / "work"
    work.mkdir()

    result = chosen(work, str(fake))

    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == ".venv/bin/python"
    pip = subprocess.run([str(work / ".venv/bin/python"), "-m", "pip", "--version"], capture_output=True)
    assert pip.returncode == 0
