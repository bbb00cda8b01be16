"""Users, roles and keys: roles.yaml validated at load, argon2 hashes, disabling, API keys stored hashed,
and the `ioc users` commands on a real redis-server."""

from __future__ import annotations

import io
import json
import shutil
from pathlib import Path

import pytest
import redis

from ioc import cli
from ioc.auth import (
    API_KEY_PREFIX,
    PERMISSIONS,
    UserBook,
    UserError,
    api_key_digest,
    load_roles,
    permissions_of,
)
from ioc.config import DEFAULT_CONFIG_DIR, ConfigError, Settings
from ioc.keys import Keys
from ioc.store import Store

PASSWORD = "a-long-enough-password"


@pytest.fixture
def book(fake_store: Store, settings: Settings) -> UserBook:
    return UserBook(fake_store.redis, fake_store.keys, load_roles(settings.directory))


def _roles_file(tmp_path: Path, text: str) -> Path:
    (tmp_path / "roles.yaml").write_text(text, encoding="utf-8")
    return tmp_path


# --- roles.yaml -------------------------------------------------------------------------------------------------


def test_the_demo_roles_give_each_role_what_the_issue_says(settings: Settings) -> None:
    roles = load_roles(settings.directory)
    assert permissions_of(roles, "operator") == {"control_room.view", "alerts.view", "alerts.act", "situation.view",
                                                 "handover.view", "handover.act", "feeds.view", "service.manage"}
    assert permissions_of(roles, "manager") == {"control_room.view", "reports.view", "reports.export",
                                                "situation.view", "handover.view"}
    # feed health read-only: the refused payloads as received and adapter tests stay with integrators
    assert not roles.allows("operator", "feeds.raw") and not roles.allows("operator", "adapters.test")
    assert permissions_of(roles, "integrator") == {"feeds.view", "feeds.raw", "adapters.test", "health.full"}
    assert permissions_of(roles, "admin") == set(PERMISSIONS)
    assert not roles.allows("manager", "alerts.act") and not roles.allows("operator", "users.manage")
    # a shift is longer than an office session, and says so in the file
    assert roles.session_seconds("operator") == 12 * 3600 > roles.session_seconds("manager")
    assert roles.session.cookie_secure is True


def test_an_unknown_permission_names_file_role_and_field(tmp_path: Path) -> None:
    folder = _roles_file(tmp_path, "roles:\n  admin: {title: {vi: a, en: a}, permissions: ['*']}\n"
                                   "  operator: {title: {vi: o, en: o}, permissions: [alerts.fly]}\n")
    with pytest.raises(ConfigError) as error:
        load_roles(folder)
    message = str(error.value)
    assert "roles.yaml: roles[operator]: permissions: unknown permission 'alerts.fly'" in message


def test_a_bad_session_value_names_the_field(tmp_path: Path) -> None:
    folder = _roles_file(tmp_path, "session: {idle_minutes: -5}\n"
                                   "roles:\n  admin: {title: {vi: a, en: a}, permissions: ['*']}\n")
    with pytest.raises(ConfigError, match=r"roles.yaml: session.idle_minutes: Input should be greater than 0"):
        load_roles(folder)


def test_roles_without_an_administrator_are_refused(tmp_path: Path) -> None:
    folder = _roles_file(tmp_path, "roles:\n  operator: {title: {vi: o, en: o}, permissions: [alerts.view]}\n")
    with pytest.raises(ConfigError, match="nobody could manage users"):
        load_roles(folder)


def test_an_unexpected_field_is_refused(tmp_path: Path) -> None:
    folder = _roles_file(tmp_path, "roles:\n  admin: {title: {vi: a, en: a}, permissions: ['*'], colour: red}\n")
    with pytest.raises(ConfigError, match=r"roles\[admin\]: colour: Extra inputs are not permitted"):
        load_roles(folder)


# --- users --------------------------------------------------------------------------------------------------------


