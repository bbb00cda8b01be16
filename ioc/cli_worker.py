"""`ioc worker` (an RQ worker polling the city's feeds) and `ioc scheduler` (enqueues each feed's polls on its
cadence, runs the pushed feeds and the rules' timer; stand-bys take over): the adapters on several machines."""

from __future__ import annotations

import argparse
import logging
import os
import signal
import sys
import threading


def _redis_url() -> str | None:
    url = os.environ.get("IOC_REDIS_URL")
    if not url:
        print("error: IOC_REDIS_URL is not set: workers and schedulers share the city's Redis "
              "(redis://host:6379/0, or redis+sentinel://host:26379,host:26379/service/0)", file=sys.stderr)
    return url


def cmd_worker(args: argparse.Namespace) -> int:
    from ioc.config import load_settings
    from ioc.worker import make_worker, prepare

    url = _redis_url()
    if not url:
        return 2
    settings = load_settings(args.config)
    setup = prepare(url, str(settings.directory), lock_ttl=args.lock_ttl)
    worker = make_worker(setup, name=args.name)
    print(f"worker {worker.name}: polls of {settings.city.id} from queue {setup.keys.poll_queue()}", flush=True)
    # RQ's own signal handling: SIGTERM lets the running poll finish (a second one ends it)
    worker.work(burst=args.burst, logging_level=logging.INFO if args.verbose else logging.WARNING)
    return 0


def cmd_scheduler(args: argparse.Namespace) -> int:
    from ioc.config import load_settings
    from ioc.worker import QueueScheduler

    url = _redis_url()
    if not url:
        return 2
    settings = load_settings(args.config)
    scheduler = QueueScheduler(settings, url, lease_ttl=args.lease_ttl, name=args.name)
    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    print(f"scheduler {scheduler.name}: {len(scheduler.cadence.feeds)} polled feeds of {settings.city.id} "
          f"onto queue {scheduler.keys.poll_queue()}", flush=True)
    return scheduler.run(stop)


def register(subparsers: argparse._SubParsersAction) -> None:
    from ioc.worker import LEASE_TTL_S, LOCK_TTL_S

    worker = subparsers.add_parser("worker", help="poll the city's feeds as RQ jobs (run one or more per machine; "
                                                  "needs IOC_REDIS_URL and an `ioc scheduler`)")
    worker.add_argument("--name", help="this worker's name (default host.pid); shown in the locks it holds")
    worker.add_argument("--burst", action="store_true", help="run the queued polls, then exit")
    worker.add_argument("--lock-ttl", type=float, default=LOCK_TTL_S,
                        help=f"seconds a dead worker's feed stays locked (default {LOCK_TTL_S:g})")
    worker.set_defaults(func=cmd_worker)

    scheduler = subparsers.add_parser(
        "scheduler", help="enqueue each feed's polls on its cadence, run pushed feeds and the rules' timer "
                          "(run one per machine: one is active, the others stand by)")
    scheduler.add_argument("--name", help="this scheduler's name (default host.pid)")
    scheduler.add_argument("--lease-ttl", type=float, default=LEASE_TTL_S,
                           help=f"seconds before a stand-by takes over from a dead scheduler (default {LEASE_TTL_S:g})")
    scheduler.set_defaults(func=cmd_scheduler)
