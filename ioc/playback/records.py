"""The city's records at a past moment: every entity's latest record and each feed's events and last batch.

Where each part comes from:
- the archive's last snapshot at or before the moment (`ioc.archive.snapshots`): every record as it was then;
- the archive's `entities` and `events` rows after that snapshot, up to the moment (one DuckDB query over the
  files whose stream-id range lies after the snapshot): records that changed, entities that came and went;
- Redis, only for what the archiver has not written yet: the archive stream's entries up to the moment, read
  the way the archiver reads them (`Archiver.entry_rows`).
A feed's last batch (for "stale since") is the newest archived row of it at or before the moment, observations
included.
"""

from __future__ import annotations

import gc
import os
import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from pathlib import Path
from typing import Any

import duckdb
import orjson
import pyarrow as pa
import pyarrow.parquet as pq
import redis

from ioc.archive.archiver import Archiver
from ioc.archive.files import files_of, stream_order
from ioc.archive.snapshots import Snapshot, snapshot_around
from ioc.keys import Keys
from ioc.model import from_iso

_NO_STREAM = (0, 0)
SNAPSHOTS_KEPT = 4  # decoded snapshots a process keeps (10,000 records are a few MB)
TAIL_PAGE = 100  # archive stream entries read from Redis at a time (each holds a batch, 30 KB on average)

_DATABASE: duckdb.DuckDBPyConnection | None = None  # the process's in-memory DuckDB (closed before a fork)
_DATABASE_LOCK = threading.Lock()


@dataclass(slots=True)
class PastRecords:
    """What the archive (and Redis, for its not yet archived part) says the city held at `at`."""

    at: datetime
    entities: dict[str, dict[str, dict[str, Any]]] = field(default_factory=dict)  # feed -> entity id -> record
    events: dict[str, list[dict[str, Any]]] = field(default_factory=dict)  # feed -> its event records then
    last_batch: dict[str, datetime] = field(default_factory=dict)  # feed -> its newest batch at or before `at`
    snapshot: Snapshot | None = None
    from_redis: int = 0  # archive stream entries read from Redis (not archived yet)


@contextmanager
def cyclic_gc_paused() -> Iterator[None]:
    """The cyclic collector off while a moment is built: tens of thousands of small dicts (records, then the
    layers' lists) made at once would have it walk them all many times over. They hold no cycles; reference
    counting frees them."""
    collecting = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if collecting:
            gc.enable()


def records_at(root: Path, at: datetime, *, client: redis.Redis | None = None, keys: Keys | None = None
               ) -> PastRecords:
    """The records of every feed at `at` (UTC): the snapshot before it with the changes after it laid over."""
    with cyclic_gc_paused():
        return _records_at(Path(root), at, client, keys)


def _records_at(root: Path, at: datetime, client: redis.Redis | None, keys: Keys | None) -> PastRecords:
    at = at.astimezone(UTC)
    base, following = snapshot_around(Path(root), at)
    past = PastRecords(at=at, snapshot=base)
    low = base.sid if base else _NO_STREAM
    # without a snapshot (an archive younger than a snapshot period), the day and the one before it
    first_day = base.at.date() if base else at.date() - timedelta(days=1)
    high = following.sid if following else None
    if base is not None:
        _read_snapshot(base, past)
    changes = _in_range(files_of(Path(root), "entities", first_day, at.date()), low, high)
    events = _in_range(files_of(Path(root), "events", first_day, at.date()), low, high)
    observations = _in_range(files_of(Path(root), "observations", first_day, at.date() + timedelta(days=1)), low, high)
    with _cursor() as connection:
        if changes:
            _lay_over(past, _winners(connection, changes, low, at))
        if events:
            _take_events(past, _event_batches(connection, events, low, at))
        if observations:
            _note_batches(past, _newest(connection, observations, low, at))
    if client is not None and keys is not None:
        _from_stream(client, keys, past, low)
    for feed, records in past.events.items():
        past.events[feed] = [record for record in records if _active(record, at)]
    return past


def _cursor() -> duckdb.DuckDBPyConnection:
    """A cursor of the process's one in-memory DuckDB database: opening and closing a database for each moment
    cost about as much as its queries. A cursor per moment, since one connection serves one thread at a time."""
    global _DATABASE
    with _DATABASE_LOCK:
        if _DATABASE is None:
            _DATABASE = duckdb.connect()
        cursor = _DATABASE.cursor()
    cursor.execute("SET TimeZone = 'UTC'")
    return cursor


