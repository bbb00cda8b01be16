"""`ioc users`: add, list, disable and enable the people who sign in, and issue open-data API keys.

Changes are audited with the operating-system account that ran the command as the actor, at "local".
Also the seeding of first users that `ioc serve` and `ioc demo` do on an empty store.
"""

from __future__ import annotations

import argparse
import getpass
import json
import os
import sys
from typing import Any

DEMO_USERS = (("operator", "operator"), ("manager", "manager"), ("integrator", "integrator"), ("admin", "admin"))


def _actor() -> str:
    try:
        return f"cli:{getpass.getuser()}"
    except (KeyError, OSError):
        return "cli"


def _book(args: argparse.Namespace) -> tuple[Any, Any]:
    from ioc.auth import UserBook, load_roles
    from ioc.cli_city import running_city_store
    from ioc.config import load_settings

    settings = load_settings(args.config)
    store, handle = running_city_store(settings, "users live in the IOC's Redis")
    return UserBook(store.redis, store.keys, load_roles(settings.directory)), handle


def cmd_users_add(args: argparse.Namespace) -> int:
    from ioc.auth import UserError, generate_password

    book, handle = _book(args)
    try:
        password = sys.stdin.readline().rstrip("\r\n") if args.password_stdin else generate_password()
        user = book.add(args.name, args.role, password, actor=_actor(), address="local")
    except UserError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    finally:
        handle.close()
    print(f"user {user.name} ({user.role}) added")
    if not args.password_stdin:
        print(f"one-time password: {password}")
        print("hand it over in person; it is not stored and will not be shown again")
    return 0


def cmd_users_list(args: argparse.Namespace) -> int:
    book, handle = _book(args)
    try:
        users = [user.to_dict() for user in book.all()]
    finally:
        handle.close()
    if args.json:
        json.dump(users, sys.stdout, indent=2)
        sys.stdout.write("\n")
        return 0
    for user in users:
        state = "disabled" if user["disabled"] else "active"
        elsewhere = "".join(f" {city}:{role}" for city, role in user.get("city_roles", {}).items())
        print(f"{user['name']:<24} {user['role']:<12} {state:<9} last sign-in {user['last_sign_in'] or 'never'}"
              + (f" other cities:{elsewhere}" if elsewhere else ""))
    print(f"{len(users)} users")
    return 0


def _set_disabled(args: argparse.Namespace, disabled: bool) -> int:
    from ioc.auth import UserError

    book, handle = _book(args)
    try:
        user = book.set_disabled(args.name, disabled, actor=_actor(), address="local")
    except UserError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    finally:
        handle.close()
    print(f"user {user.name} {'disabled: their sessions end at their next request' if disabled else 'enabled'}")
    return 0


def cmd_users_disable(args: argparse.Namespace) -> int:
    return _set_disabled(args, True)


def cmd_users_enable(args: argparse.Namespace) -> int:
    return _set_disabled(args, False)


def _deployment_city(args: argparse.Namespace) -> str | None:
    """`--city` checked against the deployment's cities (IOC_CITIES); None when not given."""
    from ioc.cities import deployment_settings
    from ioc.config import load_settings

    if not getattr(args, "city", None):
        return None
    served = [settings.city.id for settings in deployment_settings(load_settings(args.config))]
    if args.city not in served:
        raise SystemExit(f"error: city '{args.city}' is not served by this deployment ({', '.join(served)}; "
                         "IOC_CITIES lists the cities)")
    return args.city


def cmd_users_set_role(args: argparse.Namespace) -> int:
    from ioc.auth import UserError

    city = _deployment_city(args)
    book, handle = _book(args)
    role = "" if args.role == "none" else args.role
    if not role and city in (None, book.keys.city):
        print("error: 'none' takes away a role in another city; the home city's role is replaced, not removed",
              file=sys.stderr)
        handle.close()
        return 2
    try:
        user = book.set_role(args.name, role, actor=_actor(), address="local", city=city)
    except UserError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    finally:
        handle.close()
    where = f" in {city}" if city else ""
    print(f"user {user.name}: role{where} {role or 'removed'}; their open sessions end")
    return 0


