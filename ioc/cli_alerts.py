"""The `ioc alerts` commands: list, show, ack, assign and resolve alerts on the running IOC's Redis."""

from __future__ import annotations

import argparse
import getpass
import json
import os
import sys
from typing import Any

import redis

from ioc.alerts import AlertBook, AlertConflict, AlertNotFound, AlertRecord
from ioc.alerts.shelf import Shelf, return_due
from ioc.i18n import age_text, local_time
from ioc.model import AlertState, from_iso, utcnow

STATES = ("open", "all", *(str(state) for state in AlertState))


def default_actor() -> str:
    """Who is acting: IOC_ACTOR, else the login name (sign-in will pass the signed-in user instead)."""
    try:
        return os.environ.get("IOC_ACTOR") or getpass.getuser()
    except (KeyError, OSError):
        return "cli"


def _book(args: argparse.Namespace) -> AlertBook:
    from ioc.config import load_settings
    from ioc.keys import Keys
    from ioc.redis_conn import connect

    settings = load_settings(args.config)
    # never an embedded Redis: an empty private one would show no alerts and take no change
    handle = connect(allow_embedded=False)
    return AlertBook(handle.client, Keys(settings.city.id))


def _print_json(data: Any) -> None:
    json.dump(data, sys.stdout, ensure_ascii=False, indent=2, default=str)
    sys.stdout.write("\n")


def _line(record: AlertRecord) -> str:
    alert = record.alert
    age = age_text((utcnow() - alert.raised_at).total_seconds(), "en") if alert.raised_at else "—"
    who = f" → {record.assignee}" if record.assignee else ""
    flags = (" ESCALATED" if record.escalations else "") + (" FLAPPING" if record.flapping else "")
    return (f"{alert.id}  {str(alert.severity).upper():<8} {str(alert.state):<12} {age:>12}  "
            f"{alert.district or '—':<13} {alert.title}{who}{flags}")


def cmd_list(args: argparse.Namespace, book: AlertBook) -> int:
    include_resolved = args.state in ("all", "resolved")
    records = book.records(include_resolved=include_resolved, limit=args.limit)
    if args.state not in ("open", "all"):
        records = [r for r in records if r.state == args.state]
    if args.json:
        _print_json([r.to_dict() for r in records])
        return 0
    for record in records:
        print(_line(record))
    print(f"{len(records)} alert(s) ({args.state})", file=sys.stderr)
    return 0


def cmd_show(args: argparse.Namespace, book: AlertBook) -> int:
    record = book.get(args.id)
    if record is None:
        raise AlertNotFound(args.id)
    timeline = book.timeline(args.id)
    checklist = book.checklist(args.id)
    if args.json:
        _print_json({**record.to_dict(), "timeline": timeline,
                     "checklist": {str(step): done for step, done in sorted(checklist.items())}})
        return 0
    alert = record.alert
    print(_line(record))
    for label, value in (("rule", alert.rule_id), ("entity", alert.entity_id), ("sector", alert.sector),
                         ("agency", alert.agency), ("message", alert.message),
                         ("occurrences", alert.occurrences),
                         ("raised", local_time(alert.raised_at)), ("assignee", record.assignee or "—")):
        print(f"  {label:<12} {value}")
    print("  timeline:")
    for entry in timeline:
        moved = f"{entry['from']} → {entry['to']}" if entry.get("from") != entry.get("to") else entry.get("to", "")
        note = f"  “{entry['note']}”" if entry.get("note") else ""
        print(f"    {local_time(from_iso(entry['at']))}  {entry['actor']:<14} {entry['action']:<16} {moved}{note}")
    return 0


def cmd_ack(args: argparse.Namespace, book: AlertBook) -> int:
    record = book.acknowledge(args.id, actor=args.actor, note=args.note or "")
    print(f"{record.id} acknowledged by {record.acknowledged_by}")
    return 0


def cmd_assign(args: argparse.Namespace, book: AlertBook) -> int:
    record = book.assign(args.id, to=args.to, actor=args.actor, note=args.note or "")
    print(f"{record.id} assigned to {record.assignee} by {record.assigned_by}")
    return 0


def cmd_resolve(args: argparse.Namespace, book: AlertBook) -> int:
    record = book.resolve(args.id, actor=args.actor, note=args.note)
    print(f"{record.id} resolved by {record.resolved_by}")
    return 0


def _shelf(args: argparse.Namespace, book: AlertBook) -> Shelf:
    from ioc.config import load_settings

    return Shelf(book.redis, book.keys, load_settings(args.config).shelving)