def close_database() -> None:
    """Close the process's DuckDB database (reopened when next asked). Done before every fork: a child must not
    inherit it, since freeing the copy waits on the parent's worker threads, which a fork does not copy."""
    global _DATABASE
    with _DATABASE_LOCK:
        if _DATABASE is not None:
            _DATABASE.close()
            _DATABASE = None


if hasattr(os, "register_at_fork"):
    os.register_at_fork(before=close_database)


# --- the snapshot ---------------------------------------------------------------------------------------------


def _read_snapshot(snapshot: Snapshot, past: PastRecords) -> None:
    entities, events, newest = _snapshot_records(snapshot.path)
    # shallow copies: the changes after the snapshot replace records, never edit them
    past.entities = {feed: dict(records) for feed, records in entities.items()}
    past.events = {feed: list(records) for feed, records in events.items()}
    for feed, moment in newest.items():
        _note(past, feed, moment)


@lru_cache(maxsize=SNAPSHOTS_KEPT)
def _snapshot_records(path: Path) -> tuple[dict[str, dict[str, dict[str, Any]]], dict[str, list[dict[str, Any]]],
                                           dict[str, datetime]]:
    """A snapshot's records decoded, by feed, and each feed's newest ingest time: kept, since a snapshot file
    never changes and every minute of its quarter hour starts from it."""
    columns = pq.read_table(path, columns=["feed", "entity", "event", "record"]).to_pydict()
    entities: dict[str, dict[str, dict[str, Any]]] = {}
    events: dict[str, list[dict[str, Any]]] = {}
    newest: dict[str, str] = {}
    for feed, entity_id, event, record in zip(columns["feed"], columns["entity"], columns["event"], columns["record"],
                                              strict=True):
        parsed = orjson.loads(record)
        if event:
            events.setdefault(feed, []).append(parsed)
        else:
            entities.setdefault(feed, {})[entity_id] = parsed
        seen = parsed.get("ingested_at") or ""
        if seen > newest.get(feed, ""):  # to_iso writes UTC at one length: the text orders as the time
            newest[feed] = seen
    return entities, events, {feed: moment for feed, seen in newest.items() if (moment := from_iso(seen))}


# --- archived rows after it -----------------------------------------------------------------------------------

_SID = ("CAST(split_part(sid, '-', 1) AS BIGINT) AS ms, CAST(split_part(sid, '-', 2) AS BIGINT) AS seq")


def _in_range(paths: Iterable[Path], low: tuple[int, int], high: tuple[int, int] | None) -> list[Path]:
    """Files holding stream ids after `low` (and, when a later snapshot exists, from before it): a file is
    named after the first and last stream id it holds."""
    kept = []
    for path in paths:
        first, _, last = path.name[5:-8].partition("_")
        if stream_order(last or first) > low and (high is None or stream_order(first) <= high):
            kept.append(path)
    return kept


def _source(paths: list[Path]) -> str:
    names = ", ".join("'" + str(path).replace("'", "''") + "'" for path in paths)
    return f"read_parquet([{names}], union_by_name = true, hive_partitioning = false)"


def _arrow(result: Any) -> pa.Table:
    # DuckDB 1.x names it fetch_arrow_table, 2.x to_arrow_table
    return (getattr(result, "to_arrow_table", None) or result.fetch_arrow_table)()


def _winners(connection: duckdb.DuckDBPyConnection, paths: list[Path], low: tuple[int, int], at: datetime
             ) -> pa.Table:
    """Each entity's last row after `low` and at or before `at`: its record then, or that it had gone (and
    its newest ingest time, for its feed's last batch)."""
    sql = (f"WITH rows AS (SELECT feed, entity, record, ingested_at, n, {_SID} FROM {_source(paths)} "
           f"WHERE ingested_at <= ?::TIMESTAMPTZ) "
           f"SELECT feed, entity, arg_max(record, (ms, seq, n)) AS record, max(ingested_at) AS newest FROM rows "
           f"WHERE (ms, seq) > (?, ?) GROUP BY feed, entity")
    return _arrow(connection.sql(sql, params=[at.isoformat(), *low]))


def _newest(connection: duckdb.DuckDBPyConnection, paths: list[Path], low: tuple[int, int], at: datetime
            ) -> pa.Table:
    sql = (f"WITH rows AS (SELECT feed, ingested_at, {_SID} FROM {_source(paths)} "
           f"WHERE ingested_at <= ?::TIMESTAMPTZ) "
           f"SELECT feed, max(ingested_at) AS newest FROM rows WHERE (ms, seq) > (?, ?) GROUP BY feed")
    return _arrow(connection.sql(sql, params=[at.isoformat(), *low]))


