"""A situation: what one serious alarm or CAP warning is about, assembled for one screen: its area (the CAP
polygon, the geofence zone, a ring around the alarm or its district), the entities and feeds inside it, the
other open alarms there grouped by rule, the warning in Vietnamese and English, the operating procedure with
who does each step, and the timeline. Computed without Dash (layouts/situation.py draws it)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

import orjson
import shapely
import shapely.affinity

from ioc import alert_queue
from ioc.alert_map import alert_map, alert_zone, warning_area
from ioc.alerts import AlertRecord
from ioc.areas import area_index
from ioc.city_map import SEVERITY_COLOURS
from ioc.config import Settings
from ioc.feed_board import feed_status
from ioc.i18n import LANGUAGES, local_time, t
from ioc.model import Alert, Severity, from_iso, to_iso
from ioc.store import Store

PATH = "/situation"
RING_METRES = 1000  # the area of an alarm that has only a point: this far around it
ENTITIES_LISTED = 12  # the affected entities named on screen; all of them are counted
ENTITIES_READ = 5000  # at most this many located entities are looked at inside one area
POINTS_DRAWN = 1500  # at most this many of them drawn on the map
METRES_PER_DEGREE = 111_320.0
FEED_ORDER = ("failing", "stale", "never", "disabled", "ok")
EARLIEST = datetime.min.replace(tzinfo=UTC)


class SituationNotFound(LookupError):
    """No alert or active event has this id."""


def link(*, alert: str | None = None, event: str | None = None, wall: bool = False) -> str:
    """The address of a situation view: the same for every screen and person (a shareable link)."""
    query = {"alert": alert} if alert else {"event": event or ""}
    if wall:
        query["wall"] = "1"
    return f"{PATH}?{urlencode(query)}"


# --- what the view shows ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class AffectedFeed:
    feed: str
    agency: str
    sector: str
    sector_colour: str
    entities: int
    status: str
    status_text: str


@dataclass(frozen=True, slots=True)
class AlarmGroup:
    """Open alarms of one rule in the area: the worst severity first."""

    rule_id: str
    title: str
    severity: str
    colour: str
    alerts: list[tuple[str, str, str]]  # (id, place or district, state text)


@dataclass(frozen=True, slots=True)
class WarningText:
    lang: str
    title: str
    lines: list[str]
    # the source's own headline and text in this language, when it published the warning in it
    source: tuple[str, str] | None = None


@dataclass(frozen=True, slots=True)
class SopStep:
    number: int
    text: str
    who: str  # the role and the agency that act, in the interface language
    done: bool
    done_text: str


@dataclass(frozen=True, slots=True)
class Sop:
    title: str
    steps: list[SopStep]
    editable: bool  # a stored, open alarm's steps can be ticked here as on the alert page


@dataclass(slots=True)
class Situation:
    link: str
    record: AlertRecord  # the alarm (for a warning nobody relayed, a transient one built from the event)
    stored: bool  # whether `record` is an alarm in the book
    event: dict[str, Any] | None
    area: Any  # shapely geometry of the area the situation is about, or None
    area_names: list[str]
    entity_count: int
    entities: list[dict[str, Any]]
    feeds: list[AffectedFeed]
    groups: list[AlarmGroup]
    texts: list[WarningText]
    issued: tuple[str, str]  # the source's own headline and text, as issued (one language)
    sop: Sop | None
    timeline: list[alert_queue.TimelineLine]
    facts: list[tuple[str, str]] = field(default_factory=list)
    points: list[tuple[float, float]] = field(default_factory=list)  # where the entities inside are

    @property
    def severity(self) -> Severity:
        return self.record.alert.severity


# --- finding the alarm and the warning ---------------------------------------------------------------------


def read_event(store: Store, event_id: str) -> dict[str, Any] | None:
    """One event as its source reported it (active or not), found through the feed that holds it."""
    feed = store.redis.hget(store.keys.event_feeds(), event_id)
    raw = store.redis.hget(store.keys.events_of_feed(feed), event_id) if feed else None
    return orjson.loads(raw) if raw else None


def relay_alert_of(store: Store, settings: Settings, event_id: str) -> AlertRecord | None:
    """The alarm a relay rule raised for this event: the open one, else the latest one among recent alarms."""
    book = store.alerts
    for rule in settings.rules:
        if rule.kind == "relay":
            open_id = book.open_alert_for(rule.id, event_id)
            if open_id and (record := book.get(open_id)) is not None:
                return record
    return next((r for r in book.records(include_resolved=True) if r.alert.entity_id == event_id), None)


def event_area(event: dict[str, Any] | None) -> dict[str, Any] | None:
    """The event's area as GeoJSON (records keep it as JSON text); None when it has none or it is unreadable."""
    raw = (event or {}).get("area")
    if isinstance(raw, str):
        try:
            raw = orjson.loads(raw) if raw else None
        except orjson.JSONDecodeError:
            return None
    return raw if isinstance(raw, dict) else None


