"""`ioc backfill` then `ioc report` from the command line, on a real Redis (what a demo and cron run)."""

from __future__ import annotations

import csv
import io
from datetime import timedelta
from pathlib import Path

import pytest
import redis

from ioc.cli import main
from ioc.config import Settings
from ioc.i18n import CITY_ZONE, t
from ioc.kpis.catalogue import load_catalogue
from ioc.model import utcnow

pytestmark = pytest.mark.integration


@pytest.fixture
def redis_env(redis_client: redis.Redis, redis_server_url: str, monkeypatch: pytest.MonkeyPatch) -> redis.Redis:
    monkeypatch.setenv("IOC_REDIS_URL", redis_server_url)
    return redis_client


def test_backfill_then_report(redis_env: redis.Redis, settings: Settings, tmp_path: Path,
                              capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["backfill", "--days", "1", "--seed", "5", "--workers", "1"]) == 0
    printed = capsys.readouterr().out
    assert "backfilled" in printed and "records rolled up" in printed and "100.0%" in printed

    yesterday = (utcnow().astimezone(CITY_ZONE) - timedelta(days=1)).date().isoformat()
    output = tmp_path / "cron" / "report.csv"
    assert main(["report", "--period", yesterday, "--format", "csv", "-o", str(output), "--lang", "en"]) == 0
    assert f"CSV report of {yesterday}" in capsys.readouterr().out

    rows = list(csv.DictReader(io.StringIO(output.read_text(encoding="utf-8-sig"))))
    kpi_rows = [r for r in rows if r[t("reports.col.section", "en")] == t("reports.section.kpi", "en")]
    assert [r[t("reports.col.kpi", "en")] for r in kpi_rows] == [k.name.en for k in load_catalogue(settings).kpis]
    assert any(r[t("reports.col.value", "en")] for r in kpi_rows)
