"""How a poll's batch becomes Redis writes: entity and event records, and the one atomic write script."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import orjson

from ioc.keys import Keys
from ioc.model import Batch, Entity, Event, to_iso

OBSERVATIONS_PER_STREAM = 1_000  # recent history per entity and metric; rollups keep the long view
# The archive stream keeps one entry per batch until the archiver (ioc.archive) has copied it to files and
# trimmed it; the demo writes about 3,000 batches an hour (30 KB each on average), so an archiver may be down
# about three hours (near 300 MB) before the oldest entries go unarchived
ARCHIVE_ENTRIES = 10_000


@dataclass(slots=True)
class Writes:
    """A batch as flat runs of values, which the script hands to Redis in chunks: one JSON list of strings
    and numbers, so neither redis-py (per argument) nor the server's JSON decoder (per nested record) pays for
    every field of every record. The entity records, most of a batch's bytes, travel apart as one text: in the
    list they would be JSON strings, escaped by us and unescaped by the script character by character."""

    header: dict[str, Any]  # keys and flags
    records: list[Any]  # entity id, entity record (JSON, UTF-8 bytes), ...
    geo: list[Any]  # lon, lat (as text), entity id, ...
    observations: list[Any]  # stream key, time, value, unit, ...
    events: list[Any]  # event id, event record (JSON text), expiry (epoch seconds or "+inf"), ...

    def script_args(self) -> list[bytes]:
        """The header, the runs (each record replaced by its length in bytes) and the records as one text."""
        records = self.records[1::2]
        counts = {"n_records": len(self.records), "n_geo": len(self.geo), "n_obs": len(self.observations),
                  "n_events": len(self.events)}
        lengths = [item for pair in zip(self.records[::2], map(len, records), strict=True) for item in pair]
        runs = lengths + self.geo + self.observations + self.events
        return [orjson.dumps({**self.header, **counts}), orjson.dumps(runs), b"".join(records)]


def batch_writes(keys: Keys, feed: str, batch: Batch, ingested: str, replace: bool) -> Writes:
    # ingested_at is the one field every poll renews: a record is encoded and digested without it, then
    # stamped, so a poll that brings nothing new has the same digest and moves no version
    stamp = b',"ingested_at":' + orjson.dumps(ingested) + b"}"
    digest = hashlib.blake2b(digest_size=12)
    # a poll repeats times (a fleet's shared timestamp, a station's readings) and streams: format each once
    times = _IsoTimes()
    records: list[Any] = []
    geo: list[Any] = []
    for entity in batch.entities:
        record = _entity_record(entity, feed, times.of(entity.observed_at))
        digest.update(record)
        records += (entity.id, record[:-1] + stamp)
        if entity.location:
            # as text: the script hands numbers to GEOADD as text anyway, through a slower %.17g formatting
            geo += (repr(entity.location[0]), repr(entity.location[1]), entity.id)
    observations: list[Any] = []
    streams: dict[tuple[str, str], str] = {}
    for o in batch.observations:
        stream = streams.get((o.entity_id, o.metric))
        if stream is None:
            stream = streams[o.entity_id, o.metric] = keys.observations(o.entity_id, o.metric)
        observations += (stream, times.of(o.time), _scalar(o.value), o.unit)
    events: list[Any] = []
    for event in batch.events:
        record = orjson.dumps(_event_fields(event, feed))
        digest.update(record)
        events += (event.id, (record[:-1] + stamp).decode(), event.expires.timestamp() if event.expires else "+inf")
    header = {
        "records": keys.entities_of_feed(feed), "entity_feeds": keys.entity_feeds(), "geo_key": keys.geo(),
        "feed_events": keys.events_of_feed(feed), "event_feeds": keys.event_feeds(),
        "events_key": keys.events_active(), "changes": keys.changes(), "versions": keys.versions(),
        "digests": keys.layer_digests(), "feed": feed, "replace": replace,
        "digest": digest.hexdigest() if replace else "", "maxlen": OBSERVATIONS_PER_STREAM,
        "archive": keys.archive(), "archive_maxlen": ARCHIVE_ENTRIES, "at": ingested,
    }
    return Writes(header, records, geo, observations, events)


# One batch in one script call: ARGV[1] is the JSON header, ARGV[2] the runs of Writes as one JSON list (a
# record's length in bytes in place of each record), ARGV[3] the records one after the other. All
# keys of a city share its hash tag, so on a cluster they live in the slot of KEYS[1] (the feed's entity
# records); the others travel in the header, built by ioc.keys. HSET and GEOADD take a run in chunks, below
# Lua's limit on unpacked values.
WRITE_BATCH_LUA = """
local h = cjson.decode(ARGV[1])
local a = cjson.decode(ARGV[2])
local records_end = h.n_records
local records, at = ARGV[3], 1
for i = 2, records_end, 2 do
  local length = a[i]
  a[i] = string.sub(records, at, at + length - 1)
  at = at + length
