"""The `ioc alerts` commands on the running IOC's Redis: list, show, ack, assign and resolve alerts; shelve them;
the queue's group lines and the flood state (`groups`, `ack-group`); feeds and sensors out of service and
maintenance windows (`out`, `back`, `maintenance`, `maintenance-cancel`, `service`)."""

from __future__ import annotations

import argparse
import getpass
import json
import os
import sys
from datetime import datetime
from typing import Any

import redis

from ioc.alerts import AlertBook, AlertConflict, AlertNotFound, AlertRecord
from ioc.alerts.groups import AlarmGroup, acknowledge_group, find_group, flood_state
from ioc.alerts.service import ENTITY, FEED, Service, ServiceRefused
from ioc.alerts.shelf import Shelf, return_due
from ioc.i18n import CITY_ZONE, age_text, local_time
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


def _settings(args: argparse.Namespace) -> Any:
    from ioc.config import load_settings

    return load_settings(args.config)


def _lines(book: AlertBook, settings: Any) -> tuple[Any, list[Any]]:
    from ioc.alert_queue import queue_lines

    now = utcnow()
    flood = flood_state(book.redis, book.keys, settings.grouping, now)
    return flood, queue_lines(book.records(), settings.grouping, flood, now)


def cmd_groups(args: argparse.Namespace, book: AlertBook) -> int:
    """The queue as an operator reads it: group lines with their counts, single alarms, and the flood flag."""
    flood, lines = _lines(book, _settings(args))
    if args.json:
        _print_json({**flood.to_dict(), "lines": [
            line.to_dict() if isinstance(line, AlarmGroup) else {"alert": line.id, "count": 1} for line in lines]})
        return 0
    if flood.active:
        print(f"FLOOD: {flood.count} alarms raised in the last {flood.minutes:g} min (more than {flood.limit})")
    for line in lines:
        if isinstance(line, AlarmGroup):
            areas = ", ".join(f"{area or '—'} {n}" for area, n in line.areas)
            print(f"{line.key}  {str(line.worst).upper():<8} ×{line.count:<4} {local_time(line.first, '%H:%M')}–"
                  f"{local_time(line.last, '%H:%M')}  {areas}")
            if args.members:
                for member in line.members:
                    print(f"    {_line(member)}")
        else:
            print(_line(line))
    print(f"{len(lines)} line(s), {sum(getattr(x, 'count', 1) for x in lines)} open alarm(s)", file=sys.stderr)
    return 0


def cmd_ack_group(args: argparse.Namespace, book: AlertBook) -> int:
    _, lines = _lines(book, _settings(args))
    group = find_group(lines, args.group)
    if group is None:
        print(f"error: no group line '{args.group}' in the queue now (see `ioc alerts groups`)", file=sys.stderr)
        return 2
    outcome = acknowledge_group(book, group, actor=args.actor, note=args.note or "")
    print(f"{len(outcome.acknowledged)} of {group.count} acknowledged by {args.actor}: "
          f"{', '.join(outcome.acknowledged) or '—'}")
    if outcome.refused:
        print(f"someone else acted first on: {', '.join(outcome.refused)}", file=sys.stderr)
    return 0


def _service(args: argparse.Namespace, book: AlertBook) -> Service:
    return Service(book.redis, book.keys, _settings(args))


def _when(text: str | None) -> Any:
    """A time typed by a person: ISO date-time, in the city's time zone unless it names one."""
    if not text:
        return None
    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError:
        raise ValueError(f"'{text}' is not a date and time (e.g. 2026-12-06T22:00)") from None
    return moment.replace(tzinfo=CITY_ZONE) if moment.tzinfo is None else moment


def cmd_out(args: argparse.Namespace, book: AlertBook) -> int:
    item = _service(args, book).take_out(args.kind, args.name, actor=args.actor, reason=args.reason,
                                         until=_when(args.until))
    until = f" until {local_time(item.until)}" if item.until else " until put back"
    print(f"{item.target} out of service{until}: {item.reason}")
    return 0


def cmd_back(args: argparse.Namespace, book: AlertBook) -> int:
    if not _service(args, book).put_back(args.kind, args.name, actor=args.actor, note=args.note or ""):
        print(f"{args.kind}:{args.name} was not out of service", file=sys.stderr)
        return 1
    print(f"{args.kind}:{args.name} back in service")
    return 0


