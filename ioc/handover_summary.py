"""What a shift leaves to the next one, computed from the alarms, the audit trail and feed health over the
shift's window: alarms raised, acknowledged and resolved, those still open with their owners, SLA breaches
(escalated for want of an acknowledgement), stale and failed feeds, situations, notes on alarms and checklist
steps left undone. The summary is plain JSON (it is kept with the handover as it stood); `sections` turns it
into titled tables in one language, which the page and the PDF both draw."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from ioc.alerts import AlertRecord
from ioc.audit import AuditQuery, AuditTrail
from ioc.config import Settings
from ioc.feed_board import feed_status
from ioc.handover import ShiftWindow
from ioc.i18n import local_time, t
from ioc.model import from_iso, to_iso
from ioc.situation import is_situation
from ioc.situation import link as situation_link
from ioc.store import Store

AUDIT_READ = 20_000  # audit entries read over one shift at most
LISTED = 200  # rows of one section at most


def _alarm(record: AlertRecord) -> dict[str, Any]:
    alert = record.alert
    return {"id": alert.id, "rule": alert.rule_id, "title": alert.title, "place": record.place,
            "severity": str(alert.severity), "state": str(alert.state), "district": alert.district or "",
            # who has it: its assignee, else who acknowledged it, else (resolved unowned) who resolved it
            "owner": record.assignee or record.acknowledged_by or record.resolved_by,
            "raised_at": to_iso(alert.raised_at)}


def shift_summary(store: Store, settings: Settings, window: ShiftWindow, now: datetime) -> dict[str, Any]:
    """The shift's summary up to `now` (or its end, when it is over), as JSON-ready data."""
    until = min(now, window.end)
    book = store.alerts
    raised_ids = store.redis.zrangebyscore(store.keys.alerts_all(), window.start.timestamp(), until.timestamp())
    entries = AuditTrail(store.redis, store.keys).search(
        AuditQuery(since=window.start, until=until, limit=AUDIT_READ))
    on_alerts = [entry for entry in reversed(entries) if entry.object.startswith("alert:")]
    acted: dict[str, set[str]] = {"acknowledged": set(), "assigned": set(), "resolved": set()}
    sla, notes = [], []
    for entry in on_alerts:
        alert_id = entry.object.split(":", 1)[1]
        if entry.action in acted:
            acted[entry.action].add(alert_id)
        elif entry.action == "escalated":
            sla.append({"id": alert_id, "at": entry.at, "from": entry.extra.get("severity_from", ""),
                        "to": entry.extra.get("severity_to", "")})
        elif entry.action == "comment" and entry.note:
            notes.append({"id": alert_id, "at": entry.at, "actor": entry.actor, "note": entry.note})
    open_records = book.records()
    raised = book._load(raised_ids)  # noqa: SLF001 - the book's own batched read of many alerts
    steps = []
    for record in open_records:
        procedure = settings.procedures.get(record.procedure) if record.procedure else None
        if procedure is None:
            continue
        ticked = book.checklist(record.id)
        steps += [{"id": record.id, "step": number, "vi": step.vi, "en": step.en}
                  for number, step in enumerate(procedure.steps) if number not in ticked]
    health = store.all_health(feed.name for feed in settings.feeds)
    feeds = []
    for feed in settings.feeds:
        state = health.get(feed.name)
        status = feed_status(state, feed.enabled, now)
        if status in ("stale", "failing", "never"):
            feeds.append({"feed": feed.name, "status": status,
                          "last_success": to_iso(state.last_success) if state else "",
                          "last_error": (state.last_error if state else "")[:300]})
    situations = [record for record in [*raised, *open_records] if is_situation(record, settings)]
    return {
        "shift": window.shift, "key": window.key, "start": to_iso(window.start), "end": to_iso(window.end),
        "made_at": to_iso(now),
        "counts": {"raised": len(raised), "acknowledged": len(acted["acknowledged"] | acted["assigned"]),
                   "resolved": len(acted["resolved"]), "open": len(open_records), "sla": len(sla)},
        "raised": [_alarm(record) for record in raised][:LISTED],
        "open": [_alarm(record) for record in open_records][:LISTED],
        "sla": sla[:LISTED],
        "feeds": feeds,
        "situations": list({record.id: _alarm(record) for record in situations}.values())[:LISTED],
        "notes": notes[:LISTED],
        "steps": steps[:LISTED],
    }


# --- in one language: titled tables --------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Section:
    key: str
    title: str
    columns: list[str]
    rows: list[list[str]]
    links: list[str | None]  # per row: where its first cell leads (an alarm's situation view), if anywhere


def shift_name(shift: str, lang: str) -> str:
    text = t(f"handover.shift.{shift}", lang)
    return shift if text == f"handover.shift.{shift}" else text


