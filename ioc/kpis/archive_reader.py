"""KPI series of a period from two sources: Redis rollups where they hold the day, the archive's KPI
aggregates (`ioc.kpis.archive_rollups`) where they were trimmed or never kept; which source answered what.

Per KPI and local day exactly one source answers, so nothing is counted twice: the one whose city-wide
aggregate counted more records (Redis on a tie). Redis holds a day from the first record rolled up until its
keys expire (hours: 92 days, days: five years); the archive holds every finished day it has observations of,
for the KPIs that read observations, as long as `archive.yaml` keeps its `kpis` aggregates.
"""

from __future__ import annotations

import logging
from collections import Counter, defaultdict
from collections.abc import Sequence
from datetime import date
from pathlib import Path
from zoneinfo import ZoneInfo

import duckdb
import orjson

from ioc.archive.settings import load_archive_settings
from ioc.config import Settings
from ioc.kpis.aggregates import CITY, Agg
from ioc.kpis.archive_rollups import DAYS_FILE, HOURS_FILE, KPI_KIND, kpi_day_dir
from ioc.kpis.catalogue import Kpi
from ioc.kpis.periods import Period
from ioc.kpis.rollup_reader import RollupReader
from ioc.store import Store

log = logging.getLogger("ioc.kpis")

ROLLUPS, ARCHIVE = "rollups", "archive"

_Series = dict[tuple[str, str], dict[date, Agg]]


def _agg(n: int, s: float, k: int, d: float, lo: float | None, hi: float | None, bins: str | None,
         above: int) -> Agg:
    return Agg(n, s, k, d, lo, hi, Counter(orjson.loads(bins)) if bins else Counter(), above)


class ArchiveKpiReader:
    """The archive's KPI aggregates of the days first..last, read once with one DuckDB query (a fresh
    in-memory connection: nothing is cached between reports but the operating system's file pages)."""

    def __init__(self, root: Path, first: date, last: date) -> None:
        self.root = Path(root)
        self.first, self.last = first, last
        self._days: _Series | None = None
        self._labels: dict[str, dict[str, str]] = defaultdict(dict)

    def _files(self, name: str, first: date, last: date) -> list[Path]:
        base = self.root / KPI_KIND
        if not base.is_dir():
            return []
        found = []
        for folder in sorted(base.glob("day=*")):
            try:
                day = date.fromisoformat(folder.name.removeprefix("day="))
            except ValueError:
                continue
            if first <= day <= last and (folder / name).is_file():
                found.append(folder / name)
        return found

    def _query(self, sql: str, files: list[Path], params: list[object]) -> list[tuple[object, ...]]:
        sources = ", ".join("'" + str(path).replace("'", "''") + "'" for path in files)
        with duckdb.connect() as connection:
            return connection.execute(sql.replace("$FILES", sources), params).fetchall()

    def _columns(self, sql: str, files: list[Path]) -> list[list[object]]:
        """The result as Python lists per column: Arrow converts a column at once, far faster than rows."""
        sources = ", ".join("'" + str(path).replace("'", "''") + "'" for path in files)
        with duckdb.connect() as connection:
            result = connection.sql(sql.replace("$FILES", sources))
            # DuckDB 1.x names it fetch_arrow_table, 2.x to_arrow_table
            table = (getattr(result, "to_arrow_table", None) or result.fetch_arrow_table)()
        return [column.to_pylist() for column in table.columns]

    def _load(self) -> _Series:
        if self._days is not None:
            return self._days
        found: _Series = defaultdict(dict)
        files = self._files(DAYS_FILE, self.first, self.last)
        try:
            columns = self._columns(
                "SELECT kpi, scope, label, day, n, s, k, d, lo, hi, bins, above "
                "FROM read_parquet([$FILES], hive_partitioning = true, hive_types = {'day': DATE})", files,
            ) if files else []
        except duckdb.Error as error:
            # a damaged file costs the report the archive's days, not the report
            log.warning("KPI archive %s not read: %s", self.root, error)
            columns = []
        if columns:
            labels = self._labels
            for kpi_id, scope, label, day, n, s, k, d, lo, hi, bins, above in zip(*columns, strict=True):
                found[(kpi_id, scope)][day] = Agg(n, s, k, d, lo, hi, Counter(orjson.loads(bins)) if bins
                                                  else Counter(), above)
                if label:
                    labels[kpi_id][scope] = label
        self._days = found
        return found

    def scopes(self, kpi_ids: Sequence[str]) -> dict[str, dict[str, str]]:
        """KPI id -> {scope: label} of the scopes with a label (districts, groups) in the days read."""
        self._load()
        return {kpi_id: dict(self._labels.get(kpi_id, {})) for kpi_id in kpi_ids}

    def days(self, wanted: Sequence[tuple[Kpi, str]], first: date, last: date) -> _Series:
        """(KPI id, scope) -> {local date: Agg} for the days first..last (within those read) that hold data."""
        loaded = self._load()
        found: _Series = {}
        for kpi, scope in wanted:
            series = loaded.get((kpi.id, scope))
            if series:
                found[(kpi.id, scope)] = {day: agg for day, agg in series.items() if first <= day <= last}
        return found

    def hours(self, wanted: Sequence[tuple[Kpi, str]], day: date) -> dict[tuple[str, str], dict[int, Agg]]:
        """(KPI id, scope) -> {local hour: Agg} of one day (`above` is already the hour's flag)."""
        found: dict[tuple[str, str], dict[int, Agg]] = {}
        path = kpi_day_dir(self.root, day) / HOURS_FILE
        if not path.is_file() or not wanted:
            return found
        pairs = {(kpi.id, scope) for kpi, scope in wanted}
        try:
            rows = self._query("SELECT kpi, scope, hour, n, s, k, d, lo, hi, bins, above FROM read_parquet([$FILES])",
                               [path], [])
        except duckdb.Error as error:
            log.warning("KPI archive %s not read: %s", path, error)
            return found
        for kpi_id, scope, hour, *numbers in rows:
            if (kpi_id, scope) in pairs:
                found.setdefault((kpi_id, scope), {})[int(hour)] = _agg(*numbers)
        return found


