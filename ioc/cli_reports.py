"""`ioc report`: a period's KPI report as a CSV, XLSX or PDF file, for cron."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def cmd_report(args: argparse.Namespace) -> int:
    from ioc.config import load_settings
    from ioc.kpis.exports import write_report
    from ioc.kpis.periods import PeriodError, parse_period
    from ioc.kpis.report import compute_report
    from ioc.redis_conn import connect
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
