"""The audit trail: every audited action lands in it with who, when, what and where; it is searched by actor,
action and time; exported as CSV that spreadsheets cannot run; and nothing in the app can edit it."""

from __future__ import annotations

import csv
import io
import json
import re
import shutil
from datetime import timedelta
from pathlib import Path

import dash
import pytest
import redis
from dash._utils import split_callback_id

from ioc import audit as audit_module
from ioc.audit import AuditQuery, AuditTrail, audit_config_changes, to_csv
from ioc.config import DEFAULT_CONFIG_DIR, Settings
from ioc.model import Alert, Severity, utcnow
from ioc.store import Store
from layouts.app import create_app
from tests.ioc.access.conftest import csrf_of
from tests.layouts.dom import add_user, client_sign_in


@pytest.fixture
def trail(fake_store: Store) -> AuditTrail:
    return AuditTrail(fake_store.redis, fake_store.keys)


@pytest.fixture
def app(fake_store: Store, settings: Settings) -> dash.Dash:
    app = create_app(fake_store, settings, redis_kind="in-process", cookie_secure=False)
    for role in ("operator", "admin"):
        add_user(app, f"{role}-1", role)
    return app


def _alert(store: Store) -> str:
    alert, _ = store.raise_alert(Alert(id="", rule_id="pm25-high", entity_id="urn:ioc:danang:air:1",
                                       title="PM2.5", severity=Severity.SEVERE, sector="environment",
                                       agency="danang-environment"))
    return alert.id


def test_search_by_actor_action_and_time_newest_first(trail: AuditTrail) -> None:
    now = utcnow()
    trail.record(actor="lan", action="sign_in", address="10.0.0.1")
    trail.record(actor="minh", action="sign_in.failed", address="10.0.0.2")
    trail.record(actor="lan", action="sign_out", address="10.0.0.1")

    assert [e.action for e in trail.search(AuditQuery(actor="lan"))] == ["sign_out", "sign_in"]
    assert [e.actor for e in trail.search(AuditQuery(action="sign_in"))] == ["minh", "lan"]
    assert len(trail.search(AuditQuery(since=now - timedelta(minutes=1)))) == 3
    assert trail.search(AuditQuery(until=now - timedelta(minutes=1))) == []
    assert trail.search(AuditQuery(since=now + timedelta(minutes=1))) == []
    assert [e.actor for e in trail.search(AuditQuery(limit=1))] == ["lan"]


