"""The city's audit trail: append-only entries in one Redis stream (who, when, what, from where), search, CSV.

The alert lifecycle (ioc.alerts) appends its state changes to the same stream; sign-ins, user and API-key
changes and configuration changes are appended here. This module can only append and read: there is no
function that edits or deletes an entry, and no route or callback of the app that could.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import redis

from ioc.keys import Keys
from ioc.model import from_iso, to_iso, utcnow
from ioc.privacy import scrub_text

NOTE_CHARS = 2000
FIELD_CHARS = 200
CSV_COLUMNS = ("at", "actor", "action", "object", "from", "to", "address", "note")
SEARCH_PAGE = 500  # stream entries read per round trip while searching
# Spreadsheets run a cell that starts with one of these as a formula: an exported note must stay text.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


@dataclass(frozen=True, slots=True)
class AuditEntry:
    """One line of the trail; `id` is the stream id, whose first part is the epoch in milliseconds."""

    id: str
    at: str
    actor: str
    action: str
    object: str = ""
    from_state: str = ""
    to_state: str = ""
    address: str = ""
    note: str = ""
    extra: dict[str, str] = field(default_factory=dict)

    @classmethod
    def from_stream(cls, entry_id: str, fields: Mapping[str, str]) -> AuditEntry:
        known = {"at", "actor", "action", "object", "from", "to", "address", "note"}
        return cls(
            id=entry_id,
            at=fields.get("at", ""),
            actor=fields.get("actor", ""),
            action=fields.get("action", ""),
            object=fields.get("object", ""),
            from_state=fields.get("from", ""),
            to_state=fields.get("to", ""),
            address=fields.get("address", ""),
            note=fields.get("note", ""),
            extra={key: value for key, value in fields.items() if key not in known},
        )

    def row(self) -> dict[str, str]:
        return {"at": self.at, "actor": self.actor, "action": self.action, "object": self.object,
                "from": self.from_state, "to": self.to_state, "address": self.address, "note": self.note}


@dataclass(frozen=True, slots=True)
class AuditQuery:
    """What an administrator searches for; every part optional. `action` matches a prefix ("sign_in"
    finds "sign_in" and "sign_in.failed")."""

    actor: str = ""
    action: str = ""
    since: datetime | None = None
    until: datetime | None = None
    limit: int = 200

    def matches(self, entry: AuditEntry) -> bool:
        if self.actor and entry.actor.lower() != self.actor.strip().lower():
            return False
        return not (self.action and not entry.action.startswith(self.action.strip()))


def _clip(text: Any, limit: int = FIELD_CHARS) -> str:
    return str(text if text is not None else "")[:limit]


class AuditTrail:
    """Appending to and reading the city's audit stream."""

    def __init__(self, client: redis.Redis, keys: Keys) -> None:
        self.redis = client
        self.keys = keys

    def record(
        self,
        *,
        actor: str,
        action: str,
        object: str = "",
        address: str = "",
        note: str = "",
        from_state: str = "",
        to_state: str = "",
        at: datetime | None = None,
        pipe: redis.client.Pipeline | None = None,
    ) -> None:
        """Append one entry (inside `pipe` when given, so it lands in the same transaction as the change)."""
        fields = {
            "object": _clip(object),
            "at": to_iso(at or utcnow()),
            "actor": _clip(actor) or "unknown",
            "action": _clip(action),
            "from": _clip(from_state),
            "to": _clip(to_state),
            "note": scrub_text(_clip(note, NOTE_CHARS)),
            "address": _clip(address, 64),
        }
        (pipe if pipe is not None else self.redis).xadd(self.keys.audit(), fields)

    def search(self, query: AuditQuery) -> list[AuditEntry]:
        """Newest first, at most `query.limit`; the time range is read from the stream ids, not scanned."""
        found: list[AuditEntry] = []
        for entry in self._newest_first(query.since, query.until):
            if query.matches(entry):
                found.append(entry)
                if len(found) >= query.limit:
                    break
        return found

    def _newest_first(self, since: datetime | None, until: datetime | None) -> Iterator[AuditEntry]:
        high = f"{int(until.timestamp() * 1000)}-18446744073709551615" if until else "+"
        low = f"{int(since.timestamp() * 1000)}-0" if since else "-"
        while True:
            page = self.redis.xrevrange(self.keys.audit(), max=high, min=low, count=SEARCH_PAGE)
            if not page:
                return
            for entry_id, fields in page:
                yield AuditEntry.from_stream(entry_id, fields)
            if len(page) < SEARCH_PAGE:
                return
            high = "(" + page[-1][0]  # exclusive: continue below the last id read

    def count(self) -> int:
        return int(self.redis.xlen(self.keys.audit()))