def cmd_maintenance(args: argparse.Namespace, book: AlertBook) -> int:
    window = _service(args, book).declare_window(
        feeds=(args.feeds or "").split(","), areas=(args.areas or "").split(","),
        start=_when(args.start) or utcnow(), end=_when(args.end), reason=args.reason, actor=args.actor)
    print(f"maintenance {window.id}: {', '.join([*window.feeds, *window.areas])} from {local_time(window.start)} "
          f"to {local_time(window.end)}")
    return 0


def cmd_maintenance_cancel(args: argparse.Namespace, book: AlertBook) -> int:
    if not _service(args, book).cancel_window(args.id, actor=args.actor, note=args.note or ""):
        print(f"error: no declared maintenance window {args.id}", file=sys.stderr)
        return 2
    print(f"maintenance {args.id} cancelled")
    return 0


def cmd_service(args: argparse.Namespace, book: AlertBook) -> int:
    """What is out of service, and the maintenance windows now or within a day."""
    service = _service(args, book)
    now = utcnow()
    out, windows = service.out_of_service(now), service.windows(now)
    if args.json:
        _print_json({"out_of_service": [i.to_dict() for i in out],
                     "maintenance": [{**w.to_dict(), "active": w.active(now)} for w in windows]})
        return 0
    for item in out:
        until = local_time(item.until) if item.until else "put back"
        print(f"OUT    {item.target}  by {item.by} since {local_time(item.at)} until {until}: {item.reason}")
    for window in windows:
        state = "NOW  " if window.active(now) else "LATER"
        print(f"{state}  {window.id}  {', '.join([*window.feeds, *window.areas])}  {local_time(window.start)} to "
              f"{local_time(window.end)}{' (recurring)' if window.recurring else ''}: {window.reason}")
    print(f"{len(out)} out of service, {sum(w.active(now) for w in windows)} maintenance window(s) now",
          file=sys.stderr)
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
        except (AlertConflict, ServiceRefused) as exc:
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

    actor = {"default": default_actor(), "help": "who acts (default: IOC_ACTOR or login)"}
    groups = command("groups", "the queue as read: group lines with counts, single alarms, the flood flag",
                     cmd_groups)
    groups.add_argument("--members", action="store_true", help="list each group's alarms under it")
    groups.add_argument("--json", action="store_true")
    ack_group = command("ack-group", "acknowledge every new alarm of a group line (each audited)", cmd_ack_group)
    ack_group.add_argument("group", help="the group's key as `groups` prints it, e.g. rule=flood-level-high")
    ack_group.add_argument("--note")
    ack_group.add_argument("--actor", **actor)

    out = command("out", "take a feed or a sensor out of service: its rules raise nothing until it is back", cmd_out)
    out.add_argument("kind", choices=(FEED, ENTITY))
    out.add_argument("name", help="feed name, or entity id (urn:ioc:<city>:<feed>:<id>)")
    out.add_argument("--reason", required=True, help="why (it is in the audit trail)")
    out.add_argument("--until", help="back by itself at this time (ISO, city time); default: until `back`")
    out.add_argument("--actor", **actor)
    back = command("back", "put a feed or a sensor back in service", cmd_back)
    back.add_argument("kind", choices=(FEED, ENTITY))
    back.add_argument("name")
    back.add_argument("--note")
    back.add_argument("--actor", **actor)
    window = command("maintenance", "declare a maintenance window over feeds and/or areas", cmd_maintenance)
    window.add_argument("--feeds", help="comma-separated feed names")
    window.add_argument("--areas", help="comma-separated areas (districts)")
    window.add_argument("--start", help="ISO date-time, city time (default: now)")
    window.add_argument("--end", required=True, help="ISO date-time, city time")
    window.add_argument("--reason", required=True)
    window.add_argument("--actor", **actor)
    cancel = command("maintenance-cancel", "cancel a declared maintenance window", cmd_maintenance_cancel)
    cancel.add_argument("id")
    cancel.add_argument("--note")
    cancel.add_argument("--actor", **actor)
    service = command("service", "what is out of service and the maintenance windows", cmd_service)
    service.add_argument("--json", action="store_true")
