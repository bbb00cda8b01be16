"""The open alarms as every screen and worker reads them: one read of Redis per change of the alerts version,
shared through the app's cache (ioc.layer_cache), with this process's decoded copy of the last one; and the
first lines of a long list with the count of the rest."""

from __future__ import annotations

import sys
import threading
import weakref
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TypeVar

from ioc.alerts.book import AlertBook
from ioc.alerts.record import ALERTS_LAYER, AlertRecord
from ioc.layer_cache import SharedCache, shared_value
from ioc.model import Alert

Item = TypeVar("Item")

# a version older than the current one is never asked for again; two minutes covers a slow screen's tick
SNAPSHOT_TTL_SECONDS = 120


@dataclass(frozen=True, slots=True)
class OpenAlarms:
    """Every open alarm at one alerts version, in queue order (most severe, then waiting longest, first)."""

    version: int
    records: tuple[AlertRecord, ...]
    alerts: list[Alert] = field(default_factory=list, compare=False, repr=False)  # the records' alerts

    def severity_counts(self) -> Counter[str]:
        return Counter(str(record.alert.severity) for record in self.records)


def snapshot_key(city: str, version: int) -> str:
    # flask-caching adds the city's web-cache prefix from ioc.keys; this is the entry's name within it
    return f"open-alarms:{city}:{version}"


def alerts_version(book: AlertBook) -> int:
    """The alerts layer's change version: every alert write moves it (ioc.alerts.record.mark_changed)."""
    return int(book.redis.hget(book.keys.versions(), ALERTS_LAYER) or 0)


# this process's last snapshot per shared cache (one cache per app), so a tick with no alert change decodes
# nothing; keyed by the cache object, not the city, so two apps in one process never see each other's
_local: weakref.WeakKeyDictionary[object, OpenAlarms] = weakref.WeakKeyDictionary()
_local_lock = threading.Lock()


def open_alarms(
    book: AlertBook,
    cache: SharedCache | None,
    *,
    version: int | None = None,
    on_build: Callable[[], None] | None = None,
) -> OpenAlarms:
    """Every open alarm at the alerts version now (or `version`, read just before by the caller), read from
    Redis by one caller per version across screens and workers sharing `cache`; without a cache, read now."""
    version = alerts_version(book) if version is None else version

    def build() -> OpenAlarms:
        # the version was read before the alarms, so what is read is at least as new as the version it is kept
        # under; a change meanwhile moves the version and the next tick reads again
        records = tuple(book.records(limit=sys.maxsize))
        return OpenAlarms(version, records, [record.alert for record in records])

    if cache is None:
        snapshot = build()
        if on_build is not None:
            on_build()
        return snapshot
    with _local_lock:
        held = _local.get(cache)
    if held is not None and held.version == version:
        return held
    snapshot = shared_value(
        cache, snapshot_key(book.keys.city, version), build, on_build=on_build, timeout=SNAPSHOT_TTL_SECONDS
    )
    with _local_lock:
        _local[cache] = snapshot
    return snapshot


def first_lines(items: Sequence[Item], lines: int) -> tuple[list[Item], int]:
    """The first `lines` items and how many more there are ("and K more" under a list nobody reads whole)."""
    shown = list(items[: max(0, lines)])
    return shown, len(items) - len(shown)