class KpiSources(RollupReader):
    """A RollupReader that fills in, per KPI and day, what Redis does not hold from the archive's aggregates,
    and remembers which source answered each day (`sources`)."""

    def __init__(self, store: Store, zone: ZoneInfo, archive: ArchiveKpiReader | None) -> None:
        super().__init__(store, zone)
        self.archive = archive
        self.answered: dict[str, dict[date, str]] = defaultdict(dict)

    def scopes(self, kpi_ids: Sequence[str]) -> dict[str, dict[str, str]]:
        live = super().scopes(kpi_ids)
        if self.archive is None:
            return live
        archived = self.archive.scopes(kpi_ids)
        return {kpi_id: {**archived.get(kpi_id, {}), **live.get(kpi_id, {})} for kpi_id in kpi_ids}

    def days(self, wanted: Sequence[tuple[Kpi, str]], first: date, last: date) -> _Series:
        live = super().days(wanted, first, last)
        if self.archive is None:
            for (kpi_id, _), series in live.items():
                self.answered[kpi_id].update(dict.fromkeys(series, ROLLUPS))
            return live
        archived = self.archive.days(wanted, first, last)
        by_kpi: dict[str, list[str]] = defaultdict(list)
        for kpi, scope in wanted:
            by_kpi[kpi.id].append(scope)
        merged: _Series = {}
        for kpi_id, scopes in by_kpi.items():
            decider = CITY if CITY in scopes else scopes[0]
            ours, theirs = live.get((kpi_id, decider), {}), archived.get((kpi_id, decider), {})
            choice = {day: ARCHIVE if agg.n > (ours[day].n if day in ours else 0) else ROLLUPS
                      for day, agg in theirs.items()}
            choice.update({day: ROLLUPS for day in ours if day not in choice})
            self.answered[kpi_id].update(choice)
            for scope in scopes:
                series = {day: agg for day, agg in live.get((kpi_id, scope), {}).items() if choice.get(day) == ROLLUPS}
                series.update({day: agg for day, agg in archived.get((kpi_id, scope), {}).items()
                               if choice.get(day) == ARCHIVE})
                if series:
                    merged[(kpi_id, scope)] = series
        return merged

    def hours(self, wanted: Sequence[tuple[Kpi, str]], day: date) -> dict[tuple[str, str], dict[int, Agg]]:
        live = super().hours(wanted, day)
        if self.archive is None:
            return live
        missing = [(kpi, scope) for kpi, scope in wanted if not live.get((kpi.id, CITY))]
        if missing:
            live.update(self.archive.hours(missing, day))
        return live

    def sources(self, period: Period) -> dict[str, dict[str, int]]:
        """KPI id -> {source: days of the period it answered}, for the KPIs read so far."""
        counted: dict[str, dict[str, int]] = {}
        for kpi_id, days in self.answered.items():
            per_source: dict[str, int] = defaultdict(int)
            for day, source in days.items():
                if period.contains(day):
                    per_source[source] += 1
            counted[kpi_id] = dict(per_source)
        return counted


def archive_folder(settings: Settings) -> Path | None:
    """The city's archive folder (archive.yaml, else IOC_ARCHIVE_DIR, else the data folder); None, with a
    warning, when archive.yaml does not load: a report then comes from Redis alone rather than not at all."""
    try:
        return load_archive_settings(settings.directory).directory()
    except (ValueError, OSError) as error:
        log.warning("KPI reports read Redis rollups only: %s", error)
        return None


def kpi_reader(store: Store, zone: ZoneInfo, archive_root: Path | None, first: date, last: date) -> KpiSources:
    """The report's reader: Redis rollups, and the archive's KPI aggregates when the archive holds any."""
    archive = None
    if archive_root is not None and (Path(archive_root) / KPI_KIND).is_dir():
        archive = ArchiveKpiReader(archive_root, first, last)
    return KpiSources(store, zone, archive)
