"""Snapshots of the live city in the archive: every feed's entity and event records at one stream position.

The archive keeps only the records that changed, so the city at a past minute is the last snapshot before it
with the changes archived after it laid over (ioc.playback). A snapshot is read from Redis in one transaction
together with the archive stream's newest entry: it holds exactly what every write up to that entry left, and
its time is that entry's ingest time. Files: `snapshots/day=YYYY-MM-DD/snapshot-<epoch s>-<stream id>.parquet`.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import orjson
import pyarrow as pa
import pyarrow.parquet as pq
import redis

from ioc.archive.files import stream_order
from ioc.keys import Keys
from ioc.model import from_iso

SNAPSHOTS = "snapshots"  # the folder under the archive, beside the kinds
SCHEMA = pa.schema([
    ("feed", pa.string()), ("entity", pa.string()), ("event", pa.bool_()), ("lon", pa.float64()),
    ("lat", pa.float64()), ("expires", pa.timestamp("s", tz="UTC")), ("record", pa.string()),
])


@dataclass(frozen=True, slots=True)
class Snapshot:
    """A snapshot file: the city as every write up to stream id `sid` (ingested at `at`) left it."""

    path: Path
    at: datetime
    sid: tuple[int, int]


def take_snapshot(client: redis.Redis, keys: Keys, root: Path) -> Snapshot | None:
    """Write the city's records as they are now; None when the archive stream is empty (nothing written yet)."""
    reading = client.pipeline(transaction=False)
    reading.hvals(keys.entity_feeds())
    reading.hvals(keys.event_feeds())
    entity_feeds, event_feeds = reading.execute()
    feeds = sorted({_text(feed) for feed in (*entity_feeds, *event_feeds)})
    pipe = client.pipeline(transaction=True)  # the records and the stream position in one step
    pipe.xrevrange(keys.archive(), count=1)
    for feed in feeds:
        pipe.hgetall(keys.entities_of_feed(feed))
        pipe.hgetall(keys.events_of_feed(feed))
    newest, *held = pipe.execute()
    if not newest:
        return None
    sid, fields = _text(newest[0][0]), {_text(k): v for k, v in newest[0][1].items()}
    header = orjson.loads(fields.get("h") or fields.get("g") or b"{}")
    at = from_iso(header.get("at")) or datetime.fromtimestamp(stream_order(sid)[0] / 1000, UTC)
    columns: dict[str, list[Any]] = {name: [] for name in SCHEMA.names}
    for index, feed in enumerate(feeds):
        for event, records in ((False, held[2 * index]), (True, held[2 * index + 1])):
            for entity_id in sorted(records):
                record = _text(records[entity_id])
                parsed = orjson.loads(record)
                for name, item in (("feed", feed), ("entity", _text(entity_id)), ("event", event),
                                   ("lon", _float(parsed.get("lon"))), ("lat", _float(parsed.get("lat"))),
                                   ("expires", from_iso(parsed.get("expires")) if event else None),
                                   ("record", record)):
                    columns[name].append(item)
    folder = root / SNAPSHOTS / f"day={at.date().isoformat()}"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"snapshot-{int(at.timestamp())}-{sid}.parquet"
    partial = path.with_suffix(".parquet.partial")
    pq.write_table(pa.Table.from_pydict(columns, schema=SCHEMA), partial, compression="zstd")
    os.replace(partial, path)  # a reader never sees half a snapshot
    return Snapshot(path, at, stream_order(sid))


def snapshots_between(root: Path, first_day: date, last_day: date) -> list[Snapshot]:
    """The snapshots of the days [first_day, last_day], oldest first."""
    found = []
    for day in range((last_day - first_day).days + 1):
        folder = root / SNAPSHOTS / f"day={(first_day + timedelta(days=day)).isoformat()}"
        if not folder.is_dir():
            continue
        for name in os.listdir(folder):
            if name.startswith("snapshot-") and name.endswith(".parquet"):
                epoch, _, sid = name[9:-8].partition("-")
                found.append(Snapshot(folder / name, datetime.fromtimestamp(int(epoch), UTC), stream_order(sid)))
    return sorted(found, key=lambda snapshot: (snapshot.at, snapshot.sid))


def snapshot_around(root: Path, moment: datetime, days_back: int = 2) -> tuple[Snapshot | None, Snapshot | None]:
    """The last snapshot at or before `moment` (looking back `days_back` days) and the first one after it."""
    candidates = snapshots_between(root, moment.date() - timedelta(days=days_back), moment.date() + timedelta(days=1))
    before = [s for s in candidates if s.at <= moment]
    after = [s for s in candidates if s.at > moment]
    return (before[-1] if before else None), (after[0] if after else None)


def _float(value: Any) -> float | None:
    try:
        return float(value) if value not in (None, "") else None
    except (TypeError, ValueError):
        return None


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)
