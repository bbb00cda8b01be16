"""The Redis key schema: the only place that formats a key (documented in docs/redis-keys.md).

Every key of one city starts with `ioc:{<city>}:`. The braces are a Redis Cluster hash tag: all keys of a
city land in one slot, so a feed's batch (entities, observations, health) can be written in one
MULTI/EXEC transaction on a cluster too, while different cities spread over the cluster's nodes.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Keys:
    city: str

    @property
    def prefix(self) -> str:
        return f"ioc:{{{self.city}}}"

    # --- entities -----------------------------------------------------------------------------------
    def entity(self, entity_id: str) -> str:
        """Hash: the entity's descriptive fields and its latest attributes (JSON)."""
        return f"{self.prefix}:entity:{entity_id}"

    def entities_all(self) -> str:
        """Set: every entity id known in the city."""
        return f"{self.prefix}:entities"

    def entities_of_feed(self, feed: str) -> str:
        """Set: the entity ids a feed last delivered (replaced whole on each successful poll)."""
        return f"{self.prefix}:feed:{feed}:entities"

    def entities_of_sector(self, sector: str) -> str:
        """Set: entity ids per sector, for map layers."""
        return f"{self.prefix}:sector:{sector}:entities"

    def geo(self) -> str:
        """Geo index (GEOADD) of every located entity, for 'what is near here' queries."""
        return f"{self.prefix}:geo"

    # --- observations -------------------------------------------------------------------------------
    def observations(self, entity_id: str, metric: str) -> str:
        """Stream: recent observations of one metric of one entity (capped)."""
        return f"{self.prefix}:obs:{entity_id}:{metric}"

    # --- events -------------------------------------------------------------------------------------
    def event(self, event_id: str) -> str:
        """Hash: an incident or warning reported by a source."""
        return f"{self.prefix}:event:{event_id}"

    def events_active(self) -> str:
        """Sorted set: event ids scored by expiry (epoch seconds; +inf when open-ended)."""
        return f"{self.prefix}:events:active"

    # --- feeds --------------------------------------------------------------------------------------
    def feeds(self) -> str:
        """Set: names of feeds that have reported health at least once."""
        return f"{self.prefix}:feeds"

    def feed_health(self, feed: str) -> str:
        """Hash: last success, last error, record count, latency, stale flag."""
        return f"{self.prefix}:feed:{feed}:health"

    def feed_rejected(self, feed: str) -> str:
        """List: the most recent refused payloads with their error, newest first (capped)."""
        return f"{self.prefix}:feed:{feed}:rejected"

    # --- alerts -------------------------------------------------------------------------------------
    def alert(self, alert_id: str) -> str:
        """Hash: one alert (see ioc.model.Alert.to_hash)."""
        return f"{self.prefix}:alert:{alert_id}"

    def alert_timeline(self, alert_id: str) -> str:
        """Stream: every state change of one alert, append-only."""
        return f"{self.prefix}:alert:{alert_id}:timeline"

    def alerts_open(self) -> str:
        """Sorted set: ids of alerts not resolved, scored by raise time (epoch seconds)."""
        return f"{self.prefix}:alerts:open"

    def alerts_all(self) -> str:
        """Sorted set: ids of every alert, scored by raise time."""
        return f"{self.prefix}:alerts:all"

    def alert_dedup(self, rule_id: str, entity_id: str) -> str:
        """String: the open alert id for a rule and entity (one open alert per pair)."""
        return f"{self.prefix}:alert_dedup:{rule_id}:{entity_id}"

    def alert_sequence(self) -> str:
        """Counter: the next alert number."""
        return f"{self.prefix}:alerts:seq"

    def alert_checklist(self, alert_id: str) -> str:
        """Hash: the ticked steps of the alert's operating procedure (step number -> JSON who and when)."""
        return f"{self.prefix}:alert:{alert_id}:checklist"

    # --- rule evaluation state ----------------------------------------------------------------------
    def rule_state(self, rule_id: str, entity_id: str) -> str:
        """Hash: a rule's condition for one entity (clear, pending since, active), shared by every runner."""
        return f"{self.prefix}:rule:{rule_id}:state:{entity_id}"

    def rule_raises(self, rule_id: str, entity_id: str) -> str:
        """Sorted set: recent raise times of a rule for one entity (epoch seconds), to detect flapping."""
        return f"{self.prefix}:rule:{rule_id}:raises:{entity_id}"

    # --- dashboard cache ---------------------------------------------------------------------------------
    def web_cache_prefix(self) -> str:
        """Prefix of the dashboard's flask-caching entries (shared by all workers of one city)."""
        return f"{self.prefix}:web_cache:"

    # --- audit and change signal --------------------------------------------------------------------
    def audit(self) -> str:
        """Stream: who did what, when, from where. Append-only."""
        return f"{self.prefix}:audit"

    def changes(self) -> str:
        """Counter bumped by every write, so screens skip redrawing when nothing changed."""
        return f"{self.prefix}:changes"
