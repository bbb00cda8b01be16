"""The key schema: one city's keys share a cluster hash tag, and cities never collide."""

from __future__ import annotations

import inspect

from ioc.keys import Keys


def _all_keys(keys: Keys) -> list[str]:
    produced = []
    for name, member in inspect.getmembers(Keys, inspect.isfunction):
        if name.startswith("_"):
            continue
        arity = len(inspect.signature(member).parameters) - 1
        produced.append(getattr(keys, name)(*[f"arg{i}" for i in range(arity)]))
    return produced


def test_every_key_of_a_city_carries_its_hash_tag() -> None:
    produced = _all_keys(Keys("danang"))
    assert len(produced) >= 15
    assert all(key.startswith("ioc:{danang}:") for key in produced)


def test_keys_are_distinct_per_purpose_and_city() -> None:
    danang, hue = _all_keys(Keys("danang")), _all_keys(Keys("hue"))
    assert len(set(danang)) == len(danang)
    assert not set(danang) & set(hue)


def test_observation_key_keeps_the_urn_whole() -> None:
    # entities are fields of their feed's hash now; the URN still names its observation streams whole
    assert Keys("danang").observations("urn:ioc:danang:air:12", "pm25") == "ioc:{danang}:obs:urn:ioc:danang:air:12:pm25"


def test_a_feeds_records_are_one_key_per_feed() -> None:
    keys = Keys("danang")
    assert keys.entities_of_feed("air") == "ioc:{danang}:feed:air:entity_records"
    assert keys.events_of_feed("air") != keys.entities_of_feed("air")
