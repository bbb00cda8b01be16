"""Where the archive lives and how long each kind is kept (the city's archive.yaml, validated at load)."""

from __future__ import annotations

import os
from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from ioc.archive.files import KINDS

KPI_FOLDER = "kpis"  # beside the kinds: the KPI aggregates' folder (ioc.kpis.archive_rollups.KPI_KIND)


class Retention(BaseModel):
    """Days each kind is kept on disk, counted back from today (UTC); a whole day partition goes at once."""

    model_config = ConfigDict(extra="forbid")
    observations: int = Field(default=400, ge=1)
    entities: int = Field(default=90, ge=1)
    events: int = Field(default=400, ge=1)
    alerts: int = Field(default=3650, ge=1)
    # the KPI aggregates rolled up from observations (ioc.kpis.archive_rollups): a few hundred rows a day,
    # so reports reach back over years after the observations themselves are gone
    kpis: int = Field(default=3660, ge=1)

    def days(self) -> dict[str, int]:
        return {**{kind: getattr(self, kind) for kind in KINDS}, KPI_FOLDER: self.kpis}


class ArchiveSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")
    # empty: IOC_ARCHIVE_DIR, else the archive folder next to the IOC's other data (see archive_dir)
    folder: str = ""
    # seconds between rounds of `ioc archive`: a round drains what the streams hold, so a longer one writes
    # fewer, larger files; the archive stream must hold at least this long of ingest
    interval: float = Field(default=300, gt=0)
    retention: Retention = Retention()

    def directory(self) -> Path:
        return Path(self.folder).expanduser() if self.folder else archive_dir()


def archive_dir() -> Path:
    """IOC_ARCHIVE_DIR, else `archive` in IOC_DATA_DIR, else the user's data folder (ioc/archive)."""
    configured = os.environ.get("IOC_ARCHIVE_DIR")
    if configured:
        return Path(configured).expanduser()
    data = os.environ.get("IOC_DATA_DIR")
    if data:
        return Path(data).expanduser() / "archive"
    base = os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share"
    return Path(base) / "ioc" / "archive"


def load_archive_settings(config_dir: str | Path) -> ArchiveSettings:
    """The folder's archive.yaml, or the defaults when there is none; a wrong entry names file and field."""
    path = Path(config_dir) / "archive.yaml"
    if not path.exists():
        return ArchiveSettings()
    document = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    try:
        return ArchiveSettings.model_validate(document)
    except ValidationError as error:
        problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in error.errors())
        raise ValueError(f"{path}: {problems}") from error
