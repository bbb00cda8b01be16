"""The control room's city at a past moment, in the same shape as the live one (`ioc.control_room.Tick`), so the
map, the tiles and the alert list draw it with the live rendering code."""

from __future__ import annotations

import threading
import zlib
from collections import OrderedDict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson

from ioc.archive import load_archive_settings
from ioc.config import Feed, Settings
from ioc.control_room import Tick
from ioc.live_map import (
    FeedLayer,
    MapState,
    PlannedCity,
    build_feed_layer,
    full_figure,
    stale_of,
)
from ioc.map_view import WHOLE_CITY, ScreenView
from ioc.model import Alert
from ioc.playback.alerts import alerts_at
from ioc.playback.records import PastRecords, cyclic_gc_paused, records_at
from ioc.store import FeedHealth, Store, _event_as_entity

MOMENTS_KEPT = 8  # past moments a process keeps built: screens playing the same minute share one build


@dataclass
class PlaybackCity(PlannedCity):
    """One city's past, read from its archive (and Redis for what is not archived yet), for the control room."""

    store: Store
    settings: Settings
    base: Sequence[Mapping[str, Any]]
    root: Path
    _ticks: OrderedDict[tuple[datetime, str], Tick] = field(default_factory=OrderedDict)
    _records: OrderedDict[datetime, tuple[PastRecords, list[Alert]]] = field(default_factory=OrderedDict)
    _layers: dict[tuple[str, int, str], FeedLayer] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def records(self, at: datetime) -> tuple[PastRecords, list[Alert]]:
        """The records and the open alerts at `at` (whole seconds), built once per moment."""
        at = at.astimezone(UTC).replace(microsecond=0)
        with self._lock:
            held = self._records.get(at)
        if held is None:
            with cyclic_gc_paused():
                held = (records_at(self.root, at, client=self.store.redis, keys=self.store.keys),
                        alerts_at(self.root, self.store.redis, self.store.keys, at))
            with self._lock:
                self._records[at] = held
                while len(self._records) > MOMENTS_KEPT:
                    self._records.popitem(last=False)
        return held

    def read(self, lang: str, at: datetime) -> Tick:
        """The city at `at` as a screen's tick: a layer per feed, which feeds were stale, the open alerts."""
        at = at.astimezone(UTC).replace(microsecond=0)
        with self._lock:
            tick = self._ticks.get((at, lang))
        if tick is not None:
            return tick
        with cyclic_gc_paused():
            past, alerts = self.records(at)
            health = {feed.name: _health(feed, past.last_batch.get(feed.name)) for feed in self.settings.feeds}
            layers = {feed.name: self._layer(feed, past, lang) for feed in self.feeds}
        state = MapState(plan=self.plan, layers=layers, stale_feeds=stale_of(self.settings.feeds, health, at),
                         alerts=alerts, alerts_version=_alerts_version(alerts), lang=lang)
        tick = Tick(state=state, health=health, now=at)
        with self._lock:
            self._ticks[(at, lang)] = tick
            while len(self._ticks) > MOMENTS_KEPT:
                self._ticks.popitem(last=False)
        return tick

    def layer(self, feed: Feed, _version: int, lang: str, at: datetime) -> FeedLayer:
        """A feed's layer at `at` (the detail card asks for the layer a screen drew)."""
        return self.read(lang, at).state.layers[feed.name]

    def entity(self, entity_id: str, at: datetime) -> dict[str, Any] | None:
        """An entity's record as it was at `at`."""
        for records in self.records(at)[0].entities.values():
            if entity_id in records:
                return records[entity_id]
        return None

    def figure(self, tick: Tick, view: ScreenView = WHOLE_CITY) -> dict[str, Any]:
        return full_figure(self.settings, self.base, tick.state, view)

    def _layer(self, feed: Feed, past: PastRecords, lang: str) -> FeedLayer:
        records = past.entities.get(feed.name, {})
        entities = [records[entity_id] for entity_id in sorted(records)]  # in id order, as the live read gives
        events = sorted(past.events.get(feed.name, []), key=lambda event: str(event.get("id", "")))
        entities += [_event_as_entity(event) for event in events]
        # the layer's version is its content: a screen redraws a layer only when the past moment changed it
        version = zlib.crc32(orjson.dumps(entities, default=str))
        key = (feed.name, version, lang)
        with self._lock:
            layer = self._layers.get(key)
        if layer is None:
            layer = build_feed_layer(self.settings, feed, version, entities, lang)
            with self._lock:
                if len(self._layers) > 4 * MOMENTS_KEPT * max(1, len(self.feeds)):
                    self._layers.clear()
                self._layers[key] = layer
        return layer


def _health(feed: Feed, last_batch: datetime | None) -> FeedHealth | None:
    """A feed's health as the archive can tell it: when its last batch came (stale past its cadence)."""
    if last_batch is None:
        return None
    return FeedHealth(feed=feed.name, last_success=last_batch, last_attempt=last_batch, last_error="",
                      last_error_at=None, record_count=0, previous_record_count=0, fetch_latency_ms=None,
                      consecutive_failures=0, interval=feed.interval, stale_factor=feed.stale_factor)


def _alerts_version(alerts: Sequence[Alert]) -> int:
    return zlib.crc32("|".join(f"{a.id}:{a.state}:{a.severity}:{a.occurrences}" for a in alerts).encode())


_CITIES: dict[int, tuple[Any, PlaybackCity]] = {}
_CITIES_LOCK = threading.Lock()


def playback_city(live: Any) -> PlaybackCity:
    """The past of the city `live` shows (an `ioc.control_room.LiveCity`): one per dashboard process, reading
    the archive folder of the city's archive.yaml."""
    with _CITIES_LOCK:
        held = _CITIES.get(id(live))
        if held is None or held[0] is not live:
            root = load_archive_settings(live.settings.directory).directory()
            held = _CITIES[id(live)] = (live, PlaybackCity(store=live.store, settings=live.settings, base=live.base,
                                                           root=root))
        return held[1]
