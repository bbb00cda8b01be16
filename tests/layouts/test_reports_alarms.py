"""The KPI report page's alarm-system section: drawn under the sectors from the report's period, in the
page's language, and absent for a period that has not begun."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from ioc.i18n import CITY_ZONE, t
from ioc.model import Alert, Severity, utcnow
from ioc.store import Store
from ioc.web import WebContext
from layouts import ids, reports
from tests.layouts.dom import text, with_class
from tests.layouts.test_reports_page import CONTROLS, END, START, app, context  # noqa: F401 - fixtures by name


def raise_on(store: Store, day_offset: int, entity: str) -> None:
    day = START + timedelta(days=day_offset)
    at = datetime(day.year, day.month, day.day, 9, tzinfo=CITY_ZONE).astimezone(UTC)
    store.alerts.raise_alert(
        Alert(
            id="",
            rule_id="pm25-high",
            entity_id=entity,
            title="PM2.5",
            severity=Severity.SEVERE,
            sector="environment",
            agency="danang-donre",
            district="Liên Chiểu",
            raised_at=at,
            updated_at=at,
        )
    )


def section_of(body: list[object]) -> object:
    found = [part for part in body if getattr(part, "id", None) == ids.REPORTS_ALARMS]
    assert len(found) == 1
    return found[0]


def test_the_report_shows_the_periods_alarm_measures(context: WebContext, fake_store: Store) -> None:  # noqa: F811
    raise_on(fake_store, 1, "station-1")
    raise_on(fake_store, 2, "station-2")
    raise_on(fake_store, 30, "station-3")  # after the period

    _, body = reports.render(context, *CONTROLS, "", "", "en")

    section = section_of(body)
    assert body[-1] is section  # under the sectors' KPI cards
    assert t("alarm_kpis.title", "en") in text(section)
    assert "2 operator positions · 2 alarms" in text(section)
    assert [tile.to_plotly_json()["props"]["data-measure"] for tile in with_class(section, "am-tile")] == [
        "average",
        "peak",
        "flood",
        "top_share",
        "chattering",
        "stale",
        "mix",
    ]
    top = next(
        part
        for part in with_class(section, "am-list")
        if part.to_plotly_json()["props"]["data-list"] == "top"
    )
    assert "PM2.5 above limit — station-1" in text(top)


def test_the_section_follows_the_language_and_the_period(context: WebContext) -> None:  # noqa: F811
    _, body = reports.render(context, *CONTROLS, "", "", "vi")
    assert t("alarm_kpis.title", "vi") in text(section_of(body))
    tomorrow = (utcnow().astimezone(CITY_ZONE).date() + timedelta(days=1)).isoformat()
    _, ahead = reports.render(context, "range", None, tomorrow, tomorrow, "", "", "en")
    assert not [part for part in ahead if getattr(part, "id", None) == ids.REPORTS_ALARMS]
    assert utcnow().astimezone(CITY_ZONE).date() > END
