"""One control-room tick for any number of screens: reads the city's change versions, takes each feed's
layer from the shared cache (built once per change), and says what a screen must redraw."""

from __future__ import annotations

import logging
import os
import threading
import time
from collections import Counter, OrderedDict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from ioc.alerts import ALERTS_LAYER
from ioc.alerts.open_snapshot import first_lines, open_alarms
from ioc.city_map import AlertRow, alert_rows
from ioc.config import Feed, Settings
from ioc.i18n import t
from ioc.kpis.tiles import KpiTile, tile_for
from ioc.layer_cache import SharedCache, shared_layer
from ioc.live_map import (
    FeedLayer,
    MapState,
    PlannedCity,
    build_feed_layer,
    full_figure,
    stale_of,
)
from ioc.map_view import WHOLE_CITY, ScreenView
from ioc.model import Alert, Severity, utcnow
from ioc.store import FeedHealth, Store

log = logging.getLogger(__name__)

# Layers a worker keeps decoded: every feed at two versions in two languages, so an unchanged tick reads
# nothing but the version hash and the feeds' health.
LOCAL_LAYERS = 4
# How often the background builder looks for new data, and how long after a screen's last tick in a language
# it keeps building that language's layers (no screen watching, no work).
WARM_EVERY_SECONDS = 0.5
WATCHED_FOR_SECONDS = 10.0  # five missed 2 s ticks: the screens have gone


@dataclass
class LiveCity(PlannedCity):
    """The control room's view of one city inside one dashboard process.

    Layers live in the shared cache (one build per change for every worker); this object keeps the last ones
    it used decoded, so a tick with nothing new costs two small Redis reads.
    """

    store: Store
    settings: Settings
    cache: SharedCache
    base: Sequence[Mapping[str, Any]]
    on_build: Callable[[str], None] | None = None
    # build changed layers in a background thread, so a screen's tick never waits for one (off in tests that
    # count builds per tick)
    background: bool = False
    _local: OrderedDict[tuple[str, int, str], FeedLayer] = field(default_factory=OrderedDict)
    # the request threads and the builder share the decoded layers
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _watched: dict[str, float] = field(default_factory=dict)  # language -> monotonic time of its last tick
    _alerts_watched: float = float("-inf")  # monotonic time of the last tick of a screen showing alarms
    _builder_pid: int | None = None

    def layer(self, feed: Feed, version: int, lang: str, now: datetime) -> FeedLayer:
        key = (feed.name, version, lang)
        with self._lock:
            layer = self._local.get(key)
            if layer is not None:
                self._local.move_to_end(key)
                return layer

        def build() -> FeedLayer:
            # a feed's incidents and warnings are drawn and counted like its things
            entities = self.store.entities_of_feed(feed.name) + self.store.events_of_feed(feed.name, now)
            return build_feed_layer(self.settings, feed, version, entities, lang)

        layer = shared_layer(self.cache, self.settings.city.id, feed.name, version, lang, build, on_build=self.on_build)
        with self._lock:
            self._local[key] = layer
            while len(self._local) > LOCAL_LAYERS * max(1, len(self.plan.feeds)):
                self._local.popitem(last=False)
        return layer

    def entity(self, entity_id: str, _now: datetime) -> dict[str, Any] | None:
        """An entity's record for the detail card (the live one; playback's city answers for its moment)."""
        return self.store.entity(entity_id)

    def watch_alerts(self) -> None:
        """A screen showing alarms ticked (the annunciator is on every page): while such screens watch, the
        background builder reads the open alarms on each change before they ask, as it builds the layers."""
        self._alerts_watched = time.monotonic()
        if self.background:
            self._start_builder()

    def open_alerts(self, version: int) -> list[Alert]:
        """Every open alarm at the alerts `version`, read once per change for every screen and worker."""
        return open_alarms(self.store.alerts, self.cache, version=version).alerts

    def read(self, lang: str, now: datetime) -> Tick:
        """The city as every screen should show it now: two small reads when nothing changed."""
        self._watched[lang] = time.monotonic()
        if self.background:
            self._start_builder()
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

    def warm(self, now: datetime | None = None) -> int:
        """Build every layer whose feed changed, in each language a screen ticked in lately, into the shared
        cache (and this worker's), before any screen asks; returns how many this call had to take. Across
        workers the cache's build lock keeps it to one build per change."""
        now = now or utcnow()
        since = time.monotonic() - WATCHED_FOR_SECONDS
        languages = [lang for lang, last in list(self._watched.items()) if last >= since]
        if not languages and self._alerts_watched < since:
            return 0
        versions = self.store.layer_versions()
        self.open_alerts(versions.get(ALERTS_LAYER, 0))  # the open alarms every screen draws, read before they ask
        taken = 0
        for lang in languages:
            for feed in self.feeds:
                key = (feed.name, versions.get(feed.name, 0), lang)
                with self._lock:
                    held = key in self._local
                if not held:
                    self.layer(feed, key[1], lang, now)
                    taken += 1
        return taken

    def _start_builder(self) -> None:
        # one builder per process, started by a tick: a thread started before a server forks its workers would
        # not be in them
        with self._lock:
            if self._builder_pid == os.getpid():
                return
            self._builder_pid = os.getpid()
        threading.Thread(target=self._build_while_watched, name="ioc-layer-builder", daemon=True).start()

    def _build_while_watched(self) -> None:
        failing = False
        while any(last >= time.monotonic() - WATCHED_FOR_SECONDS
                  for last in [*list(self._watched.values()), self._alerts_watched]):
            try:
                self.warm()
                failing = False
            except Exception:  # noqa: BLE001 - Redis away or bad data: the screens' own reads say so; keep going
                if not failing:
                    log.warning("background layer build failed (logged once until it works again)", exc_info=True)
                failing = True
            time.sleep(WARM_EVERY_SECONDS)
        with self._lock:  # nobody watches: the next tick starts a new builder
            self._builder_pid = None


