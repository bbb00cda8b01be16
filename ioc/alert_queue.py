"""What the alert queue page shows and does, computed without Dash: filter choices, queue rows and the
summary, the detail's facts, the timeline's lines, the checklist, which buttons apply, what a press did.

The page (layouts/alerts.py) turns these into components; everything here is tested as plain functions.
"""

from __future__ import annotations

import sys
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from ioc import city_map
from ioc.alerts import ALL, OPEN, ActionOutcome, AlertBook, AlertQuery, AlertRecord, select
from ioc.alerts.groups import AlarmGroup, Flood, Line, fold
from ioc.areas import area_index
from ioc.city_map import SEVERITY_COLOURS
from ioc.config import Settings
from ioc.config_alarms import Grouping
from ioc.i18n import age_text, local_time, t
from ioc.model import AlertState, Severity, from_iso

# the alerts that pulse on screen until someone acknowledges them
LOUD = (Severity.EXTREME, Severity.SEVERE)
STATE_CHOICES = (OPEN, *(str(s) for s in AlertState), ALL)
FILTERS = ("severity", "sector", "district", "state")
# Lines the queue draws at first (and each "show more" adds), and members an opened group lists: a screenful or
# two is what an operator reads; in a flood of a thousand the rest are counted, a press away, and each alarm
# stays reachable through the filters, its group and its own address (/alerts?alert=ID).
QUEUE_LINES = 100


# --- filters ---------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class FilterChoices:
    """The choices of the four filters in one language, and the placeholder of an empty multi-choice."""

    severities: list[dict[str, str]]
    sectors: list[dict[str, str]]
    districts: list[dict[str, str]]
    states: list[dict[str, str]]
    any_text: str


def filter_choices(settings: Settings, lang: str) -> FilterChoices:
    severities = [{"label": t(f"control_room.severity.{s}", lang), "value": str(s)} for s in Severity]
    sectors = [{"label": s.name.get(lang), "value": s.id} for s in settings.city.sectors]
    districts = [{"label": name, "value": name} for name in area_index(settings.city).names]
    states = [
        {"label": t(f"alerts.state.{s}", lang) if s in (OPEN, ALL) else t(f"control_room.state.{s}", lang),
         "value": s}
        for s in STATE_CHOICES
    ]
    return FilterChoices(severities, sectors, districts, states, t("alerts.filter.any", lang))


def filter_labels(lang: str) -> list[str]:
    return [t(f"alerts.filter.{name}", lang) for name in FILTERS]


# --- the queue -------------------------------------------------------------------------------------------


def alert_title(record: AlertRecord, settings: Settings, lang: str) -> str:
    """A relayed warning keeps its source's headline; other alerts say the rule's title and the place."""
    title = city_map.alert_title(record.alert, settings, lang)
    if record.kind == "relay" or not record.place or title == record.alert.title:
        return title
    return f"{title} — {record.place}"


def sector_name(settings: Settings, sector: str, lang: str) -> str:
    found = settings.sector(sector)
    return found.name.get(lang) if found else sector


def is_loud(record: AlertRecord) -> bool:
    """Severe or worse and nobody has acknowledged it yet: it pulses."""
    return record.alert.severity in LOUD and record.state == AlertState.NEW


@dataclass(frozen=True, slots=True)
class Badge:
    text: str
    kind: str  # "escalated", "flapping"


def badges(record: AlertRecord, lang: str, shelved: bool = False) -> list[Badge]:
    found = [Badge(t("alerts.badge.shelved", lang), "shelved")] if shelved else []
    if record.escalations:
        found.append(Badge(t("alerts.badge.escalated", lang, n=record.escalations), "escalated"))
    if record.flapping:
        found.append(Badge(t("alerts.badge.flapping", lang), "flapping"))
    return found


@dataclass(frozen=True, slots=True)
class QueueRow:
    """One line of the queue, already in the interface language."""

    id: str
    severity: str
    state: str
    colour: str
    loud: bool
    selected: bool
    severity_text: str
    title: str
    badges: list[Badge]
    meta_text: str
    age_text: str
    id_text: str


