"""The `ioc` command line: demo, simulate, serve, adapters (list, run, test)."""

from __future__ import annotations

import argparse
import importlib
import json
import logging
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

# Modules that add subcommands: each has `register(subparsers)`. One line per module.
COMMAND_MODULES: list[str] = [
    "ioc.cli_alerts",
    "ioc.cli_users",
    "ioc.cli_reports",
]

DEFAULT_PORT = 8050
DEFAULT_SIM_PORT = 8061


def _print_json(data: Any) -> None:
    json.dump(data, sys.stdout, ensure_ascii=False, indent=2, default=str)
    sys.stdout.write("\n")


def _settings(args: argparse.Namespace):  # noqa: ANN202 - returns ioc.config.Settings
    from ioc.config import load_settings

    return load_settings(args.config)


# --- adapters -------------------------------------------------------------------------------------------


def cmd_adapters_list(args: argparse.Namespace) -> int:
    settings = _settings(args)
    rows = [
        {
            "name": f.name,
            "agency": f.agency,
            "agency_name": f.agency_name.model_dump(),
            "sector": f.sector,
            "reader": f.reader,
            "url": f.url,
            "interval": f.interval,
            "enabled": f.enabled,
        }
        for f in settings.feeds
    ]
    if args.json:
        _print_json(rows)
        return 0
    width = max((len(r["name"]) for r in rows), default=4)
    for row in rows:
        print(f"{row['name']:<{width}}  {row['sector']:<14} {row['reader']:<13} every {row['interval']:g}s  "
              f"{row['agency_name']['en']}")
    print(f"{len(rows)} feeds, {len({r['sector'] for r in rows})} sectors")
    return 0


def cmd_adapters_test(args: argparse.Namespace) -> int:
    """Parse a saved payload with a reader and print the normalized records; needs no Redis."""
    from data_adapters.base import FeedContext, PayloadError, get_reader
    from ioc.areas import area_index
    from ioc.runner import feed_context, place_in_areas

    try:
        reader = get_reader(args.reader)
    except KeyError as exc:
        print(f"error: {exc.args[0]}", file=sys.stderr)
        return 2
    path = Path(args.file)
    try:
        payload = path.read_bytes()
    except OSError as exc:
        print(f"error: cannot read {path}: {exc.strerror}", file=sys.stderr)
        return 2
    settings = _settings(args)
    context = (
        feed_context(settings.feed(args.feed), settings.city.id)
        if args.feed else FeedContext.for_test(args.reader, settings.city.id)
    )
    if args.mapping:
        # a mapping tried out before the feed is declared (csv, json and mqtt-json readers need one)
        import dataclasses

        import yaml

        try:
            mapping = yaml.safe_load(Path(args.mapping).read_text(encoding="utf-8"))
            reader.check_mapping(mapping)
        except (OSError, yaml.YAMLError, ValueError, AttributeError) as exc:
            print(f"error: {args.mapping}: {exc}", file=sys.stderr)
            return 2
        context = dataclasses.replace(context, mapping=mapping)
    try:
        batch = reader.parse(payload, context)
    except PayloadError as exc:
        print(f"error: {path}: payload refused by reader '{args.reader}': {exc}", file=sys.stderr)
        return 1
    place_in_areas(batch, area_index(settings.city))
    records = batch.to_records()
    if args.json:
        _print_json(records)
    else:
        for record in records:
            print(json.dumps(record, ensure_ascii=False, default=str))
        print(f"{len(batch.entities)} entities, {len(batch.observations)} observations, "
              f"{len(batch.events)} events", file=sys.stderr)
    return 0


