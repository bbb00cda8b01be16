"""Wall screens as devices, not people: registered by an administrator, each with one long random key bound
to its id and stored hashed, view-only, never idle-expired, revocable. Every change is audited."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import quote

import redis

from ioc.audit import AuditTrail
from ioc.keys import Keys
from ioc.model import from_iso, to_iso, utcnow
from ioc.roles import USER_NAME

SCREEN_KEY_PREFIX = "ioc_screen_"
# What a screen may do: look at the wall, and at the read-only pages a wall shows (the control room, the alert
# queue and the situation view an alarm opens). Fixed here, not in roles.yaml, so no edit can make a screen
# act on an alarm or manage anything.
SCREEN_PERMISSIONS = frozenset({"wall.view", "control_room.view", "alerts.view", "situation.view"})
SCREEN_NAME_MAX = 80


class ScreenError(ValueError):
    """A screen change is refused (bad id, exists, unknown screen)."""


@dataclass(frozen=True, slots=True)
class Screen:
    """One registered wall screen. `generation` is bumped by a new key and by revocation: the device cookie
    names the generation it was paired at, so an old cookie opens nothing."""

    id: str
    name: str
    generation: int
    revoked: bool
    created_at: datetime | None
    created_by: str
    last_seen: datetime | None = None

    def to_dict(self) -> dict[str, Any]:
        """For listings: never the key's digest."""
        return {"id": self.id, "name": self.name, "revoked": self.revoked, "created_at": to_iso(self.created_at) or None,
                "created_by": self.created_by, "last_seen": to_iso(self.last_seen) or None}


@dataclass(frozen=True, slots=True)
class ScreenPrincipal:
    """Who a request from a paired screen is: the screen, with the screen permission set and nothing else."""

    screen_id: str
    generation: int
    permissions: frozenset[str] = SCREEN_PERMISSIONS

    @property
    def name(self) -> str:
        return f"screen:{self.screen_id}"

    def allows(self, permission: str) -> bool:
        return permission in self.permissions


def key_digest(key: str) -> str:
    # keys are 256 random bits: a fast hash suffices, and Redis never holds a key a reader could replay
    return hashlib.sha256(key.encode()).hexdigest()


def _screen_from_hash(raw: dict[str, str]) -> Screen:
    return Screen(id=raw["id"], name=raw.get("name", ""), generation=int(raw.get("generation") or 0),
                  revoked=raw.get("revoked") == "1", created_at=from_iso(raw.get("created_at")),
                  created_by=raw.get("created_by", ""), last_seen=from_iso(raw.get("last_seen")))


