"""`ioc archive --once` then `ioc history`: a batch written to Redis comes back from the files as CSV and JSON."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
import redis

from ioc.cli import main
from ioc.model import Batch, Entity, Observation
from ioc.store import Store

AT = datetime(2026, 3, 1, 8, 0, tzinfo=UTC)


def test_archive_once_then_history_in_csv_and_json(redis_server_url: str, redis_client: redis.Redis,
                                                    tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("IOC_REDIS_URL", redis_server_url)
    station = Entity("urn:ioc:danang:air:7", "AirQualityObserved", "tnmt", "environment", observed_at=AT)
    Store(redis_client, "danang").write_batch("air-stations", Batch(
        entities=[station], observations=[Observation(station.id, "pm25", 41.5, "µg/m³", AT),
                                          Observation(station.id, "note", "=cmd", "", AT)]))
    assert main(["archive", "--once", "--folder", str(tmp_path)]) == 0
    assert json.loads(capsys.readouterr().out)["rows"]["observations"] == 2
    ask = ["history", "--feed", "air-stations", "--from", "2026-03-01", "--to", "2026-03-01", "--folder",
           str(tmp_path), "--entity", station.id]
    assert main([*ask, "--format", "json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert [(r["metric"], r["value"], r["text"], r["time"]) for r in sorted(rows, key=lambda r: r["metric"])] == [
        ("note", None, "=cmd", "2026-03-01T08:00:00+00:00"), ("pm25", 41.5, None, "2026-03-01T08:00:00+00:00")]
    assert main(ask) == 0
    table = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    assert sorted((r["metric"], r["value"], r["text"]) for r in table) == [("note", "", "'=cmd"), ("pm25", "41.5", "")]
    # a period that ends before the reading finds nothing
    assert main(["history", "--from", "2026-03-01", "--to", "2026-03-01T07:59", "--folder", str(tmp_path)]) == 0
    assert capsys.readouterr().out == ""
