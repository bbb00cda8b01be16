"""The alarm system's measures as lines of text in the reader's language, each against its EEMUA 191 / ISA-18.2
target with a status: what the alert page's panel shows and what the KPI report's exports write."""

from __future__ import annotations

from dataclasses import dataclass

from ioc.alerts.metrics import PRIORITIES, PRIORITY_TARGET, TOP, AlarmMetrics
from ioc.config import Settings
from ioc.i18n import local_time, t
from ioc.kpis.exports.table import number

ACCEPTABLE_RATE = 1.0  # EEMUA 191: about one alarm per 10 minutes per operator is very likely acceptable
MANAGEABLE_RATE = 2.0  # ... and up to two manageable
FLOOD_SHARE_TARGET = 1.0  # ISA-18.2: under ~1 % of 10-minute intervals in flood
TOP_SHARE_TARGET = 5.0  # ISA-18.2: the 10 most frequent alarms at most ~5 % of the load
STALE_TARGET = 5  # ISA-18.2: fewer than 5 stale alarms present
MIX_NEAR, MIX_MISSED = 5.0, 15.0  # percentage points off the priority mix target: near past 5, missed past 15


@dataclass(frozen=True, slots=True)
class MetricLine:
    key: str
    label: str
    value: str
    target: str
    status: str  # met, near, missed, no_data (the KPI report's statuses)
    note: str = ""  # what the value needs said beside it (when the peak was, how many unacknowledged)

    @property
    def full_value(self) -> str:
        return f"{self.value} · {self.note}" if self.note else self.value


@dataclass(frozen=True, slots=True)
class AlarmLine:
    """One alarm of a list (most frequent, chattering, stale): what and where, and the figure."""

    label: str
    figure: str


def _at_most(value: float, target: float, near: float | None = None) -> str:
    if value <= target:
        return "met"
    return "near" if near is not None and value <= near else "missed"


def _mix_status(metrics: AlarmMetrics) -> str:
    if not metrics.total:
        return "no_data"
    shares = metrics.priority_shares
    off = max(abs(shares[p] - PRIORITY_TARGET[p]) for p in PRIORITIES)
    return "met" if off <= MIX_NEAR else "near" if off <= MIX_MISSED else "missed"


def _percent(value: float, lang: str) -> str:
    return f"{number(value, 1, lang)}%"


def metric_lines(metrics: AlarmMetrics, lang: str) -> list[MetricLine]:
    """The seven measures, each with its target and status."""
    m = metrics
    peak_at = t("alarm_kpis.peak_at", lang, time=local_time(m.peak_at, "%H:%M %d/%m")) if m.peak_at else ""
    shares = m.priority_shares
    mix = " / ".join(f"{number(shares[p], 0, lang)}" for p in PRIORITIES) + "%"
    target_mix = "~" + " / ".join(f"{PRIORITY_TARGET[p]:.0f}" for p in PRIORITIES) + "%"
    return [
        MetricLine(
            "average",
            t("alarm_kpis.average", lang),
            number(m.average_rate, 2, lang),
            f"≤ {number(ACCEPTABLE_RATE, 0, lang)} (≤ {number(MANAGEABLE_RATE, 0, lang)})",
            _at_most(m.average_rate, ACCEPTABLE_RATE, MANAGEABLE_RATE),
        ),
        MetricLine(
            "peak",
            t("alarm_kpis.peak", lang),
            number(m.peak_rate, 1, lang),
            f"≤ {m.flood_limit:g}",
            _at_most(m.peak_rate, m.flood_limit),
            peak_at,
        ),
        MetricLine(
            "flood",
            t("alarm_kpis.flood", lang, limit=f"{m.flood_limit:g}"),
            _percent(m.flood_share, lang),
            f"< {_percent(FLOOD_SHARE_TARGET, lang)}",
            _at_most(m.flood_share, FLOOD_SHARE_TARGET),
            t("alarm_kpis.flood_note", lang, n=m.flood_intervals, total=m.intervals),
        ),
        MetricLine(
            "top_share",
            t("alarm_kpis.top_share", lang),
            _percent(m.top_share, lang),
            f"≤ {_percent(TOP_SHARE_TARGET, lang)}",
            # with no more alarm sources than the list holds the share is 100 % by construction: nothing to judge
            _at_most(m.top_share, TOP_SHARE_TARGET) if m.sources > TOP else "no_data",
        ),
        MetricLine(
            "chattering",
            t("alarm_kpis.chattering", lang, raises=m.chatter_raises, seconds=m.chatter_seconds),
            str(len(m.chattering)),
            "0",
            "met" if not m.chattering else "missed",
        ),
        MetricLine(
            "stale",
            t("alarm_kpis.stale", lang, hours=number(m.stale_hours, 0, lang)),
            str(len(m.stale)),
            f"< {STALE_TARGET}",
            "met" if len(m.stale) < STALE_TARGET else "missed",
            t("alarm_kpis.stale_value", lang, unacknowledged=m.stale_unacknowledged) if m.stale else "",
        ),
        MetricLine("mix", t("alarm_kpis.mix", lang), mix if m.total else "—", target_mix, _mix_status(m)),
    ]


def heading(metrics: AlarmMetrics, lang: str) -> str:
    """What the measures cover: the window, the positions, how many alarms."""
    return t(
        "alarm_kpis.window",
        lang,
        start=local_time(metrics.start, "%H:%M %d/%m/%Y"),
        end=local_time(metrics.end, "%H:%M %d/%m/%Y"),
        positions=metrics.positions,
        total=metrics.total,
    )


def alarm_label(settings: Settings, rule_id: str, entity_id: str, place: str, lang: str) -> str:
    """The rule's title in the language and where: the place when the rule named one, else the entity."""
    rule = next((r for r in settings.rules if r.id == rule_id), None)
    title = rule.title.get(lang) if rule else rule_id
    return f"{title} — {place or entity_id}"


def top_lines(metrics: AlarmMetrics, settings: Settings, lang: str) -> list[AlarmLine]:
    return [
        AlarmLine(
            alarm_label(settings, f.rule_id, f.entity_id, f.place, lang),
            t("alarm_kpis.top_line", lang, n=f.count, share=number(f.share, 1, lang)),
        )
        for f in metrics.top
    ]


def chattering_lines(metrics: AlarmMetrics, settings: Settings, lang: str) -> list[AlarmLine]:
    return [
        AlarmLine(
            alarm_label(settings, c.rule_id, c.entity_id, c.place, lang),
            t(
                "alarm_kpis.chatter_line",
                lang,
                n=c.most_in_span,
                seconds=metrics.chatter_seconds,
                total=c.raises,
            ),
        )
        for c in metrics.chattering
    ]


def stale_lines(metrics: AlarmMetrics, settings: Settings, lang: str) -> list[AlarmLine]:
    return [
        AlarmLine(
            f"{s.alert_id} · " + alarm_label(settings, s.rule_id, s.entity_id, s.place, lang),
            t("alarm_kpis.stale_line", lang, hours=number(s.hours_open, 0, lang))
            + ("" if s.acknowledged else " · " + t("alarm_kpis.unacknowledged", lang)),
        )
        for s in metrics.stale
    ]
