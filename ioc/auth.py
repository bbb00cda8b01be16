"""Who may sign in and what they may do: users in Redis with argon2 hashes, roles and session rules from
config/<city>/roles.yaml, API keys stored hashed, and the signed-in user of the request being served.

Every change to a user or a key is written to the audit trail in the same transaction as the change.
"""

from __future__ import annotations

import hashlib
import json
import secrets
import time
from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

import redis
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from ioc.audit import AuditTrail
from ioc.cities import allowed_in_deployment, held_roles, parse_city_roles
from ioc.keys import Keys
from ioc.model import from_iso, to_iso, utcnow
from ioc.roles import (
    EVERYTHING,
    PERMISSIONS,
    ROLES_FILE,
    USER_NAME,
    ApiPolicy,
    Role,
    Roles,
    SessionPolicy,
    SignInPolicy,
    load_roles,
)

# re-exported: callers read the roles from here as well as users
__all__ = ["EVERYTHING", "PERMISSIONS", "ROLES_FILE", "USER_NAME", "ApiPolicy", "Role", "Roles", "SessionPolicy",
           "SignInPolicy", "load_roles"]
MIN_PASSWORD = 10
API_KEY_PREFIX = "ioc_"

# Tuned for a sign-in form: about 50 ms and 64 MiB per hash on a small server (argon2id).
_hasher = PasswordHasher(time_cost=3, memory_cost=64 * 1024, parallelism=2)
# Sessions verified against Redis lately (session id -> user, when), for riding out a short Redis outage.
OUTAGE_GRACE_SECONDS = 120
_recently_verified: dict[str, tuple[User, float]] = {}
# Verified against when the user does not exist, so an unknown name costs as long as a wrong password.
_DUMMY_HASH = _hasher.hash(secrets.token_urlsafe(16))


# --- users --------------------------------------------------------------------------------------------------


class UserError(ValueError):
    """A user change is refused (bad name, unknown role, short password, exists, unknown user)."""


@dataclass(frozen=True, slots=True)
class User:
    """One person who signs in. `epoch` is bumped on every password or role change and on disabling, so
    sessions signed in before it stop working at their next request. `session` is the token of the signed-in
    session this copy was loaded for ('' outside one)."""

    name: str
    role: str
    password_hash: str
    disabled: bool
    epoch: int
    created_at: datetime | None
    created_by: str
    last_sign_in: datetime | None = None
    session: str = ""
    # roles in the deployment's other cities (ioc.cities), as (city, role) pairs; `role` is the home city's
    city_roles: tuple[tuple[str, str], ...] = ()

    # --- what Flask-Login asks of a user --------------------------------------------------------------
    @property
    def is_authenticated(self) -> bool:
        return True

    @property
    def is_active(self) -> bool:
        return not self.disabled

    @property
    def is_anonymous(self) -> bool:
        return False

    def get_id(self) -> str:
        return session_id(self.name, self.epoch, self.session)

    def to_dict(self) -> dict[str, Any]:
        """For listings: never the hash."""
        listed = {"name": self.name, "role": self.role, "disabled": self.disabled,
                  "created_at": to_iso(self.created_at) or None, "created_by": self.created_by,
                  "last_sign_in": to_iso(self.last_sign_in) or None}
        if self.city_roles:
            listed["city_roles"] = dict(self.city_roles)
        return listed


def session_id(name: str, epoch: int, token: str) -> str:
    """What the session cookie names: the user, the epoch it signed in at, and the server-side session."""
    return f"{name}:{epoch}:{token}"


def parse_session_id(value: str) -> tuple[str, int, str] | None:
    parts = value.split(":")
    if len(parts) != 3 or not parts[0] or not parts[1].isdigit() or not parts[2]:
        return None  # cookies from before server-side sessions name no session: signed out
    return parts[0], int(parts[1]), parts[2]


def session_digest(token: str) -> str:
    # tokens are 256 random bits: a fast hash suffices, and Redis never holds a token a reader could replay
    return hashlib.sha256(token.encode()).hexdigest()


def generate_password() -> str:
    """A one-time password to hand over in person: 16 URL-safe characters (96 bits)."""
    return secrets.token_urlsafe(12)


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def _user_from_hash(raw: dict[str, str]) -> User:
    return User(
        name=raw["name"],
        role=raw.get("role", ""),
        password_hash=raw.get("password_hash", ""),
        disabled=raw.get("disabled") == "1",
        epoch=int(raw.get("epoch") or 0),
        created_at=from_iso(raw.get("created_at")),
        created_by=raw.get("created_by", ""),
        last_sign_in=from_iso(raw.get("last_sign_in")),
        city_roles=tuple(sorted(parse_city_roles(raw.get("city_roles")).items())),
    )


