"""bench/kpi_archive.py's baseline on known data: pandas recomputing the KPIs from the raw archived files
gives the report's values (read from the archive's KPI aggregates), both reading the same files."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from bench.kpi_archive import compare, pandas_recompute, records_frame
from ioc.archive import Archiver
from ioc.config import Settings
from ioc.kpis.archive_rollups import archived_kpis, compact_kpis
from ioc.kpis.periods import make_range
from ioc.kpis.report import compute_report
from ioc.store import Store
from tests.ioc.kpis.conftest import CITY_MIDNIGHT_UTC
from tests.ioc.kpis.test_archive_reader import DAYS, FIRST_DAY, ZONE, archive_catalogue, archive_polls


def test_pandas_over_the_raw_archive_equals_the_report_from_the_archive(
        store: Store, settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    catalogue = archive_catalogue(tmp_path, settings)
    root = tmp_path / "archive"
    for day_index in range(DAYS):
        for feed, moment, batch in archive_polls(day_index):
            store.write_batch(feed, batch, now=moment)
    Archiver(store.redis, store.keys, root).archive_once()
    now = CITY_MIDNIGHT_UTC + timedelta(days=DAYS, hours=3)
    compact_kpis(root, catalogue, ZONE, now)
    monkeypatch.setenv("IOC_ARCHIVE_DIR", str(root))
    # the last three days, so that the first is the previous period's (a range of one day before)
    first, last = FIRST_DAY + timedelta(days=2), FIRST_DAY + timedelta(days=DAYS - 1)
    report = compute_report(store, settings, make_range(first, last), catalogue=catalogue, now=now)
    kpis = archived_kpis(catalogue)
    raw = pandas_recompute(root, kpis, ZONE, first, last)
    frame = records_frame(root, kpis, ZONE, first, last)
    for kpi in kpis:
        assert report.result(kpi.id).records == int((frame["kpi"] == kpi.id).sum()), kpi.id
    assert report.result("pm25-mean").records == 2 * 12 * 6
    assert report.result("lights-out").value is not None and report.result("beds").value is not None
    worst = dict((where.split(" ")[0], difference) for difference, where in compare(report, raw, kpis))
    assert set(worst) == {k.id for k in kpis}
    for kpi in kpis:
        # medians and p90s come from the 2%-accurate sketch; everything else agrees to rounding
        assert worst[kpi.id] <= (0.021 if kpi.needs_sketch else 1e-9), kpi.id