def queue_row(record: AlertRecord, settings: Settings, lang: str, now: datetime, selected: str | None,
              shelved: Collection[str] = ()) -> QueueRow:
    """One line of the queue; a shelved alarm says so and does not pulse (it is set aside, not forgotten)."""
    alert = record.alert
    meta = [alert.district or t("map.outside", lang), sector_name(settings, alert.sector, lang),
            t(f"control_room.state.{alert.state}", lang)]
    if record.assignee:
        meta.append(t("alerts.row.assigned_to", lang, who=record.assignee))
    age = (now - alert.raised_at).total_seconds() if alert.raised_at else None
    return QueueRow(
        id=alert.id, severity=str(alert.severity), state=str(alert.state),
        colour=SEVERITY_COLOURS[alert.severity], loud=is_loud(record) and alert.id not in shelved,
        selected=alert.id == selected,
        severity_text=t(f"control_room.severity.{alert.severity}", lang),
        title=alert_title(record, settings, lang),
        badges=badges(record, lang, alert.id in shelved), meta_text=" · ".join(meta), age_text=age_text(age, lang),
        id_text=f"{alert.id} · {t('alerts.row.occurrences', lang, n=alert.occurrences)}",
    )


def read_queue(book: AlertBook, query: AlertQuery, open_now: Sequence[AlertRecord] | None = None
               ) -> tuple[list[AlertRecord], list[AlertRecord]]:
    """The alerts the query shows, and every open alert (the summary counts them, whatever the filters).

    `open_now` is every open alert as all screens share it (ioc.alerts.open_snapshot); a query of open alerts
    filters it instead of reading Redis again, one of resolved ones reads the recent ones."""
    open_records = list(open_now) if open_now is not None else book.records(limit=sys.maxsize)
    if query.needs_resolved:
        return select(book, query), open_records
    return [record for record in open_records if query.matches(record)], open_records


def queue_signature(query: AlertQuery, *, changes: int, lang: str, selected: str | None, version: int | None,
                    age_step: int, expanded: Collection[str] = ()) -> dict[str, Any]:
    """What the drawn queue depends on: when it is unchanged, nothing is redrawn."""
    return {
        "changes": changes,
        "lang": lang,
        "query": [sorted(query.severities), sorted(query.sectors), sorted(query.districts), query.state],
        "selected": selected,
        "version": version,
        "age": age_step,
        "expanded": sorted(expanded),
    }


# --- groups and the flood --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class GroupRow:
    """One group line of the queue, already in the interface language; its members' rows when it is open."""

    key: str
    severity: str
    colour: str
    loud: bool
    expanded: bool
    count: int
    severity_text: str
    title: str
    count_text: str
    new_text: str
    areas_text: str
    meta_text: str
    when_text: str
    members: list[QueueRow]
    ack_text: str
    can_acknowledge: bool
    more_members: int = 0  # members past the ones listed (an opened group lists `member_lines`)
    more_text: str = ""


def group_title(group: AlarmGroup, settings: Settings, lang: str) -> str:
    """What the members share, in words: the rule's title, else the kind, sector or agency."""
    labels = group.label
    if "rule" in labels:
        rule = next((r for r in settings.rules if r.id == labels["rule"]), None)
        return rule.title.get(lang) if rule else labels["rule"]
    parts = [sector_name(settings, labels["sector"], lang) if "sector" in labels else "",
             labels.get("agency", ""), labels.get("kind", "")]
    return " · ".join(part for part in parts if part) or t("alerts.group.alarms", lang)


def areas_text(group: AlarmGroup, lang: str, shown: int = 3) -> str:
    """The members' areas, most alarms first: 'Cẩm Lệ 5 · Thanh Khê 3 · +2 more'."""
    areas = group.areas
    named = [f"{area or t('map.outside', lang)} {count}" for area, count in areas[:shown]]
    if len(areas) > shown:
        named.append(t("alerts.group.more_areas", lang, n=len(areas) - shown))
    return " · ".join(named)


def group_row(group: AlarmGroup, settings: Settings, lang: str, now: datetime, selected: str | None,
              shelved: Collection[str] = (), expanded: Collection[str] = (), member_lines: int = QUEUE_LINES
              ) -> GroupRow:
    """A group line: count, worst severity, area(s), first and last time; its members when it is open."""
    is_open = group.key in expanded
    first = local_time(group.first, "%H:%M")
    last = local_time(group.last, "%H:%M")
    waiting = group.unacknowledged
    meta = [sector_name(settings, group.members[0].alert.sector, lang)]
    if waiting:
        meta.append(t("alerts.summary.unacknowledged", lang, n=waiting))
    return GroupRow(
        key=group.key, severity=str(group.worst), colour=SEVERITY_COLOURS[group.worst],
        loud=any(is_loud(m) and m.id not in shelved for m in group.members), expanded=is_open,
        count=group.count, severity_text=t(f"control_room.severity.{group.worst}", lang),
        title=group_title(group, settings, lang), count_text=t("alerts.group.count", lang, n=group.count),
        new_text=t("alerts.group.new", lang, n=group.new) if 0 < group.new < group.count else "",
        areas_text=areas_text(group, lang), meta_text=" · ".join(meta),
        when_text=t("alerts.group.when", lang, first=first, last=last),
        members=[queue_row(m, settings, lang, now, selected, shelved) for m in group.members[:member_lines]]
        if is_open else [],
        ack_text=t("alerts.group.acknowledge", lang, n=waiting), can_acknowledge=waiting > 0,
        more_members=max(0, group.count - member_lines) if is_open else 0,
        more_text=t("alerts.group.more_members", lang, n=group.count - member_lines)
        if is_open and group.count > member_lines else "",
    )


