"""Screens as devices in a real Redis: a key shown once and kept as a digest, bound to its screen, a new key or
a revocation ending every earlier pairing, every change audited."""

from __future__ import annotations

import pytest

from ioc.audit import AuditQuery, AuditTrail
from ioc.store import Store
from ioc.wall.screens import SCREEN_PERMISSIONS, ScreenBook, ScreenError, key_digest, pairing_address

pytestmark = pytest.mark.integration


@pytest.fixture
def book(store: Store) -> ScreenBook:
    return ScreenBook(store.redis, store.keys)


def test_a_registered_screens_key_is_kept_only_as_a_digest(book: ScreenBook, store: Store) -> None:
    key = book.add("Wall-1", "Main wall", actor="admin-1", address="10.0.0.5")
    raw = store.redis.hgetall(store.keys.screen("wall-1"))
    assert key not in str(raw) and raw["key_digest"] == key_digest(key)
    assert book.verify_key("wall-1", key).name == "Main wall"
    assert [screen.id for screen in book.all()] == ["wall-1"]
    assert "key_digest" not in book.get("wall-1").to_dict()


def test_a_key_opens_only_its_own_screen(book: ScreenBook) -> None:
    key = book.add("wall-1", actor="admin-1")
    book.add("wall-2", actor="admin-1")
    assert book.verify_key("wall-2", key) is None
    assert book.verify_key("wall-1", key + "x") is None
    assert book.verify_key("wall-1", "not-a-key") is None


def test_registering_twice_and_bad_ids_are_refused(book: ScreenBook) -> None:
    book.add("wall-1", actor="admin-1")
    with pytest.raises(ScreenError, match="already registered"):
        book.add("wall-1", actor="admin-1")
    with pytest.raises(ScreenError, match="screen id"):
        book.add("Wall 1!", actor="admin-1")
    with pytest.raises(ScreenError, match="no screen 'wall-9'"):
        book.revoke("wall-9", actor="admin-1")


def test_revoking_ends_the_key_and_every_paired_browser(book: ScreenBook) -> None:
    key = book.add("wall-1", actor="admin-1")
    paired = book.verify_key("wall-1", key)
    assert book.principal("wall-1", paired.generation) is not None

    book.revoke("wall-1", actor="admin-1")

    assert book.verify_key("wall-1", key) is None
    assert book.principal("wall-1", paired.generation) is None
    assert book.get("wall-1").revoked


def test_a_new_key_replaces_the_old_one_and_brings_a_revoked_screen_back(book: ScreenBook) -> None:
    old = book.add("wall-1", actor="admin-1")
    first = book.verify_key("wall-1", old).generation
    book.revoke("wall-1", actor="admin-1")
    new = book.new_key("wall-1", actor="admin-1")
    assert book.verify_key("wall-1", old) is None
    screen = book.verify_key("wall-1", new)
    assert screen is not None and not screen.revoked
    assert book.principal("wall-1", first) is None and book.principal("wall-1", screen.generation) is not None


def test_every_change_is_audited_without_the_key(book: ScreenBook, store: Store) -> None:
    key = book.add("wall-1", actor="admin-1", address="10.0.0.5")
    book.new_key("wall-1", actor="admin-1")
    book.revoke("wall-1", actor="cli:ops")
    trail = AuditTrail(store.redis, store.keys).search(AuditQuery(action="screen."))
    assert [(entry.action, entry.actor, entry.to_state) for entry in reversed(trail)] == [
        ("screen.added", "admin-1", "active"), ("screen.key_issued", "admin-1", "active"),
        ("screen.revoked", "cli:ops", "revoked")]
    assert all(key not in f"{entry}" for entry in trail)


def test_a_screen_may_only_look() -> None:
    assert {"wall.view", "control_room.view", "alerts.view", "situation.view"} == SCREEN_PERMISSIONS
    assert not any(permission.endswith((".act", ".manage", ".export", ".raw")) for permission in SCREEN_PERMISSIONS)


def test_the_pairing_address_carries_the_screen_and_its_key() -> None:
    assert pairing_address("https://ioc.danang.gov.vn/", "wall-1", "ioc_screen_a-b") == \
        "https://ioc.danang.gov.vn/wall/wall-1?key=ioc_screen_a-b"
