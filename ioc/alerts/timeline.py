"""Each alert's timeline and the city's audit stream: who did what, when, from what state to what, with the
note (scrubbed of personal data and cut to a length), written inside the caller's transaction."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

import redis

from ioc.keys import Keys
from ioc.model import AlertState, to_iso
from ioc.privacy import scrub_text

NOTE_CHARS = 2000


def write_entry(
    pipe: redis.client.Pipeline, keys: Keys, alert_id: str, *, actor: str, action: str, at: datetime,
    to_state: AlertState, from_state: AlertState | None = None, note: str = "",
    entry: Mapping[str, str] | None = None,
) -> None:
    """One entry on the alert's timeline and the same in the audit stream (queued on `pipe`)."""
    record = {
        "at": to_iso(at),
        "actor": actor,
        "action": action,
        "from": str(from_state or ""),
        "to": str(to_state),
        "note": scrub_text(note or "")[:NOTE_CHARS],
        **(entry or {}),
    }
    pipe.xadd(keys.alert_timeline(alert_id), record)
    pipe.xadd(keys.audit(), {"object": f"alert:{alert_id}", **record})


def read_timeline(client: redis.Redis, keys: Keys, alert_id: str) -> list[dict[str, str]]:
    """The alert's timeline, oldest first."""
    return [fields for _, fields in client.xrange(keys.alert_timeline(alert_id))]