class UserBook:
    """The city's users and open-data API keys in Redis; every change audited with who made it."""

    def __init__(self, client: redis.Redis, keys: Keys, roles: Roles) -> None:
        self.redis = client
        self.keys = keys
        self.roles = roles
        self.audit = AuditTrail(client, keys)

    # --- reads -----------------------------------------------------------------------------------------
    def get(self, name: str) -> User | None:
        if not name or not USER_NAME.match(name):
            return None
        raw = self.redis.hgetall(self.keys.user(name))
        return _user_from_hash(raw) if raw else None

    def all(self) -> list[User]:
        names = sorted(self.redis.smembers(self.keys.users()))
        pipe = self.redis.pipeline(transaction=False)
        for name in names:
            pipe.hgetall(self.keys.user(name))
        return [_user_from_hash(raw) for raw in pipe.execute() if raw]

    def count(self) -> int:
        return int(self.redis.scard(self.keys.users()))

    def load_session(self, value: str) -> User | None:
        """The user of a session cookie, None when they were disabled or changed since it was signed in.

        Read from Redis on every request, so disabling someone ends their sessions at once. While Redis does
        not answer, a user verified within the last `OUTAGE_GRACE_SECONDS` stays signed in (nobody can be
        disabled meanwhile either), so a control room shows "Redis down" instead of a sign-in page."""
        parsed = parse_session_id(value)
        if parsed is None:
            return None
        name, epoch, token = parsed
        if not USER_NAME.match(name):
            return None
        try:
            pipe = self.redis.pipeline(transaction=False)
            pipe.hgetall(self.keys.user(name))
            pipe.get(self.keys.session(session_digest(token)))
            raw, session_owner = pipe.execute()
        except (redis.RedisError, OSError):
            cached = _recently_verified.get(value)
            return cached[0] if cached and time.monotonic() - cached[1] < OUTAGE_GRACE_SECONDS else None
        user = replace(_user_from_hash(raw), session=token) if raw else None
        if user is None or user.disabled or user.epoch != epoch or not self._holds_a_role(user) \
                or session_owner != name:
            _recently_verified.pop(value, None)
            return None
        _recently_verified[value] = (user, time.monotonic())
        return user

    # --- server-side sessions -------------------------------------------------------------------------
    def open_session(self, user: User) -> User:
        """A new session of `user` (on sign-in): the returned copy names it; it lasts the role's maximum."""
        token = secrets.token_urlsafe(32)
        digest = session_digest(token)
        seconds = max(1, int(self.roles.session_seconds(user.role)))
        pipe = self.redis.pipeline(transaction=True)
        pipe.set(self.keys.session(digest), user.name, ex=seconds)
        pipe.sadd(self.keys.user_sessions(user.name), digest)
        # the set outlives every session in it: each sign-in pushes its expiry to the newest session's end
        pipe.expire(self.keys.user_sessions(user.name), seconds)
        pipe.execute()
        return replace(user, session=token)

    def end_session(self, user: User) -> None:
        """End the session `user` was loaded for (sign-out, expiry): its cookie opens nothing any more."""
        if not user.session:
            return
        digest = session_digest(user.session)
        pipe = self.redis.pipeline(transaction=True)
        pipe.delete(self.keys.session(digest))
        pipe.srem(self.keys.user_sessions(user.name), digest)
        pipe.execute()
        _recently_verified.pop(user.get_id(), None)

    def session_count(self, name: str) -> int:
        """How many sessions of `name` are open (sessions that expired on their own drop out here too)."""
        digests = sorted(self.redis.smembers(self.keys.user_sessions(name)))
        if not digests:
            return 0
        return int(self.redis.exists(*[self.keys.session(digest) for digest in digests]))

    # --- sign-in -----------------------------------------------------------------------------------------
    def verify(self, name: str, password: str) -> User | None:
        """The user when the password is right and the account enabled; same cost whether the name exists."""
        user = self.get(name.strip().lower())
        try:
            _hasher.verify(user.password_hash if user else _DUMMY_HASH, password)
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            return None
        if user is None or user.disabled:
            return None
        if _hasher.check_needs_rehash(user.password_hash):
            self.redis.hset(self.keys.user(user.name), "password_hash", hash_password(password))
        return user

    def note_sign_in(self, user: User, *, now: datetime | None = None) -> None:
        self.redis.hset(self.keys.user(user.name), "last_sign_in", to_iso(now or utcnow()))

    # --- changes ---------------------------------------------------------------------------------------
    def add(self, name: str, role: str, password: str, *, actor: str, address: str = "") -> User:
        name = name.strip().lower()
        if not USER_NAME.match(name):
            raise UserError(f"user name '{name}': 2-40 lower-case letters, digits, '.', '_' or '-'")
        self._check_role(role)
        self._check_password(password)
        now = utcnow()
        record = {"name": name, "role": role, "password_hash": hash_password(password), "disabled": "0",
                  "epoch": "1", "created_at": to_iso(now), "created_by": actor}

        def _add(pipe: redis.client.Pipeline) -> None:
            if pipe.exists(self.keys.user(name)):
                raise UserError(f"user '{name}' already exists")
            pipe.multi()
            pipe.hset(self.keys.user(name), mapping=record)
            pipe.sadd(self.keys.users(), name)
            self.audit.record(actor=actor, action="user.added", object=f"user:{name}", to_state=role,
                              address=address, pipe=pipe)

        self.redis.transaction(_add, self.keys.user(name))
        return _user_from_hash(record)

    def set_disabled(self, name: str, disabled: bool, *, actor: str, address: str = "") -> User:
        return self._change(name, actor=actor, address=address,
                            action="user.disabled" if disabled else "user.enabled",
                            fields={"disabled": "1" if disabled else "0"},
                            states=lambda u: ("enabled" if not u.disabled else "disabled",
                                              "disabled" if disabled else "enabled"))

    def set_role(self, name: str, role: str, *, actor: str, address: str = "", city: str | None = None) -> User:
        """The user's role; with `city` other than this book's own (the deployment's home city), their role
        in that city of the deployment ('' takes it away), kept in the record's `city_roles`."""
        if city is None or city == self.keys.city:
            self._check_role(role)
            return self._change(name, actor=actor, address=address, action="user.role_changed",
                                fields={"role": role}, states=lambda u: (u.role, role))
        if role:
            self._check_role(role)
        current = self.get(name.strip().lower())
        if current is None:
            raise UserError(f"no user '{name}'")
        roles = {**dict(current.city_roles), city: role}
        text = json.dumps({held: value for held, value in sorted(roles.items()) if value})
        return self._change(name, actor=actor, address=address, action="user.role_changed",
                            fields={"city_roles": text},
                            states=lambda u: (f"{city}:{dict(u.city_roles).get(city, '')}", f"{city}:{role}"))

    def set_password(self, name: str, password: str, *, actor: str, address: str = "") -> User:
        self._check_password(password)
        return self._change(name, actor=actor, address=address, action="user.password_set",
                            fields={"password_hash": hash_password(password)}, states=lambda u: ("", ""))

    def _change(self, name: str, *, actor: str, address: str, action: str, fields: dict[str, str],
                states: Any) -> User:
        key = self.keys.user(name.strip().lower())

        sessions = self.keys.user_sessions(name.strip().lower())

        def _apply(pipe: redis.client.Pipeline) -> User:
            raw = pipe.hgetall(key)
            if not raw:
                raise UserError(f"no user '{name}'")
            before = _user_from_hash(raw)
            from_state, to_state = states(before)
            digests = pipe.smembers(sessions)
            pipe.multi()
            pipe.hset(key, mapping=fields)
            # every session signed in before this change ends: the epoch its cookie names is past, and the
            # sessions themselves are deleted on the server
            pipe.hincrby(key, "epoch", 1)
            for digest in digests:
                pipe.delete(self.keys.session(digest))
            pipe.delete(sessions)
            self.audit.record(actor=actor, action=action, object=f"user:{before.name}", from_state=from_state,
                              to_state=to_state, address=address, pipe=pipe)
            return _user_from_hash({**raw, **fields, "epoch": str(before.epoch + 1)})

        return self.redis.transaction(_apply, key, sessions, value_from_callable=True)

    def _holds_a_role(self, user: User) -> bool:
        held = held_roles(user.role, dict(user.city_roles), self.keys.city)
        return any(self.roles.role(role) is not None for role in held.values())

    def _check_role(self, role: str) -> None:
        if self.roles.role(role) is None:
            raise UserError(f"unknown role '{role}' (roles.yaml has: {', '.join(self.roles.roles)})")

    @staticmethod
    def _check_password(password: str) -> None:
        if len(password) < MIN_PASSWORD:
            raise UserError(f"a password needs at least {MIN_PASSWORD} characters")

    # --- open-data API keys -----------------------------------------------------------------------------
    def issue_api_key(self, holder: str, *, actor: str, address: str = "", city: str | None = None) -> str:
        """A new key for a citizen developer (replacing the holder's previous one); returned once, kept hashed.
        `city`: the deployment's city the key reads (ioc.cities); none is this book's own city."""
        holder = holder.strip().lower()
        if not USER_NAME.match(holder):
            raise UserError(f"key holder '{holder}': 2-40 lower-case letters, digits, '.', '_' or '-'")
        key = API_KEY_PREFIX + secrets.token_urlsafe(32)
        digest = api_key_digest(key)
        previous = self.redis.hget(self.keys.api_keys(), holder)
        pipe = self.redis.pipeline(transaction=True)
        if previous:
            pipe.hset(self.keys.api_key(previous), "disabled", "1")
        record = {"holder": holder, "created_at": to_iso(utcnow()), "created_by": actor, "disabled": "0"}
        if city and city != self.keys.city:
            record["city"] = city
        pipe.hset(self.keys.api_key(digest), mapping=record)
        pipe.hset(self.keys.api_keys(), holder, digest)
        self.audit.record(actor=actor, action="apikey.issued", object=f"apikey:{holder}", address=address,
                          note="replaces the previous key" if previous else "", pipe=pipe)
        pipe.execute()
        return key

    def revoke_api_key(self, holder: str, *, actor: str, address: str = "") -> bool:
        digest = self.redis.hget(self.keys.api_keys(), holder)
        if not digest:
            return False
        pipe = self.redis.pipeline(transaction=True)
        pipe.hset(self.keys.api_key(digest), "disabled", "1")
        pipe.hdel(self.keys.api_keys(), holder)
        self.audit.record(actor=actor, action="apikey.revoked", object=f"apikey:{holder}", address=address,
                          pipe=pipe)
        pipe.execute()
        return True

    def api_key_holder(self, key: str) -> str | None:
        """The holder of a valid, not revoked key; None otherwise."""
        found = self.api_key_owner(key)
        return found[0] if found else None

    def api_key_owner(self, key: str) -> tuple[str, str] | None:
        """(holder, city) of a valid, not revoked key: the city it is bound to, this book's own when it names
        none; None for any other key."""
        if not key or not key.startswith(API_KEY_PREFIX) or len(key) > 200:
            return None
        raw = self.redis.hgetall(self.keys.api_key(api_key_digest(key)))
        if not raw or raw.get("disabled") == "1" or not raw.get("holder"):
            return None
        return raw["holder"], raw.get("city") or self.keys.city

    def api_key_holders(self) -> list[dict[str, str]]:
        holders = self.redis.hgetall(self.keys.api_keys())
        pipe = self.redis.pipeline(transaction=False)
        names = sorted(holders)
        for name in names:
            pipe.hgetall(self.keys.api_key(holders[name]))
        return [{"holder": name, "created_at": raw.get("created_at", ""), "created_by": raw.get("created_by", "")}
                for name, raw in zip(names, pipe.execute(), strict=True)]


