"""Archive files: `<kind>/day=YYYY-MM-DD/feed=<feed>/part-<first id>_<last id>.parquet`, written atomically."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterable
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

_TIME = pa.timestamp("s", tz="UTC")  # to_iso writes whole seconds
SCHEMAS: dict[str, pa.Schema] = {
    "observations": pa.schema([
        ("sid", pa.string()), ("n", pa.int32()), ("feed", pa.string()), ("entity", pa.string()),
        ("metric", pa.string()), ("time", _TIME), ("value", pa.float64()), ("text", pa.string()),
        ("unit", pa.string()), ("ingested_at", _TIME),
    ]),
    "entities": pa.schema([
        ("sid", pa.string()), ("n", pa.int32()), ("feed", pa.string()), ("entity", pa.string()),
        ("lon", pa.float64()), ("lat", pa.float64()), ("observed_at", _TIME), ("ingested_at", _TIME),
        ("record", pa.string()),
    ]),
    "events": pa.schema([
        ("sid", pa.string()), ("n", pa.int32()), ("feed", pa.string()), ("event", pa.string()),
        ("expires", _TIME), ("ingested_at", _TIME), ("record", pa.string()),
    ]),
    "alerts": pa.schema([
        ("sid", pa.string()), ("n", pa.int32()), ("feed", pa.string()), ("alert", pa.string()), ("at", _TIME),
        ("actor", pa.string()), ("action", pa.string()), ("from", pa.string()), ("to", pa.string()),
        ("note", pa.string()),
    ]),
}
KINDS: tuple[str, ...] = tuple(SCHEMAS)
# the column a period is asked of, per kind
TIME_COLUMN = {"observations": "time", "entities": "ingested_at", "events": "ingested_at", "alerts": "at"}
# sorted so that a station's readings sit together: dictionary and run-length encoding then shrink them most
_SORT = {"observations": [("entity", "ascending"), ("metric", "ascending"), ("time", "ascending")]}


def stream_order(sid: str) -> tuple[int, int]:
    """A stream id as a number pair: ids compare by time then sequence, not as text."""
    ms, _, seq = sid.partition("-")
    return int(ms), int(seq or 0)


def partition_dir(root: Path, kind: str, day: str, feed: str) -> Path:
    return root / kind / f"day={day}" / f"feed={_safe(feed)}"


def _safe(name: str) -> str:
    # a feed name is a configuration slug; never let one climb out of its folder
    return name.replace("/", "_").replace("\\", "_").replace("..", "_") or "_"


def last_archived(folder: Path) -> tuple[int, int]:
    """The highest stream id the partition's files hold ((0, 0) for none): ids up to it are archived."""
    highest = (0, 0)
    if folder.is_dir():
        for name in os.listdir(folder):
            if name.startswith("part-") and name.endswith(".parquet"):
                highest = max(highest, stream_order(name[5:-8].partition("_")[2]))
    return highest


def write_partition(folder: Path, kind: str, columns: dict[str, list[Any]]) -> Path:
    """One file of rows (stream order), named by its first and last stream id, so a re-delivered range
    rewrites the same name; written beside and renamed, so a reader never sees half a file."""
    schema = SCHEMAS[kind]
    # times travel as the ISO text of the stream ('' for none); Arrow parses a whole column at C speed
    arrays = [
        pa.array([t or None for t in columns[f.name]], pa.string()).cast(f.type) if f.type == _TIME
        else pa.array(columns[f.name], f.type)
        for f in schema
    ]
    table = pa.Table.from_arrays(arrays, schema=schema)
    if kind in _SORT:
        table = table.sort_by(_SORT[kind])
    sids = columns["sid"]
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"part-{sids[0]}_{sids[-1]}.parquet"
    partial = path.with_suffix(".parquet.partial")
    pq.write_table(table, partial, compression="zstd", use_dictionary=True)
    os.replace(partial, path)
    return path


def files_of(root: Path, kind: str, first_day: date, last_day: date, feed: str | None = None) -> list[Path]:
    """The files of a kind whose day lies in [first_day, last_day], of one feed or all: found by folder name,
    so a query over a week opens a week of folders, not the whole archive."""
    found: list[Path] = []
    base = root / kind
    if not base.is_dir():
        return found
    for day_dir in sorted(base.glob("day=*")):
        day = _day_of(day_dir.name)
        if day is None or not first_day <= day <= last_day:
            continue
        feeds = [day_dir / f"feed={_safe(feed)}"] if feed else sorted(day_dir.glob("feed=*"))
        for feed_dir in feeds:
            found.extend(_current(feed_dir)[0])
    return found


def _range(path: Path) -> tuple[tuple[int, int], tuple[int, int]]:
    first, _, last = path.name[5:-8].partition("_")
    return stream_order(first), stream_order(last or first)


def _current(folder: Path) -> tuple[list[Path], list[Path]]:
    """(the partition's files, the files a merged file covers): a merge that stopped before deleting what it
    merged leaves them behind, and they must not be read twice."""
    ranges = sorted(((_range(path), path) for path in folder.glob("part-*.parquet")),
                    key=lambda item: (item[0][0], (-item[0][1][0], -item[0][1][1])))
    kept: list[Path] = []
    covered: list[Path] = []
    reach = (-1, -1)  # the furthest last id of the files before, in order of first id (the widest first)
    for (_, last), path in ranges:
        (covered if last <= reach else kept).append(path)
        reach = max(reach, last)
    return kept, covered


def compact(root: Path, before: date) -> list[Path]:
    """Merge each partition of a day before `before` (a day that is over) into one file: a round writes a small
    file per feed, and each file carries its own schema and statistics. Returns the merged files."""
    merged: list[Path] = []
    for kind in KINDS:
        for day_dir in sorted((root / kind).glob("day=*")):
            day = _day_of(day_dir.name)
            if day is None or day >= before:
                continue
            for folder in sorted(day_dir.glob("feed=*")):
                files, covered = _current(folder)
                for path in covered:
                    path.unlink()
                if len(files) < 2:
                    continue
                table = pa.concat_tables([pq.read_table(path, schema=SCHEMAS[kind]) for path in files])
                if kind in _SORT:
                    table = table.sort_by(_SORT[kind])
                first, last = min(_range(p)[0] for p in files), max(_range(p)[1] for p in files)
                path = folder / f"part-{first[0]}-{first[1]}_{last[0]}-{last[1]}.parquet"
                partial = path.with_suffix(".parquet.partial")
                pq.write_table(table, partial, compression="zstd", use_dictionary=True)
                os.replace(partial, path)  # from here the merged file supersedes the others, even unremoved
                for old in files:
                    if old != path:
                        old.unlink()
                merged.append(path)
    return merged


def apply_retention(root: Path, days: dict[str, int], today: date) -> list[Path]:
    """Delete every day partition older than its kind's retention; returns the folders deleted."""
    removed: list[Path] = []
    for kind, keep in days.items():
        oldest_kept = today - timedelta(days=keep - 1)
        for day_dir in sorted((root / kind).glob("day=*")):
            day = _day_of(day_dir.name)
            if day is not None and day < oldest_kept:
                shutil.rmtree(day_dir)
                removed.append(day_dir)
    return removed


def disk_bytes(root: Path, kinds: Iterable[str] = KINDS) -> int:
    return sum(path.stat().st_size for kind in kinds for path in (root / kind).rglob("*.parquet"))


def _day_of(name: str) -> date | None:
    try:
        return date.fromisoformat(name.removeprefix("day="))
    except ValueError:
        return None
