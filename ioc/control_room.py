"""One control-room tick for any number of screens: reads the city's change versions, takes each feed's
layer from the shared cache (built once per change), and says what a screen must redraw."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from functools import cached_property
from typing import Any

from ioc.alerts import ALERTS_LAYER
from ioc.config import Feed, Settings
from ioc.kpis.tiles import KpiTile, tile_for
from ioc.layer_cache import SharedCache, shared_layer
from ioc.live_map import (
    WHOLE_CITY,
    FeedLayer,
    MapPlan,
    MapState,
    ScreenView,
    build_feed_layer,
    full_figure,
    map_plan,
    stale_of,
)
from ioc.model import Alert
from ioc.store import FeedHealth, Store

# Layers a worker keeps decoded: every feed at two versions in two languages, so an unchanged tick reads
# nothing but the version hash and the feeds' health.
LOCAL_LAYERS = 4


@dataclass
class LiveCity:
    """The control room's view of one city inside one dashboard process.

    Layers live in the shared cache (one build per change for every worker); this object keeps the last ones
    it used decoded, so a tick with nothing new costs two small Redis reads.
    """

    store: Store
    settings: Settings
    cache: SharedCache
    base: Sequence[Mapping[str, Any]]
    on_build: Callable[[str], None] | None = None
    _local: OrderedDict[tuple[str, int, str], FeedLayer] = field(default_factory=OrderedDict)
    _alerts: tuple[int, list[Alert]] | None = None

    # the plan and the feeds are fixed for a configuration: computed once, not on every layer of every tick
    @cached_property
    def plan(self) -> MapPlan:
        return map_plan(self.settings, self.base)

    @cached_property
    def feeds(self) -> list[Feed]:
        return [feed for feed in self.settings.feeds if feed.enabled]

    def layer(self, feed: Feed, version: int, lang: str, now: datetime) -> FeedLayer:
        key = (feed.name, version, lang)
        layer = self._local.get(key)
        if layer is not None:
            self._local.move_to_end(key)
            return layer

        def build() -> FeedLayer:
            # a feed's incidents and warnings are drawn and counted like its things
            entities = self.store.entities_of_feed(feed.name) + self.store.events_of_feed(feed.name, now)
            return build_feed_layer(self.settings, feed, version, entities, lang)

        layer = shared_layer(self.cache, self.settings.city.id, feed.name, version, lang, build, on_build=self.on_build)
        self._local[key] = layer
        while len(self._local) > LOCAL_LAYERS * max(1, len(self.plan.feeds)):
            self._local.popitem(last=False)
        return layer

    def open_alerts(self, version: int) -> list[Alert]:
        if self._alerts is None or self._alerts[0] != version:
            self._alerts = (version, self.store.open_alerts())
        return self._alerts[1]

    def read(self, lang: str, now: datetime) -> Tick:
        """The city as every screen should show it now: two small reads when nothing changed."""
        versions = self.store.layer_versions()
        health = self.store.all_health(feed.name for feed in self.settings.feeds)
        stale = stale_of(self.settings.feeds, health, now)
        layers = {feed.name: self.layer(feed, versions.get(feed.name, 0), lang, now) for feed in self.feeds}
        alerts_version = versions.get(ALERTS_LAYER, 0)
        state = MapState(plan=self.plan, layers=layers, stale_feeds=stale, alerts=self.open_alerts(alerts_version),
                         alerts_version=alerts_version, lang=lang)
        return Tick(state=state, health=health, now=now)

    def figure(self, tick: Tick, view: ScreenView = WHOLE_CITY) -> dict[str, Any]:
        return full_figure(self.settings, self.base, tick.state, view)


@dataclass(frozen=True, slots=True)
class Tick:
    state: MapState
    health: Mapping[str, FeedHealth | None]
    now: datetime


def tiles(settings: Settings, tick: Tick) -> list[KpiTile]:
    """A tile per enabled feed in configuration order, from the shared layers' numbers."""
    lang = tick.state.lang
    return [tile_for(settings, feed, layer.kpi, layer.records, tick.health.get(feed.name), lang, tick.now)
            for feed in settings.feeds if feed.enabled and (layer := tick.state.layers.get(feed.name))]