def api_key_digest(key: str) -> str:
    # keys are 256 random bits, so a fast hash is safe here and lets a request find its key in one read
    return hashlib.sha256(key.encode()).hexdigest()


def permissions_of(roles: Roles, role: str) -> frozenset[str]:
    found = roles.role(role)
    if found is None:
        return frozenset()
    return frozenset(PERMISSIONS) if EVERYTHING in found.permissions else frozenset(found.permissions)


def seed_users(book: UserBook, wanted: Iterable[tuple[str, str]], *, password: str | None, actor: str
               ) -> list[tuple[str, str, str]]:
    """Create the missing ones of (name, role); return (name, role, password) of those created."""
    created = []
    for name, role in wanted:
        if book.get(name) is not None:
            continue
        secret = password or generate_password()
        book.add(name, role, secret, actor=actor, address="local")
        created.append((name, role, secret))
    return created


# --- the signed-in user of the request being served --------------------------------------------------------


def current_user() -> User | None:
    """The signed-in user of the request being served; None outside a request or when anonymous."""
    import flask
    import flask_login

    if not flask.has_request_context():
        return None
    user = flask_login.current_user
    return user if getattr(user, "is_authenticated", False) and isinstance(user._get_current_object(), User) \
        else None


def current_actor(default: str = "system") -> str:
    """The name to write as `actor` of a change: the signed-in user, `default` outside a request."""
    user = current_user()
    return user.name if user else default


def current_address() -> str:
    """The client address of the request being served ('' outside a request)."""
    import flask

    return (flask.request.remote_addr or "") if flask.has_request_context() else ""


def may(permission: str) -> bool:
    """Whether the signed-in user's role grants `permission` (False when nobody is signed in)."""
    import flask

    user = current_user()
    if user is None:
        return False
    roles: Roles | None = flask.current_app.extensions.get("ioc_roles")
    return roles is not None and allowed_in_deployment(roles, user, permission)
