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

    # --- entities ---------------------------------------------------------------------------------
    # A feed's entities live in one hash (field = entity id, value = the JSON record with its latest values),
    # so a poll is one HSET and a screen reads a feed in one HGETALL; see docs/redis-keys.md.
    def entities_of_feed(self, feed: str) -> str:
        """Hash: entity id -> JSON record, every entity the feed last delivered (replaced whole on a full poll)."""
        return f"{self.prefix}:feed:{feed}:entity_records"

    def entity_feeds(self) -> str:
        """Hash: entity id -> the feed whose records hold it, for reading an entity by id."""
        return f"{self.prefix}:entity_feeds"

    def geo(self) -> str:
        """Geo index (GEOADD) of every located entity, for 'what is near here' queries."""
        return f"{self.prefix}:geo"

    # --- observations -------------------------------------------------------------------------------
    def observations(self, entity_id: str, metric: str) -> str:
        """Stream: recent observations of one metric of one entity (capped)."""
        return f"{self.prefix}:obs:{entity_id}:{metric}"

    def archive(self) -> str:
        """Stream: one entry per stored batch (its header, runs and changed records) until the archiver has
        copied it to files; capped (see ioc.store_batch.ARCHIVE_ENTRIES)."""
        return f"{self.prefix}:archive"

    # --- events -------------------------------------------------------------------------------------
    def events_of_feed(self, feed: str) -> str:
        """Hash: event id -> JSON record, the incidents and warnings a feed last delivered; an event a full
        feed stops listing is no longer active."""
        return f"{self.prefix}:feed:{feed}:event_records"

    def event_feeds(self) -> str:
        """Hash: event id -> the feed whose records hold it, for the city-wide list of active events."""
        return f"{self.prefix}:event_feeds"

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

    # --- adapter polls as RQ jobs (ioc.worker) --------------------------------------------------------
    def poll_queue(self) -> str:
        """The name of the city's RQ queue of feed polls (RQ keeps it at `rq:queue:<name>`)."""
        return f"{self.prefix}:polls"

    def feed_poll_lock(self, feed: str) -> str:
        """String with a TTL: `<worker>:<job id>` polling the feed now; renewed while it polls."""
        return f"{self.prefix}:feed:{feed}:polling"

    def scheduler_lease(self) -> str:
        """String with a TTL: the `ioc scheduler` that enqueues the polls now (the others stand by)."""
        return f"{self.prefix}:scheduler"

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

    def alerts_shelved(self) -> str:
        """Sorted set: ids of shelved alerts, scored by when they come back by themselves (epoch seconds)."""
        return f"{self.prefix}:alerts:shelved"

    def alert_shelf(self, alert_id: str) -> str:
        """Hash: why and by whom an alert is shelved, and until when: `reason by at until`."""
        return f"{self.prefix}:alert:{alert_id}:shelf"

    # --- out of service and maintenance (ioc.alerts.service) ----------------------------------------
    def out_of_service(self) -> str:
        """Hash: `feed:<name>` or `entity:<id>` -> JSON {reason, by, at, until} of what is out of service."""
        return f"{self.prefix}:service:out"

    def maintenance_windows(self) -> str:
        """Hash: window id -> JSON {feeds, areas, start, end, reason, by, at} of declared maintenance windows."""
        return f"{self.prefix}:service:maintenance"

    # --- rule evaluation state ----------------------------------------------------------------------
    def rule_state(self, rule_id: str, entity_id: str) -> str:
        """Hash: a rule's condition for one entity (clear, pending since, active), shared by every runner."""
        return f"{self.prefix}:rule:{rule_id}:state:{entity_id}"

    def rule_raises(self, rule_id: str, entity_id: str) -> str:
        """Sorted set: recent raise times of a rule for one entity (epoch seconds), to detect flapping."""
        return f"{self.prefix}:rule:{rule_id}:raises:{entity_id}"

    # --- notifications (ioc.notifications) -------------------------------------------------------------
    def notification(self, notification_id: str) -> str:
        """Hash: one notification: alert, policy step, repeat, person, channel, status, attempts, last error."""
        return f"{self.prefix}:notification:{notification_id}"

    def notifications_planned(self, alert_id: str) -> str:
        """Hash: (policy, step, repeat, person, channel) of one alert -> notification id, so each is queued once."""
        return f"{self.prefix}:alert:{alert_id}:notifications"

    def notifications_outbox(self) -> str:
        """Sorted set: ids of notifications still to deliver, scored by their next attempt (epoch seconds)."""
        return f"{self.prefix}:notifications:outbox"

    def notifications_recent(self) -> str:
        """Sorted set: ids of recent notifications scored by when they were queued (capped), for listing."""
        return f"{self.prefix}:notifications:recent"

    # --- dashboard cache ---------------------------------------------------------------------------------
    def web_cache_prefix(self) -> str:
        """Prefix of the dashboard's flask-caching entries (shared by all workers of one city)."""
        return f"{self.prefix}:web_cache:"

    # --- KPI rollups (ioc.kpis.rollups) ----------------------------------------------------------------
    # <scope> is "city", "district:<slug>" or "group:<slug>"; <day> and <month> are the city's local
    # calendar (YYYY-MM-DD, YYYY-MM), so a day bucket starts at the city's midnight, not UTC's.

    def kpi_hours(self, kpi_id: str, scope: str, day: str) -> str:
        """Hash: one local day of a KPI's hourly aggregates, fields `<HH>:<stat>` (kept >= 90 days)."""
        return f"{self.prefix}:kpi:{kpi_id}:hourly:{scope}:{day}"

    def kpi_hour_extremes(self, kpi_id: str, scope: str, day: str) -> str:
        """Sorted set: minimum and maximum of each hour of `kpi_hours` (members `<HH>:lo`, `<HH>:hi`)."""
        return f"{self.prefix}:kpi:{kpi_id}:hourly_extremes:{scope}:{day}"

    def kpi_days(self, kpi_id: str, scope: str, month: str) -> str:
        """Hash: one local month of a KPI's daily aggregates, fields `<DD>:<stat>` (kept >= 5 years)."""
        return f"{self.prefix}:kpi:{kpi_id}:daily:{scope}:{month}"

    def kpi_day_extremes(self, kpi_id: str, scope: str, month: str) -> str:
        """Sorted set: minimum and maximum of each day of `kpi_days` (members `<DD>:lo`, `<DD>:hi`)."""
        return f"{self.prefix}:kpi:{kpi_id}:daily_extremes:{scope}:{month}"

    def kpi_scopes(self, kpi_id: str) -> str:
        """Hash: every scope a KPI has data for -> its label (district or group name as published)."""
        return f"{self.prefix}:kpi:{kpi_id}:scopes"

    def kpi_seen(self, kpi_id: str) -> str:
        """Hash: entity or event id -> epoch of the last record counted, so re-sent data counts once."""
        return f"{self.prefix}:kpi:{kpi_id}:seen"

    def feed_polls_hours(self, feed: str, day: str) -> str:
        """Hash: successful polls of a feed per local hour of one day, fields `<HH>` (kept >= 90 days)."""
        return f"{self.prefix}:kpi:polls:{feed}:hourly:{day}"

    def feed_polls_days(self, feed: str, month: str) -> str:
        """Hash: a feed's successful polls per day of one month, fields `<DD>`, each hour's polls counted up
        to the number expected in an hour, so polling faster than the cadence earns nothing (kept >= 5 years)."""
        return f"{self.prefix}:kpi:polls:{feed}:daily:{month}"

    def agency_fresh(self, agency: str, month: str) -> str:
        """Hash: hours of one month in which an agency's data was fresh, fields `<DD>:<HH>` = 1."""
        return f"{self.prefix}:kpi:fresh:{agency}:{month}"

    def kpi_rollup_version(self) -> str:
        """Counter bumped by every rollup write: the report cache's key, so new data is never hidden."""
        return f"{self.prefix}:kpi:version"

    def kpi_rollups_pattern(self) -> str:
        """SCAN pattern of every KPI rollup key of the city (what `ioc backfill` replaces)."""
        return f"{self.prefix}:kpi:*"

    # --- access control (ioc.auth, ioc.access, ioc.api) --------------------------------------------------
    def user(self, name: str) -> str:
        """Hash: one person who signs in: role, argon2 password hash, disabled flag, session epoch."""
        return f"{self.prefix}:user:{name}"

    def users(self) -> str:
        """Set: every user name."""
        return f"{self.prefix}:users"

    def api_key(self, digest: str) -> str:
        """Hash: one open-data API key, found by the SHA-256 of the key (the key itself is never stored)."""
        return f"{self.prefix}:api_key:{digest}"

    def api_keys(self) -> str:
        """Hash: API key holder name -> digest of the holder's current key (for listing and revoking)."""
        return f"{self.prefix}:api_keys"

    # --- IOC-to-IOC sharing (ioc.sharing, ioc.regional) ---------------------------------------------------
    def sharing_agreement(self, peer: str) -> str:
        """Hash: what one peer IOC may read from us (datasets, KPIs, granularity, expiry, revoked flag)."""
        return f"{self.prefix}:sharing:agreement:{peer}"

    def sharing_agreements(self) -> str:
        """Set: every peer id that has (or had) an agreement with us."""
        return f"{self.prefix}:sharing:agreements"

    def sharing_refused(self, peer: str) -> str:
        """String with a TTL: set when a refusal of this peer was audited, so a polling peer is audited once a
        minute, not once a request."""
        return f"{self.prefix}:sharing:refused:{peer}"

    def regional_peer(self, peer: str) -> str:
        """Hash: the regional view's last reading of one peer IOC (last good values, state, since when)."""
        return f"{self.prefix}:regional:peer:{peer}"

    def regional_refresh(self) -> str:
        """String with a TTL: held by the one process refreshing the regional view, so screens never wait."""
        return f"{self.prefix}:regional:refresh"

    def session(self, digest: str) -> str:
        """String: the user name of one signed-in session, found by the SHA-256 of the session token in its
        cookie (the token itself is never stored); expires with the role's maximum session length."""
        return f"{self.prefix}:session:{digest}"

    def user_sessions(self, name: str) -> str:
        """Set: digests of a user's open sessions, so a role, password or enabled change ends them all."""
        return f"{self.prefix}:user_sessions:{name}"

    # --- wall screens (ioc.wall.screens) ----------------------------------------------------------------
    def screen(self, screen_id: str) -> str:
        """Hash: one registered wall screen: name, SHA-256 of its key, generation, revoked flag, who and when."""
        return f"{self.prefix}:screen:{screen_id}"

    def screens(self) -> str:
        """Set: every registered wall screen id."""
        return f"{self.prefix}:screens"

    def rate_limit(self, scope: str, who: str, window: int) -> str:
        """Counter: attempts of one client (address, account or API key) in one fixed window (expires)."""
        return f"{self.prefix}:rate:{scope}:{who}:{window}"

    def config_fingerprints(self) -> str:
        """Hash: configuration file name -> SHA-256 last seen, so a changed rules or targets file is audited."""
        return f"{self.prefix}:config:fingerprints"

    # --- shift handover (ioc.handover) ---------------------------------------------------------------
    def handover(self, shift_key: str) -> str:
        """Hash: one shift's handover ("<YYYY-MM-DD>:<shift id>"): who handed over and accepted it, when,
        the notes and the shift's summary as handed over."""
        return f"{self.prefix}:handover:{shift_key}"

    def handovers(self) -> str:
        """Sorted set: shift keys of handed-over shifts, scored by the shift's start (epoch seconds)."""
        return f"{self.prefix}:handovers"

    # --- audit and change signal --------------------------------------------------------------------
    def audit(self) -> str:
        """Stream: who did what, when, from where. Append-only."""
        return f"{self.prefix}:audit"

    def versions(self) -> str:
        """Hash: layer -> change version. A field per feed (bumped by each write of its entities or events)
        and `alerts` (bumped by each alert change): screens redraw only the layers whose version moved."""
        return f"{self.prefix}:versions"

    def layer_digests(self) -> str:
        """Hash: feed -> digest of what its last poll delivered, so a poll that brings nothing new leaves the
        feed's version (and every screen) alone."""
        return f"{self.prefix}:versions:digests"

    def changes(self) -> str:
        """Counter bumped by every write, so screens skip redrawing when nothing changed."""
        return f"{self.prefix}:changes"


def poll_job_id(city: str, feed: str, slot: int) -> str:
    """The RQ job id (RQ keeps it at `rq:job:<id>`; letters, digits, - and _ only) of one feed's poll in one
    slot of its cadence: every scheduler enqueues the same id for the same slot, so a slot is polled once."""
    return "-".join(("ioc", city, "poll", feed, str(slot)))


def observation_parts(key: str) -> tuple[str, str]:
    """(entity id, metric) of a `Keys.observations` key; an entity id may hold colons, a metric holds none."""
    entity_id, _, metric = key.split(":obs:", 1)[1].rpartition(":")
    return entity_id, metric
