"""What every screen announces: the unacknowledged alarms of the top priorities, with their sound, and a
screen's silencing of them (audited)."""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from ioc.alert_queue import is_loud
from ioc.alerts.record import AlertRecord
from ioc.audit import AuditTrail
from ioc.city_map import alert_rows
from ioc.config import Settings
from ioc.model import Severity

# The sound each announced priority plays, most urgent first: a screen plays the most urgent one sounding.
SOUNDS: dict[Severity, str] = {Severity.EXTREME: "urgent", Severity.SEVERE: "high"}


@dataclass(frozen=True, slots=True)
class Announcement:
    """One alarm a screen announces until someone acknowledges it (or this screen silences it)."""

    id: str
    sound: str
    severity_text: str
    title: str
    where: str
    since: str  # "14:02 · 3 minutes ago"

    def to_dict(self) -> dict[str, str]:
        return {"id": self.id, "sound": self.sound, "severity": self.severity_text, "title": self.title,
                "where": self.where, "since": self.since}


def announcements(records: Iterable[AlertRecord], settings: Settings, lang: str, now: datetime,
                  shelved: Collection[str] = ()) -> list[Announcement]:
    """The alarms every screen must announce, most severe and oldest first: open, of an announced priority,
    not yet acknowledged (acknowledging one anywhere stops it on every screen) and not shelved."""
    loud = [record.alert for record in records
            if is_loud(record) and record.alert.severity in SOUNDS and record.alert.id not in shelved]
    return [Announcement(id=alert.id, sound=SOUNDS[alert.severity], severity_text=row.severity_text,
                         title=row.title, where=row.district, since=f"{row.raised_text} · {row.age_text}")
            for alert, row in zip(loud, alert_rows(loud, settings, lang, now), strict=True)]


def record_silence(audit: AuditTrail, *, actor: str, screen: str, alert_ids: Sequence[str], address: str = ""
                   ) -> None:
    """A screen silenced what it was sounding: who, which screen, which alarms. The alarms stay unacknowledged
    and keep sounding on every other screen."""
    audit.record(actor=actor, action="annunciation.silenced", object=f"screen:{screen}", address=address,
                 note=", ".join(alert_ids))
