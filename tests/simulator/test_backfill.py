"""`ioc backfill`: simulated history through the configured readers into the rollups, the same for the same seed."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from ioc.config import Settings
from ioc.kpis.catalogue import load_catalogue
from ioc.kpis.periods import parse_period
from ioc.kpis.report import compute_report
from ioc.store import Store
from simulator.backfill import backfill, history_scenario, outage_hours, simulated_feeds
from simulator.city import SimCity
from tests.ioc.kpis.test_catalogue import CONNECTED_TODAY

END = datetime(2026, 11, 20, 5, 0, tzinfo=UTC)  # noon in the city; history from midnight on the 19th


def rollup_dump(store: Store) -> dict[str, Any]:
    """Every rollup key and its content, numbers as numbers (sums may differ in the last bits by order)."""
    found: dict[str, Any] = {}
    for key in store.redis.scan_iter(match=store.keys.kpi_rollups_pattern()):
        kind = store.redis.type(key)
        if key == store.keys.kpi_rollup_version():
            continue
        if kind == "hash":
            found[key] = {field: round(float(v), 6) if _number(v) else v for field, v in store.redis.hgetall(key).items()}
        elif kind == "zset":
            found[key] = {m: round(s, 6) for m, s in store.redis.zrange(key, 0, -1, withscores=True)}
    return found


def _number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def test_every_kpi_with_a_simulated_feed_gets_history(fake_store: Store, settings: Settings) -> None:
    lines: list[str] = []
    result = backfill(fake_store, settings, days=1, seed=7, end=END, progress=lines.append)

    served, skipped = simulated_feeds(settings)
    assert result.feeds == [feed.name for feed, _, _ in served] and result.skipped == skipped
    assert result.samples > len(served) and result.records > 0
    assert lines[-1].startswith("2026-11-20") and "100.0%" in lines[-1]
    report = compute_report(fake_store, settings, parse_period("2026-11-19"), now=END)
    catalogue = load_catalogue(settings)
    simulated = {name for name in (f.name for f, _, _ in served)}
    with_history = {k.id for k in catalogue.kpis if k.source is None or set(k.source.feeds) & simulated}
    missing = {r.kpi.id for r in report.results if r.kpi.id in CONNECTED_TODAY & with_history and r.value is None}
    assert not missing, f"no history for {sorted(missing)}"


def test_same_seed_same_history(fake_store: Store, settings: Settings) -> None:
    backfill(fake_store, settings, days=1, seed=7, end=END)
    first = rollup_dump(fake_store)
    again = backfill(fake_store, settings, days=1, seed=7, end=END)

    assert again.removed_keys == len(first) + 1  # it replaced everything (and the version counter)
    assert rollup_dump(fake_store) == first


def test_outages_are_seeded_and_rare() -> None:
    city = SimCity(42)
    dates = [date(2026, 1, 1) + timedelta(days=n) for n in range(200)]
    days = [outage_hours(city, "air-stations", day) for day in dates]
    # A second city of the same seed asked in the other order: a day's outages depend on the seed and the day
    # alone. One city, not a new one per day (200 cities took 3 s).
    twin = SimCity(42)

    assert days == [outage_hours(twin, "air-stations", day) for day in reversed(dates)][::-1]
    assert 0 < sum(1 for hours in days if hours) < 60
    assert all(len(hours) <= 6 for hours in days)


def test_days_must_be_positive(fake_store: Store, settings: Settings) -> None:
    with pytest.raises(ValueError, match="at least 1"):
        backfill(fake_store, settings, days=0)


@pytest.mark.integration
def test_two_processes_write_what_one_writes(store: Store, settings: Settings) -> None:
    backfill(store, settings, days=1, seed=3, end=END, workers=1)
    alone = rollup_dump(store)
    backfill(store, settings, days=1, seed=3, end=END, workers=2)

    assert rollup_dump(store) == alone
    assert store.redis.hget(store.keys.feed_polls_days("air-stations", "2026-11"), "19") is not None


def test_the_history_has_seeded_rain() -> None:
    start = datetime(2026, 9, 1, tzinfo=UTC)
    scenario = history_scenario(42, start, start + timedelta(days=90))
    rain = scenario.timeline()

    assert [a.incident.id for a in rain] == [a.incident.id for a in history_scenario(42, start, start + timedelta(
        days=90)).timeline()]
    assert 3 <= len(rain) <= 25 and all(a.incident.kind == "rain" for a in rain)
    heaviest = max(rain, key=lambda a: a.incident.peak)
    assert scenario.rain_intensity(heaviest.onset + timedelta(minutes=30)) > 10
    assert scenario.rain_intensity(start - timedelta(hours=1)) == 0
