"""`ioc screens`: register the video wall's screens as devices, list them, give one a new key, revoke one.

Changes are audited with the operating-system account that ran the command as the actor, at "local". A key
is printed once, inside the address the screen opens; only its digest is kept.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from typing import Any

from ioc.cli_users import _actor


def _book(args: argparse.Namespace) -> tuple[Any, Any]:
    from ioc.cli_city import running_city_store
    from ioc.config import load_settings
    from ioc.wall.screens import ScreenBook

    settings = load_settings(args.config)
    store, handle = running_city_store(settings, "screens live in the IOC's Redis")
    return ScreenBook(store.redis, store.keys), handle


def _print_key(args: argparse.Namespace, screen_id: str, key: str) -> None:
    from ioc.wall.screens import pairing_address

    print("open this address on the screen once (its kiosk browser's start page); shown only now:")
    print(pairing_address(args.url, screen_id, key))


def _change(args: argparse.Namespace, change: Callable[[Any], Any]) -> Any | None:
    """Run one audited change on the screen book; None (with the reason on stderr) when it is refused."""
    from ioc.wall.screens import ScreenError

    book, handle = _book(args)
    try:
        return change(book)
    except ScreenError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return None
    finally:
        handle.close()


def cmd_screens_add(args: argparse.Namespace) -> int:
    key = _change(args, lambda book: book.add(args.screen, args.name or "", actor=_actor(), address="local"))
    if key is None:
        return 2
    print(f"screen {args.screen.strip().lower()} registered (view-only; its playlist is in wall.yaml)")
    _print_key(args, args.screen.strip().lower(), key)
    return 0


def cmd_screens_key(args: argparse.Namespace) -> int:
    key = _change(args, lambda book: book.new_key(args.screen, actor=_actor(), address="local"))
    if key is None:
        return 2
    print(f"screen {args.screen} has a new key: the old one and the browsers paired with it stop now")
    _print_key(args, args.screen.strip().lower(), key)
    return 0


def cmd_screens_revoke(args: argparse.Namespace) -> int:
    screen = _change(args, lambda book: book.revoke(args.screen, actor=_actor(), address="local"))
    if screen is None:
        return 2
    print(f"screen {screen.id} revoked: it blanks at its next tick (within 2 s)")
    return 0


def cmd_screens_list(args: argparse.Namespace) -> int:
    book, handle = _book(args)
    try:
        screens = [screen.to_dict() for screen in book.all()]
    finally:
        handle.close()
    if args.json:
        json.dump(screens, sys.stdout, indent=2, ensure_ascii=False)
        sys.stdout.write("\n")
        return 0
    for screen in screens:
        state = "revoked" if screen["revoked"] else "active"
        print(f"{screen['id']:<24} {screen['name']:<28} {state:<8} last seen {screen['last_seen'] or 'never'}")
    print(f"{len(screens)} screens")
    return 0


def register(subparsers: argparse._SubParsersAction) -> None:
    screens = subparsers.add_parser("screens", help="video wall screens: devices with a view-only key (on "
                                                    "IOC_REDIS_URL)")
    sub = screens.add_subparsers(dest="screens_command", required=True)
    add = sub.add_parser("add", help="register a screen; prints the address it opens once (with its key)")
    add.add_argument("screen", help="the screen's id, as wall.yaml names it (e.g. wall-1)")
    add.add_argument("--name", help="what people call it (e.g. 'Main wall, left')")
    add.add_argument("--url", default="http://127.0.0.1:8050", help="the dashboard's address as the screen sees it")
    add.set_defaults(func=cmd_screens_add)
    listing = sub.add_parser("list", help="every screen, whether revoked, when last seen")
    listing.add_argument("--json", action="store_true")
    listing.set_defaults(func=cmd_screens_list)
    key = sub.add_parser("key", help="a new key for a screen (a lost or leaked key, or a revoked screen back)")
    key.add_argument("screen")
    key.add_argument("--url", default="http://127.0.0.1:8050", help="the dashboard's address as the screen sees it")
    key.set_defaults(func=cmd_screens_key)
    revoke = sub.add_parser("revoke", help="revoke a screen: its key and device cookie open nothing; it blanks")
    revoke.add_argument("screen")
    revoke.set_defaults(func=cmd_screens_revoke)
