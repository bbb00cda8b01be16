"""The KPI report page's callbacks as plain functions, and through the guarded HTTP endpoint per role."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta
from typing import Any

import dash
import plotly
import pytest
from dash._utils import split_callback_id

from ioc.areas import area_index
from ioc.config import ConfigError, Settings
from ioc.i18n import CITY_ZONE, t
from ioc.kpis.catalogue import load_catalogue
from ioc.kpis.periods import PeriodError, parse_period
from ioc.kpis.rollups import KpiRollups
from ioc.model import Batch, Entity, Observation, utcnow
from ioc.store import Store
from ioc.web import WebContext, context_of
from layouts import ids, reports
from layouts.app import create_app
from tests.layouts.dom import add_user, client_sign_in, text, with_class

TODAY = utcnow().astimezone(CITY_ZONE).date()
START, END = TODAY - timedelta(days=8), TODAY - timedelta(days=2)


def station(number: int, district: str) -> Entity:
    return Entity(id=f"urn:ioc:danang:air-stations:{number}", type="AirQualityStation", agency="danang-donre",
                  sector="environment", district=district, attributes={"station_code": f"DN-AQ-{number:02d}"})


@pytest.fixture
def app(fake_store: Store, settings: Settings) -> dash.Dash:
    """The dashboard over a week of PM2.5 in two districts: Hải Châu clean, Liên Chiểu over the target."""
    app = create_app(fake_store, settings, redis_kind="in-process", cookie_secure=False)
    rollups = KpiRollups(fake_store, settings)
    day = START
    while day <= END:
        for hour in (2, 9, 18):
            moment = datetime(day.year, day.month, day.day, hour, tzinfo=CITY_ZONE).astimezone(UTC)
            batch = Batch(entities=[station(1, "Hải Châu"), station(2, "Liên Chiểu")],
                          observations=[Observation("urn:ioc:danang:air-stations:1", "pm25", 15.0, "µg/m³", moment),
                                        Observation("urn:ioc:danang:air-stations:2", "pm25", 45.0, "µg/m³", moment)])
            rollups.ingest(settings.feed("air-stations"), batch, now=moment, polls=360)
        day += timedelta(days=1)
    return app


@pytest.fixture
def context(app: dash.Dash) -> WebContext:
    """What the page's callbacks receive from that app."""
    return context_of(app.server)


CONTROLS = ("range", None, START.isoformat(), END.isoformat())


def cards(body: Any) -> dict[str, Any]:
    return {card.to_plotly_json()["props"]["data-kpi"]: card for card in with_class(body, "kpi-card")}


def test_layout_has_every_control(context: WebContext) -> None:
    page = json.dumps(reports.layout(context), cls=plotly.utils.PlotlyJSONEncoder)
    for component in (ids.REPORTS_PERIOD_KIND, ids.REPORTS_DATE, ids.REPORTS_RANGE, ids.REPORTS_DISTRICT,
                      ids.REPORTS_SECTOR, ids.REPORTS_EXPORT_PDF, ids.REPORTS_DOWNLOAD, ids.REPORTS_MAP):
        assert f'"{component}"' in page


def test_a_card_per_kpi_with_its_status(context: WebContext, settings: Settings) -> None:
    summary, body = reports.render(context, *CONTROLS, "", "", "vi")

    shown = cards(body)
    assert list(shown) == [k.id for k in load_catalogue(settings).kpis]
    mean = shown["pm25-mean"]
    assert "kpi-card--missed" in mean.className  # (15 + 45) / 2 = 30 against 25
    assert "30,0 µg/m³" in text(mean) and t("reports.status.missed", "vi") in text(mean)
    assert t("reports.why", "vi") in text(mean) and "Liên Chiểu 45,0" in text(mean)
    assert "kpi-card--no_data" in shown["citizen-requests-on-time"].className
    assert t("reports.no_data_in_period", "vi") in text(shown["citizen-requests-on-time"])
    assert t("reports.status.missed", "vi") in text(summary)
    assert parse_period(f"{START}..{END}").display() in text(summary)