def to_csv(entries: Iterable[AuditEntry]) -> str:
    """The entries as CSV (UTF-8 text); cells a spreadsheet would run as formulas are quoted as text."""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=CSV_COLUMNS, lineterminator="\r\n")
    writer.writeheader()
    for entry in entries:
        writer.writerow({key: _inert(value) for key, value in entry.row().items()})
    return buffer.getvalue()


def _inert(value: str) -> str:
    return "'" + value if value.startswith(_FORMULA_START) else value


def parse_time(text: str | None) -> datetime | None:
    """A search bound typed by a person: ISO date or date-time; None when empty or unreadable."""
    if not text or not text.strip():
        return None
    try:
        return from_iso(text.strip())
    except ValueError:
        return None


# --- configuration changes ---------------------------------------------------------------------------------
# Rules and KPI targets are reviewed configuration files, not screens: a change is audited when the app
# first starts on the changed file, naming what changed, since the file's author is not known to Redis.

AUDITED_CONFIG = ("rules.yaml", "kpis.yaml", "targets.yaml", "roles.yaml", "agencies.yaml")


def _entries_by_id(document: Any) -> dict[str, str]:
    """Each listed entry with an id or a name -> the JSON of its content, to say which entries changed."""
    found: dict[str, str] = {}
    if isinstance(document, dict):
        for section, value in document.items():
            if isinstance(value, list):
                for item in value:
                    if isinstance(item, dict) and (item.get("id") or item.get("name")):
                        found[f"{section}:{item.get('id') or item.get('name')}"] = json.dumps(item, sort_keys=True,
                                                                                             default=str)
            elif isinstance(value, dict):
                for name, item in value.items():
                    found[f"{section}:{name}"] = json.dumps(item, sort_keys=True, default=str)
    return found


def audit_config_changes(
    client: redis.Redis, keys: Keys, directory: Path, *, actor: str, address: str = "local"
) -> list[str]:
    """Append a `config.changed` entry for each audited file whose content differs from the last seen one."""
    import yaml

    trail = AuditTrail(client, keys)
    changed: list[str] = []
    for name in AUDITED_CONFIG:
        path = directory / name
        if not path.exists():
            continue
        content = path.read_bytes()
        digest = hashlib.sha256(content).hexdigest()
        field_name = f"{name}"
        previous = client.hget(keys.config_fingerprints(), field_name)
        if previous and previous.split(" ", 1)[0] == digest:
            continue
        try:
            entries = _entries_by_id(yaml.safe_load(content))
        except yaml.YAMLError:
            entries = {}
        note = "first seen" if not previous else _describe_change(previous, entries)
        pipe = client.pipeline(transaction=True)
        pipe.hset(keys.config_fingerprints(), field_name, f"{digest} {json.dumps(entries)}")
        trail.record(actor=actor, action="config.changed", object=f"config:{name}", address=address,
                     note=note, pipe=pipe)
        pipe.execute()
        changed.append(name)
    return changed


def _describe_change(previous: str, entries: dict[str, str]) -> str:
    try:
        before: dict[str, str] = json.loads(previous.split(" ", 1)[1])
    except (IndexError, json.JSONDecodeError):
        return "changed"
    added = sorted(set(entries) - set(before))
    removed = sorted(set(before) - set(entries))
    edited = sorted(name for name in set(entries) & set(before) if entries[name] != before[name])
    parts = [f"{label}: {', '.join(names)}" for label, names in
             (("added", added), ("removed", removed), ("changed", edited)) if names]
    return "; ".join(parts) or "changed (comments or layout only)"