def event_location(event: dict[str, Any]) -> tuple[float, float] | None:
    try:
        return (float(event["lon"]), float(event["lat"])) if event.get("lon") and event.get("lat") else None
    except (TypeError, ValueError):
        return None


def event_record(event: dict[str, Any]) -> AlertRecord:
    """A warning no rule relayed, as an alarm for drawing only (never stored)."""
    location = event_location(event)
    alert = Alert(id="", rule_id="", entity_id=event.get("id", ""), title=event.get("headline", ""),
                  severity=Severity(event.get("severity") or "unknown"), sector=event.get("sector", ""),
                  agency=event.get("agency", ""), district=event.get("district"),
                  message=event.get("description", ""), raised_at=from_iso(event.get("onset")),
                  location=location)
    return AlertRecord(alert=alert, kind="relay", place=event.get("headline", ""), area=event_area(event),
                       expires=from_iso(event.get("expires")))


def find(store: Store, settings: Settings, *, alert: str | None = None, event: str | None = None
         ) -> tuple[AlertRecord, bool, dict[str, Any] | None]:
    """The alarm, whether it is stored, and the warning behind it; SituationNotFound when neither exists."""
    if alert:
        record = store.alerts.get(alert)
        if record is None:
            raise SituationNotFound(alert)
        found = read_event(store, record.alert.entity_id) if record.kind == "relay" else None
        return record, True, found
    if event:
        found = read_event(store, event)
        if found is None:
            raise SituationNotFound(event)
        relayed = relay_alert_of(store, settings, event)
        return (relayed, True, found) if relayed is not None else (event_record(found), False, found)
    raise SituationNotFound("")


# --- the area and what is in it ----------------------------------------------------------------------------


def situation_area(record: AlertRecord, settings: Settings, event: dict[str, Any] | None) -> Any:
    """The warning's polygon, else the geofence zone, else a ring around the alarm, else its district."""
    area = warning_area(record)
    if area is None and event_area(event) is not None:
        area = warning_area(AlertRecord(alert=record.alert, area=event_area(event)))
    if area is None:
        zone = alert_zone(record, settings)
        area = zone.geometry if zone is not None else None
    if area is None and record.alert.location is not None:
        lon, lat = record.alert.location
        # a ring in degrees, wider east-west by 1/cos(latitude): round on the ground
        ring = shapely.Point(lon, lat).buffer(RING_METRES / METRES_PER_DEGREE, quad_segs=16)
        area = shapely.affinity.scale(ring, xfact=1 / math.cos(math.radians(lat)), yfact=1.0)
    if area is None and record.alert.district:
        index = area_index(settings.city)
        if record.alert.district in index.names:
            area = index.frame.geometry.iloc[index.names.index(record.alert.district)]
    return area


def area_names(settings: Settings, area: Any, district: str | None) -> list[str]:
    """The city's areas the situation's area covers, largest overlap first."""
    if area is None:
        return [district] if district else []
    index = area_index(settings.city)
    overlaps = [(shapely.area(shapely.intersection(shape, area)), name)
                for name, shape in zip(index.names, index.frame.geometry, strict=True)]
    return [name for size, name in sorted(overlaps, reverse=True) if size > 0] or ([district] if district else [])


def entities_inside(store: Store, area: Any) -> list[tuple[str, float, float]]:
    """(id, lon, lat) of every located entity inside the area, from the city's geo index."""
    if area is None:
        return []
    minx, miny, maxx, maxy = area.bounds
    cx, cy = (minx + maxx) / 2, (miny + maxy) / 2
    width_km = max((maxx - minx) * METRES_PER_DEGREE * math.cos(math.radians(cy)) / 1000, 0.01)
    height_km = max((maxy - miny) * METRES_PER_DEGREE / 1000, 0.01)
    found = store.redis.geosearch(store.keys.geo(), longitude=cx, latitude=cy, width=width_km * 1.01,
                                  height=height_km * 1.01, unit="km", withcoord=True, count=ENTITIES_READ)
    if not found:
        return []
    xs = [float(lon) for _, (lon, _lat) in found]
    ys = [float(lat) for _, (_lon, lat) in found]
    inside = shapely.contains_xy(area, xs, ys)
    return [(str(member), x, y) for (member, _), x, y, hit in zip(found, xs, ys, inside, strict=True) if hit]


