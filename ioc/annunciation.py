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
from ioc.model import Alert, Severity

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


# Lines the pop-up names: it prompts someone to open the queue, it is not the queue. Five fit its height on a
# desk screen read from 3 m; in a flood the rest are counted on a line of their own and sound all the same.
POPUP_LINES = 5


@dataclass(frozen=True, slots=True)
class Annunciation:
    """What a screen announces now: the first alarms named in the pop-up, and every announced alarm's id and
    sound (silencing and the sound go by all of them, not only those named)."""

    shown: list[Announcement]
    sounding: list[tuple[str, str]]  # (id, sound), most severe and oldest first

    @property
    def more(self) -> int:
        return len(self.sounding) - len(self.shown)

    def to_data(self) -> list[dict[str, str]]:
        named = [item.to_dict() for item in self.shown]
        return [*named, *({"id": alert_id, "sound": sound} for alert_id, sound in self.sounding[len(named):])]


def loud_alerts(records: Iterable[AlertRecord], shelved: Collection[str] = ()) -> list[Alert]:
    """The alarms every screen must announce, in the records' order: open, of an announced priority, not yet
    acknowledged (acknowledging one anywhere stops it on every screen) and not shelved."""
    return [record.alert for record in records
            if is_loud(record) and record.alert.severity in SOUNDS and record.alert.id not in shelved]


def announcements(records: Iterable[AlertRecord], settings: Settings, lang: str, now: datetime,
                  shelved: Collection[str] = ()) -> list[Announcement]:
    """Every alarm to announce, most severe and oldest first (records in queue order), each in words."""
    return _worded(loud_alerts(records, shelved), settings, lang, now)


def annunciate(records: Iterable[AlertRecord], settings: Settings, lang: str, now: datetime,
               shelved: Collection[str] = (), lines: int = POPUP_LINES) -> Annunciation:
    """The pop-up's first `lines` alarms in words and every announced alarm's sound; only the named ones are
    put into words, so a burst of a thousand costs a handful of lines."""
    loud = loud_alerts(records, shelved)
    return Annunciation(_worded(loud[:lines], settings, lang, now),
                        [(alert.id, SOUNDS[alert.severity]) for alert in loud])


def _worded(loud: list[Alert], settings: Settings, lang: str, now: datetime) -> list[Announcement]:
    return [Announcement(id=alert.id, sound=SOUNDS[alert.severity], severity_text=row.severity_text,
                         title=row.title, where=row.district, since=f"{row.raised_text} · {row.age_text}")
            for alert, row in zip(loud, alert_rows(loud, settings, lang, now), strict=True)]


def record_silence(audit: AuditTrail, *, actor: str, screen: str, alert_ids: Sequence[str], address: str = ""
                   ) -> None:
    """A screen silenced what it was sounding: who, which screen, which alarms. The alarms stay unacknowledged
    and keep sounding on every other screen."""
    audit.record(actor=actor, action="annunciation.silenced", object=f"screen:{screen}", address=address,
                 note=", ".join(alert_ids))