def cmd_adapters_new(args: argparse.Namespace) -> int:
    from ioc.scaffold import new_adapter

    try:
        made = new_adapter(args.name)
    except (ValueError, FileExistsError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(f"reader '{made.reader_id}': {made.module}\ntest: {made.test}\nsample payload: {made.fixture}")
    print("next: replace the sample with a real payload of the agency, adapt parse(), run its test, then "
          f"declare the feed in agencies.yaml with reader: {made.reader_id}")
    return 0


def cmd_adapters_run(args: argparse.Namespace) -> int:
    from ioc.areas import area_index
    from ioc.redis_conn import connect
    from ioc.rules import RuleEngine
    from ioc.runner import default_listeners, make_http_client, poll_feed
    from ioc.store import Store

    settings = _settings(args)
    try:
        feed = settings.feed(args.name)
    except KeyError:
        print(f"error: no feed named '{args.name}' in {settings.directory / 'agencies.yaml'}", file=sys.stderr)
        return 2
    handle = connect()
    print(f"redis: {handle.description}", file=sys.stderr)
    store = Store(handle.client, settings.city.id)
    with make_http_client(feed.timeout) as http:
        outcome = poll_feed(
            feed, store=store, http=http, areas=area_index(settings.city),
            rules=RuleEngine(settings, store), city=settings.city.id,
            listeners=default_listeners(settings, store),
        )
    _print_json(outcome.to_dict())
    handle.close()
    return 0 if outcome.ok else 1


# --- simulator, dashboard, demo -----------------------------------------------------------------------------


def cmd_simulate(args: argparse.Namespace) -> int:
    from ioc.simulator.server import serve_forever

    print(f"simulator: http://{args.host}:{args.port}/ (seed {args.seed}, speed x{args.speed:g})")
    serve_forever(args.host, args.port, args.seed, args.speed, mqtt_url=args.mqtt_url or None)
    return 0


def _dashboard(settings, handle, host: str, port: int, *, demo: bool = False) -> None:  # noqa: ANN001
    from ioc.cli_users import seed_demo_users, seed_first_admin
    from ioc.store import Store
    from ioc.web import create_app

    # the demo serves plain http on loopback, where a Secure cookie would never come back
    app = create_app(Store(handle.client, settings.city.id), settings, redis_kind=handle.kind,
                     cookie_secure=False if demo else None)
    security = app.server.extensions["ioc_security"]
    if demo:
        for name, role, password in seed_demo_users(security.users):
            print(f"demo user: {name} ({role}) password: {password}", flush=True)
    elif (first := seed_first_admin(security.users)) is not None:
        print(f"first administrator: {first[0]} one-time password: {first[1]} (shown only now)", flush=True)
    if not security.cookie_secure:
        print("session cookies: not Secure (plain http); serve behind HTTPS in production", flush=True)
    print(f"control room: http://{host}:{port}/ (sign in at /login)", flush=True)
    app.run(host=host, port=port, debug=False)


def cmd_serve(args: argparse.Namespace) -> int:
    from ioc.redis_conn import connect

    settings = _settings(args)
    handle = connect()
    print(f"redis: {handle.description}", flush=True)
    _dashboard(settings, handle, args.host, args.port)
    return 0


def _demo_history(settings, handle, args: argparse.Namespace) -> None:  # noqa: ANN001
    """KPI history for the reports, before any live poll: the rollups skip observations older than one
    already counted, so history must land first."""
    from ioc.kpis.backfill import backfill
    from ioc.store import Store

    print(f"history: {args.history_days} days of KPI history from the simulator (about a minute a month)...",
          flush=True)
    result = backfill(Store(handle.client, settings.city.id), settings, days=args.history_days, seed=args.seed,
                      workers=min(2, os.cpu_count() or 1))
    print(f"history: {result.records:,} records rolled up in {result.seconds:.0f} s", flush=True)


def cmd_demo(args: argparse.Namespace) -> int:
    """Simulator, adapters and dashboard in one process."""
    from ioc.redis_conn import connect
    from ioc.runner import FeedScheduler
    from ioc.simulator.server import start as start_simulator
    from ioc.store import Store

    # The demo's feeds point at its own simulator unless the caller already chose a feed host.
    os.environ.setdefault("IOC_SIM_URL", f"http://127.0.0.1:{args.sim_port}")
    settings = _settings(args)
    handle = connect()
    print(f"redis: {handle.description}", flush=True)
    if args.history_days:
        _demo_history(settings, handle, args)
    # The simulated sensors publish to the broker the MQTT feeds subscribe to; with no broker there, both
    # sides fall back to HTTP (the feeds' fallback_url).
    simulator = start_simulator(
        host="127.0.0.1", port=args.sim_port, seed=args.seed, speed=args.speed, mqtt_url=args.mqtt_url or None
    )
    print(f"simulator: {simulator.url} (seed {args.seed}, speed x{args.speed:g})", flush=True)
    scheduler = FeedScheduler(settings, Store(handle.client, settings.city.id))
    scheduler.start()
    print(f"adapters: {len(scheduler.feeds)} feeds polling", flush=True)
    try:
        _dashboard(settings, handle, args.host, args.port, demo=True)
    finally:
        scheduler.stop()
        simulator.stop()
        handle.close()
    return 0


# --- parser --------------------------------------------------------------------------------------------------


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="ioc", description="City Intelligent Operations Center")
    parser.add_argument("--config", help="city configuration folder (default: IOC_CONFIG_DIR or config/danang)")
    parser.add_argument("-v", "--verbose", action="store_true", help="log more")
    sub = parser.add_subparsers(dest="command", required=True)

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
    demo.set_defaults(func=cmd_demo)

    simulate = sub.add_parser("simulate", help="serve the demo agencies' feeds on localhost")
    simulate.add_argument("--host", default="127.0.0.1")
    simulate.add_argument("--port", type=int, default=DEFAULT_SIM_PORT)
    simulate.add_argument("--seed", type=int, default=42)
    simulate.add_argument("--speed", type=float, default=1.0)
    simulate.add_argument("--mqtt-url", default=os.environ.get("IOC_MQTT_URL", ""),
                          help="also publish the sensors' messages to this broker (default IOC_MQTT_URL)")
    simulate.set_defaults(func=cmd_simulate)

    serve = sub.add_parser("serve", help="the dashboard alone, on the Redis at IOC_REDIS_URL")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=DEFAULT_PORT)
    serve.set_defaults(func=cmd_serve)

    adapters = sub.add_parser("adapters", help="the agency feeds and their readers")
    adapters_sub = adapters.add_subparsers(dest="adapters_command", required=True)
    listing = adapters_sub.add_parser("list", help="the configured feeds")
    listing.add_argument("--json", action="store_true")
    listing.set_defaults(func=cmd_adapters_list)
    run = adapters_sub.add_parser("run", help="poll one feed")
    run.add_argument("name")
    run.add_argument("--once", action="store_true", required=True, help="poll once and exit")
    run.set_defaults(func=cmd_adapters_run)
    new = adapters_sub.add_parser("new", help="write a bespoke agency's reader, sample and passing test")
    new.add_argument("name", help="module name in lower_snake, e.g. seaport_vessels")
    new.set_defaults(func=cmd_adapters_new)
    test = adapters_sub.add_parser("test", help="parse a saved payload with a reader (no Redis needed)")
    test.add_argument("reader")
    test.add_argument("--file", required=True)
    test.add_argument("--feed", help="parse as this configured feed (its mapping and ids)")
    test.add_argument("--mapping", help="a YAML file holding a field mapping to try (csv, json, mqtt-json)")
    test.add_argument("--json", action="store_true")
    test.set_defaults(func=cmd_adapters_test)
    for module_name in COMMAND_MODULES:
        importlib.import_module(module_name).register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    from ioc.config import ConfigError

    try:
        return int(args.func(args) or 0)
    except ConfigError as exc:
        print(f"configuration error:\n{exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
