"""The deployment's cities: IOC_CITIES checked at load with errors naming the entry, roles held per city, API
keys bound to one city, and `ioc users set-role --city`."""

from __future__ import annotations

import io

import pytest

from ioc.audit import AuditQuery
from ioc.auth import UserBook, UserError, load_roles
from ioc.cities import deployment_settings, held_roles, parse_city_roles
from ioc.cli import main
from ioc.config import ConfigError, Settings
from ioc.store import Store


def test_without_ioc_cities_the_deployment_is_the_served_city_alone(settings: Settings) -> None:
    assert deployment_settings(settings, "") == [settings]


def test_ioc_cities_lists_the_served_city_first_then_the_others(settings: Settings) -> None:
    cities = deployment_settings(settings, "hue, danang")
    assert [city.city.id for city in cities] == ["danang", "hue"]
    assert cities[0] is settings


@pytest.mark.parametrize(
    ("value", "named"),
    [
        ("danang,,hue", "empty entry"),
        ("danang,nowhere", "'nowhere' is not a city configuration folder"),
        ("danang,hue,hue", "city 'hue' is listed twice"),
        ("hue", "the served city 'danang'"),
    ],
)
def test_a_bad_ioc_cities_is_an_error_naming_what_is_wrong(
    settings: Settings, value: str, named: str
) -> None:
    with pytest.raises(ConfigError, match="IOC_CITIES") as error:
        deployment_settings(settings, value)
    assert named in str(error.value)


def test_roles_per_city_come_from_the_role_and_the_city_roles_field() -> None:
    assert held_roles("operator", parse_city_roles('{"hue": "manager"}'), "danang") == {
        "danang": "operator",
        "hue": "manager",
    }
    assert held_roles("", {"hue": "manager"}, "danang") == {"hue": "manager"}
    assert parse_city_roles("not json") == {} and parse_city_roles('["hue"]') == {}


def test_a_role_in_another_city_is_kept_apart_and_ends_the_sessions(
    fake_store: Store, settings: Settings
) -> None:
    book = UserBook(fake_store.redis, fake_store.keys, load_roles(settings.directory))
    user = book.add("lan", "operator", "a-long-password", actor="test")
    session = book.open_session(user)
    changed = book.set_role("lan", "manager", actor="test", city="hue")
    assert changed.role == "operator" and dict(changed.city_roles) == {"hue": "manager"}
    assert book.load_session(session.get_id()) is None  # signed in before the change: ended
    assert book.get("lan").to_dict()["city_roles"] == {"hue": "manager"}
    assert dict(book.set_role("lan", "", actor="test", city="hue").city_roles) == {}
    with pytest.raises(UserError, match="unknown role"):
        book.set_role("lan", "mayor", actor="test", city="hue")
    changes = book.audit.search(AuditQuery(action="user.role_changed"))
    assert ("hue:", "hue:manager") in [(e.from_state, e.to_state) for e in changes]


def test_an_api_key_names_its_city_and_the_home_city_by_default(
    fake_store: Store, settings: Settings
) -> None:
    book = UserBook(fake_store.redis, fake_store.keys, load_roles(settings.directory))
    home = book.issue_api_key("app-a", actor="test")
    other = book.issue_api_key("app-b", actor="test", city="hue")
    assert book.api_key_owner(home) == ("app-a", "danang")
    assert book.api_key_owner(other) == ("app-b", "hue")
    assert book.api_key_holder(other) == "app-b" and book.api_key_owner("ioc_wrong") is None


def test_ioc_users_set_role_with_a_city(
    redis_client: object,
    redis_server_url: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("IOC_REDIS_URL", redis_server_url)
    monkeypatch.setenv("IOC_CITIES", "danang,hue")
    monkeypatch.setattr("sys.stdin", io.StringIO("a-long-password\n"))
    assert main(["users", "add", "minh", "--role", "operator", "--password-stdin"]) == 0
    assert main(["users", "set-role", "minh", "--role", "manager", "--city", "hue"]) == 0
    assert "role in hue manager" in capsys.readouterr().out
    with pytest.raises(SystemExit, match="city 'hoian' is not served"):
        main(["users", "set-role", "minh", "--role", "manager", "--city", "hoian"])
    assert main(["users", "set-role", "minh", "--role", "none"]) == 2
    assert main(["users", "list", "--json"]) == 0
    assert '"hue": "manager"' in capsys.readouterr().out