def affected_feeds(store: Store, settings: Settings, entity_ids: Sequence[str], extra: Sequence[str],
                   lang: str, now: datetime) -> list[AffectedFeed]:
    """The feeds whose entities are inside, with how many and how fresh each is; failing and stale first."""
    counts: dict[str, int] = {}
    if entity_ids:
        for feed in store.redis.hmget(store.keys.entity_feeds(), list(entity_ids)):
            if feed:
                counts[feed] = counts.get(feed, 0) + 1
    for feed in extra:
        counts.setdefault(feed, 0)
    configured = {feed.name: feed for feed in settings.feeds}
    names = [name for name in counts if name in configured]
    health = store.all_health(names)
    rows = []
    for name in names:
        feed = configured[name]
        status = feed_status(health.get(name), feed.enabled, now)
        sector = settings.sector(feed.sector)
        rows.append(AffectedFeed(feed=name, agency=feed.agency_name.get(lang),
                                 sector=sector.name.get(lang) if sector else feed.sector,
                                 sector_colour=sector.colour if sector else "#888888", entities=counts[name],
                                 status=status, status_text=t(f"feeds.status.{status}", lang)))
    return sorted(rows, key=lambda row: (FEED_ORDER.index(row.status) if row.status in FEED_ORDER else 9,
                                         -row.entities, row.feed))


def related_groups(records: Sequence[AlertRecord], main: AlertRecord, area: Any, settings: Settings, lang: str
                   ) -> list[AlarmGroup]:
    """The other open alarms inside the area, or whose warning area reaches it (or, without a location, of the
    same district), by rule."""
    district = main.alert.district
    zone = area.buffer(0.002) if area is not None else None  # a sensor on the polygon's edge is in it
    by_rule: dict[str, list[AlertRecord]] = {}
    for record in records:
        alert = record.alert
        if alert.id == main.alert.id or not record.is_open:
            continue
        covering = warning_area(record)
        if covering is not None and zone is not None:  # a warning whose area reaches this one (a typhoon)
            inside = bool(covering.intersects(zone))
        elif alert.location is not None and zone is not None:
            inside = bool(shapely.contains_xy(zone, *alert.location))
        else:
            inside = bool(district) and alert.district == district
        if inside:
            by_rule.setdefault(alert.rule_id, []).append(record)
    groups = []
    for rule_id, members in by_rule.items():
        members.sort(key=lambda r: (r.alert.severity.rank, r.alert.raised_at or EARLIEST))
        worst = members[0].alert.severity
        rule = next((r for r in settings.rules if r.id == rule_id), None)
        groups.append(AlarmGroup(
            rule_id=rule_id, title=rule.title.get(lang) if rule else members[0].alert.title,
            severity=t(f"control_room.severity.{worst}", lang), colour=SEVERITY_COLOURS[worst],
            alerts=[(r.alert.id, r.place or r.alert.district or "—", t(f"control_room.state.{r.state}", lang))
                    for r in members]))
    return sorted(groups, key=lambda g: (min(r.alert.severity.rank for r in by_rule[g.rule_id]), -len(g.alerts)))


# --- the warning in both languages, the procedure, the timeline --------------------------------------------