class ScreenBook:
    """The city's wall screens in Redis: register, new key, revoke, verify; every change audited."""

    def __init__(self, client: redis.Redis, keys: Keys) -> None:
        self.redis = client
        self.keys = keys
        self.audit = AuditTrail(client, keys)

    # --- reads -------------------------------------------------------------------------------------------
    def get(self, screen_id: str) -> Screen | None:
        if not screen_id or not USER_NAME.match(screen_id):
            return None
        raw = self.redis.hgetall(self.keys.screen(screen_id))
        return _screen_from_hash(raw) if raw else None

    def all(self) -> list[Screen]:
        ids = sorted(self.redis.smembers(self.keys.screens()))
        pipe = self.redis.pipeline(transaction=False)
        for screen_id in ids:
            pipe.hgetall(self.keys.screen(screen_id))
        return [_screen_from_hash(raw) for raw in pipe.execute() if raw]

    # --- changes -----------------------------------------------------------------------------------------
    def add(self, screen_id: str, name: str = "", *, actor: str, address: str = "") -> str:
        """Register a screen and return its key (shown once; only its digest is kept)."""
        screen_id = screen_id.strip().lower()
        if not USER_NAME.match(screen_id):
            raise ScreenError(f"screen id '{screen_id}': 2-40 lower-case letters, digits, '.', '_' or '-'")
        key = new_key()
        record = {"id": screen_id, "name": name.strip()[:SCREEN_NAME_MAX] or screen_id, "key_digest": key_digest(key),
                  "generation": "1", "revoked": "0", "created_at": to_iso(utcnow()), "created_by": actor}

        def _add(pipe: redis.client.Pipeline) -> None:
            if pipe.exists(self.keys.screen(screen_id)):
                raise ScreenError(f"screen '{screen_id}' is already registered (revoke it, or issue a new key)")
            pipe.multi()
            pipe.hset(self.keys.screen(screen_id), mapping=record)
            pipe.sadd(self.keys.screens(), screen_id)
            self.audit.record(actor=actor, action="screen.added", object=f"screen:{screen_id}", address=address,
                              to_state="active", pipe=pipe)

        self.redis.transaction(_add, self.keys.screen(screen_id))
        return key

    def new_key(self, screen_id: str, *, actor: str, address: str = "") -> str:
        """A new key for a registered screen (revoked or not): the old key and every paired browser stop."""
        key = new_key()
        self._change(screen_id, actor=actor, address=address, action="screen.key_issued",
                     fields={"key_digest": key_digest(key), "revoked": "0"}, to_state="active")
        return key

    def revoke(self, screen_id: str, *, actor: str, address: str = "") -> Screen:
        """The screen's key and device cookie open nothing any more; the screen blanks at its next tick."""
        return self._change(screen_id, actor=actor, address=address, action="screen.revoked",
                            fields={"revoked": "1", "key_digest": ""}, to_state="revoked")

    def _change(self, screen_id: str, *, actor: str, address: str, action: str, fields: dict[str, str],
                to_state: str) -> Screen:
        key = self.keys.screen(screen_id.strip().lower())

        def _apply(pipe: redis.client.Pipeline) -> Screen:
            raw = pipe.hgetall(key)
            if not raw:
                raise ScreenError(f"no screen '{screen_id}'")
            before = _screen_from_hash(raw)
            pipe.multi()
            pipe.hset(key, mapping=fields)
            pipe.hincrby(key, "generation", 1)
            self.audit.record(actor=actor, action=action, object=f"screen:{before.id}",
                              from_state="revoked" if before.revoked else "active", to_state=to_state,
                              address=address, pipe=pipe)
            return _screen_from_hash({**raw, **fields, "generation": str(before.generation + 1)})

        return self.redis.transaction(_apply, key, value_from_callable=True)

    # --- the device's credentials ------------------------------------------------------------------------
    def verify_key(self, screen_id: str, key: str) -> Screen | None:
        """The screen when `key` is its current key and it is not revoked; None otherwise."""
        if not key.startswith(SCREEN_KEY_PREFIX) or len(key) > 200:
            return None
        screen_id = screen_id.strip().lower()
        if not USER_NAME.match(screen_id):
            return None
        raw = self.redis.hgetall(self.keys.screen(screen_id))
        if not raw or raw.get("revoked") == "1" or not raw.get("key_digest"):
            return None
        if not secrets.compare_digest(raw["key_digest"], key_digest(key)):
            return None
        return _screen_from_hash(raw)

    def principal(self, screen_id: str, generation: int) -> ScreenPrincipal | None:
        """The screen a device cookie names, while it is neither revoked nor re-keyed since it was paired."""
        if not USER_NAME.match(screen_id):
            return None
        revoked, current = self.redis.hmget(self.keys.screen(screen_id), ["revoked", "generation"])
        if current is None or revoked == "1" or int(current) != generation:
            return None
        return ScreenPrincipal(screen_id=screen_id, generation=generation)

    def note_seen(self, screen_id: str, now: datetime | None = None) -> None:
        self.redis.hset(self.keys.screen(screen_id), "last_seen", to_iso(now or utcnow()))


def new_key() -> str:
    return SCREEN_KEY_PREFIX + secrets.token_urlsafe(32)


def pairing_address(base_url: str, screen_id: str, key: str) -> str:
    """The address a screen opens once: its key is exchanged there for the screen's device cookie."""
    return f"{base_url.rstrip('/')}/wall/{quote(screen_id)}?key={quote(key)}"