def cmd_users_apikey(args: argparse.Namespace) -> int:
    from ioc.auth import UserError

    city = _deployment_city(args)
    book, handle = _book(args)
    try:
        if args.revoke:
            done = book.revoke_api_key(args.name, actor=_actor(), address="local")
            print(f"API key of {args.name} revoked" if done else f"{args.name} has no API key")
            return 0 if done else 1
        key = book.issue_api_key(args.name, actor=_actor(), address="local", city=city)
    except UserError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    finally:
        handle.close()
    print(f"API key for {args.name} (send it as the X-API-Key header; shown only now):")
    print(key)
    return 0


def seed_first_admin(book: Any) -> tuple[str, str] | None:
    """On a store with no user at all, create `admin` with a one-time password; None when users exist."""
    from ioc.auth import seed_users

    if book.count():
        return None
    created = seed_users(book, [("admin", "admin")], password=None, actor="setup")
    return (created[0][0], created[0][2]) if created else None


def seed_demo_users(book: Any) -> list[tuple[str, str, str]]:
    """One user per role for the demo; IOC_DEMO_PASSWORD (so tests can sign in) or generated passwords."""
    from ioc.auth import MIN_PASSWORD, seed_users

    password = os.environ.get("IOC_DEMO_PASSWORD") or None
    if password is not None and len(password) < MIN_PASSWORD:
        raise SystemExit(f"error: IOC_DEMO_PASSWORD needs at least {MIN_PASSWORD} characters")
    from ioc.auth import generate_password

    roles = [(name, role) for name, role in DEMO_USERS if book.roles.role(role) is not None]
    created = seed_users(book, roles, password=password, actor="demo")
    # the demo keeps its data between starts (a persistent Redis): users from an earlier start get a new
    # password, printed like the new ones, so whoever starts the demo can always sign in
    fresh = {name for name, _, _ in created}
    for name, role in roles:
        user = book.get(name)
        if name not in fresh and user is not None and user.role == role:
            secret = password or generate_password()
            book.set_password(name, secret, actor="demo", address="local")
            created.append((name, role, secret))
    return created


def register(subparsers: argparse._SubParsersAction) -> None:
    users = subparsers.add_parser("users", help="people who sign in, and open-data API keys (on IOC_REDIS_URL)")
    sub = users.add_subparsers(dest="users_command", required=True)
    add = sub.add_parser("add", help="add a user; prints a one-time password")
    add.add_argument("name")
    add.add_argument("--role", required=True, help="a role of roles.yaml (operator, manager, integrator, admin)")
    add.add_argument("--password-stdin", action="store_true", help="read the password from standard input")
    add.set_defaults(func=cmd_users_add)
    listing = sub.add_parser("list", help="every user, role and state")
    listing.add_argument("--json", action="store_true")
    listing.set_defaults(func=cmd_users_list)
    disable = sub.add_parser("disable", help="stop a user signing in; their open sessions end")
    disable.add_argument("name")
    disable.set_defaults(func=cmd_users_disable)
    enable = sub.add_parser("enable", help="let a disabled user sign in again")
    enable.add_argument("name")
    enable.set_defaults(func=cmd_users_enable)
    apikey = sub.add_parser("apikey", help="issue (or --revoke) the open-data API key of a holder")
    apikey.add_argument("name", help="who the key is for: an app or a developer")
    apikey.add_argument("--revoke", action="store_true")
    apikey.add_argument("--city", help="the deployment's city the key reads (IOC_CITIES); default the served city")
    set_role = sub.add_parser("set-role", help="change a user's role; with --city, their role in that city")
    set_role.add_argument("name")
    set_role.add_argument("--role", required=True, help="a role of roles.yaml; 'none' with --city takes it away")
    set_role.add_argument("--city", help="a city of the deployment (IOC_CITIES); default the served city")
    set_role.set_defaults(func=cmd_users_set_role)
    apikey.set_defaults(func=cmd_users_apikey)
