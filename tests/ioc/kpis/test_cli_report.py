"""`ioc report` from the command line, on a real Redis (what cron runs): what it refuses.

A report of real history is in tests/simulator/test_cli_backfill.py, which backfills it from the simulator.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import redis

from ioc.cli import main

pytestmark = pytest.mark.integration


@pytest.fixture
def redis_env(redis_client: redis.Redis, redis_server_url: str, monkeypatch: pytest.MonkeyPatch) -> redis.Redis:
    monkeypatch.setenv("IOC_REDIS_URL", redis_server_url)
    return redis_client


def test_report_refuses_what_is_not_a_period_or_area(redis_env: redis.Redis, tmp_path: Path,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    output = tmp_path / "report.pdf"

    assert main(["report", "--period", "last month", "--format", "pdf", "-o", str(output)]) == 2
    assert "is not a period" in capsys.readouterr().err
    assert main(["report", "--period", "2026-11", "--district", "Hội An", "--format", "pdf", "-o", str(output)]) == 2
    assert "not an area" in capsys.readouterr().err
    assert not output.exists()
