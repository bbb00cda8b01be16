"""The regional view's readings of peer IOCs: every configured peer read at once through its own API with its
own credentials (httpx, a timeout per peer), each reading kept per peer in Redis, so a screen draws the last
good values at once and a slow or dead peer only ever delays itself ("slow", "down since")."""

from __future__ import annotations

import asyncio
import contextlib
import json
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import httpx
import redis

from ioc.audit import AuditTrail
from ioc.credentials import CredentialError, FeedCredentials
from ioc.keys import Keys
from ioc.model import from_iso, to_iso, utcnow
from ioc.sharing.peers import Peer, PeerFile

SEVERITIES = ("extreme", "severe", "moderate", "minor", "unknown")
MAX_MARKERS = 200  # alert markers kept per peer for the region map
MAX_KPIS = 8  # headline numbers kept per peer for its card
PATHS = {"kpis": "/api/v1/kpis?lang=vi", "alerts": "/api/v1/alerts?limit=500", "feeds": "/api/v1/feeds"}
KPI_LABELS_EN = "/api/v1/kpis?lang=en"  # the same KPIs' English labels, read beside the Vietnamese ones


@dataclass(frozen=True, slots=True)
class PeerReading:
    """One peer as the regional view shows it: its state since when, and the last good values."""

    peer: str
    state: str  # ok, slow, down, refused, unconfigured, never
    since: datetime | None = None
    checked_at: datetime | None = None
    elapsed_ms: float | None = None
    error: str = ""
    good_at: datetime | None = None
    kpis: list[dict[str, Any]] = field(default_factory=list)
    alerts: dict[str, Any] = field(default_factory=dict)
    feeds: dict[str, int] = field(default_factory=dict)

    def to_hash(self) -> dict[str, str]:
        return {"state": self.state, "since": to_iso(self.since), "checked_at": to_iso(self.checked_at),
                "elapsed_ms": "" if self.elapsed_ms is None else f"{self.elapsed_ms:.1f}", "error": self.error,
                "good_at": to_iso(self.good_at),
                "data": json.dumps({"kpis": self.kpis, "alerts": self.alerts, "feeds": self.feeds},
                                   ensure_ascii=False)}

    @classmethod
    def from_hash(cls, peer: str, raw: dict[str, str]) -> PeerReading:
        if not raw:
            return cls(peer=peer, state="never")
        data = json.loads(raw.get("data") or "{}")
        return cls(peer=peer, state=raw.get("state", "never"), since=from_iso(raw.get("since")),
                   checked_at=from_iso(raw.get("checked_at")),
                   elapsed_ms=float(raw["elapsed_ms"]) if raw.get("elapsed_ms") else None,
                   error=raw.get("error", ""), good_at=from_iso(raw.get("good_at")), kpis=data.get("kpis", []),
                   alerts=data.get("alerts", {}), feeds=data.get("feeds", {}))


# --- what a peer's answers become ------------------------------------------------------------------------


def kpi_summary(body: dict[str, Any], english: dict[str, Any] | None = None) -> list[dict[str, Any]]:
    """The first KPIs with their label in both languages (`english`: the same answer asked in English)."""
    labels_en = {row.get("id"): row.get("label") for row in (english or {}).get("items") or []
                 if isinstance(row, dict)}
    rows = []
    for row in (body.get("items") or [])[:MAX_KPIS]:
        if isinstance(row, dict):
            label = row.get("label") or row.get("id")
            rows.append({"id": row.get("id"), "label": label, "label_en": labels_en.get(row.get("id")) or label,
                         "value": row.get("value"), "unit": row.get("unit") or ""})
    return rows


