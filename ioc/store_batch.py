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
    """A batch as a small JSON header and flat runs of strings: the script hands each run to Redis as it is,
    with no JSON to decode per record on the server (Redis' Lua JSON decoder was a third of the write)."""

    header: dict[str, Any]  # keys and flags
    records: list[Any]  # entity id, entity record (JSON), ...
    geo: list[Any]  # lon, lat, entity id, ...
    observations: list[Any]  # stream key, time, value, unit, ...
    events: list[Any]  # event id, event record (JSON), expiry (epoch seconds or "+inf"), ...

    def script_args(self) -> list[Any]:
        counts = {"n_records": len(self.records), "n_geo": len(self.geo), "n_obs": len(self.observations),
                  "n_events": len(self.events)}
        return [orjson.dumps({**self.header, **counts}), *self.records, *self.geo, *self.observations,
                *self.events]


def batch_writes(keys: Keys, feed: str, batch: Batch, ingested: str, replace: bool) -> Writes:
    # ingested_at is the one field every poll renews: a record is encoded and digested without it, then
    # stamped, so a poll that brings nothing new has the same digest and moves no version
    stamp = b',"ingested_at":' + orjson.dumps(ingested) + b"}"
    digest = hashlib.blake2b(digest_size=12)
    records: list[Any] = []
    geo: list[Any] = []
    for entity in batch.entities:
        record = _entity_record(entity, feed)
        digest.update(record)
        records += (entity.id, record[:-1] + stamp)
        if entity.location:
            geo += (entity.location[0], entity.location[1], entity.id)
    observations: list[Any] = []
    for o in batch.observations:
        observations += (keys.observations(o.entity_id, o.metric), to_iso(o.time), _scalar(o.value), o.unit)
    events: list[Any] = []
    for event in batch.events:
        record = orjson.dumps(_event_fields(event, feed))
        digest.update(record)
        events += (event.id, record[:-1] + stamp, repr(event.expires.timestamp()) if event.expires else "+inf")
    header = {
        "records": keys.entities_of_feed(feed), "entity_feeds": keys.entity_feeds(), "geo_key": keys.geo(),
        "feed_events": keys.events_of_feed(feed), "event_feeds": keys.event_feeds(),
        "events_key": keys.events_active(), "changes": keys.changes(), "versions": keys.versions(),
        "digests": keys.layer_digests(), "feed": feed, "replace": replace,
        "digest": digest.hexdigest() if replace else "", "maxlen": OBSERVATIONS_PER_STREAM,
    }
    return Writes(header, records, geo, observations, events)


# One batch in one script call: ARGV[1] is the JSON header, then the runs of Writes in order. All keys of a
# city share its hash tag, so on a cluster they live in the slot of KEYS[1] (the feed's entity records); the
# others travel in the header, built by ioc.keys. HSET and GEOADD take a run in chunks, below Lua's limit on
# unpacked values.
WRITE_BATCH_LUA = """
local h = cjson.decode(ARGV[1])
local records_end = 1 + h.n_records
local geo_end = records_end + h.n_geo
local obs_end = geo_end + h.n_obs
local events_end = obs_end + h.n_events
if h.replace then
  -- an event a full feed no longer lists has ended
  local listed = {}
  for i = obs_end + 1, events_end, 3 do listed[ARGV[i]] = true end
  for _, id in ipairs(redis.call('HKEYS', h.feed_events)) do
    if not listed[id] then
      redis.call('ZREM', h.events_key, id)
      redis.call('HDEL', h.event_feeds, id)
    end
  end
  redis.call('DEL', KEYS[1], h.feed_events)
end
for i = 2, records_end, 4000 do redis.call('HSET', KEYS[1], unpack(ARGV, i, math.min(i + 3999, records_end))) end
local index = {}
for i = 2, records_end, 2 do
  index[#index + 1] = ARGV[i]
  index[#index + 1] = h.feed
end
for i = 1, #index, 4000 do redis.call('HSET', h.entity_feeds, unpack(index, i, math.min(i + 3999, #index))) end
for i = records_end + 1, geo_end, 3000 do
  redis.call('GEOADD', h.geo_key, unpack(ARGV, i, math.min(i + 2999, geo_end)))
end
for i = geo_end + 1, obs_end, 4 do
  redis.call('XADD', ARGV[i], 'MAXLEN', '~', h.maxlen, '*', 't', ARGV[i + 1], 'v', ARGV[i + 2], 'u', ARGV[i + 3])
end
for i = obs_end + 1, events_end, 3 do
  redis.call('HSET', h.feed_events, ARGV[i], ARGV[i + 1])
  redis.call('ZADD', h.events_key, ARGV[i + 2], ARGV[i])
  redis.call('HSET', h.event_feeds, ARGV[i], h.feed)
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
