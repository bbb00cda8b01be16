"""Entity lifecycle: an entity not seen for its feed's `gone_after` multiple of the cadence is marked gone.

Gone means: off the live map and the feed's records, out of the id index and the geo index, and a "gone" entry
on the city's archive stream, so the archive keeps the entity's history and playback stops drawing it from
then on. An entity that comes back is simply written again by its feed's next batch. The sweep runs on a
timer beside the feeds (`start_sweeper`, started by the scheduler); `config/<city>/lifecycle.yaml` says after
how many intervals a feed's entity is gone (validated at load).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import orjson
import redis
import yaml
from pydantic import Field, ValidationError

from ioc.config import ConfigError, Feed, Settings
from ioc.config_base import Strict
from ioc.model import from_iso, to_iso, utcnow
from ioc.store import Store
from ioc.store_batch import ARCHIVE_ENTRIES

log = logging.getLogger(__name__)

LIFECYCLE_FILE = "lifecycle.yaml"
# the archive stream entry a sweep writes: field `g`, JSON {"feed", "at", "ids"} (ioc.archive reads it)
GONE_FIELD = "g"
_SEEN = b'"ingested_at":"'


class LifecycleSettings(Strict):
    """After how many of its feed's intervals without a sighting an entity is gone."""

    # a multiple of the feed's interval; above the stale factor (3 by default), so a feed that is merely late
    # keeps its entities on the map, faded, while its tile says it is stale
    gone_after: float = Field(default=10.0, ge=1)
    # per feed: name -> multiple, for feeds whose things come and go faster or slower than the default
    feeds: dict[str, float] = Field(default_factory=dict)
    # seconds between sweeps
    sweep_seconds: float = Field(default=30.0, gt=0)

    def window(self, feed: Feed) -> float:
        """Seconds an entity of `feed` may go unseen before it is gone."""
        return self.feeds.get(feed.name, self.gone_after) * feed.interval


def load_lifecycle(config_dir: str | Path, feeds: Iterable[Feed] = ()) -> LifecycleSettings:
    """The folder's lifecycle.yaml (the defaults when there is none); an error names the file, entry and field."""
    path = Path(config_dir) / LIFECYCLE_FILE
    if not path.exists():
        return LifecycleSettings()
    try:
        document = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as error:
        raise ConfigError(f"{path}: not valid YAML: {error}") from None
    try:
        settings = LifecycleSettings.model_validate(document)
    except ValidationError as error:
        problems = [f"{path}: {'.'.join(map(str, e['loc']))}: {e['msg']}" for e in error.errors()]
        raise ConfigError("\n".join(problems)) from None
    known = {feed.name for feed in feeds}
    problems = []
    for name, multiple in settings.feeds.items():
        if known and name not in known:
            problems.append(f"{path}: feeds.{name}: '{name}' is not a feed of agencies.yaml")
        if multiple < 1:
            problems.append(f"{path}: feeds.{name}: must be at least 1 (a multiple of the feed's interval)")
    if problems:
        raise ConfigError("\n".join(problems))
    return settings


@dataclass(frozen=True, slots=True)
class Swept:
    """What one sweep of one feed did: entities gone for silence, and index entries of entities a full poll
    no longer listed (already off the map; now out of the indexes and marked gone in the archive)."""

    feed: str
    silent: tuple[str, ...]
    dropped: tuple[str, ...]

    def __bool__(self) -> bool:
        return bool(self.silent or self.dropped)


def last_seen(record: bytes | str) -> datetime | None:
    """The ingest time a record ends with (every write stamps it last), read without decoding the record."""
    raw = record.encode() if isinstance(record, str) else record
    at = raw.rfind(_SEEN)
    if at < 0:
        return None
    start = at + len(_SEEN)
    return from_iso(raw[start : raw.index(b'"', start)])


def sweep(store: Store, settings: Settings, lifecycle: LifecycleSettings, now: datetime | None = None) -> list[Swept]:
    """Mark gone every entity not seen within its feed's window; returns what each feed lost."""
    now = now or utcnow()
    index = store.redis.hgetall(store.keys.entity_feeds())
    by_feed: dict[str, list[str]] = {}
    for entity_id, feed in index.items():
        by_feed.setdefault(_text(feed), []).append(_text(entity_id))
    done = []
    for feed in settings.feeds:
        swept = _sweep_feed(store, feed, lifecycle.window(feed), by_feed.get(feed.name, []), now)
        if swept:
            done.append(swept)
    return done


def _sweep_feed(store: Store, feed: Feed, window: float, indexed: list[str], now: datetime) -> Swept:
    keys = store.keys
    records_key = keys.entities_of_feed(feed.name)

    def apply(pipe: redis.client.Pipeline) -> Swept:
        # read under WATCH: a batch that writes the feed meanwhile restarts this, so a fresh record is never
        # taken for a silent one
        records: Mapping[Any, Any] = pipe.hgetall(records_key)
        silent = sorted(_text(entity_id) for entity_id, record in records.items()
                        if (seen := last_seen(record)) is not None and (now - seen).total_seconds() > window)
        held = {_text(entity_id) for entity_id in records}
        dropped = sorted(entity_id for entity_id in indexed if entity_id not in held)
        if not silent and not dropped:
            return Swept(feed.name, (), ())
        gone = silent + dropped
        pipe.multi()
        if silent:
            pipe.hdel(records_key, *silent)
        pipe.hdel(keys.entity_feeds(), *gone)
        pipe.zrem(keys.geo(), *gone)
        # the next poll is then a change even when it brings back exactly what was there before: its records
        # are written, archived and drawn again
        pipe.hdel(keys.layer_digests(), feed.name)
        pipe.hincrby(keys.versions(), feed.name, 1)
        pipe.xadd(keys.archive(), {GONE_FIELD: orjson.dumps({"feed": feed.name, "at": to_iso(now), "ids": gone})},
                  maxlen=ARCHIVE_ENTRIES, approximate=True)
        pipe.incr(keys.changes())
        return Swept(feed.name, tuple(silent), tuple(dropped))

    return store.redis.transaction(apply, records_key, value_from_callable=True)


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


class Sweeper:
    """Sweeps every `lifecycle.sweep_seconds` until stopped; a failed sweep is logged and tried again."""

    def __init__(self, settings: Settings, store: Store, stop: threading.Event,
                 lifecycle: LifecycleSettings | None = None) -> None:
        self.settings, self.store, self.stop = settings, store, stop
        self.lifecycle = lifecycle or load_lifecycle(settings.directory, settings.feeds)

    def run(self) -> None:
        while not self.stop.is_set():
            try:
                for swept in sweep(self.store, self.settings, self.lifecycle):
                    log.info("lifecycle: %s: %d silent entities gone, %d no longer listed", swept.feed,
                             len(swept.silent), len(swept.dropped))
            except redis.RedisError as error:
                log.warning("lifecycle sweep: Redis unavailable: %s", error)
            except Exception:  # keep sweeping whatever one sweep hit
                log.exception("lifecycle sweep failed")
            self.stop.wait(self.lifecycle.sweep_seconds)


def start_sweeper(settings: Settings, store: Store, stop: threading.Event) -> threading.Thread:
    """The sweep in a daemon thread until `stop` is set (the scheduler's)."""
    thread = threading.Thread(target=Sweeper(settings, store, stop).run, name="ioc-lifecycle", daemon=True)
    thread.start()
    return thread