def queue_lines(records: Sequence[AlertRecord], grouping: Grouping, flood: Flood, now: datetime) -> list[Line]:
    """The queue's lines: groups of related alarms (coarser in a flood) and the alarms of their own."""
    return fold(records, grouping, now, flood=flood.active)


@dataclass(frozen=True, slots=True)
class FloodBanner:
    active: bool
    text: str
    detail: str


def flood_banner(flood: Flood, lang: str) -> FloodBanner:
    """Above the queue: the flood and its rate, or nothing when the rate is ordinary."""
    if not flood.active:
        return FloodBanner(False, "", "")
    return FloodBanner(True, t("alerts.flood.title", lang),
                       t("alerts.flood.detail", lang, n=flood.count, minutes=f"{flood.minutes:g}", limit=flood.limit))


@dataclass(frozen=True, slots=True)
class Pill:
    text: str
    kind: str  # "" (the total), a severity, "calm" or "waiting"
    colour: str = ""


def summary_pills(open_records: Sequence[AlertRecord], lang: str) -> list[Pill]:
    """How many alerts are open, of each severity, and how many nobody has acknowledged."""
    if not open_records:
        return [Pill(t("alerts.summary.none", lang), "calm")]
    pills = [Pill(t("alerts.summary.open", lang, n=len(open_records)), "")]
    for severity in Severity:
        count = sum(r.alert.severity == severity for r in open_records)
        if count:
            pills.append(Pill(f"{count} {t(f'control_room.severity.{severity}', lang)}", str(severity),
                              SEVERITY_COLOURS[severity]))
    waiting = sum(r.state == AlertState.NEW for r in open_records)
    if waiting:
        pills.append(Pill(t("alerts.summary.unacknowledged", lang, n=waiting), "waiting"))
    return pills


# --- the detail ------------------------------------------------------------------------------------------


def by_at(who: str, when: datetime | None, lang: str) -> str:
    return t("alerts.detail.by_at", lang, who=who, time=local_time(when, "%H:%M:%S %d/%m")) if who else ""


def detail_facts(record: AlertRecord, settings: Settings, lang: str) -> list[tuple[str, Any]]:
    """The alert's facts as (label, value) pairs in display order; resolution and expiry only when known."""
    alert = record.alert
    rule = next((r for r in settings.rules if r.id == alert.rule_id), None)
    facts: list[tuple[str, Any]] = [
        (t("alerts.detail.rule", lang), rule.title.get(lang) if rule else alert.rule_id),
        (t("alerts.detail.entity", lang), alert.entity_id),
        (t("alerts.detail.district", lang), alert.district),
        (t("alerts.detail.sector", lang), sector_name(settings, alert.sector, lang)),
        (t("alerts.detail.agency", lang), alert.agency),
        (t("alerts.detail.raised", lang), local_time(alert.raised_at)),
        (t("alerts.detail.occurrences", lang), alert.occurrences),
        (t("alerts.detail.acknowledged", lang), by_at(record.acknowledged_by, record.acknowledged_at, lang)),
        (t("alerts.detail.assignee", lang),
         f"{record.assignee} ({by_at(record.assigned_by, record.assigned_at, lang)})"
         if record.assignee else ""),
    ]
    if record.resolved_by:
        facts.append((t("alerts.detail.resolved", lang), by_at(record.resolved_by, record.resolved_at, lang)))
    if record.expires:
        facts.append((t("alerts.detail.expires", lang), local_time(record.expires)))
    return facts


def detail_signature(selected: str | None, record: AlertRecord | None, entries: int, *, lang: str,
                     version: int | None) -> dict[str, Any]:
    """What the drawn detail depends on: the alert, its last change and its timeline's length."""
    stamp = record.alert.updated_at.isoformat() if record and record.alert.updated_at else ""
    return {"alert": selected, "lang": lang, "version": version, "entries": entries, "stamp": stamp}


