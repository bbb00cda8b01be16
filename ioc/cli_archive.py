"""`ioc archive` (copy the city's history from Redis to Parquet files) and `ioc history` (ask it any period)."""

from __future__ import annotations

import argparse
import contextlib
import csv
import json
import sys
import threading
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from ioc.archive.files import KINDS

# a spreadsheet runs a cell that starts with one of these as a formula: exported text must stay text
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _archive_settings(args: argparse.Namespace) -> tuple[Any, Any, Path]:
    """(city settings, archive settings, archive folder): --folder wins over archive.yaml and the default."""
    from ioc.archive import load_archive_settings
    from ioc.config import load_settings

    settings = load_settings(args.config)
    archive = load_archive_settings(settings.directory)
    return settings, archive, Path(args.folder) if args.folder else archive.directory()


def cmd_archive(args: argparse.Namespace) -> int:
    if getattr(args, "action", None) == "compact":
        return cmd_compact(args)
    from ioc.archive import Archiver
    from ioc.cli_city import running_city_store

    settings, archive, folder = _archive_settings(args)
    store, handle = running_city_store(settings, "the archive is copied from the IOC's Redis")
    from ioc.kpis.archive_rollups import daily_compaction

    archiver = Archiver(store.redis, store.keys, folder, after_round=daily_compaction(folder, settings))
    try:
        if args.once:
            done = archiver.archive_once()
            print(json.dumps({"folder": str(folder), "entries": done.entries, "rows": done.rows,
                              "files": done.files, "missed": done.missed}))
            return 0
        print(f"archive: {folder}, a round every {archive.interval:g} s (Ctrl-C stops)", flush=True)
        with contextlib.suppress(KeyboardInterrupt):
            archiver.run(threading.Event(), interval=archive.interval, retention=archive.retention.days())
        return 0
    finally:
        handle.close()


def cmd_compact(args: argparse.Namespace) -> int:
    """Roll up each finished day of archived observations into KPI aggregates (needs no Redis)."""
    from zoneinfo import ZoneInfo

    from ioc.kpis.archive_rollups import compact_kpis
    from ioc.kpis.catalogue import load_catalogue
    from ioc.model import utcnow

    settings, _, folder = _archive_settings(args)
    days = compact_kpis(folder, load_catalogue(settings), ZoneInfo(settings.city.timezone), utcnow())
    print(json.dumps({"folder": str(folder), "days": len(days),
                      "first": days[0].isoformat() if days else None, "last": days[-1].isoformat() if days else None}))
    return 0


def parse_bound(text: str, *, end: bool = False) -> datetime:
    """An ISO date or date-time (UTC when it names no offset); a bare date as `--to` includes that day."""
    from ioc.model import from_iso

    try:
        moment = from_iso(text.strip())
    except ValueError:
        raise SystemExit(f"error: {text!r} is no ISO date or date-time (2026-03-01 or 2026-03-01T08:00)") from None
    assert moment is not None
    return moment + timedelta(days=1) if end and len(text.strip()) == 10 else moment


def cmd_history(args: argparse.Namespace) -> int:
    from ioc.archive import history

    _, _, folder = _archive_settings(args)
    rows = history(folder, args.kind, start=parse_bound(args.start), end=parse_bound(args.end, end=True),
                   feed=args.feed, entity=args.entity, limit=args.limit)
    if args.format == "json":
        json.dump(rows, sys.stdout, ensure_ascii=False, indent=1)
        sys.stdout.write("\n")
        return 0
    writer = csv.writer(sys.stdout)
    if rows:
        writer.writerow(list(rows[0]))
    for row in rows:
        writer.writerow([_cell(value) for value in row.values()])
    return 0


def _cell(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value


def register(subparsers: argparse._SubParsersAction) -> None:
    archive = subparsers.add_parser("archive", help="copy the city's history from Redis to Parquet files")
    archive.add_argument("action", nargs="?", choices=["compact"],
                         help="compact: roll up finished days of observations into KPI aggregates for reports")
    archive.add_argument("--once", action="store_true", help="one round (catch up and stop), then print it")
    archive.add_argument("--folder", help="the archive folder (default: archive.yaml, else IOC_ARCHIVE_DIR)")
    archive.set_defaults(func=cmd_archive)
    ask = subparsers.add_parser("history", help="archived observations, entities, events or alerts of a period")
    ask.add_argument("--feed", help="one feed (default: every feed)")
    ask.add_argument("--from", dest="start", required=True, help="ISO date or date-time, UTC unless it says")
    ask.add_argument("--to", dest="end", required=True, help="ISO date-time (excluded) or date (included)")
    ask.add_argument("--entity", help="one entity id (event id, alert id for those kinds)")
    ask.add_argument("--kind", choices=KINDS, default="observations")
    ask.add_argument("--format", choices=("csv", "json"), default="csv")
    ask.add_argument("--limit", type=int, default=100_000)
    ask.add_argument("--folder", help="the archive folder (default: archive.yaml, else IOC_ARCHIVE_DIR)")
    ask.set_defaults(func=cmd_history)
