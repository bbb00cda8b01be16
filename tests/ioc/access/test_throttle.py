"""Sign-in throttling: failures per account and attempts per address, counted in Redis for every worker."""

from __future__ import annotations

from pathlib import Path

import dash
import pytest
from flask.testing import FlaskClient

from ioc.access import Throttle
from ioc.auth import load_roles
from ioc.config import ConfigError, Settings
from ioc.store import Store
from layouts.app import create_app
from tests.ioc.access.conftest import csrf_of
from tests.layouts.dom import TEST_PASSWORD, add_user, client_sign_in


def client_at(app: dash.Dash, address: str) -> FlaskClient:
    """A browser with no cookies yet, at `address`."""
    client = app.server.test_client()
    client.environ_base["REMOTE_ADDR"] = address
    return client


def test_brute_force_on_one_account_is_throttled_for_the_address_guessing(app: dash.Dash) -> None:
    policy = app.server.extensions["ioc_roles"].sign_in
    guesser = client_at(app, "198.51.100.66")
    statuses = [client_sign_in(guesser, "admin-1", "wrong-password-x").status_code
                for _ in range(policy.failures_per_account + 1)]
    assert statuses[:-1] == [401] * policy.failures_per_account
    assert statuses[-1] == 429
    # that address may not try the account again until the window ends, even with the right password
    right = client_sign_in(client_at(app, "198.51.100.66"), "admin-1")
    assert right.status_code == 429 and int(right.headers["Retry-After"]) > 0
    # other accounts are not locked out by it
    assert client_sign_in(client_at(app, "198.51.100.66"), "operator-1").status_code == 302


def test_failures_from_elsewhere_do_not_keep_the_real_user_out(app: dash.Dash) -> None:
    """The lockout attack: wrong passwords sent for someone's name must not refuse their right one."""
    policy = app.server.extensions["ioc_roles"].sign_in
    for n in range(policy.failures_per_account * 3):
        client_sign_in(client_at(app, f"198.51.100.{n % 3 + 1}"), "operator-1", "wrong-password-x")
    assert client_sign_in(client_at(app, "203.0.113.7"), "operator-1").status_code == 302


def test_a_browser_that_signed_in_before_gets_in_while_its_account_is_under_attack(app: dash.Dash) -> None:
    """Past the account's limit for browsers it never signed in from, only the owner's known browsers may try
    (OWASP's device cookies): guessing from many addresses stops, the owner's own screen still opens."""
    policy = app.server.extensions["ioc_roles"].sign_in
    own_screen = client_at(app, "203.0.113.7")
    assert client_sign_in(own_screen, "operator-1").status_code == 302
    own_screen.post("/logout", data={"csrf": csrf_of(own_screen)})
    addresses = policy.new_device_failures_per_account // (policy.failures_per_account - 1) + 1
    for n in range(addresses):
        for _ in range(policy.failures_per_account - 1):
            client_sign_in(client_at(app, f"198.51.{n // 250}.{n % 250 + 1}"), "operator-1", "wrong-password-x")
    # a new browser, even with the right password, waits for the account window to end ...
    stranger = client_sign_in(client_at(app, "192.0.2.9"), "operator-1")
    assert stranger.status_code == 429 and int(stranger.headers["Retry-After"]) > 0
    # ... while the owner's browser, from the same address as before or another one, signs in
    assert client_sign_in(own_screen, "operator-1").status_code == 302
    own_screen.environ_base["REMOTE_ADDR"] = "192.0.2.10"
    own_screen.post("/logout", data={"csrf": csrf_of(own_screen)})
    assert client_sign_in(own_screen, "operator-1").status_code == 302


def test_a_known_browser_has_its_own_failure_limit(app: dash.Dash) -> None:
    """A copied device cookie does not open unlimited guessing: its failures are counted on their own."""
    policy = app.server.extensions["ioc_roles"].sign_in
    browser = client_at(app, "203.0.113.7")
    assert client_sign_in(browser, "operator-1").status_code == 302
    browser.post("/logout", data={"csrf": csrf_of(browser)})
    statuses = []
    for n in range(policy.failures_per_account + 1):
        browser.environ_base["REMOTE_ADDR"] = f"192.0.2.{n + 1}"  # a new address for each guess
        statuses.append(client_sign_in(browser, "operator-1", "wrong-password-x").status_code)
    assert statuses == [401] * policy.failures_per_account + [429]


def test_many_attempts_from_one_address_are_throttled(app: dash.Dash) -> None:
    policy = app.server.extensions["ioc_roles"].sign_in
    statuses = [client_sign_in(app.server.test_client(), f"nobody-{n}", "wrong-password-x").status_code
                for n in range(policy.attempts_per_address + 1)]
    assert statuses[-1] == 429 and set(statuses[:-1]) == {401}


