"""The `ioc` command line: serve, adapters (list, run, test), and the commands other modules add."""

from __future__ import annotations

import argparse
import importlib
import json
import logging
import os
import signal
import sys
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

# Modules that add subcommands: each has `register(subparsers)`. One line per module.
COMMAND_MODULES: list[str] = [
    "ioc.cli_alerts",
    "ioc.cli_users",
    "ioc.cli_screens",
    "ioc.cli_peers",
    "ioc.cli_reports",
    "ioc.cli_notifications",
    "ioc.cli_archive",
    "ioc.cli_worker",
]

# Commands the demo's simulator package provides: command -> the module whose `register(subparsers)` adds
# it. The simulator (top-level `simulator/`) is for the demo and benchmarks, not part of the product, so it
# is loaded by this name only, never imported (tests/test_layering.py fails on an import of it from ioc/,
# layouts/ or data_adapters/). Without the package every other command still runs and these say what is
# missing.
SIMULATOR_COMMANDS: dict[str, str] = {
    "demo": "simulator.cli",
    "simulate": "simulator.cli",
    "backfill": "simulator.cli",
}

DEFAULT_PORT = 8050


def _print_json(data: Any) -> None:
    json.dump(data, sys.stdout, ensure_ascii=False, indent=2, default=str)
    sys.stdout.write("\n")


def _settings(args: argparse.Namespace):  # noqa: ANN202 - returns ioc.config.Settings
    from ioc.config import load_settings

    return load_settings(args.config)


# --- adapters -------------------------------------------------------------------------------------------


