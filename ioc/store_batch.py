"""How a poll's batch becomes Redis writes: entity and event records, and the one atomic write script."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any

import orjson

from ioc.keys import Keys
from ioc.model import Batch, Entity, Event, to_iso

OBSERVATIONS_PER_STREAM = 1_000  # recent history per entity and metric; rollups keep the long view


@dataclass(slots=True)
class Writes:
    """A batch as flat runs of values, which the script hands to Redis in chunks: one JSON list of strings
    and numbers, so neither redis-py (per argument) nor the server's JSON decoder (per nested record) pays for
    every field of every record."""

    header: dict[str, Any]  # keys and flags
    records: list[Any]  # entity id, entity record (JSON text), ...
    geo: list[Any]  # lon, lat, entity id, ...
    observations: list[Any]  # stream key, time, value, unit, ...
    events: list[Any]  # event id, event record (JSON text), expiry (epoch seconds or "+inf"), ...

    def script_args(self) -> list[bytes]:
        counts = {"n_records": len(self.records), "n_geo": len(self.geo), "n_obs": len(self.observations),
                  "n_events": len(self.events)}
        runs = self.records + self.geo + self.observations + self.events
        return [orjson.dumps({**self.header, **counts}), orjson.dumps(runs)]


def batch_writes(keys: Keys, feed: str, batch: Batch, ingested: str, replace: bool) -> Writes:
    # ingested_at is the one field every poll renews: a record is encoded and digested without it, then
    # stamped, so a poll that brings nothing new has the same digest and moves no version
    stamp = ',"ingested_at":' + orjson.dumps(ingested).decode() + "}"
    digest = hashlib.blake2b(digest_size=12)
    records: list[Any] = []
    geo: list[Any] = []
    for entity in batch.entities:
        record = _entity_record(entity, feed)
        digest.update(record)
        records += (entity.id, record[:-1].decode() + stamp)
        if entity.location:
            geo += (entity.location[0], entity.location[1], entity.id)
    observations: list[Any] = []
    # a poll repeats streams and times (a station's many readings, a fleet's shared timestamp): format each once
    streams: dict[tuple[str, str], str] = {}
    times: dict[Any, str] = {}
    for o in batch.observations:
        stream = streams.get((o.entity_id, o.metric))
        if stream is None:
            stream = streams[o.entity_id, o.metric] = keys.observations(o.entity_id, o.metric)
        moment = times.get(o.time)
        if moment is None:
            moment = times[o.time] = to_iso(o.time)
        observations += (stream, moment, _scalar(o.value), o.unit)
    events: list[Any] = []
    for event in batch.events:
        record = orjson.dumps(_event_fields(event, feed))
        digest.update(record)
        events += (event.id, record[:-1].decode() + stamp, event.expires.timestamp() if event.expires else "+inf")
    header = {
        "records": keys.entities_of_feed(feed), "entity_feeds": keys.entity_feeds(), "geo_key": keys.geo(),
        "feed_events": keys.events_of_feed(feed), "event_feeds": keys.event_feeds(),
        "events_key": keys.events_active(), "changes": keys.changes(), "versions": keys.versions(),
        "digests": keys.layer_digests(), "feed": feed, "replace": replace,
        "digest": digest.hexdigest() if replace else "", "maxlen": OBSERVATIONS_PER_STREAM,
    }
    return Writes(header, records, geo, observations, events)


# One batch in one script call: ARGV[1] is the JSON header, ARGV[2] the runs of Writes as one JSON list. All
# keys of a city share its hash tag, so on a cluster they live in the slot of KEYS[1] (the feed's entity
# records); the others travel in the header, built by ioc.keys. HSET and GEOADD take a run in chunks, below
# Lua's limit on unpacked values.
WRITE_BATCH_LUA = """
local h = cjson.decode(ARGV[1])
local a = cjson.decode(ARGV[2])
local records_end = h.n_records
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
for i = geo_end + 1, obs_end, 4 do
  local key = a[i]
  local left = pending[key] - 1
  pending[key] = left
  if left == 0 then
    redis.call('XADD', key, 'MAXLEN', '~', h.maxlen, '*', 't', a[i + 1], 'v', a[i + 2], 'u', a[i + 3])
  else
    redis.call('XADD', key, '*', 't', a[i + 1], 'v', a[i + 2], 'u', a[i + 3])
  end
end
for i = obs_end + 1, events_end, 3 do
  redis.call('HSET', h.feed_events, a[i], a[i + 1])
  redis.call('ZADD', h.events_key, a[i + 2], a[i])
  redis.call('HSET', h.event_feeds, a[i], h.feed)
end
if h.digest == '' or redis.call('HGET', h.digests, h.feed) ~= h.digest then
  redis.call('HSET', h.digests, h.feed, h.digest)
  redis.call('HINCRBY', h.versions, h.feed, 1)
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


def _entity_record(entity: Entity, feed: str) -> bytes:
    """The entity as `entities_of_feed` reads it back, without `ingested_at` (stamped after the digest)."""
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
        "observed_at": to_iso(entity.observed_at) or None,
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
    }