def test_passwords_are_stored_as_argon2id_hashes_only(book: UserBook, fake_store: Store) -> None:
    book.add("lan.nguyen", "operator", PASSWORD, actor="admin")
    stored = fake_store.redis.hgetall(fake_store.keys.user("lan.nguyen"))
    assert stored["password_hash"].startswith("$argon2id$")
    assert PASSWORD not in json.dumps(stored)
    assert "password_hash" not in book.get("lan.nguyen").to_dict()  # type: ignore[union-attr]


def test_verify_accepts_the_right_password_only(book: UserBook) -> None:
    book.add("lan.nguyen", "operator", PASSWORD, actor="admin")
    assert book.verify("lan.nguyen", PASSWORD).role == "operator"  # type: ignore[union-attr]
    assert book.verify("Lan.Nguyen ", PASSWORD) is not None  # names are case-insensitive
    assert book.verify("lan.nguyen", PASSWORD + "x") is None
    assert book.verify("nobody", PASSWORD) is None


def test_a_disabled_user_cannot_sign_in_and_their_sessions_end(book: UserBook) -> None:
    user = book.open_session(book.add("lan.nguyen", "operator", PASSWORD, actor="admin"))
    session = user.get_id()
    assert book.load_session(session) is not None
    book.set_disabled("lan.nguyen", True, actor="admin")
    assert book.verify("lan.nguyen", PASSWORD) is None
    assert book.load_session(session) is None
    book.set_disabled("lan.nguyen", False, actor="admin")
    # enabling again does not revive a session signed in before the change
    assert book.load_session(session) is None
    assert book.load_session(book.open_session(book.get("lan.nguyen")).get_id()) is not None  # type: ignore[arg-type]


def test_an_ended_session_opens_nothing_and_others_of_the_user_stay(book: UserBook) -> None:
    user = book.add("lan.nguyen", "operator", PASSWORD, actor="admin")
    wall, desk = book.open_session(user), book.open_session(user)
    assert wall.session != desk.session and book.session_count("lan.nguyen") == 2
    book.end_session(desk)
    assert book.load_session(desk.get_id()) is None
    assert book.load_session(wall.get_id()) is not None and book.session_count("lan.nguyen") == 1
    # a session id made up for a real user and epoch names no session on the server
    assert book.load_session(f"lan.nguyen:{user.epoch}:made-up-token") is None
    assert book.load_session(f"lan.nguyen:{user.epoch}") is None


def test_redis_holds_only_digests_of_session_tokens(book: UserBook, fake_store: Store) -> None:
    session = book.open_session(book.add("lan.nguyen", "operator", PASSWORD, actor="admin"))
    dump = json.dumps({key: fake_store.redis.dump(key).hex() for key in fake_store.redis.keys("*")})
    assert session.session not in dump and session.session.encode().hex() not in dump


def test_new_users_are_checked(book: UserBook) -> None:
    book.add("lan.nguyen", "operator", PASSWORD, actor="admin")
    with pytest.raises(UserError, match="already exists"):
        book.add("lan.nguyen", "manager", PASSWORD, actor="admin")
    with pytest.raises(UserError, match="unknown role 'mayor'"):
        book.add("minh", "mayor", PASSWORD, actor="admin")
    with pytest.raises(UserError, match="at least 10 characters"):
        book.add("minh", "manager", "short", actor="admin")
    with pytest.raises(UserError, match="user name"):
        book.add("<b>minh</b>", "manager", PASSWORD, actor="admin")
    assert [user.name for user in book.all()] == ["lan.nguyen"]


def test_user_changes_are_audited_with_actor_and_address(book: UserBook, fake_store: Store) -> None:
    book.add("lan.nguyen", "operator", PASSWORD, actor="admin", address="10.0.0.5")
    book.set_role("lan.nguyen", "manager", actor="admin", address="10.0.0.5")
    book.set_disabled("lan.nguyen", True, actor="admin", address="10.0.0.5")
    entries = [fields for _, fields in fake_store.redis.xrange(fake_store.keys.audit())]
    assert [(e["action"], e["from"], e["to"]) for e in entries] == [
        ("user.added", "", "operator"), ("user.role_changed", "operator", "manager"),
        ("user.disabled", "enabled", "disabled")]
    assert {(e["actor"], e["address"], e["object"]) for e in entries} == {("admin", "10.0.0.5", "user:lan.nguyen")}


