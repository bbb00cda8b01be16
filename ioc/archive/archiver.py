"""The archiver: reads the archive and audit streams through a consumer group and writes their rows to files."""

# At least once, idempotent by stream id: entries are acknowledged (XACK) only after their files are on disk,
# so an archiver that stops in between is handed the same entries again (pending first), and rows whose
# stream id a partition's files already hold are skipped, so a re-delivery writes nothing twice.

from __future__ import annotations

import logging
import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import orjson
import redis

from ioc.archive.files import (
    SCHEMAS,
    apply_retention,
    compact,
    last_archived,
    partition_dir,
    stream_order,
    write_partition,
)
from ioc.archive.snapshots import SNAPSHOTS, Snapshot, take_snapshot
from ioc.keys import Keys, observation_parts
from ioc.lifecycle import GONE_FIELD
from ioc.model import utcnow

log = logging.getLogger(__name__)

GROUP = "archiver"
READ_COUNT = 500  # stream entries per read: a batch entry holds up to a few thousand observations
ALERTS_FEED = "alerts"  # alert transitions belong to no feed; they get a partition of their own
# seconds between snapshots of the whole city (ioc.archive.snapshots): playback reads the last one before the
# minute asked and at most this long of changes after it
SNAPSHOT_EVERY = 900

_Buffer = dict[tuple[str, str, str], dict[str, list[Any]]]


@dataclass(slots=True)
class Round:
    """What one archiving round did."""

    entries: int = 0
    rows: dict[str, int] = field(default_factory=lambda: dict.fromkeys(SCHEMAS, 0))
    files: int = 0
    # entries the archive stream's cap dropped before they were read: the archiver was down too long
    missed: bool = False