@dataclass(frozen=True, slots=True)
class Tick:
    state: MapState
    health: Mapping[str, FeedHealth | None]
    now: datetime


# Alarms the control room lists by name, most severe and oldest first: the panel beside the map shows six or
# seven at 1920x1080 and scrolls for a few more, and nobody reads a list of two hundred from 3 m; the rest are
# counted ("and K more"), the title counts all of them by severity, and every one stays on the map and in the
# alert queue.
ALERT_LINES = 12


@dataclass(frozen=True, slots=True)
class AlertList:
    """The control room's alert list: the first rows, every open alarm counted, by severity."""

    rows: list[AlertRow]
    total: int
    by_severity: list[tuple[str, int, str]]  # (severity, count, its name), most severe first

    @property
    def more(self) -> int:
        return self.total - len(self.rows)


def alert_list(alerts: Sequence[Alert], settings: Settings, lang: str, now: datetime,
               lines: int = ALERT_LINES) -> AlertList:
    """The first `lines` alarms in words (only those: a burst of a thousand costs a dozen rows) and the count
    of every one, by severity."""
    shown, _more = first_lines(alerts, lines)
    counts = Counter(alert.severity for alert in alerts)
    by_severity = [(str(severity), counts[severity], t(f"control_room.severity.{severity}", lang))
                   for severity in Severity if counts[severity]]
    return AlertList(alert_rows(shown, settings, lang, now), len(alerts), by_severity)


def tiles(settings: Settings, tick: Tick) -> list[KpiTile]:
    """A tile per enabled feed in configuration order, from the shared layers' numbers."""
    lang = tick.state.lang
    return [tile_for(settings, feed, layer.kpi, layer.records, tick.health.get(feed.name), lang, tick.now)
            for feed in settings.feeds if feed.enabled and (layer := tick.state.layers.get(feed.name))]