def warning_texts(record: AlertRecord, settings: Settings, event: dict[str, Any] | None, names: list[str]
                  ) -> list[WarningText]:
    """What the warning says, in Vietnamese and in English: its facts in each language, and the source's own
    words in each language it published the warning in (a bilingual CAP message)."""
    alert = record.alert
    rule = next((r for r in settings.rules if r.id == alert.rule_id), None)
    translations = event_translations(event)
    texts = []
    for lang in LANGUAGES:
        kind = rule.title.get(lang) if rule else t("situation.warning.kind", lang)
        lines = [t("situation.warning.severity", lang, severity=t(f"control_room.severity.{alert.severity}", lang))]
        if names:
            lines.append(t("situation.warning.areas", lang, areas=", ".join(names)))
        if alert.raised_at:
            lines.append(t("situation.warning.since", lang, time=local_time(alert.raised_at, "%H:%M %d/%m/%Y")))
        expires = record.expires or (from_iso(event.get("expires")) if event else None)
        if expires:
            lines.append(t("situation.warning.until", lang, time=local_time(expires, "%H:%M %d/%m/%Y")))
        if event:
            for key in ("urgency", "certainty"):
                if event.get(key) and event[key] != "unknown":
                    lines.append(t(f"situation.warning.{key}", lang,
                                   value=t(f"situation.{key}.{event[key]}", lang)))
        own = translations.get(lang)
        title = own["headline"] if own and own.get("headline") else alert_queue.alert_title(record, settings, lang)
        # a relayed warning's title is its source's headline: say what kind of warning it is first
        texts.append(WarningText(lang=lang, title=f"{kind}: {title}" if record.kind == "relay" else title,
                                 lines=lines, source=(own.get("headline", ""), own.get("description", "").strip())
                                 if own else None))
    return texts


def event_translations(event: dict[str, Any] | None) -> dict[str, dict[str, str]]:
    """The warning's texts by language as its source published them (records keep them as JSON text)."""
    raw = (event or {}).get("translations")
    if isinstance(raw, str):
        try:
            raw = orjson.loads(raw) if raw else {}
        except orjson.JSONDecodeError:
            return {}
    return {lang: texts for lang, texts in raw.items() if isinstance(texts, dict)} if isinstance(raw, dict) else {}


def issued_text(record: AlertRecord, event: dict[str, Any] | None) -> tuple[str, str]:
    if event:
        return event.get("headline", ""), (event.get("description") or "").strip()
    return record.alert.title, record.alert.message


def agency_name(settings: Settings, agency: str, lang: str) -> str:
    return next((feed.agency_name.get(lang) for feed in settings.feeds if feed.agency == agency), agency)


def sop(record: AlertRecord, settings: Settings, ticked: dict[int, dict[str, str]], stored: bool, lang: str
        ) -> Sop | None:
    """The alarm's procedure as on the alert page, each step with the role and agency that carry it out."""
    found = alert_queue.checklist(record, settings, ticked, lang)
    procedure = settings.procedures.get(record.procedure) if record.procedure else None
    if found is None or procedure is None:
        return None
    steps = []
    for step, configured in zip(found.steps, procedure.steps, strict=True):
        role = configured.role.get(lang) if configured.role else ""
        agency = agency_name(settings, configured.agency, lang) if configured.agency else ""
        who = " · ".join(dict.fromkeys(part for part in (role, agency) if part))  # once when they are the same
        steps.append(SopStep(step.number, step.text, who, step.done, step.done_text))
    return Sop(found.title, steps, found.editable and stored)


def timeline(main: list[dict[str, str]], record: AlertRecord, groups: Sequence[AlarmGroup],
             records: Sequence[AlertRecord], lang: str) -> list[alert_queue.TimelineLine]:
    """The alarm's own timeline and the raising of each related alarm, newest first."""
    related = {alert_id for group in groups for alert_id, _, _ in group.alerts}
    # the others first: times are kept to the second, and within one second the alarm's own entries are newer
    entries = [{"at": to_iso(other.alert.raised_at), "actor": other.alert.id, "action": "raised",
                "note": other.place or other.alert.title}
               for other in records if other.alert.id in related and other.alert.raised_at]
    entries += [dict(entry) for entry in main]
    if not main and record.alert.raised_at:
        entries.append({"at": to_iso(record.alert.raised_at), "actor": record.alert.agency,
                        "action": "raised", "note": record.alert.title})
    entries.sort(key=lambda entry: from_iso(entry.get("at")) or EARLIEST)
    return alert_queue.timeline_lines(entries, lang)


def facts(record: AlertRecord, settings: Settings, event: dict[str, Any] | None, lang: str
          ) -> list[tuple[str, str]]:
    alert = record.alert
    found = [(t("alerts.detail.agency", lang), agency_name(settings, alert.agency, lang)),
             (t("alerts.detail.sector", lang), alert_queue.sector_name(settings, alert.sector, lang))]
    if alert.id:
        found.append((t("situation.alarm", lang), alert.id))
        found.append((t("alerts.filter.state", lang), t(f"control_room.state.{alert.state}", lang)))
    if record.assignee:
        found.append((t("alerts.detail.assignee", lang), record.assignee))
    if event:
        found.append((t("situation.source", lang), event.get("feed") or event.get("agency", "")))
    return found


