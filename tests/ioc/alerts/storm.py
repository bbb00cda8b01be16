"""The demo's typhoon and rain through the real rule engine, faster than wall time: every simulated feed read
by its own reader and mapping, placed in its district, stored and judged as the runner does, on the clock
`ioc demo --speed N` runs (simulated time N times the wall clock the engine stamps alarms with)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from ioc.areas import area_index
from ioc.config import Settings
from ioc.rules import RuleEngine
from ioc.runner import place_in_areas
from ioc.store import Store
from simulator.city import SimCity
from simulator.scenario import Scenario
from tests.simulator.agency_feeds import read, simulated_feeds

# sensors: things that measure; relayed warnings and reports are not sensor alarms
SENSOR_KINDS = ("threshold", "rate_of_change", "state", "staleness")
STEP_S = 5  # wall seconds between looks at the feeds: the fastest feed's cadence
# the heavy transit feeds change no rule's mind: polled at most this often to keep the run short
SLOWEST_POLL_S = 60


@dataclass(frozen=True, slots=True)
class StormRun:
    start: datetime  # simulated and wall time at the start
    end: datetime  # the wall time the run ended
    engine: RuleEngine


def wall_to_sim(start: datetime, wall: datetime, speed: float) -> datetime:
    return start + (wall - start) * speed


def run_storm(settings: Settings, store: Store, start: datetime, *, wall_minutes: float, speed: float = 10,
              seed: int = 42, every_minute: Callable[[datetime], None] | None = None) -> StormRun:
    """Poll every simulated feed at its cadence (wall time) for `wall_minutes`, the scenario starting at `start`;
    `every_minute` is called with the wall time after each minute's polls (to look at the queue as it is)."""
    city = SimCity(seed, scenario=Scenario(start))
    engine = RuleEngine(settings, store, started=start)
    areas = area_index(settings.city)
    feeds = simulated_feeds(settings)
    due = dict.fromkeys((f.name for f in feeds), 0.0)
    elapsed = 0.0
    while elapsed <= wall_minutes * 60:
        wall = start + timedelta(seconds=elapsed)
        for feed in feeds:
            if elapsed < due[feed.name]:
                continue
            due[feed.name] = elapsed + min(feed.interval, SLOWEST_POLL_S)
            batch = read(feed, city, wall_to_sim(start, wall, speed))
            place_in_areas(batch, areas)
            store.write_batch(feed.name, batch, now=wall)
            store.record_success(feed.name, records=batch.record_count, latency_ms=1.0, now=wall,
                                 interval=feed.interval, stale_factor=feed.stale_factor)
            engine.evaluate(feed, batch, now=wall)
        if elapsed % 30 == 0:
            engine.tick(wall)
        if every_minute is not None and elapsed % 60 == 0:
            every_minute(wall)
        elapsed += STEP_S
    return StormRun(start, start + timedelta(minutes=wall_minutes), engine)


def sensor_rules(settings: Settings) -> set[str]:
    return {rule.id for rule in settings.rules if rule.kind in SENSOR_KINDS}