def alert_summary(body: dict[str, Any]) -> dict[str, Any]:
    """Counts by severity and markers, from alert rows (city granularity) or their rollups (ward, aggregates:
    rows with a `count`, placed at their area's centre when the peer gives one)."""
    counts: Counter[str] = Counter()
    markers = []
    for row in body.get("items") or []:
        if not isinstance(row, dict):
            continue
        severity = str(row.get("severity") or "unknown").lower()
        severity = severity if severity in SEVERITIES else "unknown"
        number = int(row.get("count") or 1)
        counts[severity] += number
        # an alert row carries `location` [lon, lat]; a rollup its area's centre as lon and lat
        lon, lat = row.get("location") or (row.get("lon"), row.get("lat"))
        if isinstance(lon, int | float) and isinstance(lat, int | float) and len(markers) < MAX_MARKERS:
            markers.append({"lon": lon, "lat": lat, "severity": severity, "count": number,
                            "title": str(row.get("title") or row.get("area") or "")[:120]})
    return {"counts": {name: counts[name] for name in SEVERITIES if counts[name]}, "total": sum(counts.values()),
            "markers": markers}


def feed_summary(body: dict[str, Any]) -> dict[str, int]:
    return dict(Counter(str(row.get("status")) for row in body.get("items") or [] if isinstance(row, dict)))


SUMMARIES = {"kpis": kpi_summary, "alerts": alert_summary, "feeds": feed_summary}


# --- reading ---------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Outcome:
    state: str  # ok, slow, down, refused, unconfigured
    elapsed_ms: float
    error: str = ""
    values: dict[str, Any] = field(default_factory=dict)


async def _get(client: httpx.AsyncClient, peer: Peer, auth: httpx.Auth | None, path: str) -> dict[str, Any]:
    response = await client.get(peer.base_url.rstrip("/") + path, auth=auth or httpx.USE_CLIENT_DEFAULT)
    response.raise_for_status()
    return response.json()


async def _fetch(client: httpx.AsyncClient, peer: Peer, auth: httpx.Auth | None, what: str) -> Any:
    if what == "kpis":
        body, english = await asyncio.gather(_get(client, peer, auth, PATHS[what]),
                                             _get(client, peer, auth, KPI_LABELS_EN))
        return kpi_summary(body, english)
    return SUMMARIES[what](await _get(client, peer, auth, PATHS[what]))


async def read_peer(client: httpx.AsyncClient, peer: Peer, slow_after: float) -> Outcome:
    """One peer's readings, all asked at once, bounded by the peer's own timeout."""
    started = time.perf_counter()

    def elapsed() -> float:
        return (time.perf_counter() - started) * 1000

    try:
        auth = FeedCredentials(peer.as_feed()) if peer.auth else None  # type: ignore[arg-type]
    except CredentialError as exc:
        return Outcome("unconfigured", 0.0, str(exc))
    try:
        found = await asyncio.wait_for(asyncio.gather(*(_fetch(client, peer, auth, what) for what in peer.read)),
                                       timeout=peer.timeout)
    except TimeoutError:
        return Outcome("slow", elapsed(), f"no answer within {peer.timeout:g} s")
    except httpx.HTTPStatusError as exc:
        status = exc.response.status_code
        return Outcome("refused" if status in (401, 403) else "down", elapsed(), f"HTTP {status}")
    except (httpx.HTTPError, ValueError) as exc:
        return Outcome("down", elapsed(), type(exc).__name__)
    took = elapsed()
    return Outcome("slow" if took > slow_after * 1000 else "ok", took, values=dict(zip(peer.read, found, strict=True)))


async def read_peers(peers: list[Peer], slow_after: float) -> dict[str, Outcome]:
    """Every peer read concurrently: the whole takes as long as the slowest peer's timeout at most."""
    limits = httpx.Limits(max_connections=max(10, 3 * len(peers)))
    async with httpx.AsyncClient(limits=limits, timeout=httpx.Timeout(max((p.timeout for p in peers), default=3)),
                                 follow_redirects=False) as client:
        outcomes = await asyncio.gather(*(read_peer(client, peer, slow_after) for peer in peers))
    return {peer.id: outcome for peer, outcome in zip(peers, outcomes, strict=True)}