def window_text(summary: dict[str, Any], lang: str) -> str:
    start, end = from_iso(summary.get("start")), from_iso(summary.get("end"))
    return t("handover.window", lang, shift=shift_name(summary.get("shift", ""), lang),
             start=local_time(start, "%H:%M %d/%m/%Y"), end=local_time(end, "%H:%M %d/%m/%Y"))


def _title(alarm: dict[str, Any], settings: Settings, lang: str) -> str:
    rule = next((r for r in settings.rules if r.id == alarm.get("rule")), None)
    title = rule.title.get(lang) if rule else alarm.get("title", "")
    place = alarm.get("place") or alarm.get("district") or ""
    return f"{title} — {place}" if place and place != title else title


def _alarm_rows(alarms: Sequence[dict[str, Any]], settings: Settings, lang: str, owner: bool
                ) -> tuple[list[list[str]], list[str | None]]:
    rows = []
    for alarm in alarms:
        row = [alarm["id"], t(f"control_room.severity.{alarm['severity']}", lang), _title(alarm, settings, lang),
               t(f"control_room.state.{alarm['state']}", lang),
               local_time(from_iso(alarm.get("raised_at")), "%H:%M %d/%m")]
        if owner:
            row.append(alarm.get("owner") or t("handover.owner.none", lang))
        rows.append(row)
    return rows, [situation_link(alert=alarm["id"]) for alarm in alarms]


def counts(summary: dict[str, Any], lang: str) -> list[tuple[str, str, int]]:
    """(key, label, number) of the shift's headline counts."""
    found = summary.get("counts", {})
    return [(key, t(f"handover.count.{key}", lang), int(found.get(key, 0)))
            for key in ("raised", "acknowledged", "resolved", "open", "sla")]


def sections(summary: dict[str, Any], settings: Settings, lang: str) -> list[Section]:
    """The summary's tables, in the order the next shift reads them; an empty one says so by having no rows."""
    col = {key: t(f"handover.col.{key}", lang) for key in
           ("alarm", "severity", "what", "state", "raised", "owner", "at", "change", "feed", "status",
            "last_success", "last_error", "who", "note", "step")}
    alarm_columns = [col["alarm"], col["severity"], col["what"], col["state"], col["raised"]]
    open_rows, open_links = _alarm_rows(summary.get("open", []), settings, lang, owner=True)
    raised_rows, raised_links = _alarm_rows(summary.get("raised", []), settings, lang, owner=False)
    situation_rows, situation_links = _alarm_rows(summary.get("situations", []), settings, lang, owner=True)
    sla_rows = [[item["id"], local_time(from_iso(item.get("at")), "%H:%M %d/%m"),
                 f"{t('control_room.severity.' + (item.get('from') or 'unknown'), lang)} → "
                 f"{t('control_room.severity.' + (item.get('to') or 'unknown'), lang)}"]
                for item in summary.get("sla", [])]
    feed_rows = []
    for item in summary.get("feeds", []):
        try:
            name = settings.feed(item["feed"]).agency_name.get(lang)
        except KeyError:
            name = item["feed"]
        feed_rows.append([f"{name} ({item['feed']})", t(f"feeds.status.{item['status']}", lang),
                          local_time(from_iso(item.get("last_success")), "%H:%M %d/%m"), item.get("last_error") or "—"])
    note_rows = [[item["id"], local_time(from_iso(item.get("at")), "%H:%M"), item.get("actor", ""), item["note"]]
                 for item in summary.get("notes", [])]
    step_rows = [[item["id"], str(item["step"] + 1), item.get(lang) or item.get("vi", "")]
                 for item in summary.get("steps", [])]
    return [
        Section("open", t("handover.section.open", lang), [*alarm_columns, col["owner"]], open_rows, open_links),
        Section("situations", t("handover.section.situations", lang), [*alarm_columns, col["owner"]],
                situation_rows, situation_links),
        Section("sla", t("handover.section.sla", lang), [col["alarm"], col["at"], col["change"]], sla_rows,
                [situation_link(alert=item["id"]) for item in summary.get("sla", [])]),
        Section("feeds", t("handover.section.feeds", lang),
                [col["feed"], col["status"], col["last_success"], col["last_error"]], feed_rows, [None] * len(feed_rows)),
        Section("steps", t("handover.section.steps", lang), [col["alarm"], col["step"], col["what"]], step_rows,
                [situation_link(alert=item["id"]) for item in summary.get("steps", [])]),
        Section("notes", t("handover.section.comments", lang), [col["alarm"], col["at"], col["who"], col["note"]],
                note_rows, [situation_link(alert=item["id"]) for item in summary.get("notes", [])]),
        Section("raised", t("handover.section.raised", lang), alarm_columns, raised_rows, raised_links),
    ]
