"""Screens benchmark: control-room refreshes of 1 to 100 signed-in screens against the production server.

Run: python3 bench/screens.py [--screens 1 10 25 50 100] [--seconds 20] [--workers 4] [--entities 10000]
It starts, all on loopback and all its own: a redis-server on a free port; a writer process (city_writer.py)
that fills --entities located entities over the configured feeds and then rewrites --changes of them every
second (spread over every feed, through ioc.store.Store.write_batch, the adapters' write; --writer feeds
runs `ioc simulate` and the feed runner instead, the demo's ~750 entities); for each row a fresh gunicorn
with --workers workers on `ioc.wsgi:server`, with a temporary copy of the city configuration whose sign-in
limits are raised for the bench's own accounts (one operator account per screen, added with `ioc users add`).
A separate load process (screen_load.py) then opens the screens: each signs in with its own session, loads
/_dash-layout and /_dash-dependencies, renders the control-room page the way the browser's router does,
finds the refresh callback (an output <map>.figure driven by an Interval's n_intervals; it prints which),
and posts it at the Interval's interval (timed after --warmup s), carrying back the state the callback
returned. A screen whose previous refresh is still out when its Interval fires skips that tick (counted
as unserved): one outstanding request per screen.
Printed per row: server time (response time on loopback; the Server-Timing header too if the server sends
one) p50/p95/max, errors, unserved ticks, KB per tick, p95 as a ratio to 1 screen's, a bare GET /healthz
p95 under the same load, and the load process's own CPU. Exit 2 when the refresh callback is not found.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import io
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402
import yaml  # noqa: E402

from bench.city_writer import run_feeds, run_writer  # noqa: E402
from bench.dash_screen import percentile  # noqa: E402
from bench.screen_load import run_screens  # noqa: E402

EXIT_NOT_FOUND = 2
ROLE = "operator"  # the control-room role: what a desk or wall screen signs in as


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# --- the orchestrator -----------------------------------------------------------------------------------


def bench_config(directory: Path, screens: int) -> Path:
    """A copy of the city's configuration whose sign-in policy lets the bench's own accounts in at once."""
    from ioc.config import DEFAULT_CONFIG_DIR

    source = Path(os.environ.get("IOC_CONFIG_DIR") or DEFAULT_CONFIG_DIR)
    target = directory / source.name
    shutil.copytree(source, target)
    roles_file = target / "roles.yaml"
    roles = yaml.safe_load(roles_file.read_text(encoding="utf-8"))
    # every screen signs in from 127.0.0.1 within one window: the per-address limit is for attackers
    roles.setdefault("sign_in", {}).update(attempts_per_address=screens * 10 + 100, failures_per_account=50)
    roles_file.write_text(yaml.safe_dump(roles, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return target


def add_accounts(count: int, path: Path) -> None:
    """One operator account per screen, through `ioc users add`; the names and passwords go to `path`."""
    from ioc.cli import main as ioc

    accounts = [
        {"name": f"bench-screen-{n:03d}", "password": secrets.token_urlsafe(12)} for n in range(count)
    ]
    stdin = sys.stdin
    try:
        for account in accounts:
            sys.stdin = io.StringIO(account["password"] + "\n")
            with contextlib.redirect_stdout(io.StringIO()):
                if ioc(["users", "add", account["name"], "--role", ROLE, "--password-stdin"]) != 0:
                    raise SystemExit(f"error: could not add the bench account {account['name']}")
    finally:
        sys.stdin = stdin
    path.write_text(json.dumps(accounts))


class Processes:
    """The processes the bench starts; each (with its whole group) is ended when the bench ends, however."""

    def __init__(self, logs: Path) -> None:
        self.logs, self.running = logs, []

    def start(self, name: str, argv: list[str], env: dict[str, str], stdout: Any = None) -> subprocess.Popen:
        log = open(self.logs / f"{name}.log", "ab")  # noqa: SIM115 - closed with the process
        process = subprocess.Popen(
            argv, cwd=ROOT, env=env, stdout=stdout or log, stderr=log, start_new_session=True
        )
        self.running.append(process)
        return process

    def stop(self, process: subprocess.Popen) -> None:
        if process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(10)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(process.pid, signal.SIGKILL)
                process.wait()
        with contextlib.suppress(ValueError):
            self.running.remove(process)

    def stop_all(self) -> None:
        for process in reversed(list(self.running)):
            self.stop(process)


def wait_ready(process: subprocess.Popen, url: str, seconds: float, name: str, log: Path) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            tail = log.read_text(errors="replace").strip().splitlines()[-3:]
            raise SystemExit(f"error: {name} exited with {process.returncode}: " + " | ".join(tail))
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(url, timeout=2).status_code < 500:
                return
        time.sleep(0.3)
    raise SystemExit(f"error: {name} not answering at {url} after {seconds:.0f} s")


def wait_redis(url: str) -> None:
    import redis

    client = redis.Redis.from_url(url)
    for _ in range(100):
        with contextlib.suppress(redis.RedisError):
            if client.ping():
                return
        time.sleep(0.1)
    raise SystemExit(f"error: redis-server not answering at {url}")


def gunicorn_argv(workers: int, port: int) -> list[str]:
    argv = [sys.executable, "-m", "gunicorn", "-w", str(workers), "-b", f"127.0.0.1:{port}"]
    from gunicorn.config import KNOWN_SETTINGS

    if any("--no-control-socket" in (s.cli or []) for s in KNOWN_SETTINGS):
        argv.append("--no-control-socket")  # newer gunicorns open one shared socket per user by default
    return [*argv, "ioc.wsgi:server"]


def ms(value: float | None) -> str:
    return "-" if value is None else f"{value * 1000:.0f}"


def print_table(rows: list[dict[str, Any]], seconds: float) -> None:
    base = percentile(rows[0]["samples"], 95) if rows else None
    print(
        f"\n{'screens':>7} {'refreshes':>9} {'p50 ms':>7} {'p95 ms':>7} {'max ms':>7} {'errors':>6} "
        f"{'unserved':>8} {'KB/tick':>7} {'p95/1':>6} {'healthz p95':>11} {'load CPU':>8}"
    )
    for row in rows:
        p95 = percentile(row["samples"], 95)
        ratio = f"{p95 / base:.2f}" if p95 and base else "-"
        kb = row["wire_bytes"] / len(row["samples"]) / 1024 if row["samples"] else 0
        print(
            f"{row['screens']:>7} {len(row['samples']):>9} {ms(percentile(row['samples'], 50)):>7} "
            f"{ms(p95):>7} {ms(max(row['samples'], default=None)):>7} {len(row['errors']):>6} "
            f"{row['unserved']:>8} {kb:>7.0f} {ratio:>6} {ms(percentile(row['health'], 95)):>11} "
            f"{row['load_cpu']:>7.0%}"
        )
        if row["timings"]:
            print(f"{'':>7} Server-Timing p95 {ms(percentile(row['timings'], 95))} ms")
        if row["errors"] or row["health_failures"]:
            kinds = sorted(set(row["errors"] + row["health_failures"]))
            print(f"{'':>7} errors: {', '.join(kinds[:5])}; healthz failures {len(row['health_failures'])}")
    print(
        f"{seconds:.0f} s a row; ms = response time on loopback; unserved = ticks that fired while the "
        "screen's last refresh was still out (or never came back); p95/1 = p95 over the 1-screen row's; "
        "load CPU = the load process's share of one core (near 100% it is the bottleneck, not the server)."
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--screens", type=int, nargs="+", default=[1, 10, 25, 50, 100])
    parser.add_argument("--seconds", type=float, default=20.0, help="measured time per row")
    parser.add_argument(
        "--warmup", type=float, default=6.0, help="seconds of refreshes before a row is timed"
    )
    parser.add_argument("--workers", type=int, default=4, help="gunicorn workers")
    parser.add_argument("--entities", type=int, default=10_000)
    parser.add_argument(
        "--changes", type=int, default=500, help="entities rewritten per second, over all feeds"
    )
    parser.add_argument("--writer", choices=["synthetic", "feeds"], default="synthetic")
    parser.add_argument("--page", default="/", help="the control room's path")
    parser.add_argument(
        "--timeout", type=float, default=30.0, help="seconds before a refresh counts as an error"
    )
    parser.add_argument("--grace", type=float, default=10.0, help="seconds to wait for refreshes still out")
    parser.add_argument(
        "--role", choices=["bench", "writer", "feeds", "load"], default="bench", help=argparse.SUPPRESS
    )
    parser.add_argument("--until", type=float, default=0.0, help=argparse.SUPPRESS)
    parser.add_argument("--url", default="", help=argparse.SUPPRESS)
    parser.add_argument("--accounts", default="", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.role in ("writer", "feeds"):
        (run_writer if args.role == "writer" else run_feeds)(args.until, args.entities, args.changes)
        return 0
    if args.role == "load":
        args.screens = args.screens[0]
        print(json.dumps(asyncio.run(run_screens(args))), flush=True)
        return 0
    binary = shutil.which("redis-server")
    if not binary:
        raise SystemExit("error: needs redis-server on PATH")
    with tempfile.TemporaryDirectory(prefix="ioc-screens-") as temp:
        processes = Processes(Path(temp))
        try:
            return _bench(args, Path(temp), processes, binary)
        finally:
            processes.stop_all()


def _bench(args: argparse.Namespace, temp: Path, processes: Processes, redis_binary: str) -> int:
    redis_port = free_port()
    env = {
        **os.environ,
        "IOC_REDIS_URL": f"redis://127.0.0.1:{redis_port}/0",
        "IOC_CONFIG_DIR": str(bench_config(temp, max(args.screens))),
        "IOC_COOKIE_SECURE": "0",
        "IOC_SECRET_KEY": secrets.token_urlsafe(32),
        "PYTHONPATH": str(ROOT),
    }
    os.environ.update({k: env[k] for k in ("IOC_REDIS_URL", "IOC_CONFIG_DIR")})
    processes.start(
        "redis",
        [redis_binary, "--port", str(redis_port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
        env,
    )
    wait_redis(env["IOC_REDIS_URL"])
    add_accounts(max(args.screens), temp / "accounts.json")
    script = str(Path(__file__).resolve())
    budget = time.monotonic() + len(args.screens) * (args.warmup + args.seconds + args.grace + 120) + 120
    if args.writer == "feeds":
        sim_port = free_port()
        env["IOC_SIM_URL"] = f"http://127.0.0.1:{sim_port}"
        simulator = processes.start(
            "simulator", [sys.executable, "-m", "ioc.cli", "simulate", "--port", str(sim_port)], env
        )
        wait_ready(simulator, env["IOC_SIM_URL"] + "/", 60, "ioc simulate", temp / "simulator.log")
    role = "writer" if args.writer == "synthetic" else "feeds"
    writer = processes.start(
        role,
        [
            sys.executable,
            script,
            "--role",
            role,
            "--until",
            str(budget),
            "--entities",
            str(args.entities),
            "--changes",
            str(args.changes),
        ],
        env,
        stdout=subprocess.PIPE,
    )
    ready = writer.stdout.readline() if writer.stdout else b""
    if not ready:
        raise SystemExit(f"error: the {role} process ended before it was ready (see its log)")
    what = (
        f"{args.entities:,} entities, {args.changes} rewritten a second over every feed"
        if role == "writer"
        else f"`ioc simulate` polled by the feed runner ({json.loads(ready)['polled']} feeds polled)"
    )
    print(
        f"writer: {what}; server: gunicorn -w {args.workers} ioc.wsgi:server, a fresh one per row", flush=True
    )
    rows: list[dict[str, Any]] = []
    for count in args.screens:
        port = free_port()
        server = processes.start(f"gunicorn-{count}", gunicorn_argv(args.workers, port), env)
        wait_ready(
            server, f"http://127.0.0.1:{port}/healthz", 120, "gunicorn", temp / f"gunicorn-{count}.log"
        )
        load = subprocess.run(
            [
                sys.executable,
                script,
                "--role",
                "load",
                "--screens",
                str(count),
                "--seconds",
                str(args.seconds),
                "--warmup",
                str(args.warmup),
                "--url",
                f"http://127.0.0.1:{port}",
                "--accounts",
                str(temp / "accounts.json"),
                "--page",
                args.page,
                "--timeout",
                str(args.timeout),
                "--grace",
                str(args.grace),
            ],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=args.warmup + args.seconds + args.grace + 300,
        )
        processes.stop(server)
        if load.returncode != 0 or not load.stdout.strip():
            print(load.stderr[-2000:], file=sys.stderr)
            raise SystemExit(f"error: the load process for {count} screens failed ({load.returncode})")
        row = json.loads(load.stdout.strip().splitlines()[-1])
        if "not_found" in row:
            print(
                f"error: the control room's refresh callback was not found on {args.page}: "
                f"{row['not_found']}",
                file=sys.stderr,
            )
            return EXIT_NOT_FOUND
        if "failed" in row:
            print(f"error: {count} screens could not open {args.page}: {row['failed']}", file=sys.stderr)
            return 1
        if not rows:
            print(f"callback: {row['callback']} every {row['interval_ms']:.0f} ms", flush=True)
        rows.append({"screens": count, **row})
        print(
            f"{count} screens: {len(row['samples'])} refreshes, p95 {ms(percentile(row['samples'], 95))} ms",
            flush=True,
        )
    print_table(rows, args.seconds)
    return 0


if __name__ == "__main__":
    sys.exit(main())
