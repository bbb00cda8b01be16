"""The demo's users: one per role, and a password to sign in with at every start, kept data or not."""

from __future__ import annotations

import pytest

from ioc.auth import UserBook, load_roles
from ioc.cli_users import seed_demo_users
from ioc.config import Settings
from ioc.store import Store


def test_a_demo_started_again_on_kept_data_prints_passwords_that_work(
    fake_store: Store, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("IOC_DEMO_PASSWORD", raising=False)
    book = UserBook(fake_store.redis, fake_store.keys, load_roles(settings.directory))
    first = seed_demo_users(book)

    again = seed_demo_users(book)  # the same Redis, as after a restart with persistence

    assert {name for name, _, _ in again} == {name for name, _, _ in first} == {"operator", "manager",
                                                                                "integrator", "admin"}
    for name, _, password in again:
        assert book.verify(name, password) is not None
    assert all(book.verify(name, password) is None for name, _, password in first)  # the old ones are gone