def assignee_choices(settings: Settings) -> list[str]:
    """The agencies an alert may be assigned to: every feed's and every rule's."""
    return sorted({f.agency for f in settings.feeds} | {r.agency for r in settings.rules})


def timeline_text(entry: Mapping[str, str], lang: str) -> str:
    action = entry.get("action", "")
    if action == "assigned":
        return t("alerts.timeline.assigned", lang, who=entry.get("assignee", ""))
    if action == "escalated":
        return t("alerts.timeline.escalated", lang,
                 before=t(f"control_room.severity.{entry.get('severity_from', 'unknown')}", lang),
                 after=t(f"control_room.severity.{entry.get('severity_to', 'unknown')}", lang))
    key = f"alerts.timeline.{action}"
    text = t(key, lang)
    return action if text == key else text


@dataclass(frozen=True, slots=True)
class TimelineLine:
    action: str
    time_text: str
    actor: str
    text: str
    note: str


def timeline_lines(entries: Sequence[Mapping[str, str]], lang: str) -> list[TimelineLine]:
    """The timeline newest first, in the interface language."""
    return [
        TimelineLine(action=entry.get("action", ""),
                     time_text=local_time(from_iso(entry.get("at")), "%H:%M:%S %d/%m"),
                     actor=entry.get("actor", ""), text=timeline_text(entry, lang), note=entry.get("note", ""))
        for entry in reversed(entries)
    ]


@dataclass(frozen=True, slots=True)
class ChecklistStep:
    number: int
    text: str
    done: bool
    done_text: str  # who ticked it and when


@dataclass(frozen=True, slots=True)
class Checklist:
    title: str
    steps: list[ChecklistStep]
    editable: bool  # steps of a resolved alert are history


def checklist(record: AlertRecord, settings: Settings, ticked: Mapping[int, Mapping[str, str]], lang: str
              ) -> Checklist | None:
    """The alert's procedure as steps to tick, or None when its rule has no procedure."""
    procedure = settings.procedures.get(record.procedure) if record.procedure else None
    if procedure is None:
        return None
    steps = []
    for number, step in enumerate(procedure.steps):
        done = ticked.get(number)
        when = local_time(from_iso(done["at"]), "%H:%M") if done else ""
        done_text = t("alerts.checklist.done", lang, who=done["by"], time=when) if done else ""
        steps.append(ChecklistStep(number, step.get(lang), bool(done), done_text))
    return Checklist(t("alerts.checklist", lang, title=procedure.title.get(lang)), steps, record.is_open)


def toggle_step(book: AlertBook, settings: Settings, alert_id: str | None, step: int, *, actor: str) -> bool:
    """Tick a step of the alert's checklist, or untick it when it was ticked; False when nothing applies."""
    record = book.get(alert_id) if alert_id else None
    procedure = settings.procedures.get(record.procedure) if record and record.procedure else None
    if record is None or procedure is None or not 0 <= step < len(procedure.steps) or not record.is_open:
        return False
    done = step not in book.checklist(record.id)
    book.check_step(record.id, step, actor=actor, label=procedure.steps[step].get("vi"), done=done)
    return True


# --- the buttons -----------------------------------------------------------------------------------------


def button_labels(lang: str) -> tuple[str, str, str]:
    return (t("alerts.actions.acknowledge", lang), t("alerts.actions.assign", lang),
            t("alerts.actions.resolve", lang))


def buttons_disabled(record: AlertRecord | None) -> tuple[bool, bool, bool]:
    """Which of acknowledge, assign and resolve do not apply to the alert's state now."""
    if record is None:
        return True, True, True
    return record.state != AlertState.NEW, not record.is_open, not record.is_open


def feedback_text(outcome: ActionOutcome, lang: str) -> tuple[str, str]:
    """The line under the buttons after a press, and its tone (ok, refused, problem)."""
    if outcome.record is not None:
        who = outcome.record.assignee
        return t(f"alerts.done.{outcome.action}", lang, id=outcome.record.id, who=who), "ok"
    if outcome.refusal is not None:
        refusal = outcome.refusal
        return (t(f"alerts.refused.{refusal.reason}", lang, id=refusal.alert_id, who=refusal.by or "?",
                  to=refusal.to, time=local_time(refusal.at, "%H:%M:%S")), "refused")
    return t(f"alerts.problem.{outcome.problem}", lang), "problem"