def merged(previous: PeerReading, outcome: Outcome, now: datetime) -> PeerReading:
    """The new reading: fresh values when the peer answered, else the last good ones kept; `since` moves only
    when the state changes."""
    since = previous.since if previous.state == outcome.state and previous.since else now
    if outcome.values:
        return PeerReading(peer=previous.peer, state=outcome.state, since=since, checked_at=now,
                           elapsed_ms=outcome.elapsed_ms, good_at=now,
                           kpis=outcome.values.get("kpis", []), alerts=outcome.values.get("alerts", {}),
                           feeds=outcome.values.get("feeds", {}))
    return PeerReading(peer=previous.peer, state=outcome.state, since=since, checked_at=now,
                       elapsed_ms=outcome.elapsed_ms, error=outcome.error, good_at=previous.good_at,
                       kpis=previous.kpis, alerts=previous.alerts, feeds=previous.feeds)


class Regional:
    """The peers of one city and their kept readings."""

    def __init__(self, client: redis.Redis, keys: Keys, peers: PeerFile) -> None:
        self.redis = client
        self.keys = keys
        self.config = peers

    def readings(self) -> dict[str, PeerReading]:
        pipe = self.redis.pipeline(transaction=False)
        for peer in self.config.peers:
            pipe.hgetall(self.keys.regional_peer(peer.id))
        return {peer.id: PeerReading.from_hash(peer.id, raw)
                for peer, raw in zip(self.config.peers, pipe.execute(), strict=True)}

    def refresh(self, now: datetime | None = None) -> dict[str, PeerReading]:
        """Read every peer now and keep what each answered; a change into or out of 'refused' is audited."""
        outcomes = asyncio.run(read_peers(self.config.peers, self.config.slow_after))
        now = (now or utcnow()).replace(microsecond=0)  # as kept in Redis, so a reading compares with its copy
        previous = self.readings()
        fresh = {peer: merged(previous[peer], outcome, now) for peer, outcome in outcomes.items()}
        pipe = self.redis.pipeline(transaction=True)
        audit = AuditTrail(self.redis, self.keys)
        for peer, reading in fresh.items():
            pipe.delete(self.keys.regional_peer(peer))
            pipe.hset(self.keys.regional_peer(peer), mapping=reading.to_hash())
            before = previous[peer].state
            if (reading.state == "refused") != (before == "refused"):
                audit.record(actor="regional", action="sharing.peer_refused" if reading.state == "refused"
                             else "sharing.peer_restored", object=f"peer:{peer}", from_state=before,
                             to_state=reading.state, note=reading.error, pipe=pipe)
        pipe.execute()
        return fresh

    def due(self, readings: dict[str, PeerReading], now: datetime) -> bool:
        checked = [reading.checked_at for reading in readings.values()]
        return any(at is None or (now - at).total_seconds() >= self.config.refresh for at in checked)

    def snapshot(self, now: datetime | None = None) -> dict[str, PeerReading]:
        """The kept readings at once; when they are due, one process (whoever takes the lock) reads the peers
        again in a background thread, so no screen ever waits for a peer."""
        now = now or utcnow()
        readings = self.readings()
        if self.config.peers and self.due(readings, now):
            lock_seconds = int(max(peer.timeout for peer in self.config.peers) + self.config.refresh)
            if self.redis.set(self.keys.regional_refresh(), "1", nx=True, ex=max(2, lock_seconds)):
                threading.Thread(target=self._refresh_then_release, name="regional-refresh", daemon=True).start()
        return readings

    def _refresh_then_release(self) -> None:
        try:
            self.refresh()
        except (redis.RedisError, OSError):
            pass  # the next screen tick tries again once the lock expires
        finally:
            # the next refresh waits for `refresh` seconds, through the readings' checked_at
            with contextlib.suppress(redis.RedisError):
                self.redis.delete(self.keys.regional_refresh())