# --- assembling one situation ------------------------------------------------------------------------------


def assemble(store: Store, settings: Settings, lang: str, now: datetime, *, alert: str | None = None,
             event: str | None = None) -> Situation:
    """Everything the view shows for `/situation?alert=` or `?event=`; SituationNotFound for an unknown id."""
    record, stored, found_event = find(store, settings, alert=alert, event=event)
    area = situation_area(record, settings, found_event)
    names = area_names(settings, area, record.alert.district)
    inside = entities_inside(store, area)
    inside_ids = [entity_id for entity_id, _, _ in inside]
    own_feed = [record.alert.entity_id] if any(f.name == record.alert.entity_id for f in settings.feeds) else []
    if found_event and found_event.get("feed"):
        own_feed.append(found_event["feed"])
    open_records = store.alerts.records()
    groups = related_groups(open_records, record, area, settings, lang)
    ticked = store.alerts.checklist(record.id) if stored else {}
    main_timeline = store.alerts.timeline(record.id) if stored else []
    return Situation(
        link=link(alert=record.id) if stored else link(event=record.alert.entity_id),
        record=record, stored=stored, event=found_event, area=area, area_names=names,
        entity_count=len(inside), entities=store.entities(inside_ids[:ENTITIES_LISTED]),
        feeds=affected_feeds(store, settings, inside_ids, own_feed, lang, now),
        groups=groups, texts=warning_texts(record, settings, found_event, names),
        issued=issued_text(record, found_event), sop=sop(record, settings, ticked, stored, lang),
        timeline=timeline(main_timeline, record, groups, open_records, lang),
        facts=facts(record, settings, found_event, lang), points=[(x, y) for _, x, y in inside],
    )


def signature(store: Store, lang: str, alert: str | None, event: str | None, age_step: int) -> dict[str, Any]:
    """What a drawn situation depends on: when it is unchanged, nothing is redrawn."""
    return {"changes": store.change_counter(), "lang": lang, "alert": alert, "event": event, "age": age_step}


def situation_map(situation: Situation, settings: Settings, base: Sequence[dict[str, Any]], lang: str
                  ) -> dict[str, Any]:
    """The alert page's map of the alarm (area, zone, ring) filling the panel, plus the entities inside as
    points (at most POINTS_DRAWN, evenly picked). A plain figure dict: plotly's validation of thousands of
    points would cost more than everything else the view computes."""
    record = situation.record
    if situation.area is not None and not record.area:
        record = AlertRecord(alert=record.alert, area=shapely.geometry.mapping(situation.area), zone=record.zone,
                             kind=record.kind, procedure=record.procedure)
    figure = alert_map(record, settings, base, lang).to_plotly_json()
    points = situation.points
    if len(points) > POINTS_DRAWN:
        points = [points[int(i * len(points) / POINTS_DRAWN)] for i in range(POINTS_DRAWN)]
    if points:
        figure["data"] = [*figure["data"], {
            "type": "scatter", "mode": "markers", "hoverinfo": "skip", "showlegend": False,
            # a metre is about 1e-5 degrees: five decimals place a point within one
            "x": [round(x, 5) for x, _ in points], "y": [round(y, 5) for _, y in points],
            "marker": {"size": 7, "color": "#f1f6fc", "opacity": 0.75}}]
    figure["layout"] = {**figure["layout"], "height": None, "autosize": True, "dragmode": False}
    return figure


def is_cap_warning(record: AlertRecord, settings: Settings) -> bool:
    """Whether the alarm relays a CAP warning (its rule relays what the CAP reader reads)."""
    rule = next((r for r in settings.rules if r.id == record.alert.rule_id), None)
    return record.kind == "relay" and rule is not None and "cap" in getattr(rule, "readers", ())


def is_situation(record: AlertRecord, settings: Settings) -> bool:
    """Whether an alarm is one a situation view opens for: extreme or severe, or a CAP warning of any severity
    (an agency's relayed incident of moderate severity is not)."""
    return record.alert.severity in (Severity.EXTREME, Severity.SEVERE) or is_cap_warning(record, settings)


__all__ = ["PATH", "AffectedFeed", "AlarmGroup", "Situation", "SituationNotFound", "Sop", "SopStep",
           "WarningText", "assemble", "is_cap_warning", "is_situation", "link", "situation_map"]