def test_filters_by_area_and_sector(context: WebContext) -> None:
    _, body = reports.render(context, *CONTROLS, "Hải Châu", "environment", "en")

    shown = cards(body)
    assert set(shown) == {k.id for k in load_catalogue(context.settings).kpis if k.sector == "environment"}
    assert "kpi-card--met" in shown["pm25-mean"].className and "15.0 µg/m³" in text(shown["pm25-mean"])


def test_a_period_that_is_none_says_so(context: WebContext) -> None:
    summary, body = reports.render(context, "range", None, END.isoformat(), START.isoformat(), "", "", "en")

    assert t("reports.bad_period", "en") in text(summary) and body == []


def test_league_table_and_map_of_a_kpi(context: WebContext, settings: Settings) -> None:
    title, league, figure, placeholder = reports.detail(context, *CONTROLS, "", "", "pm25-mean", "en")

    areas = area_index(settings.city).names
    rows = with_class(league, "league-row")
    assert title == t("reports.league.title", "en", kpi="Mean PM2.5") and placeholder == "Mean PM2.5"
    assert [r.to_plotly_json()["props"]["data-district"] for r in rows][:2] == ["Hải Châu", "Liên Chiểu"]
    assert len(rows) == len(areas)
    assert len(figure["data"]) == len(areas) + 1  # a filled shape per area, then their rank labels
    assert figure["data"][-1]["text"][areas.index("Hải Châu")] == "1"


def test_without_a_chosen_kpi_the_first_missed_one_is_shown(context: WebContext) -> None:
    title, _, _, placeholder = reports.detail(context, *CONTROLS, "", "", None, "vi")

    assert placeholder and placeholder in title


def test_controls_follow_the_language(context: WebContext) -> None:
    vietnamese, english = reports.controls(context, "vi"), reports.controls(context, "en")

    assert (vietnamese[0], english[0]) == (t("reports.title", "vi"), t("reports.title", "en"))
    assert [o["label"] for o in english[2]] == [t(f"reports.period.{k}", "en") for k in ("day", "week", "month", "range")]
    assert english[4][0] == {"label": t("reports.scope.city", "en"), "value": ""}


def test_kpi_choices_follow_the_sector(context: WebContext) -> None:
    options, chosen = reports.kpi_options(context, "environment", "en", "pm25-mean")
    assert chosen == "pm25-mean" and "Mean PM2.5" in [o["label"] for o in options]
    options, chosen = reports.kpi_options(context, "citizen", "en", "pm25-mean")
    assert chosen is None and all(o["value"].startswith("citizen") for o in options)
    assert all(o["value"] not in ("integration-rate", "feed-delivery") for o in reports.kpi_options(context, "", "en", None)[0])


def test_date_pickers_follow_the_period_kind(fake_store: Store, settings: Settings) -> None:
    context = context_of(create_app(fake_store, settings, redis_kind="in-process").server)

    assert reports.date_boxes(context, "range") == ({"display": "none"}, {})
    for kind in ("day", "week", "month"):
        assert reports.date_boxes(context, kind) == ({}, {"display": "none"})


@pytest.mark.parametrize(
    ("kind", "expected"),
    [("day", "2026-11-20"), ("week", "2026-W47"), ("month", "2026-11"), ("range", "2026-11-02..2026-11-20")],
)
def test_controls_make_a_period(kind: str, expected: str) -> None:
    assert reports.period_from(kind, "2026-11-20", "2026-11-02", "2026-11-20T00:00:00").label == expected


def test_controls_without_a_day_make_no_period() -> None:
    with pytest.raises(PeriodError):
        reports.period_from("month", None, None, None)


