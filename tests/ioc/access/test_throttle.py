"""Sign-in throttling: failures per account and attempts per address, counted in Redis for every worker."""

from __future__ import annotations

import dash
import pytest

from ioc.access import Throttle
from ioc.store import Store
from tests.layouts.dom import client_sign_in


def test_brute_force_on_one_account_is_throttled(app: dash.Dash) -> None:
    policy = app.server.extensions["ioc_roles"].sign_in
    statuses = [client_sign_in(app.server.test_client(), "admin-1", "wrong-password-x").status_code
                for _ in range(policy.failures_per_account + 1)]
    assert statuses[:-1] == [401] * policy.failures_per_account
    assert statuses[-1] == 429
    # throttled even with the right password until the window ends
    right = client_sign_in(app.server.test_client(), "admin-1")
    assert right.status_code == 429 and int(right.headers["Retry-After"]) > 0
    # other accounts are not locked out by it
    assert client_sign_in(app.server.test_client(), "operator-1").status_code == 302


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
