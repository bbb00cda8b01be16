"""The alarm system's measures read from alerts raised, escalated, acknowledged and resolved through the
alert book on the real redis-server."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from ioc.alerts import AlertBook
from ioc.alerts.metrics import alarm_metrics, read_alarms
from ioc.config import AlarmSystem
from ioc.model import Alert, Severity

NOW = datetime(2026, 12, 5, 12, 0, tzinfo=UTC)
RULES = AlarmSystem(operator_positions=1, window_hours=24)


def raise_at(
    book: AlertBook,
    at: datetime,
    *,
    rule: str = "pm25-high",
    entity: str = "station-1",
    severity: Severity = Severity.MODERATE,
    district: str = "Hải Châu",
    sector: str = "environment",
) -> str:
    alert = Alert(
        id="",
        rule_id=rule,
        entity_id=entity,
        title=f"{rule} {entity}",
        severity=severity,
        sector=sector,
        agency="DONRE",
        district=district,
        raised_at=at,
        updated_at=at,
    )
    stored, new = book.raise_alert(alert)
    assert new
    return stored.id


def test_measures_from_the_alert_book(book: AlertBook) -> None:
    # a chattering station: raised, cleared and raised again three times within 40 s
    for k in range(3):
        alert_id = raise_at(book, NOW - timedelta(hours=2, seconds=-20 * k))
        book.resolve(
            alert_id, actor="system", note="cleared", now=NOW - timedelta(hours=2, seconds=-20 * k - 5)
        )
    # one raised minor and escalated twice while nobody acknowledged it: it counts as raised minor
    escalated = raise_at(
        book, NOW - timedelta(hours=1), rule="noise", entity="mic-1", severity=Severity.MINOR
    )
    book.escalate(escalated, after=timedelta(minutes=10), now=NOW - timedelta(minutes=45))
    book.escalate(escalated, after=timedelta(minutes=10), now=NOW - timedelta(minutes=30))
    # raised 30 h ago and never resolved: stale, and outside the 24 h window's rate
    stale = raise_at(
        book, NOW - timedelta(hours=30), rule="water-level", entity="gauge-2", severity=Severity.SEVERE
    )
    book.acknowledge(stale, actor="op1", now=NOW - timedelta(hours=29))
    # raised 26 h ago and resolved an hour ago: neither counted nor stale
    old = raise_at(book, NOW - timedelta(hours=26), rule="water-level", entity="gauge-3")
    book.resolve(old, actor="op1", note="done", now=NOW - timedelta(hours=1))
    extreme = raise_at(
        book,
        NOW - timedelta(minutes=5),
        rule="typhoon",
        entity="cap-1",
        severity=Severity.EXTREME,
        district="Sơn Trà",
        sector="emergency",
    )

    found = alarm_metrics(book.redis, book.keys, RULES, end=NOW)

    assert found.start == NOW - timedelta(hours=24)
    assert found.total == 5
    assert found.average_rate == pytest.approx(5 / 144)
    assert found.peak_rate == 3
    assert [(c.rule_id, c.entity_id, c.most_in_span) for c in found.chattering] == [
        ("pm25-high", "station-1", 3)
    ]
    assert (found.top[0].rule_id, found.top[0].count) == ("pm25-high", 3)
    assert [(s.alert_id, s.acknowledged) for s in found.stale] == [(stale, True)]
    assert found.stale[0].hours_open == pytest.approx(30)
    assert found.severities == {"moderate": 3, "minor": 1, "extreme": 1}
    assert found.priorities == {"low": 4, "high": 1}
    assert book.get(escalated).alert.severity == Severity.SEVERE  # escalated now, minor when raised

    in_son_tra = alarm_metrics(book.redis, book.keys, RULES, end=NOW, district="Sơn Trà")
    assert (in_son_tra.total, [f.entity_id for f in in_son_tra.top]) == (1, ["cap-1"])
    assert alarm_metrics(book.redis, book.keys, RULES, end=NOW, sector="emergency").total == 1
    assert extreme in {
        a.alert_id for a in read_alarms(book.redis, book.keys, NOW - timedelta(hours=1), NOW)[0]
    }


def test_a_damaged_alert_hash_is_left_out_not_a_crash(book: AlertBook) -> None:
    good = raise_at(book, NOW - timedelta(minutes=30))
    book.redis.zadd(book.keys.alerts_all(), {"A999999": (NOW - timedelta(minutes=20)).timestamp()})
    book.redis.hset(book.keys.alert("A999999"), mapping={"title": "half written"})
    inside, _ = read_alarms(book.redis, book.keys, NOW - timedelta(hours=1), NOW)
    assert [a.alert_id for a in inside] == [good]


def test_the_script_and_the_pipeline_read_the_same(book: AlertBook, monkeypatch: pytest.MonkeyPatch) -> None:
    for k in range(5):
        raise_at(book, NOW - timedelta(minutes=k + 1), entity=f"station-{k}", severity=Severity.SEVERE)
    by_script = read_alarms(book.redis, book.keys, NOW - timedelta(hours=1), NOW)

    def no_scripts(_script: str) -> None:
        raise NotImplementedError("this Redis runs no scripts")

    monkeypatch.setattr(book.redis, "register_script", no_scripts)
    by_pipeline = read_alarms(book.redis, book.keys, NOW - timedelta(hours=1), NOW)
    assert by_script == by_pipeline and len(by_script[0]) == 5
