"""`ioc demo`: the simulator, the adapters polling it and the dashboard in one process (history first)."""

from __future__ import annotations

import argparse
import os

from ioc.config import Settings, load_settings
from ioc.redis_conn import RedisHandle, connect


def _demo_history(settings: Settings, handle: RedisHandle, args: argparse.Namespace) -> None:
    """KPI history for the reports, before any live poll: the rollups skip observations older than one
    already counted, so history must land first."""
    from ioc.store import Store
    from simulator.backfill import backfill

    print(f"history: {args.history_days} days of KPI history from the simulator (about a minute a month)...",
          flush=True)
    result = backfill(Store(handle.client, settings.city.id), settings, days=args.history_days, seed=args.seed,
                      workers=min(2, os.cpu_count() or 1))
    print(f"history: {result.records:,} records rolled up in {result.seconds:.0f} s", flush=True)


def _demo_notifier(settings: Settings, handle: RedisHandle) -> tuple | None:
    """Alert notifications in a thread, when notifications.yaml switches a channel on (all are off unless
    their variable says otherwise, so the demo sends nothing by default)."""
    from zoneinfo import ZoneInfo

    from ioc.keys import Keys
    from ioc.notifications import load_notifications, start_notifier

    started = start_notifier(handle.client, Keys(settings.city.id), load_notifications(settings.directory),
                             city=settings.city.name.vi, zone=ZoneInfo(settings.city.timezone))
    if started is None:
        print("notifications: off (no channel enabled in notifications.yaml)", flush=True)
    else:
        print(f"notifications: by {', '.join(started[0].senders) or 'no available channel'}", flush=True)
    return started


def _demo_archiver(settings: Settings, handle: RedisHandle) -> tuple:
    """The history archive in a thread: a round every `interval` of archive.yaml, into its folder."""
    from ioc.archive import load_archive_settings, start_archiver
    from ioc.keys import Keys
    from ioc.kpis.archive_rollups import daily_compaction

    archive = load_archive_settings(settings.directory)
    folder = archive.directory()
    print(f"archive: {folder}, a round every {archive.interval:g} s", flush=True)
    return start_archiver(handle.client, Keys(settings.city.id), folder, interval=archive.interval,
                          retention=archive.retention.days(), after_round=daily_compaction(folder, settings))


def cmd_demo(args: argparse.Namespace) -> int:
    """Simulator, adapters and dashboard in one process."""
    from ioc.cli import serve_dashboard
    from ioc.scheduler import FeedScheduler
    from ioc.store import Store
    from simulator.server import start as start_simulator

    # The demo's feeds point at its own simulator unless the caller already chose a feed host.
    os.environ.setdefault("IOC_SIM_URL", f"http://127.0.0.1:{args.sim_port}")
    settings = load_settings(args.config)
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
    notifier = _demo_notifier(settings, handle)
    archiver = _demo_archiver(settings, handle)
    try:
        serve_dashboard(settings, handle, args.host, args.port, demo=True)
    finally:
        scheduler.stop()
        archiver[1].set()  # a last round archives what the feeds wrote until now
        archiver[0].join(timeout=30)
        if notifier is not None:
            notifier[2].set()
            notifier[0].close()
        simulator.stop()
        handle.close()
    return 0