def cmd_adapters_list(args: argparse.Namespace) -> int:
    from ioc.credentials import shown_url

    settings = _settings(args)
    rows = [
        {
            "name": f.name,
            "agency": f.agency,
            "agency_name": f.agency_name.model_dump(),
            "sector": f.sector,
            "reader": f.reader,
            # a key pasted into the URL (${VAR} expands at load) is masked; `auth` says only which kind
            "url": shown_url(f),
            "auth": f.auth.type if f.auth else None,
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
    from ioc.privacy import scrub_batch, scrub_text
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
    # printed as the store would keep it: a payload's personal data must not reach a terminal or a log either
    records = scrub_batch(batch).to_records()
    if args.json:
        _print_json(records)
    else:
        for record in records:
            print(json.dumps(record, ensure_ascii=False, default=str))
        print(f"{len(batch.entities)} entities, {len(batch.observations)} observations, "
              f"{len(batch.events)} events", file=sys.stderr)
    # what the reader left out or repaired, as the feeds page would say it (a reason may quote a value)
    for problem in batch.problems:
        print(f"{'refused' if problem.refused else 'repaired'}: {scrub_text(str(problem))}", file=sys.stderr)
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
    from ioc.redis_conn import connect
    from ioc.runner import poll_configured
    from ioc.store import Store

    settings = _settings(args)
    try:
        feed = settings.feed(args.name)
    except KeyError:
        print(f"error: no feed named '{args.name}' in {settings.directory / 'agencies.yaml'}", file=sys.stderr)
        return 2
    handle = connect()
    print(f"redis: {handle.description}", file=sys.stderr)
    outcome = poll_configured(feed, settings, Store(handle.client, settings.city.id))
    _print_json(outcome.to_dict())
    handle.close()
    return 0 if outcome.ok else 1


# --- dashboard ----------------------------------------------------------------------------------------------


def serve_dashboard(settings, handle, host: str, port: int, *, demo: bool = False) -> None:  # noqa: ANN001
    """The control room on `handle`'s Redis until interrupted (`ioc serve`; `ioc demo` with its demo users)."""
    from werkzeug.serving import make_server

    app = prepare_dashboard(settings, handle, host, port, demo=demo)
    # one process, a thread per request: right for a demo or a desk; `ioc serve --workers N` runs gunicorn
    server = make_server(host, port, app.server, threaded=True)
    print("serving in this process (threads); for a control room: ioc serve --workers N", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()


def prepare_dashboard(settings, handle, host: str, port: int, *, demo: bool = False):  # noqa: ANN001, ANN201
    """The dashboard app with its first users in place (demo users, or the first administrator)."""
    from ioc.cli_users import seed_demo_users, seed_first_admin
    from ioc.store import Store
    from layouts.app import create_app

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
    return app


def cmd_serve(args: argparse.Namespace) -> int:
    from ioc.redis_conn import connect

    settings = _settings(args)
    if args.workers:
        if not os.environ.get("IOC_REDIS_URL"):
            print("error: several workers share one Redis: set IOC_REDIS_URL", file=sys.stderr)
            return 2
        handle = connect()
        print(f"redis: {handle.description}", flush=True)
        prepare_dashboard(settings, handle, args.host, args.port)  # the first administrator, if none yet
        handle.close()
        # gunicorn, the production server: N worker processes on ioc.wsgi, each with its own background builder
        argv = [sys.executable, "-m", "gunicorn", "--workers", str(args.workers), "--threads", "4",
                "--bind", f"{args.host}:{args.port}", "ioc.wsgi:server"]
        env = {**os.environ, "IOC_CONFIG_DIR": str(settings.directory)}
        os.execvpe(sys.executable, argv, env)
    handle = connect()
    print(f"redis: {handle.description}", flush=True)
    serve_dashboard(settings, handle, args.host, args.port)
    return 0


# --- parser --------------------------------------------------------------------------------------------------


def _add_simulator_commands(sub: argparse._SubParsersAction) -> None:
    """The SIMULATOR_COMMANDS, from their module; a stand-in that names what is missing if it is absent."""
    for module_name in dict.fromkeys(SIMULATOR_COMMANDS.values()):
        commands = [command for command, owner in SIMULATOR_COMMANDS.items() if owner == module_name]
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as exc:
            package = module_name.partition(".")[0]
            if exc.name is None or exc.name.partition(".")[0] != package:
                raise  # the package is there but something it needs is not: a real error, shown as one
            for command in commands:
                _add_unavailable(sub, command, module_name)
            continue
        module.register(sub)
        if missing := [command for command in commands if command not in sub.choices]:
            raise RuntimeError(f"{module_name} does not add {', '.join(missing)} (see SIMULATOR_COMMANDS)")


def _add_unavailable(sub: argparse._SubParsersAction, command: str, module_name: str) -> None:
    def refuse(_args: argparse.Namespace) -> int:
        print(f"error: 'ioc {command}' comes with the demo's simulator package ({module_name}), which is not "
              "installed here; install the project from a checkout of its repository (pip install -e .)",
              file=sys.stderr)
        return 2

    # no option prefix: the real command's options are taken as plain words and ignored, so the user reads
    # what is missing rather than a usage error about an option this stand-in does not know
    stand_in = sub.add_parser(command, help=f"not available: needs the simulator package ({module_name})",
                              add_help=False, prefix_chars="\0")
    stand_in.add_argument("ignored", nargs="*")
    stand_in.set_defaults(func=refuse)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="ioc", description="City Intelligent Operations Center")
    parser.add_argument("--config", help="city configuration folder (default: IOC_CONFIG_DIR or config/danang)")
    parser.add_argument("-v", "--verbose", action="store_true", help="log more")
    sub = parser.add_subparsers(dest="command", required=True)

    _add_simulator_commands(sub)

    serve = sub.add_parser("serve", help="the dashboard alone, on the Redis at IOC_REDIS_URL")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=DEFAULT_PORT)
    serve.add_argument("--workers", type=int, default=0,
                       help="serve with gunicorn and this many worker processes (needs IOC_REDIS_URL)")
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


def _stop_on_sigterm() -> None:
    """Let SIGTERM (systemd, `kill`, a container stop) end a command as Ctrl-C does.

    Python's default for SIGTERM ends the process without running `finally` blocks or atexit handlers, so
    `ioc demo` left the redis-server it had started running, holding its data folder. Servers that manage
    signals themselves (gunicorn's arbiter, an RQ worker) install their own handlers over this one."""
    if threading.current_thread() is not threading.main_thread():
        return  # signal handlers can only be set from the main thread (a test calling main in a thread)

    def interrupt(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, interrupt)


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    from ioc.config import ConfigError

    _stop_on_sigterm()
    try:
        return int(args.func(args) or 0)
    except ConfigError as exc:
        print(f"configuration error:\n{exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