def _event_batches(connection: duckdb.DuckDBPyConnection, paths: list[Path], low: tuple[int, int], at: datetime
                   ) -> pa.Table:
    """The events of each feed's last batch that changed its events: a full feed lists all of them."""
    sql = (f"WITH rows AS (SELECT feed, record, n, {_SID} FROM {_source(paths)} "
           f"WHERE ingested_at <= ?::TIMESTAMPTZ), "
           f"kept AS (SELECT * FROM rows WHERE (ms, seq) > (?, ?)), "
           f"last AS (SELECT feed, max((ms, seq)) AS batch FROM kept GROUP BY feed) "
           f"SELECT kept.feed, kept.ms, kept.seq, kept.record FROM kept JOIN last "
           f"ON kept.feed = last.feed AND (kept.ms, kept.seq) = last.batch ORDER BY kept.feed, kept.n")
    return _arrow(connection.sql(sql, params=[at.isoformat(), *low]))


def _lay_over(past: PastRecords, winners: pa.Table) -> None:
    columns = winners.to_pydict()
    newest: dict[str, datetime] = {}
    for feed, entity_id, record, seen in zip(columns["feed"], columns["entity"], columns["record"], columns["newest"],
                                             strict=True):
        _put(past, feed, entity_id, orjson.loads(record))
        if seen is not None and (feed not in newest or seen > newest[feed]):
            newest[feed] = seen
    for feed, moment in newest.items():
        _note(past, feed, moment)


def _put(past: PastRecords, feed: str, entity_id: str, parsed: dict[str, Any]) -> None:
    held = past.entities.setdefault(feed, {})
    if parsed.get("gone"):
        held.pop(entity_id, None)
    else:
        held[entity_id] = parsed


def _take_events(past: PastRecords, rows: pa.Table) -> None:
    columns = rows.to_pydict()
    fresh: dict[str, list[dict[str, Any]]] = {}
    for feed, record in zip(columns["feed"], columns["record"], strict=True):
        fresh.setdefault(feed, []).append(orjson.loads(record))
    past.events.update(fresh)


def _note_batches(past: PastRecords, rows: pa.Table) -> None:
    columns = rows.to_pydict()
    for feed, newest in zip(columns["feed"], columns["newest"], strict=True):
        _note(past, feed, newest)


def _note(past: PastRecords, feed: str, moment: datetime | None) -> None:
    if moment is None:
        return
    moment = moment.astimezone(UTC) if moment.tzinfo else moment.replace(tzinfo=UTC)
    if moment <= past.at and moment > past.last_batch.get(feed, datetime.min.replace(tzinfo=UTC)):
        past.last_batch[feed] = moment


def _active(event: dict[str, Any], at: datetime) -> bool:
    expires = from_iso(event.get("expires"))
    return expires is None or expires > at


# --- Redis: what the archiver has not written yet ---------------------------------------------------------------


def _from_stream(client: redis.Redis, keys: Keys, past: PastRecords, low: tuple[int, int]) -> None:
    """Lay the archive stream's entries after `low` and up to the moment over the rest. Entries the archiver
    wrote but has not trimmed yet come again: a record read twice is the same record."""
    oldest = client.xrange(keys.archive(), count=1)
    if not oldest or _entry_at(oldest[0][1]) > past.at:
        return  # everything up to the moment is older than what Redis holds: it is in the files
    reader = Archiver(client, keys, Path("."))  # converts only; writes nothing
    start = f"({low[0]}-{low[1]}" if low != _NO_STREAM else "-"
    while True:
        page = client.xrange(keys.archive(), min=start, count=TAIL_PAGE)
        for sid, fields in page:
            sid = _text(sid)
            if _entry_at(fields) > past.at:
                return
            past.from_redis += 1
            buffer: dict[tuple[str, str, str], dict[str, list[Any]]] = {}
            reader.entry_rows(sid, fields, buffer)
            for (kind, _, feed), columns in buffer.items():
                times = columns["ingested_at"]
                if times:
                    _note(past, feed, from_iso(times[-1]))
                if kind == "entities":
                    for entity_id, record in zip(columns["entity"], columns["record"], strict=True):
                        _put(past, feed, entity_id, orjson.loads(record))
                elif kind == "events":
                    past.events[feed] = [orjson.loads(record) for record in columns["record"]]
        if len(page) < TAIL_PAGE:
            return
        start = "(" + _text(page[-1][0])


def _entry_at(fields: dict[Any, Any]) -> datetime:
    for name in ("h", "g", b"h", b"g"):
        if name in fields:
            moment = from_iso(orjson.loads(fields[name]).get("at"))
            if moment is not None:
                return moment
    return datetime.max.replace(tzinfo=UTC)


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)
