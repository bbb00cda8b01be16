"""`ioc peers` against a real redis-server: grant prints the key once and the agreement it made, list shows
it, a bad grant says what is wrong and exits 2, revoke ends it (and a second revoke says there is none), all
audited with the account that ran the command."""

from __future__ import annotations

import json

import pytest

from ioc.audit import AuditQuery, AuditTrail
from ioc.cli import main
from ioc.keys import Keys

pytestmark = pytest.mark.integration


def test_grant_list_revoke(redis_server_url: str, redis_client: object, monkeypatch: pytest.MonkeyPatch,
                           capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("IOC_REDIS_URL", redis_server_url)
    assert main(["peers", "grant", "hue", "--name", "Huế IOC", "--datasets", "kpis,alerts,feeds",
                 "--granularity", "ward", "--kpis", "air-stations", "--days", "30"]) == 0
    printed = capsys.readouterr().out
    assert "peer hue may read: kpis, alerts, feeds; air-stations; granularity ward; until " in printed
    assert printed.strip().splitlines()[-1].startswith("ioc_")
    assert main(["peers", "list", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert [(row["peer"], row["state"], row["granularity"]) for row in rows] == [("hue", "in force", "ward")]
    assert main(["peers", "grant", "hue", "--datasets", "weather"]) == 2
    assert "datasets: weather" in capsys.readouterr().err
    assert main(["peers", "revoke", "hue"]) == 0
    assert main(["peers", "revoke", "hue"]) == 2
    assert main(["peers", "list"]) == 0
    assert "revoked" in capsys.readouterr().out
    trail = AuditTrail(redis_client, Keys("danang")).search(AuditQuery(action="sharing"))  # type: ignore[arg-type]
    assert [entry.action for entry in trail] == ["sharing.revoked", "sharing.granted"]
    assert all(entry.address == "local" and entry.actor for entry in trail)
