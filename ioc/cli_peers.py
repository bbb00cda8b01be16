"""`ioc peers`: sharing agreements with peer IOCs (grant, revoke, list: what they may read from us) and a
reading of the peers we read (check, from peers.yaml).

Grants and revocations are audited with the operating-system account that ran the command as the actor, at
"local". A peer's API key is printed once, when it is granted; only its digest is kept.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from ioc.cli_users import _actor


def _open(args: argparse.Namespace) -> tuple[Any, Any, Any]:
    from ioc.auth import UserBook, load_roles
    from ioc.cli_city import running_city_store
    from ioc.config import load_settings
    from ioc.sharing import AgreementBook

    settings = load_settings(args.config)
    store, handle = running_city_store(settings, "agreements live in the IOC's Redis")
    users = UserBook(store.redis, store.keys, load_roles(settings.directory))
    return settings, AgreementBook(store.redis, store.keys, users), handle


def _names(text: str | None) -> list[str]:
    return [part.strip() for part in (text or "").split(",") if part.strip()]


def cmd_peers_grant(args: argparse.Namespace) -> int:
    from ioc.sharing import SharingError

    _settings, book, handle = _open(args)
    try:
        key = book.grant(args.peer, name=args.name or args.peer, datasets=_names(args.datasets),
                         granularity=args.granularity, kpis=_names(args.kpis), days=args.days, actor=_actor(),
                         address="local")
        agreement = book.get(args.peer.strip().lower())
    except SharingError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    finally:
        handle.close()
    print(f"peer {agreement.peer} may read: {agreement.describe()}")
    print("its API key, shown only now (give it to the peer's administrator for their peers.yaml credential):")
    print(key)
    return 0


def cmd_peers_revoke(args: argparse.Namespace) -> int:
    _settings, book, handle = _open(args)
    try:
        done = book.revoke(args.peer.strip().lower(), actor=_actor(), address="local")
    finally:
        handle.close()
    if not done:
        print(f"error: no agreement in force with peer '{args.peer}'", file=sys.stderr)
        return 2
    print(f"peer {args.peer} revoked: its key opens nothing from its next request")
    return 0


def cmd_peers_list(args: argparse.Namespace) -> int:
    from ioc.sharing.agreements import agreement_rows

    _settings, book, handle = _open(args)
    try:
        rows = agreement_rows(book)
    finally:
        handle.close()
    if args.json:
        json.dump(rows, sys.stdout, indent=2, ensure_ascii=False)
        sys.stdout.write("\n")
        return 0
    for row in rows:
        print(f"{row['peer']:<16} {row['state']:<9} {row['granularity']:<11} {row['datasets']:<40} "
              f"kpis {row['kpis']} {('until ' + row['expires']) if row['expires'] else ''}")
    print(f"{len(rows)} agreements")
    return 0


def cmd_peers_check(args: argparse.Namespace) -> int:
    """Read every peer of peers.yaml once, as the regional view does, and say how each answered."""
    from ioc.regional import Regional
    from ioc.sharing.peers import load_peers

    settings, _book, handle = _open(args)
    try:
        regional = Regional(handle.client, _book.keys, load_peers(settings.directory))
        readings = regional.refresh()
    finally:
        handle.close()
    for peer in regional.config.peers:
        reading = readings[peer.id]
        took = f"{reading.elapsed_ms:,.0f} ms" if reading.elapsed_ms is not None else ""
        alerts = reading.alerts.get("total", "—")
        print(f"{peer.id:<16} {reading.state:<12} {took:>9}  kpis {len(reading.kpis)}  open alerts {alerts}  "
              f"{reading.error}")
    print(f"{len(readings)} peers")
    return 0 if all(reading.state in ("ok", "slow") for reading in readings.values()) else 1


def register(subparsers: argparse._SubParsersAction) -> None:
    from ioc.sharing import DATASETS, GRANULARITIES

    peers = subparsers.add_parser("peers", help="sharing agreements with peer IOCs, and the peers we read (on "
                                                "IOC_REDIS_URL)")
    sub = peers.add_subparsers(dest="peers_command", required=True)
    grant = sub.add_parser("grant", help="let a peer IOC read datasets from us; prints its API key once")
    grant.add_argument("peer", help="the peer's id (e.g. hue)")
    grant.add_argument("--name", help="what people call it (e.g. 'Hue IOC')")
    grant.add_argument("--datasets", required=True, help=f"comma-separated, from: {', '.join(DATASETS)}")
    grant.add_argument("--kpis", help="comma-separated KPI ids or feed names it may read (default: all)")
    grant.add_argument("--granularity", choices=GRANULARITIES, default="aggregates",
                       help="city: rows as published; ward: rolled up per area; aggregates: city-wide only")
    grant.add_argument("--days", type=float, help="the agreement ends after this many days (default: never)")
    grant.set_defaults(func=cmd_peers_grant)
    revoke = sub.add_parser("revoke", help="end a peer's agreement and its key at once")
    revoke.add_argument("peer")
    revoke.set_defaults(func=cmd_peers_revoke)
    listing = sub.add_parser("list", help="every agreement, in force, expired or revoked")
    listing.add_argument("--json", action="store_true")
    listing.set_defaults(func=cmd_peers_list)
    check = sub.add_parser("check", help="read every peer of peers.yaml once and say how each answered")
    check.set_defaults(func=cmd_peers_check)
