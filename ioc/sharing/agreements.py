"""Sharing agreements: per peer IOC, the datasets and KPIs it may read, at what granularity, until when; kept in
Redis, granted and revoked by an administrator, every change audited, each bound to the peer's own API key."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import redis

from ioc.audit import AuditTrail
from ioc.auth import UserBook
from ioc.keys import Keys
from ioc.model import from_iso, to_iso, utcnow

# What a peer may be allowed to read; each open-data and OData route serves one of them (ioc.sharing.enforce).
DATASETS = ("kpis", "alerts", "feeds", "entities", "observations", "events", "history")
# city: the open data as the city publishes it, entity rows included; ward: values rolled up per area, no
# entity rows; aggregates: city-wide totals only (counts, means, the feeds' KPIs)
GRANULARITIES = ("city", "ward", "aggregates")
PEER_ID = re.compile(r"^[a-z0-9][a-z0-9-]{1,30}$")
HOLDER_PREFIX = "peer."


class SharingError(ValueError):
    """An agreement that cannot be made as asked; the message says which part."""


def peer_holder(peer: str) -> str:
    """The API key holder name of a peer's key (ioc.auth keys carry a holder; a peer's is `peer.<id>`)."""
    return f"{HOLDER_PREFIX}{peer}"


def peer_of_holder(holder: str | None) -> str | None:
    return holder[len(HOLDER_PREFIX):] if holder and holder.startswith(HOLDER_PREFIX) else None


@dataclass(frozen=True, slots=True)
class Agreement:
    """What one peer may read. `kpis` empty means every KPI; `expires` None means until revoked."""

    peer: str
    name: str
    datasets: tuple[str, ...]
    granularity: str
    kpis: tuple[str, ...] = ()
    expires: datetime | None = None
    created_at: str = ""
    created_by: str = ""
    revoked: bool = False
    revoked_at: str = ""
    revoked_by: str = ""

    def in_force(self, now: datetime | None = None) -> bool:
        return not self.revoked and (self.expires is None or (now or utcnow()) < self.expires)

    def allows_kpi(self, kpi_id: str) -> bool:
        """`kpi_id` is a catalogue KPI id or a feed's headline number (`feed:<name>`, also accepted as `<name>`)."""
        if not self.kpis:
            return True
        return kpi_id in self.kpis or kpi_id.removeprefix("feed:") in self.kpis

    def to_hash(self) -> dict[str, str]:
        return {"name": self.name, "datasets": json.dumps(list(self.datasets)), "granularity": self.granularity,
                "kpis": json.dumps(list(self.kpis)), "expires": to_iso(self.expires) if self.expires else "",
                "created_at": self.created_at, "created_by": self.created_by, "revoked": "1" if self.revoked else "0",
                "revoked_at": self.revoked_at, "revoked_by": self.revoked_by, "key_holder": peer_holder(self.peer)}

    @classmethod
    def from_hash(cls, peer: str, raw: dict[str, str]) -> Agreement:
        return cls(peer=peer, name=raw.get("name", peer), datasets=tuple(json.loads(raw.get("datasets") or "[]")),
                   granularity=raw.get("granularity", "aggregates"), kpis=tuple(json.loads(raw.get("kpis") or "[]")),
                   expires=from_iso(raw["expires"]) if raw.get("expires") else None,
                   created_at=raw.get("created_at", ""), created_by=raw.get("created_by", ""),
                   revoked=raw.get("revoked") == "1", revoked_at=raw.get("revoked_at", ""),
                   revoked_by=raw.get("revoked_by", ""))

    def describe(self) -> str:
        kpis = ", ".join(self.kpis) if self.kpis else "all KPIs"
        until = f"until {to_iso(self.expires)}" if self.expires else "until revoked"
        return f"{', '.join(self.datasets)}; {kpis}; granularity {self.granularity}; {until}"


