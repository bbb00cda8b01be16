"""`ioc backfill` (KPI history from the simulator) and `ioc report` (a period's KPI report as a file, for cron)."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

DEFAULT_WORKERS = 2


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def cmd_backfill(args: argparse.Namespace) -> int:
    from ioc.config import load_settings
    from ioc.kpis.backfill import backfill
    from ioc.redis_conn import connect
    from ioc.store import Store

    settings = load_settings(args.config)
    handle = connect()
    print(f"redis: {handle.description}", flush=True)
    if handle.kind == "in-process":
        print("warning: an in-process Redis ends with this command; set IOC_REDIS_URL to keep the history",
              file=sys.stderr)
    workers = args.workers or min(DEFAULT_WORKERS, os.cpu_count() or 1)
    print(f"backfill: {args.days} days from the simulator (seed {args.seed}, {workers} processes)", flush=True)
    result = backfill(Store(handle.client, settings.city.id), settings, days=args.days, seed=args.seed,
                      progress=lambda line: print(line, flush=True), workers=workers)
    print(
        f"backfilled {result.start:%Y-%m-%d %H:%M} .. {result.end:%Y-%m-%d %H:%M} ({settings.city.timezone}): "
        f"{len(result.feeds)} feeds, {result.samples:,} payloads parsed, {result.records:,} records rolled up, "
        f"{result.outage_hours:,} feed-hours of simulated outage, in {result.seconds:.1f} s"
        + (f" (replaced {result.removed_keys:,} rollup keys)" if result.removed_keys else ""),
        flush=True,
    )
    if result.skipped:
        print(f"no simulator for: {', '.join(result.skipped)} (no history for them)", file=sys.stderr)
    handle.close()
    return 0


def cmd_report(args: argparse.Namespace) -> int:
    from ioc.config import load_settings
    from ioc.kpis.periods import PeriodError, parse_period
    from ioc.kpis.report import compute_report
    from ioc.redis_conn import connect
    from ioc.reports import write_report
    from ioc.store import Store

    settings = load_settings(args.config)
    try:
        period = parse_period(args.period)
    except PeriodError as exc:
        print(f"error: --period {exc}", file=sys.stderr)
        return 2
    handle = connect()
    print(f"redis: {handle.description}", file=sys.stderr)
    store = Store(handle.client, settings.city.id)
    try:
        report = compute_report(store, settings, period, district=args.district, sector=args.sector, lang=args.lang)
        if args.kpi and not any(r.kpi.id == args.kpi for r in report.results):
            raise ValueError(f"--kpi: no KPI '{args.kpi}' in this report")
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        handle.close()
        return 2
    content = write_report(report, settings, args.format, lang=args.lang, kpi_id=args.kpi)
    output = Path(args.output)
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_bytes(content)
    counts = report.counts()
    print(f"{output}: {args.format.upper()} report of {period.label}, {len(report.results)} KPIs "
          f"({counts['met']} met, {counts['near']} near, {counts['missed']} missed, {counts['no_data']} no data), "
          f"{len(content):,} bytes")
    handle.close()
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    backfill = sub.add_parser("backfill", help="fill N days of KPI history from the seeded simulator (no HTTP)")
    backfill.add_argument("--days", type=_positive, required=True, help="days of history before today")
    backfill.add_argument("--seed", type=int, default=42, help="the simulated city's seed (same seed, same history)")
    backfill.add_argument("--workers", type=_positive, default=None,
                          help=f"processes sharing the feeds (default {DEFAULT_WORKERS}, or 1 on one core)")
    backfill.set_defaults(func=cmd_backfill)

    report = sub.add_parser("report", help="write a period's KPI report as CSV, XLSX or PDF (for cron)")
    report.add_argument("--period", required=True,
                        help="2026-11 (month), 2026-W47 (ISO week), 2026-11-20 (day) or 2026-11-01..2026-11-15")
    report.add_argument("--district", help="one area of the city (default: the whole city)")
    report.add_argument("--sector", help="one sector (default: all)")
    report.add_argument("--format", required=True, choices=("csv", "xlsx", "pdf"))
    report.add_argument("-o", "--output", required=True, help="the file to write")
    report.add_argument("--lang", choices=("vi", "en"), default="vi")
    report.add_argument("--kpi", help="the KPI whose area league table (and map) the report ends with")
    report.set_defaults(func=cmd_report)
