"""The `ioc notifications` commands: what was sent, is waiting or failed, and who is on duty now."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any
from zoneinfo import ZoneInfo

import redis

from ioc.i18n import local_time
from ioc.model import from_iso, utcnow

STATUSES = ("queued", "retrying", "sent", "failed", "cancelled", "unreachable")


def _settings(args: argparse.Namespace) -> tuple[Any, Any]:
    from ioc.config import load_settings
    from ioc.notifications import load_notifications

    settings = load_settings(args.config)
    return settings, load_notifications(settings.directory)


def cmd_list(args: argparse.Namespace) -> int:
    from ioc.keys import Keys
    from ioc.notifications import Outbox
    from ioc.notifications.config import Delivery
    from ioc.redis_conn import connect

    settings, notifications = _settings(args)
    try:
        # never an embedded Redis: an empty private one would show nothing sent
        handle = connect(allow_embedded=False)
    except RuntimeError:
        print("error: IOC_REDIS_URL is not set: `ioc notifications` reads the running IOC's Redis",
              file=sys.stderr)
        return 2
    outbox = Outbox(handle.client, Keys(settings.city.id), notifications.delivery if notifications else Delivery())
    try:
        found = outbox.recent(limit=args.limit, alert_id=args.alert, status=args.status)
    except redis.RedisError as exc:
        print(f"error: cannot reach Redis at IOC_REDIS_URL: {exc}", file=sys.stderr)
        return 1
    if args.json:
        json.dump(found, sys.stdout, ensure_ascii=False, indent=2)
        sys.stdout.write("\n")
        return 0
    for item in found:
        when = local_time(from_iso(item.get("sent_at") or item.get("queued_at")), "%H:%M:%S %d/%m")
        repeat = f" r{item['repeat']}" if item.get("repeat", "0") != "0" else ""
        error = f"  {item['last_error']}" if item.get("last_error") else ""
        print(f"{when}  {item['alert']:<8} {item['status']:<11} {item.get('person') or '—':<18} "
              f"{item.get('channel') or '—':<12} {item['policy']} step {int(item['step']) + 1}{repeat}"
              f"  tries {item.get('attempts', '0')}{error}")
    print(f"{len(found)} notification(s)", file=sys.stderr)
    return 0


def cmd_on_duty(args: argparse.Namespace) -> int:
    from ioc.notifications.policy import on_duty, shift_on_duty

    settings, notifications = _settings(args)
    if notifications is None:
        print(f"no {settings.directory / 'notifications.yaml'}: notifications are off")
        return 0
    zone = ZoneInfo(settings.city.timezone)
    now = utcnow()
    current = shift_on_duty(notifications, now, zone)
    print(f"shift: {current[0].id} (began {current[1]})" if current else "shift: none covers now")
    roles = sorted({role for entry in notifications.rota for role in entry.roles})
    for role in roles:
        print(f"  {role:<12} {', '.join(on_duty(notifications, role, now, zone)) or '—'}")
    enabled = notifications.enabled_channels
    print("channels: " + ", ".join(f"{name} ({'on' if name in enabled else 'off'})"
                                   for name in notifications.channels))
    return 0


def cmd_run(args: argparse.Namespace) -> int:
    import threading

    from ioc.keys import Keys
    from ioc.notifications import Notifier
    from ioc.redis_conn import connect

    settings, notifications = _settings(args)
    if notifications is None or not notifications.enabled_channels:
        print("error: no channel is enabled in notifications.yaml: nothing would be sent", file=sys.stderr)
        return 2
    try:
        handle = connect(allow_embedded=False)
    except RuntimeError:
        print("error: IOC_REDIS_URL is not set: the notifier works on the running IOC's Redis", file=sys.stderr)
        return 2
    notifier = Notifier(handle.client, Keys(settings.city.id), notifications, city=settings.city.name.vi,
                        zone=ZoneInfo(settings.city.timezone))
    print(f"notifying by {', '.join(notifier.senders) or 'no channel'} "
          f"({', '.join(notifier.unavailable) or 'none'} unavailable); Ctrl-C stops", flush=True)
    stop = threading.Event()
    try:
        notifier.run(stop, interval=args.interval)
    except KeyboardInterrupt:
        stop.set()
    finally:
        notifier.close()
    return 0


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser("notifications", help="alert notifications: sent, waiting, failed; the rota")
    sub = parser.add_subparsers(dest="notifications_command", required=True)
    listing = sub.add_parser("list", help="recent notifications, newest first")
    listing.add_argument("--alert", help="only this alert's")
    listing.add_argument("--status", choices=STATUSES)
    listing.add_argument("--limit", type=int, default=100)
    listing.add_argument("--json", action="store_true")
    listing.set_defaults(func=cmd_list)
    duty = sub.add_parser("on-duty", help="the shift on duty now, who holds each role, which channels are on")
    duty.set_defaults(func=cmd_on_duty)
    run = sub.add_parser("run", help="plan and deliver notifications until stopped (one or more per city)")
    run.add_argument("--interval", type=float, default=1.0, help="seconds between rounds (default 1)")
    run.set_defaults(func=cmd_run)