def test_counters_are_per_scope_and_person_and_shared_through_redis(fake_store: Store) -> None:
    one, other = Throttle(fake_store.redis, fake_store.keys), Throttle(fake_store.redis, fake_store.keys)
    assert [one.hit("sign_in_account", "minh", 300)[0] for _ in range(3)] == [1, 2, 3]
    assert other.count("sign_in_account", "minh", 300) == 3  # another worker sees the same count
    assert other.count("sign_in_account", "lan", 300) == 0
    assert other.count("sign_in_address", "minh", 300) == 0
    key = next(iter(fake_store.redis.scan_iter(match="*minh*")))
    assert 0 < fake_store.redis.ttl(key) <= 301  # the counter goes away with its window


@pytest.mark.parametrize("window", [60, 300])
def test_a_hit_says_how_long_its_window_still_runs(fake_store: Store, window: int) -> None:
    throttle = Throttle(fake_store.redis, fake_store.keys)
    _, remaining = throttle.hit("api", "key:bus-app", window)
    assert 0 < remaining <= window
    assert 0 < throttle.retry_after(window) <= window


def _sign_in_through_proxy(app: dash.Dash, forwarded_for: str, username: str, password: str) -> int:
    """A sign-in that reached the app through a reverse proxy at 10.0.0.2 which names the client."""
    client = client_at(app, "10.0.0.2")
    client.environ_base["HTTP_X_FORWARDED_FOR"] = forwarded_for
    return int(client_sign_in(client, username, password).status_code)


def test_a_forged_x_forwarded_for_is_ignored_unless_proxies_are_trusted(app: dash.Dash) -> None:
    """With no trusted proxy hops (the default), a client cannot escape its address's limit by naming a new
    address in each request, and the audit trail records the address the connection came from."""
    from ioc.audit import AuditQuery

    policy = app.server.extensions["ioc_roles"].sign_in
    assert policy.trusted_proxy_hops == 0
    statuses = [_sign_in_through_proxy(app, f"192.0.2.{n + 1}", f"nobody-{n}", "wrong-password-x")
                for n in range(policy.attempts_per_address + 1)]
    assert statuses[-1] == 429 and set(statuses[:-1]) == {401}
    entries = app.server.extensions["ioc_security"].audit.search(AuditQuery(action="sign_in.failed"))
    assert {entry.address for entry in entries} == {"10.0.0.2"}


def test_behind_a_trusted_proxy_each_client_has_its_own_limit(
    fake_store: Store, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Behind one reverse proxy every user shares its address: with its hop trusted, the limit per address
    applies to the client the proxy names, so one guesser does not keep everyone else out."""
    monkeypatch.setenv("IOC_TRUSTED_PROXY_HOPS", "1")
    app = create_app(fake_store, settings, redis_kind="in-process", cookie_secure=False)
    add_user(app, "operator-1", "operator")
    policy = app.server.extensions["ioc_roles"].sign_in
    # a client may prepend whatever it likes; only the entry the trusted proxy added counts
    statuses = [_sign_in_through_proxy(app, f"192.0.2.{n + 1}, 198.51.100.66", f"nobody-{n}", "wrong-password-x")
                for n in range(policy.attempts_per_address + 1)]
    assert statuses[-1] == 429 and set(statuses[:-1]) == {401}
    assert _sign_in_through_proxy(app, "203.0.113.7", "operator-1", TEST_PASSWORD) == 302


@pytest.mark.parametrize("value", ["-1", "two", "1.5"])
def test_a_bad_trusted_proxy_hops_setting_is_named(
    fake_store: Store, settings: Settings, monkeypatch: pytest.MonkeyPatch, value: str
) -> None:
    monkeypatch.setenv("IOC_TRUSTED_PROXY_HOPS", value)
    with pytest.raises(ConfigError, match="IOC_TRUSTED_PROXY_HOPS"):
        create_app(fake_store, settings, redis_kind="in-process", cookie_secure=False)


def test_trusted_proxy_hops_in_roles_yaml_are_validated(tmp_path: Path) -> None:
    (tmp_path / "roles.yaml").write_text("sign_in: {trusted_proxy_hops: -1}\n"
                                         "roles:\n  admin: {title: {vi: a, en: a}, permissions: ['*']}\n",
                                         encoding="utf-8")
    with pytest.raises(ConfigError, match=r"roles.yaml: sign_in.trusted_proxy_hops: Input should be greater"):
        load_roles(tmp_path)