end
local geo_end = records_end + h.n_geo
local obs_end = geo_end + h.n_obs
local events_end = obs_end + h.n_events
if h.replace then
  -- an event a full feed no longer lists has ended
  local listed = {}
  for i = obs_end + 1, events_end, 3 do listed[a[i]] = true end
  for _, id in ipairs(redis.call('HKEYS', h.feed_events)) do
    if not listed[id] then
      redis.call('ZREM', h.events_key, id)
      redis.call('HDEL', h.event_feeds, id)
    end
  end
  redis.call('DEL', KEYS[1], h.feed_events)
end
for i = 1, records_end, 4000 do redis.call('HSET', KEYS[1], unpack(a, i, math.min(i + 3999, records_end))) end
local index = {}
for i = 1, records_end, 2 do
  index[#index + 1] = a[i]
  index[#index + 1] = h.feed
end
for i = 1, #index, 4000 do redis.call('HSET', h.entity_feeds, unpack(index, i, math.min(i + 3999, #index))) end
for i = records_end + 1, geo_end, 3000 do
  redis.call('GEOADD', h.geo_key, unpack(a, i, math.min(i + 2999, geo_end)))
end
-- a stream is trimmed by its last entry of the batch only: trimming on every add of a station's hundred
-- readings cost a fifth of the adds
local pending = {}
for i = geo_end + 1, obs_end, 4 do pending[a[i]] = (pending[a[i]] or 0) + 1 end
local maxlen = tostring(h.maxlen)  -- once, not on every add
for i = geo_end + 1, obs_end, 4 do
  local key = a[i]
  local left = pending[key] - 1
  pending[key] = left
  if left == 0 then
    redis.call('XADD', key, 'MAXLEN', '~', maxlen, '*', 't', a[i + 1], 'v', a[i + 2], 'u', a[i + 3])
  else
    redis.call('XADD', key, '*', 't', a[i + 1], 'v', a[i + 2], 'u', a[i + 3])
  end
end
for i = obs_end + 1, events_end, 3 do
  redis.call('HSET', h.feed_events, a[i], a[i + 1])
  redis.call('ZADD', h.events_key, a[i + 2], a[i])
  redis.call('HSET', h.event_feeds, a[i], h.feed)
end
local moved = h.digest == '' or redis.call('HGET', h.digests, h.feed) ~= h.digest
if moved then
  redis.call('HSET', h.digests, h.feed, h.digest)
  redis.call('HINCRBY', h.versions, h.feed, 1)
end
-- the batch as it came, for the archiver (ioc.archive): one entry, not one per observation; the records (and
-- the events, by the field's presence) only when the feed's records or events changed, since an unchanged
-- poll's are the previous one's
if h.archive then
  local cap = tostring(h.archive_maxlen)
  if moved then
    redis.call('XADD', h.archive, 'MAXLEN', '~', cap, '*', 'h', ARGV[1], 'a', ARGV[2], 'r', ARGV[3])
  else
    redis.call('XADD', h.archive, 'MAXLEN', '~', cap, '*', 'h', ARGV[1], 'a', ARGV[2])
  end
end
return redis.call('INCR', h.changes)
"""


def feed_index(records: list[Any], feed: str) -> list[str]:
    """entity id -> feed pairs for the `entity_feeds` hash."""
    return [item for entity_id in records[::2] for item in (entity_id, feed)]


def _scalar(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


class _IsoTimes(dict[Any, str]):
    """to_iso of each distinct time of a batch, computed once."""

    def of(self, moment: datetime | None) -> str:
        text = self.get(moment)
        if text is None:
            text = self[moment] = to_iso(moment)
        return text


def _entity_record(entity: Entity, feed: str, observed_at: str) -> bytes:
    """The entity as `entities_of_feed` reads it back, without `ingested_at` (stamped after the digest);
    `observed_at` is its time as to_iso writes it."""
    location = entity.location
    return orjson.dumps({
        "id": entity.id,
        "type": entity.type,
        "agency": entity.agency,
        "sector": entity.sector,
        "feed": feed,
        "name": entity.name,
        "lon": float(location[0]) if location else None,
        "lat": float(location[1]) if location else None,
        "geometry": entity.geometry or None,
        "district": entity.district or None,
        "attributes": entity.attributes,
        "observed_at": observed_at or None,
    }, default=str)


def _event_fields(event: Event, feed: str) -> dict[str, str]:
    """An event's record (all text, as `active_events` returns it), without `ingested_at`."""
    return {
        "id": event.id,
        "type": event.type,
        "agency": event.agency,
        "sector": event.sector,
        "feed": feed,
        "headline": event.headline,
        "description": event.description,
        "severity": str(event.severity),
        "urgency": event.urgency,
        "certainty": event.certainty,
        "area": json.dumps(event.area) if event.area else "",
        "lon": repr(event.location[0]) if event.location else "",
        "lat": repr(event.location[1]) if event.location else "",
        "district": event.district or "",
        "onset": to_iso(event.onset),
        "expires": to_iso(event.expires),
        "status": event.status,
        "translations": json.dumps(event.translations, ensure_ascii=False) if event.translations else "",
    }