@pytest.mark.parametrize("fmt", ["csv", "xlsx", "pdf"])
def test_export_is_the_report_on_screen(context: WebContext, fmt: str) -> None:
    download = reports.export_file(context, fmt, *CONTROLS, "", "environment", "pm25-mean", "en")

    assert download["filename"] == f"kpi-report-{START}_{END}-environment.{fmt}"
    content = base64.b64decode(download["content"])
    assert content.startswith({"csv": "\ufeff".encode(), "xlsx": b"PK\x03\x04", "pdf": b"%PDF"}[fmt])
    if fmt == "csv":
        assert "Mean PM2.5" in content.decode("utf-8-sig")


# --- through the guarded endpoint ----------------------------------------------------------------------------


def fire(app: dash.Dash, client: Any, output_id: str, trigger: str, values: dict[str, Any]) -> Any:
    key = next(k for k in app.callback_map if f"{output_id}." in k)
    spec = app.callback_map[key]
    fill = [{**item, "value": values.get(f"{item['id']}.{item['property']}")} for item in spec["inputs"]]
    state = [{**item, "value": values.get(f"{item['id']}.{item['property']}")} for item in spec["state"]]
    body = {"output": key, "outputs": split_callback_id(key), "inputs": fill, "state": state,
            "changedPropIds": [trigger]}
    return client.post("/_dash-update-component", data=json.dumps(body), content_type="application/json")


VALUES = {f"{ids.REPORTS_PERIOD_KIND}.value": "range", f"{ids.REPORTS_RANGE}.start_date": START.isoformat(),
          f"{ids.REPORTS_RANGE}.end_date": END.isoformat(), f"{ids.REPORTS_DISTRICT}.value": "",
          f"{ids.REPORTS_SECTOR}.value": "", f"{ids.LANG}.data": "en", f"{ids.REPORTS_EXPORT_XLSX}.n_clicks": 1}


def signed_in(app: dash.Dash, name: str, role: str) -> Any:
    add_user(app, name, role)
    client = app.server.test_client()
    assert client_sign_in(client, name).status_code == 302
    return client


def test_a_manager_reads_and_exports(app: dash.Dash) -> None:
    client = signed_in(app, "manager-1", "manager")

    assert client.get("/reports").status_code == 200
    page = fire(app, client, ids.REPORTS_BODY, f"{ids.REPORTS_RANGE}.start_date", VALUES)
    assert page.status_code == 200 and "pm25-mean" in page.get_data(as_text=True)
    download = fire(app, client, ids.REPORTS_DOWNLOAD, f"{ids.REPORTS_EXPORT_XLSX}.n_clicks", VALUES)
    assert download.status_code == 200
    assert download.get_json()["response"][ids.REPORTS_DOWNLOAD]["data"]["filename"].endswith(".xlsx")


def test_an_operator_neither_reads_nor_exports(app: dash.Dash) -> None:
    client = signed_in(app, "operator-1", "operator")

    assert fire(app, client, ids.REPORTS_BODY, f"{ids.REPORTS_RANGE}.start_date", VALUES).status_code == 403
    assert fire(app, client, ids.REPORTS_DOWNLOAD, f"{ids.REPORTS_EXPORT_XLSX}.n_clicks", VALUES).status_code == 403


def test_report_page_is_registered(app: dash.Dash) -> None:
    paths = {page["module"]: page["path"] for page in dash.page_registry.values()}
    assert paths["layouts.reports"] == "/reports"


def test_a_catalogue_that_does_not_load_is_named_on_the_page(context: WebContext, monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(_settings: Settings) -> None:
        raise ConfigError("config/danang/kpis.yaml: kpis[4] (bed-occupancy): target: Input should be a valid number")

    monkeypatch.setattr("ioc.kpis.report.load_catalogue", broken)
    monkeypatch.setattr("layouts.reports.load_catalogue", broken)

    summary, body = reports.render(context, *CONTROLS, "", "", "en")

    assert "kpis[4] (bed-occupancy): target" in text(summary) and body == []
    assert reports.kpi_options(context, "", "en", None) == ([], None)
    assert reports.controls(context, "en")[6] == [{"label": t("reports.filter.all_sectors", "en"), "value": ""}]