def check(peer: str, datasets: list[str], granularity: str, days: float | None) -> None:
    if not PEER_ID.match(peer):
        raise SharingError(f"peer id '{peer}': 2-31 lower-case letters, digits or '-'")
    unknown = [name for name in datasets if name not in DATASETS]
    if unknown or not datasets:
        raise SharingError(f"datasets: {', '.join(unknown) or 'none given'}; choose from {', '.join(DATASETS)}")
    if granularity not in GRANULARITIES:
        raise SharingError(f"granularity '{granularity}': one of {', '.join(GRANULARITIES)}")
    if days is not None and days <= 0:
        raise SharingError(f"days: must be more than 0, got {days:g}")


class AgreementBook:
    """This city's agreements with peer IOCs. A grant issues the peer a new API key (returned once, kept
    hashed by ioc.auth.UserBook); a revocation disables that key in the same step, so the peer's next request
    is refused. Both are audited."""

    def __init__(self, client: redis.Redis, keys: Keys, users: UserBook) -> None:
        self.redis = client
        self.keys = keys
        self.users = users
        self.audit = AuditTrail(client, keys)

    def get(self, peer: str) -> Agreement | None:
        raw = self.redis.hgetall(self.keys.sharing_agreement(peer))
        return Agreement.from_hash(peer, raw) if raw else None

    def all(self) -> list[Agreement]:
        peers = sorted(self.redis.smembers(self.keys.sharing_agreements()))
        pipe = self.redis.pipeline(transaction=False)
        for peer in peers:
            pipe.hgetall(self.keys.sharing_agreement(peer))
        return [Agreement.from_hash(peer, raw) for peer, raw in zip(peers, pipe.execute(), strict=True) if raw]

    def grant(self, peer: str, *, name: str, datasets: list[str], granularity: str, kpis: list[str] | None = None,
              days: float | None = None, actor: str, address: str = "", now: datetime | None = None) -> str:
        """Make (or replace) the peer's agreement and issue its API key; the key is returned, never stored."""
        peer = peer.strip().lower()
        check(peer, datasets, granularity, days)
        now = now or utcnow()
        agreement = Agreement(peer=peer, name=name.strip() or peer, datasets=tuple(dict.fromkeys(datasets)),
                              granularity=granularity, kpis=tuple(dict.fromkeys(k.strip() for k in kpis or ())),
                              expires=now + timedelta(days=days) if days else None, created_at=to_iso(now),
                              created_by=actor)
        key = self.users.issue_api_key(peer_holder(peer), actor=actor, address=address)
        pipe = self.redis.pipeline(transaction=True)
        pipe.delete(self.keys.sharing_agreement(peer))
        pipe.hset(self.keys.sharing_agreement(peer), mapping=agreement.to_hash())
        pipe.sadd(self.keys.sharing_agreements(), peer)
        self.audit.record(actor=actor, action="sharing.granted", object=f"peer:{peer}", address=address,
                          to_state=agreement.granularity, note=agreement.describe(), pipe=pipe)
        pipe.execute()
        return key

    def revoke(self, peer: str, *, actor: str, address: str = "", now: datetime | None = None) -> bool:
        """End the agreement and disable its key at once; False when there is no agreement in force."""
        found = self.get(peer)
        if found is None or found.revoked:
            return False
        self.users.revoke_api_key(peer_holder(peer), actor=actor, address=address)
        pipe = self.redis.pipeline(transaction=True)
        pipe.hset(self.keys.sharing_agreement(peer), mapping={"revoked": "1", "revoked_at": to_iso(now or utcnow()),
                                                              "revoked_by": actor})
        self.audit.record(actor=actor, action="sharing.revoked", object=f"peer:{peer}", address=address,
                          from_state=found.granularity, pipe=pipe)
        pipe.execute()
        return True


def agreement_rows(book: AgreementBook, now: datetime | None = None) -> list[dict[str, Any]]:
    """Every agreement as a row for the CLI and the administration page."""
    now = now or utcnow()
    return [{"peer": a.peer, "name": a.name, "datasets": ", ".join(a.datasets), "kpis": ", ".join(a.kpis) or "*",
             "granularity": a.granularity, "expires": to_iso(a.expires) if a.expires else "",
             "state": "revoked" if a.revoked else ("in force" if a.in_force(now) else "expired"),
             "created_by": a.created_by, "created_at": a.created_at} for a in book.all()]
