"""KPI history from payloads of the past: a feed's payload at a past moment rolled up as the runner does live.

Any source of past payloads (an agency's archive, recorded polls, the demo's simulator) hands each one to
`HistoryWriter` with the moment it stands for: the feed's own reader parses it, the records are placed in
the city's areas and counted into the rollups of the hour they fall in. Hours in which a feed delivered
nothing to parse still count their polls, so the data scorecard sees the feed as up.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime

from data_adapters.base import FeedContext, Reader, get_reader
from ioc.areas import area_index
from ioc.config import Feed, Settings
from ioc.kpis.catalogue import Catalogue, Kpi
from ioc.kpis.records import Contribution
from ioc.kpis.rollups import KpiRollups
from ioc.model import Batch
from ioc.runner import feed_context, place_in_areas
from ioc.store import Store

RecordSeen = Callable[[Kpi, Contribution], None]


class HistoryWriter:
    """Rolls past payloads of some configured feeds into the city's KPI rollups (which it does not clear)."""

    def __init__(self, store: Store, settings: Settings, catalogue: Catalogue, feeds: Iterable[Feed],
                 on_record: RecordSeen | None = None) -> None:
        """`on_record` sees every record counted (the benchmark keeps them to recompute KPIs from raw)."""
        self.rollups = KpiRollups(store, settings, catalogue, on_record=on_record)
        self.areas = area_index(settings.city)
        chosen = list(feeds)
        self.readers: dict[str, Reader] = {feed.name: get_reader(feed.reader) for feed in chosen}
        self.contexts: dict[str, FeedContext] = {
            feed.name: feed_context(feed, settings.city.id) for feed in chosen
        }

    def payload(self, feed: Feed, body: bytes, moment: datetime, polls: int) -> tuple[Batch, int]:
        """Parse a payload the feed delivered at `moment`, roll it up and count `polls` successful polls then.

        Returns the batch and the records counted; raises `PayloadError` when the feed's reader refuses it.
        """
        batch = self.readers[feed.name].parse(body, self.contexts[feed.name])
        place_in_areas(batch, self.areas)
        return batch, self.rollups.ingest(feed, batch, now=moment, polls=polls)

    def polls(self, feed: Feed, moment: datetime, count: int) -> None:
        """Count `count` successful polls of a feed in the hour of `moment`, with nothing parsed."""
        self.rollups.record_polls(feed, moment, count)