def test_a_session_survives_a_short_redis_outage_only_for_users_verified_before_it(
    book: UserBook, settings: Settings
) -> None:
    from tests.conftest import unreachable_redis

    user = book.open_session(book.add("lan.nguyen", "operator", PASSWORD, actor="admin"))
    assert book.load_session(user.get_id()) is not None
    down = UserBook(unreachable_redis(socket_connect_timeout=0.2), book.keys, book.roles)
    assert down.load_session(user.get_id()) is not None
    assert down.load_session("someone-else:1:token") is None


# --- API keys -------------------------------------------------------------------------------------------------------


def test_api_keys_are_stored_hashed_and_can_be_revoked(book: UserBook, fake_store: Store) -> None:
    key = book.issue_api_key("bus-app", actor="admin")
    assert key.startswith(API_KEY_PREFIX) and len(key) > 40
    assert book.api_key_holder(key) == "bus-app"
    dump = json.dumps({k: fake_store.redis.hgetall(k) for k in fake_store.redis.keys("*api_key*")})
    assert key not in dump and api_key_digest(key) in dump
    replacement = book.issue_api_key("bus-app", actor="admin")
    assert book.api_key_holder(key) is None and book.api_key_holder(replacement) == "bus-app"
    assert book.revoke_api_key("bus-app", actor="admin")
    assert book.api_key_holder(replacement) is None
    assert book.api_key_holder("ioc_made-up") is None and book.api_key_holder("") is None


# --- `ioc users` on a real redis-server ----------------------------------------------------------------------------


def run(argv: list[str], capsys: pytest.CaptureFixture[str], stdin: str = "",
        monkeypatch: pytest.MonkeyPatch | None = None) -> tuple[int, str]:
    if monkeypatch is not None:
        monkeypatch.setattr("sys.stdin", io.StringIO(stdin))
    code = cli.main(argv)
    return code, capsys.readouterr().out


@pytest.mark.integration
def test_users_add_list_disable_on_the_iocs_redis(
    redis_client: redis.Redis, redis_server_url: str, capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch, settings: Settings
) -> None:
    monkeypatch.setenv("IOC_REDIS_URL", redis_server_url)
    book = UserBook(redis_client, Keys(settings.city.id), load_roles(settings.directory))

    code, out = run(["users", "add", "admin", "--role", "admin"], capsys)
    assert code == 0
    password = next(line.split(": ", 1)[1] for line in out.splitlines() if line.startswith("one-time password"))
    assert book.verify("admin", password) is not None

    code, _ = run(["users", "add", "lan", "--role", "operator", "--password-stdin"], capsys,
                  stdin=PASSWORD + "\n", monkeypatch=monkeypatch)
    assert code == 0 and book.verify("lan", PASSWORD) is not None

    code, out = run(["users", "list", "--json"], capsys)
    listed = {row["name"]: row for row in json.loads(out)}
    assert code == 0 and listed["lan"]["role"] == "operator" and "password_hash" not in listed["lan"]

    assert run(["users", "disable", "lan"], capsys)[0] == 0
    assert book.verify("lan", PASSWORD) is None
    assert run(["users", "add", "x", "--role", "mayor"], capsys)[0] == 2

    code, out = run(["users", "apikey", "bus-app"], capsys)
    key = out.strip().splitlines()[-1]
    assert code == 0 and book.api_key_holder(key) == "bus-app"

    actions = [fields["action"] for _, fields in redis_client.xrange(Keys(settings.city.id).audit())]
    assert actions == ["user.added", "user.added", "user.disabled", "apikey.issued"]
    assert all(fields["actor"].startswith("cli") for _, fields in redis_client.xrange(Keys(settings.city.id).audit()))


def test_a_city_folder_without_roles_yaml_is_a_clear_error(tmp_path: Path) -> None:
    for name in ("city.yaml", "agencies.yaml"):
        shutil.copy(DEFAULT_CONFIG_DIR / name, tmp_path / name)
    with pytest.raises(ConfigError, match="roles.yaml: file not found"):
        load_roles(tmp_path)
