"""`ioc demo`, `ioc simulate` and `ioc backfill`: the commands the simulator adds to the `ioc` command line.

ioc/cli.py loads this module by name (its SIMULATOR_COMMANDS table), so the product never imports it.
"""

from __future__ import annotations

import argparse
import os
import sys

from ioc.cli import DEFAULT_PORT

DEFAULT_SIM_PORT = 8061
DEFAULT_WORKERS = 2


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def cmd_demo(args: argparse.Namespace) -> int:
    if args.cities:
        from simulator.cities import run_cities

        return run_cities(args)
    from simulator.demo import cmd_demo as run_demo

    return run_demo(args)


def cmd_simulate(args: argparse.Namespace) -> int:
    from simulator.server import serve_forever

    print(f"simulator: http://{args.host}:{args.port}/ (seed {args.seed}, speed x{args.speed:g})")
    serve_forever(args.host, args.port, args.seed, args.speed, mqtt_url=args.mqtt_url or None)
    return 0


def cmd_backfill(args: argparse.Namespace) -> int:
    from ioc.config import load_settings
    from ioc.redis_conn import connect
    from ioc.store import Store
    from simulator.backfill import backfill

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


def register(sub: argparse._SubParsersAction) -> None:
    demo = sub.add_parser("demo", help="simulator, adapters and dashboard in one process")
    demo.add_argument("--host", default="127.0.0.1")
    demo.add_argument("--port", type=int, default=DEFAULT_PORT)
    demo.add_argument("--sim-port", type=int, default=DEFAULT_SIM_PORT)
    demo.add_argument("--seed", type=int, default=42)
    demo.add_argument("--speed", type=float, default=1.0, help="simulated seconds per real second")
    demo.add_argument("--history-days", type=int, default=0, metavar="N",
                      help="first fill N days of KPI history for the reports (e.g. 90; takes a few minutes)")
    demo.add_argument("--mqtt-url", default=os.environ.get("IOC_MQTT_URL", "mqtt://127.0.0.1:1883"),
                      help="broker the simulated sensors publish to ('' for none); default IOC_MQTT_URL")
    demo.add_argument("--cities", default="", metavar="A,B",
                      help="run several cities (e.g. danang,hue), each its own IOC on --port, --port+1, ..., "
                           "each reading the others on its regional view (/regional)")
    demo.set_defaults(func=cmd_demo)

    simulate = sub.add_parser("simulate", help="serve the demo agencies' feeds on localhost")
    simulate.add_argument("--host", default="127.0.0.1")
    simulate.add_argument("--port", type=int, default=DEFAULT_SIM_PORT)
    simulate.add_argument("--seed", type=int, default=42)
    simulate.add_argument("--speed", type=float, default=1.0)
    simulate.add_argument("--mqtt-url", default=os.environ.get("IOC_MQTT_URL", ""),
                          help="also publish the sensors' messages to this broker (default IOC_MQTT_URL)")
    simulate.set_defaults(func=cmd_simulate)

    backfill = sub.add_parser("backfill", help="fill N days of KPI history from the seeded simulator (no HTTP)")
    backfill.add_argument("--days", type=_positive, required=True, help="days of history before today")
    backfill.add_argument("--seed", type=int, default=42, help="the simulated city's seed (same seed, same history)")
    backfill.add_argument("--workers", type=_positive, default=None,
                          help=f"processes sharing the feeds (default {DEFAULT_WORKERS}, or 1 on one core)")
    backfill.set_defaults(func=cmd_backfill)