def _record(book: AlertBook, alert_id: str) -> AlertRecord:
    record = book.get(alert_id)
    if record is None:
        raise AlertNotFound(alert_id)
    return record


def cmd_shelve(args: argparse.Namespace, book: AlertBook) -> int:
    shelved = _shelf(args, book).shelve(_record(book, args.id), actor=args.actor, reason=args.reason,
                                        minutes=args.minutes)
    print(f"{shelved.alert_id} shelved by {shelved.by} until {local_time(shelved.until)}: {shelved.reason}")
    return 0


def cmd_unshelve(args: argparse.Namespace, book: AlertBook) -> int:
    if not _shelf(args, book).unshelve(_record(book, args.id), actor=args.actor, note=args.note or ""):
        print(f"{args.id} was not shelved", file=sys.stderr)
        return 1
    print(f"{args.id} back in the queue")
    return 0


def cmd_shelved(args: argparse.Namespace, book: AlertBook) -> int:
    shelf = _shelf(args, book)
    return_due(shelf, book.get)
    found = shelf.shelved()
    if args.json:
        _print_json([{"id": s.alert_id, "reason": s.reason, "by": s.by, "at": s.at, "until": s.until}
                     for s in found])
    else:
        for item in found:
            print(f"{item.alert_id}  until {local_time(item.until)}  by {item.by}: {item.reason}")
        print(f"{len(found)} shelved", file=sys.stderr)
    return 0


def _run(command: Any) -> Any:
    def run(args: argparse.Namespace) -> int:
        try:
            book = _book(args)
            return command(args, book)
        except RuntimeError:  # connect() refuses to start an empty private Redis
            print("error: IOC_REDIS_URL is not set: `ioc alerts` works on the running IOC's Redis, "
                  "e.g. IOC_REDIS_URL=redis://127.0.0.1:6379/0", file=sys.stderr)
            return 2
        except AlertNotFound as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 2
        except AlertConflict as exc:
            print(f"refused: {exc}", file=sys.stderr)
            return 1
        except ValueError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 2
        except redis.RedisError as exc:
            print(f"error: cannot reach Redis at IOC_REDIS_URL: {exc}", file=sys.stderr)
            return 1

    return run


def register(subparsers: Any) -> None:
    alerts = subparsers.add_parser("alerts", help="the alert queue: list, show, ack, assign, resolve, shelve")
    sub = alerts.add_subparsers(dest="alerts_command", required=True)

    def command(name: str, help_text: str, func: Any) -> argparse.ArgumentParser:
        parser = sub.add_parser(name, help=help_text)
        parser.set_defaults(func=_run(func))
        return parser

    listing = command("list", "alerts in queue order (most severe, then oldest, first)", cmd_list)
    listing.add_argument("--state", choices=STATES, default="open", help="default: open (not resolved)")
    listing.add_argument("--limit", type=int, default=200)
    listing.add_argument("--json", action="store_true")

    show = command("show", "one alert with its timeline", cmd_show)
    show.add_argument("id")
    show.add_argument("--json", action="store_true")

    for name, help_text, func in (("ack", "acknowledge: you are on it", cmd_ack),
                                  ("assign", "hand the alert to an agency or a person", cmd_assign),
                                  ("resolve", "close the alert (a note is required)", cmd_resolve)):
        parser = command(name, help_text, func)
        parser.add_argument("id")
        if name == "assign":
            parser.add_argument("--to", required=True, help="agency id or person")
        parser.add_argument("--note", required=name == "resolve", help="what was done or decided")
        parser.add_argument("--actor", default=default_actor(), help="who acts (default: IOC_ACTOR or login)")

    shelve = command("shelve", "put an alarm aside for a while, with a reason (rules.yaml: how long per priority)",
                     cmd_shelve)
    shelve.add_argument("id")
    shelve.add_argument("--minutes", type=int, required=True)
    shelve.add_argument("--reason", required=True, help="why it may wait (it is on the timeline and audited)")
    shelve.add_argument("--actor", default=default_actor(), help="who acts (default: IOC_ACTOR or login)")
    unshelve = command("unshelve", "bring a shelved alarm back before its time", cmd_unshelve)
    unshelve.add_argument("id")
    unshelve.add_argument("--note")
    unshelve.add_argument("--actor", default=default_actor(), help="who acts (default: IOC_ACTOR or login)")
    shelved = command("shelved", "the shelved alarms, soonest back first", cmd_shelved)
    shelved.add_argument("--json", action="store_true")