class Archiver:
    """Copies one city's batches and alert transitions from Redis to the archive folder."""

    def __init__(self, client: redis.Redis, keys: Keys, root: Path, *, consumer: str = "archiver",
                 count: int = READ_COUNT, after_round: Callable[[], object] | None = None) -> None:
        self.redis = client
        # what else a round does once its files are on disk (the KPI roll-up of finished days, which the
        # archive package may not import: ioc.kpis builds on it)
        self.after_round = after_round
        self.keys = keys
        self.root = Path(root)
        self.consumer = consumer
        self.count = count
        self._highest: dict[Path, tuple[int, int]] = {}  # partition folder -> last stream id on disk
        self._parts: dict[str, tuple[str, str]] = {}  # observation stream key -> (entity id, metric)
        # (feed, entity id) -> hash of the record last archived, without its ingest time: a poll that moved
        # its feed archives only the records that changed. Kept in memory, so after a restart each entity's
        # first record is archived again; `_changed` holds a chunk's new hashes until its files are written.
        self._records_seen: dict[tuple[str, str], int] = {}
        self._changed: dict[tuple[str, str], int] = {}
        # feed -> the entity ids of its last full poll with records: one that a later full poll no longer lists
        # is archived as gone at that poll (ioc.playback then stops drawing it); in memory like the hashes, and
        # the lifecycle sweep marks gone what a restart missed
        self._members: dict[str, set[str]] = {}
        self._snapshot_at: float | None = None  # monotonic time of the last snapshot

    def ensure_groups(self) -> None:
        """The consumer group on both streams, from their first entry: a new archiver takes what is there."""
        for stream in (self.keys.archive(), self.keys.audit()):
            try:
                self.redis.xgroup_create(stream, GROUP, id="0", mkstream=True)
            except redis.ResponseError as error:
                if "BUSYGROUP" not in str(error):
                    raise

    def archive_once(self) -> Round:
        """Drain both streams: first what was read before and never acknowledged, then every new entry."""
        self.ensure_groups()
        done = Round(missed=self._missed())
        last = "0-0"
        for stream, convert in ((self.keys.archive(), self._batch_rows), (self.keys.audit(), self._alert_rows)):
            for start in ("0", ">"):
                while True:
                    reply = self.redis.xreadgroup(GROUP, self.consumer, {stream: start}, count=self.count)
                    entries = reply[0][1] if reply else []
                    if not entries:
                        break
                    buffer: _Buffer = {}
                    self._changed = {}
                    for sid, fields in entries:
                        if fields:  # a pending entry the cap trimmed comes back empty
                            convert(_text(sid), {_text(k): v for k, v in fields.items()}, buffer)
                    done.files += self._write(buffer, done)
                    self._acknowledge(stream, [sid for sid, _ in entries])
                    self._records_seen.update(self._changed)
                    done.entries += len(entries)
                    last = _text(entries[-1][0])
            if stream == self.keys.archive() and done.entries:
                # archived entries are on disk: drop them, so Redis holds only what waits for the archiver
                # (the cap bounds that while no archiver runs). Never the audit stream, which is kept whole.
                self.redis.xtrim(stream, minid=last, approximate=True)
        return done

    def run(self, stop: threading.Event, *, interval: float, retention: dict[str, int]) -> None:
        """Archive every `interval` seconds until `stop` is set, then a last round for what came since; old day
        partitions go after each round."""
        while not stop.is_set():
            self._round(retention)
            stop.wait(interval)
        self._round(retention)

    def _round(self, retention: dict[str, int]) -> None:
        try:
            done = self.archive_once()
            if done.missed:
                log.warning("archive: entries were trimmed from %s before they were archived", self.keys.archive())
            self.snapshot_if_due()
            today = utcnow().date()
            apply_retention(self.root, {**retention, SNAPSHOTS: retention.get("entities", 90)}, today)
            compact(self.root, today - timedelta(days=1))  # a day late: an hour's late data still lands apart
        except (redis.RedisError, OSError) as error:  # Redis restarting, disk full: try next round
            log.warning("archive round failed: %s", error)
        if self.after_round is not None:
            try:
                self.after_round()
            except Exception:  # a roll-up that fails must not stop the copying out of Redis: next round again
                log.exception("archive: the work after the round failed")

    def snapshot_if_due(self, now: float | None = None) -> Snapshot | None:
        """Every SNAPSHOT_EVERY seconds, the city's records as they are (playback starts from the last one)."""
        now = time.monotonic() if now is None else now
        if self._snapshot_at is not None and now - self._snapshot_at < SNAPSHOT_EVERY:
            return None
        taken = take_snapshot(self.redis, self.keys, self.root)
        if taken is not None:  # nothing written yet: try again next round
            self._snapshot_at = now
        return taken

    def _acknowledge(self, stream: str, ids: list[Any]) -> None:
        self.redis.xack(stream, GROUP, *ids)

    def _missed(self) -> bool:
        """True when the cap trimmed entries the group had not read: trimming takes the oldest first and the
        group reads oldest first, so some were lost unread when more were trimmed than the group has read."""
        try:
            info = self.redis.xinfo_stream(self.keys.archive())
            groups = self.redis.xinfo_groups(self.keys.archive())
        except (redis.ResponseError, NotImplementedError):
            return False
        trimmed = int(info.get("entries-added") or 0) - int(info.get("length") or 0)
        for group in groups:
            if _text(group.get("name")) != GROUP or trimmed <= 0:
                continue
            read = group.get("entries-read")
            if read is not None:
                return trimmed > int(read)
            # Redis could not count the group's reads: compare where it stands with the oldest entry kept
            first = _text(info.get("recorded-first-entry-id") or "0-0")
            return stream_order(_text(group.get("last-delivered-id") or "0-0")) < stream_order(first)
        return False

    def _write(self, buffer: _Buffer, done: Round) -> int:
        files = 0
        for (kind, day, feed), columns in buffer.items():
            folder = partition_dir(self.root, kind, day, feed)
            highest = self._highest.get(folder)
            if highest is None:
                highest = last_archived(folder)
            sids = columns["sid"]
            skip = 0
            while skip < len(sids) and stream_order(sids[skip]) <= highest:
                skip += 1  # written before the acknowledgement was lost
            if skip:
                columns = {name: values[skip:] for name, values in columns.items()}
            if columns["sid"]:
                write_partition(folder, kind, columns)
                done.rows[kind] += len(columns["sid"])
                files += 1
                highest = stream_order(columns["sid"][-1])
            self._highest[folder] = highest
        return files

    # --- stream entries -> rows --------------------------------------------------------------------------

    def entry_rows(self, sid: str, fields: dict[str, Any], buffer: _Buffer) -> None:
        """The rows one archive stream entry makes, into `buffer` ((kind, day, feed) -> columns): playback reads
        the entries an archiver has not written yet this way."""
        self._batch_rows(sid, {_text(k): v for k, v in fields.items()}, buffer)

    def _batch_rows(self, sid: str, fields: dict[str, Any], buffer: _Buffer) -> None:
        if GONE_FIELD in fields:
            gone = orjson.loads(fields[GONE_FIELD])
            self._gone_rows(sid, gone["feed"], gone["at"], gone["ids"], buffer)
            return
        header = orjson.loads(fields["h"])
        runs = orjson.loads(fields["a"])
        feed, at = header["feed"], header.get("at", "")
        geo_end = header["n_records"] + header["n_geo"]
        obs_end = geo_end + header["n_obs"]
        parts = self._parts
        columns: dict[str, list[Any]] | None = None
        current_day = ""
        for n, i in enumerate(range(geo_end, obs_end, 4)):
            key, time, value, unit = runs[i : i + 4]
            # to_iso writes UTC, so the day is the text's first ten characters
            day = time[:10] if time else at[:10]
            if day != current_day:
                columns = _columns(buffer, "observations", day, feed)
                current_day = day
            entity_metric = parts.get(key)
            if entity_metric is None:
                entity_metric = parts[key] = observation_parts(key)
            number, text = _number(value)
            assert columns is not None
            for name, item in (("sid", sid), ("n", n), ("feed", feed), ("entity", entity_metric[0]),
                               ("metric", entity_metric[1]), ("time", time), ("value", number), ("text", text),
                               ("unit", unit), ("ingested_at", at)):
                columns[name].append(item)
        records = fields.get("r")
        if records is not None:  # present when the feed's records or events changed
            if header.get("replace"):
                listed = set(runs[: header["n_records"]:2])
                before = self._members.get(feed)
                if before is not None and before - listed:
                    # numbered after the batch's records, so (sid, n) stays one row's
                    self._gone_rows(sid, feed, at, sorted(before - listed), buffer, first=len(listed))
                self._members[feed] = listed
            if records:
                self._record_rows(sid, feed, at, runs[: header["n_records"]], records, buffer)
            events = _columns(buffer, "events", at[:10], feed) if obs_end < len(runs) else None
            for n, i in enumerate(range(obs_end, len(runs), 3)):
                event_id, record = runs[i], runs[i + 1]
                expires = orjson.loads(record).get("expires", "")
                assert events is not None
                for name, item in (("sid", sid), ("n", n), ("feed", feed), ("event", event_id),
                                   ("expires", expires), ("ingested_at", at), ("record", record)):
                    events[name].append(item)

    def _record_rows(self, sid: str, feed: str, at: str, lengths: list[Any], records: Any,
                     buffer: _Buffer) -> None:
        # the lengths are in bytes of UTF-8: cut the bytes, not the decoded text
        raw = records.encode() if isinstance(records, str) else records
        columns = _columns(buffer, "entities", at[:10], feed)
        offset = 0
        seen, changed = self._records_seen, self._changed
        for n, i in enumerate(range(0, len(lengths), 2)):
            end = offset + lengths[i + 1]
            record = raw[offset:end]
            offset = end
            # the record ends with its ingest time, which every poll renews: compare what comes before it
            digest = hash(record[: record.rfind(b',"ingested_at":')])
            entity = (feed, lengths[i])
            if changed.get(entity, seen.get(entity)) == digest:
                continue
            changed[entity] = digest
            parsed = orjson.loads(record)
            for name, item in (("sid", sid), ("n", n), ("feed", feed), ("entity", lengths[i]),
                               ("lon", parsed.get("lon")), ("lat", parsed.get("lat")),
                               ("observed_at", parsed.get("observed_at") or ""), ("ingested_at", at),
                               ("record", record.decode())):
                columns[name].append(item)

    def _gone_rows(self, sid: str, feed: str, at: str, ids: list[str], buffer: _Buffer, first: int = 0) -> None:
        """Entities that left: an `entities` row each with no position and a record saying `gone`; their
        next record is archived whatever it holds."""
        columns = _columns(buffer, "entities", at[:10], feed)
        members = self._members.get(feed)
        for n, entity_id in enumerate(ids, start=first):
            self._records_seen.pop((feed, entity_id), None)
            self._changed.pop((feed, entity_id), None)
            if members is not None:
                members.discard(entity_id)
            record = orjson.dumps({"id": entity_id, "feed": feed, "gone": True, "ingested_at": at}).decode()
            for name, item in (("sid", sid), ("n", n), ("feed", feed), ("entity", entity_id), ("lon", None),
                               ("lat", None), ("observed_at", ""), ("ingested_at", at), ("record", record)):
                columns[name].append(item)

    def _alert_rows(self, sid: str, fields: dict[str, Any], buffer: _Buffer) -> None:
        fields = {key: _text(value) for key, value in fields.items()}
        alert = fields.get("object", "")
        if not alert.startswith("alert:"):
            return  # sign-ins, users, keys: the audit stream itself keeps them
        at = fields.get("at", "")
        columns = _columns(buffer, "alerts", at[:10] or date.today().isoformat(), ALERTS_FEED)
        for name, item in (("sid", sid), ("n", 0), ("feed", ALERTS_FEED), ("alert", alert[6:]), ("at", at),
                           ("actor", fields.get("actor", "")), ("action", fields.get("action", "")),
                           ("from", fields.get("from", "")), ("to", fields.get("to", "")),
                           ("note", fields.get("note", ""))):
            columns[name].append(item)


def _columns(buffer: _Buffer, kind: str, day: str, feed: str) -> dict[str, list[Any]]:
    columns = buffer.get((kind, day, feed))
    if columns is None:
        columns = buffer[kind, day, feed] = {name: [] for name in SCHEMAS[kind].names}
    return columns


def _number(value: Any) -> tuple[float | None, str | None]:
    """A reading as a number when it is one (most are), else as text ("true", a status word)."""
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None, str(value)
    return (number, None) if math.isfinite(number) else (None, str(value))


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


def start_archiver(client: redis.Redis, keys: Keys, root: Path, *, interval: float, retention: dict[str, int],
                   after_round: Callable[[], object] | None = None) -> tuple[threading.Thread, threading.Event]:
    """The archiver in a daemon thread (the demo's); set the event to stop it after its round."""
    stop = threading.Event()
    archiver = Archiver(client, keys, root, after_round=after_round)
    thread = threading.Thread(target=archiver.run, args=(stop,), kwargs={"interval": interval, "retention": retention},
                              name="ioc-archiver", daemon=True)
    thread.start()
    return thread, stop