def test_search_pages_through_a_long_trail(trail: AuditTrail, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(audit_module, "SEARCH_PAGE", 3)
    for number in range(10):
        trail.record(actor=f"user-{number % 2}", action="sign_in")
    found = trail.search(AuditQuery(actor="user-0", limit=100))
    assert len(found) == 5 and len({entry.id for entry in found}) == 5


def test_notes_are_scrubbed_and_fields_capped(trail: AuditTrail) -> None:
    trail.record(actor="x" * 500, action="user.added", note="gọi 0905 123 456 hoặc lan@example.vn")
    entry = trail.search(AuditQuery())[0]
    assert len(entry.actor) == 200
    assert "0905" not in entry.note and "@" not in entry.note


def test_csv_export_has_every_column_and_keeps_formulas_inert(trail: AuditTrail) -> None:
    trail.record(actor="=HYPERLINK(\"http://evil\")", action="sign_in.failed", address="10.0.0.9",
                 note="+cmd|' /C calc'!A0")
    trail.record(actor="Nguyễn", action="sign_in")
    rows = list(csv.DictReader(io.StringIO(to_csv(trail.search(AuditQuery())))))
    assert list(rows[0]) == list(audit_module.CSV_COLUMNS)
    assert rows[0]["actor"] == "Nguyễn"
    assert rows[1]["actor"].startswith("'=") and rows[1]["note"].startswith("'+")
    assert rows[1]["address"] == "10.0.0.9"


def test_alert_changes_are_audited_with_the_signed_in_operator(fake_store: Store) -> None:
    alert_id = _alert(fake_store)
    fake_store.alerts.acknowledge(alert_id, actor="operator-1")
    fake_store.alerts.resolve(alert_id, actor="operator-1", note="cleared on site")
    entries = AuditTrail(fake_store.redis, fake_store.keys).search(AuditQuery(action=""))
    assert [(e.actor, e.action, e.object) for e in entries][:2] == [
        ("operator-1", "resolved", f"alert:{alert_id}"), ("operator-1", "acknowledged", f"alert:{alert_id}")]


def test_sign_in_sign_out_failures_and_user_changes_are_audited(app: dash.Dash, fake_store: Store) -> None:
    client = app.server.test_client()
    assert client_sign_in(client, "operator-1", "wrong-password-x").status_code == 401
    assert client_sign_in(client, "operator-1").status_code == 302
    client.post("/logout", data={"csrf": csrf_of(client)})
    admin = app.server.test_client()
    client_sign_in(admin, "admin-1")
    app.server.extensions["ioc_security"].users.set_disabled("operator-1", True, actor="admin-1",
                                                             address="127.0.0.1")
    entries = AuditTrail(fake_store.redis, fake_store.keys).search(AuditQuery())
    seen = [(e.actor, e.action) for e in reversed(entries) if e.actor != "test" and e.actor != "config-file"]
    assert seen == [("operator-1", "sign_in.failed"), ("operator-1", "sign_in"), ("operator-1", "sign_out"),
                    ("admin-1", "sign_in"), ("admin-1", "user.disabled")]
    assert all(e.address == "127.0.0.1" and e.at for e in entries if e.actor not in ("test", "config-file"))


def test_admins_export_the_trail_as_csv_and_others_are_refused(app: dash.Dash) -> None:
    admin = app.server.test_client()
    client_sign_in(admin, "admin-1")
    response = admin.get("/admin/audit.csv?action=sign_in")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff"))))
    assert [row["actor"] for row in rows] == ["admin-1"]
    operator = app.server.test_client()
    client_sign_in(operator, "operator-1")
    assert operator.get("/admin/audit.csv").status_code == 403
    assert app.server.test_client().get("/admin/audit.csv").status_code == 401


def test_nothing_in_the_app_can_edit_or_delete_the_trail(app: dash.Dash, fake_store: Store) -> None:
    """Every route and every callback, called by an administrator with junk, leaves earlier entries as they were."""
    admin = app.server.test_client()
    client_sign_in(admin, "admin-1")
    admin.get("/healthz")
    before = fake_store.redis.xrange(fake_store.keys.audit())
    assert before
    for rule in app.server.url_map.iter_rules():
        path = re.sub(r"<[^>]+>", "x", rule.rule)
        if path in ("/logout", "/login"):
            continue
        for method in rule.methods - {"OPTIONS", "HEAD"}:
            admin.open(path, method=method, data={"id": before[0][0], "action": "delete"})
    for key, spec in app.callback_map.items():
        body = {"output": key, "outputs": split_callback_id(key),
                "inputs": [{**item, "value": before[0][0]} for item in spec["inputs"]],
                "state": [{**item, "value": before[0][0]} for item in spec["state"]], "changedPropIds": []}
        admin.post("/_dash-update-component", data=json.dumps(body), content_type="application/json")
    after = fake_store.redis.xrange(fake_store.keys.audit())
    assert after[: len(before)] == before
    # and no code path of the app deletes from or trims the stream
    for source in Path(__file__).resolve().parents[2].glob("*/**/*.py"):
        if "tests" in source.parts:
            continue
        text = source.read_text(encoding="utf-8")
        for call in re.findall(r"\.(xdel|xtrim)\(([^)]*)\)", text):
            assert "audit" not in call[1], f"{source}: {call}"


def test_a_changed_rules_file_is_audited_once_naming_what_changed(fake_store: Store, tmp_path: Path) -> None:
    shutil.copy(DEFAULT_CONFIG_DIR / "rules.yaml", tmp_path / "rules.yaml")
    assert audit_config_changes(fake_store.redis, fake_store.keys, tmp_path, actor="config-file") == ["rules.yaml"]
    assert audit_config_changes(fake_store.redis, fake_store.keys, tmp_path, actor="config-file") == []
    text = (tmp_path / "rules.yaml").read_text(encoding="utf-8")
    # the first entry of the `rules:` list (other lists, maintenance windows, come before it)
    start = text.index("\nrules:")
    first_rule = re.search(r"- id: ([a-z0-9-]+)", text[start:]).group(1)  # type: ignore[union-attr]
    (tmp_path / "rules.yaml").write_text(
        text[:start] + text[start:].replace(f"id: {first_rule}", f"id: {first_rule}-v2", 1), encoding="utf-8")
    assert audit_config_changes(fake_store.redis, fake_store.keys, tmp_path, actor="config-file") == ["rules.yaml"]
    entry = AuditTrail(fake_store.redis, fake_store.keys).search(AuditQuery(action="config.changed"))[0]
    assert entry.object == "config:rules.yaml"
    assert f"rules:{first_rule}-v2" in entry.note and f"removed: rules:{first_rule}" in entry.note


@pytest.mark.integration
def test_the_trail_on_a_real_redis_server(store: Store, redis_client: redis.Redis) -> None:
    trail = AuditTrail(store.redis, store.keys)
    alert_id = _alert(store)
    store.alerts.acknowledge(alert_id, actor="operator-1")
    trail.record(actor="admin-1", action="user.added", object="user:lan", address="10.1.2.3")
    found = trail.search(AuditQuery(actor="operator-1"))
    assert [e.action for e in found] == ["acknowledged"]
    assert trail.search(AuditQuery(action="user."))[0].address == "10.1.2.3"
    assert trail.count() == 3  # raised, acknowledged, user.added
