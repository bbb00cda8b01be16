"""The KPI report page in headless Chromium: a manager reads a month, changes the period, exports, switches language.

The history is a few days backfilled from the simulator into the real redis-server, served in a thread.
Set IOC_SCREENSHOTS=<folder> to save 1920x1080 screenshots of the page.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterator
from functools import partial
from pathlib import Path

import pytest
from dash import Dash
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver

from ioc.config import Settings
from ioc.i18n import CITY_ZONE, t
from ioc.kpis.catalogue import load_catalogue
from ioc.kpis.periods import period_of
from ioc.model import utcnow
from ioc.store import Store
from layouts import ids
from layouts.app import create_app
from simulator.backfill import backfill
from tests.layouts import dom
from tests.layouts.dom import add_user, css, screenshot, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.integration]

HISTORY_DAYS = 4
# the report redraws after each choice; look more often than the default
wait_for = partial(dom.wait_for, poll=0.3)


@pytest.fixture
def chromium(browser: WebDriver, tmp_path: Path) -> Iterator[WebDriver]:
    # exports land in a folder the test reads
    browser.execute_cdp_cmd("Browser.setDownloadBehavior", {"behavior": "allow", "downloadPath": str(tmp_path)})
    yield browser
    browser.execute_cdp_cmd("Browser.setDownloadBehavior", {"behavior": "default"})  # the module's browser


@pytest.fixture
def served(store: Store, settings: Settings, serve_app: Callable[[Dash], str]) -> str:
    # two processes write what one writes (tests/simulator/test_backfill.py), in about half the time
    backfill(store, settings, days=HISTORY_DAYS, seed=42, workers=2)
    app = create_app(store, settings, redis_kind="server", cookie_secure=False)
    add_user(app, "manager-1", "manager")
    return serve_app(app)


def period_label(driver: WebDriver) -> str:
    labels = css(driver, ".reports-period-label")
    return labels[0].text if labels else ""


def choose_kind(driver: WebDriver, label: str) -> None:
    option = next(o for o in css(driver, ".reports-kinds label") if o.text.strip() == label)
    option.click()


def test_a_manager_reads_changes_the_period_and_exports(
    chromium: WebDriver, served: str, settings: Settings, tmp_path: Path
) -> None:
    kpis = load_catalogue(settings).kpis
    today = utcnow().astimezone(CITY_ZONE).date()
    sign_in(chromium, served, "manager-1")
    chromium.get(served + "/reports")

    wait_for(chromium, 40, "a card per KPI", lambda d: len(css(d, ".kpi-card")) == len(kpis))
    assert period_label(chromium) == period_of("month", today).display()
    statuses = {card.get_attribute("data-status") for card in css(chromium, ".kpi-card")}
    assert statuses & {"met", "near", "missed"}, "the backfilled month judges some KPIs"
    # a status reads as a word on its colour: red for missed, green for met
    chip = css(chromium, ".kpi-card .status-chip--met")[0]
    assert chip.text == t("reports.status.met", "vi")
    assert chip.value_of_css_property("background-color") == "rgba(46, 224, 111, 1)"
    assert css(chromium, ".kpi-card-trend .main-svg"), "the trend charts are drawn"
    wait_for(chromium, 20, "the league table", lambda d: len(css(d, ".league-row")) > 1)
    screenshot(chromium, "reports-month")

    choose_kind(chromium, t("reports.period.week", "vi"))
    week = period_of("week", today).display()
    wait_for(chromium, 30, "the week's report", lambda d: period_label(d) == week)
    wait_for(chromium, 30, "the week's cards", lambda d: len(css(d, ".kpi-card")) == len(kpis))
    choose_kind(chromium, t("reports.period.day", "vi"))
    wait_for(chromium, 30, "today's report", lambda d: period_label(d) == today.strftime("%d/%m/%Y"))
    screenshot(chromium, "reports-day")

    choose_kind(chromium, t("reports.period.month", "vi"))
    wait_for(chromium, 30, "the month again", lambda d: period_label(d) == period_of("month", today).display())
    css(chromium, f"#{ids.REPORTS_EXPORT_CSV}")[0].click()
    wait_for(chromium, 30, "the CSV download", lambda _d: list(tmp_path.glob("kpi-report-*.csv")))
    exported = next(tmp_path.glob("kpi-report-*.csv")).read_text(encoding="utf-8-sig")
    rows = list(csv.DictReader(io.StringIO(exported)))
    shown = [card.find_element(By.CSS_SELECTOR, ".kpi-card-name").text for card in css(chromium, ".kpi-card")]
    assert [r[t("reports.col.kpi", "vi")] for r in rows if r[t("reports.col.section", "vi")] ==
            t("reports.section.kpi", "vi")] == shown

    css(chromium, "#ioc-lang-en")[0].click()
    wait_for(chromium, 20, "the English report", lambda d: d.find_element(By.ID, ids.REPORTS_TITLE).text ==
             t("reports.title", "en"))
    wait_for(chromium, 20, "English statuses", lambda d: any(
        c.text == t("reports.status.met", "en") for c in css(d, ".kpi-card .status-chip")))
