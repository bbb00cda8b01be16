"""Every component id of the dashboard, in one place, so callbacks never spell an id twice."""

from __future__ import annotations

# --- the shell: header, language, clock, heartbeat ------------------------------------------------------
URL = "ioc-url"
LANG = "ioc-lang"
LANG_VI = "ioc-lang-vi"
LANG_EN = "ioc-lang-en"
CITY_NAME = "ioc-city-name"
CITY_SUBTITLE = "ioc-city-subtitle"
CITY_ZONE = "ioc-city-zone"
# the city switch of a deployment serving several cities (a form posting to /city)
CITY_SWITCH = "ioc-city-switch"
NAV_CONTROL_ROOM = "ioc-nav-control-room"
NAV_FEEDS = "ioc-nav-feeds"
NAV_ALERTS = "ioc-nav-alerts"
NAV_REPORTS = "ioc-nav-reports"
CLOCK_TICK = "ioc-clock-tick"
CLOCK_TIME = "ioc-clock-time"
CLOCK_DATE = "ioc-clock-date"
HEARTBEAT = "ioc-heartbeat"
HEARTBEAT_LABEL = "ioc-heartbeat-label"
HEARTBEAT_TICK = "ioc-heartbeat-tick"
HEARTBEAT_STATE = "ioc-heartbeat-state"

# --- the annunciator: alarms announced on every screen of a role that sees alerts ---------------------------
ANNUNCIATOR = "ioc-annunciator"
ANNUNCIATION_TICK = "ioc-annunciation-tick"
ANNUNCIATION = "ioc-annunciation"  # the alarms to announce, from the server
ANNUNCIATION_SEEN = "ioc-annunciation-seen"  # what the pop-up last drew: nothing is sent until it changes
ANNUNCIATOR_LIST = "ioc-annunciator-list"
SOUND_ON = "ioc-sound-on"  # whether this screen's sound has been switched on (browsers need a click first)
SOUND_ENABLE = "ioc-sound-enable"
SOUND_NOTICE = "ioc-sound-notice"
SILENCE = "ioc-silence"
SILENCED = "ioc-silenced"  # alarm ids this screen silenced
SCREEN_ID = "ioc-screen-id"
AUDIO_URGENT = "ioc-audio-urgent"
AUDIO_HIGH = "ioc-audio-high"

# --- control room -----------------------------------------------------------------------------------------
CONTROL_ROOM_TICK = "control-room-tick"
CONTROL_ROOM_SEEN = "control-room-seen"
CITY_MAP = "control-room-map"
CITY_MAP_TITLE = "control-room-map-title"
KPI_PANEL = "control-room-kpis"
ALERT_PANEL = "control-room-alerts"
ALERT_COUNT = "control-room-alert-count"
MAP_LEGEND = "control-room-legend"
MAP_DETAIL = "control-room-detail"
MAP_HIDDEN = "control-room-hidden-layers"
# the screen's drawing scale (its root font size over 18 px), reported by the browser
SCREEN_SCALE = "control-room-screen-scale"
# pattern-matching type of the legend's layer buttons: {"type": MAP_LAYER_TOGGLE, "sector": <id>}
MAP_LAYER_TOGGLE = "control-room-layer"


def map_layer_toggle(sector: str) -> dict[str, str]:
    return {"type": MAP_LAYER_TOGGLE, "sector": sector}


# --- playback on the control room (layouts.playback) --------------------------------------------------------
CONTROL_ROOM = "control-room"
PLAYBACK = "playback-state"  # the screen's playback: the moment shown (none when live), speed, day
PLAYBACK_CLOCK = "playback-clock"
PLAYBACK_MODE = "playback-mode"
PLAYBACK_DAY = "playback-day"
PLAYBACK_SLIDER = "playback-slider"
PLAYBACK_PAUSE = "playback-pause"
PLAYBACK_LIVE = "playback-live"
PLAYBACK_BANNER = "playback-banner"
# pattern-matching type of the play buttons: {"type": PLAYBACK_PLAY, "speed": 1 | 10 | 60}
PLAYBACK_PLAY = "playback-play"


def playback_play(speed: int) -> dict[str, str | int]:
    return {"type": PLAYBACK_PLAY, "speed": speed}


# --- feeds ------------------------------------------------------------------------------------------------
FEEDS_TICK = "feeds-tick"
FEEDS_TITLE = "feeds-title"
FEEDS_SUMMARY = "feeds-summary"
FEEDS_BOARD = "feeds-board"
FEEDS_SELECTED = "feeds-selected"
FEEDS_DETAILS = "feeds-details"
FEEDS_DETAILS_SEEN = "feeds-details-seen"
# pattern-matching type of the per-row "details" buttons: {"type": FEED_DETAILS_BUTTON, "feed": <name>}
FEED_DETAILS_BUTTON = "feeds-details-button"


def feed_details_button(feed: str) -> dict[str, str]:
    return {"type": FEED_DETAILS_BUTTON, "feed": feed}

# --- alerts -----------------------------------------------------------------------------------------------
ALERTS_TICK = "alerts-tick"
ALERTS_TITLE = "alerts-title"
ALERTS_SUMMARY = "alerts-summary"
ALERTS_QUEUE = "alerts-queue"
ALERTS_QUEUE_SEEN = "alerts-queue-seen"
ALERTS_SELECTED = "alerts-selected"
ALERTS_VERSION = "alerts-version"
ALERTS_FILTER_SEVERITY = "alerts-filter-severity"
ALERTS_FILTER_SECTOR = "alerts-filter-sector"
ALERTS_FILTER_DISTRICT = "alerts-filter-district"
ALERTS_FILTER_STATE = "alerts-filter-state"
ALERTS_FILTER_LABELS = "alerts-filter-labels"
ALERTS_DETAIL = "alerts-detail"
ALERTS_DETAIL_SEEN = "alerts-detail-seen"
ALERTS_HISTORY = "alerts-history"
ALERTS_MAP = "alerts-map"
ALERTS_ACTIONS = "alerts-actions"
ALERTS_NOTE = "alerts-note"
ALERTS_ASSIGNEE = "alerts-assignee"
ALERTS_ASSIGNEES = "alerts-assignees"
ALERTS_ACK = "alerts-ack"
ALERTS_ASSIGN = "alerts-assign"
ALERTS_RESOLVE = "alerts-resolve"
ALERTS_FEEDBACK = "alerts-feedback"
ALERTS_SHELVE = "alerts-shelve"
ALERTS_SHELVE_MINUTES = "alerts-shelve-minutes"
ALERTS_SHELF_FEEDBACK = "alerts-shelf-feedback"
ALERTS_SHELVED = "alerts-shelved"
ALERTS_SHELF_CHANGED = "alerts-shelf-changed"  # bumped when someone brings an alarm back
# pattern-matching type of the shelved list's "back now" buttons: {"type": ALERT_UNSHELVE, "alert": <id>}
ALERT_UNSHELVE = "alerts-unshelve"
# pattern-matching types: {"type": ALERT_ROW, "alert": <id>} and {"type": ALERT_STEP, "step": <n>}
ALERT_ROW = "alerts-row"
ALERT_STEP = "alerts-step"


def alert_row(alert_id: str) -> dict[str, str]:
    return {"type": ALERT_ROW, "alert": alert_id}


def alert_step(step: int) -> dict[str, str | int]:
    return {"type": ALERT_STEP, "step": step}

# --- KPI reports (/reports) -------------------------------------------------------------------------------
# every id starts with "reports-" (ioc.guard: reports.view) and the export buttons with "reports-export"
# (reports.export)
REPORTS_TITLE = "reports-title"
REPORTS_PERIOD_KIND = "reports-period-kind"
REPORTS_DATE = "reports-date"
REPORTS_DATE_BOX = "reports-date-box"
REPORTS_RANGE = "reports-range"
REPORTS_RANGE_BOX = "reports-range-box"
REPORTS_DISTRICT = "reports-district"
REPORTS_SECTOR = "reports-sector"
REPORTS_LABEL_PERIOD = "reports-label-period"
REPORTS_LABEL_DISTRICT = "reports-label-district"
REPORTS_LABEL_SECTOR = "reports-label-sector"
REPORTS_LABEL_EXPORT = "reports-label-export"
REPORTS_LABEL_KPI = "reports-label-kpi"
REPORTS_SUMMARY = "reports-summary"
REPORTS_BODY = "reports-body"
REPORTS_KPI = "reports-kpi"
REPORTS_LEAGUE = "reports-league"
REPORTS_MAP = "reports-map"
REPORTS_DETAIL_TITLE = "reports-detail-title"
REPORTS_EXPORT_CSV = "reports-export-csv"
REPORTS_EXPORT_XLSX = "reports-export-xlsx"
REPORTS_EXPORT_PDF = "reports-export-pdf"
REPORTS_DOWNLOAD = "reports-download"

# --- the alarm system's own measures (alert page panel, report section) -------------------------------------
ALERTS_METRICS = "alerts-metrics"
ALERTS_METRICS_HEAD = "alerts-metrics-head"
ALERTS_METRICS_TILES = "alerts-metrics-tiles"
ALERTS_METRICS_LISTS = "alerts-metrics-lists"
ALERTS_METRICS_SEEN = "alerts-metrics-seen"
REPORTS_ALARMS = "reports-alarms"

# --- situation view (/situation) ----------------------------------------------------------------------------
SITUATION_TICK = "situation-tick"
SITUATION_QUERY = "situation-query"
SITUATION_SEEN = "situation-seen"
SITUATION_VERSION = "situation-version"
SITUATION_HEAD = "situation-head"
SITUATION_MAP = "situation-map"
SITUATION_WARNING = "situation-warning"
SITUATION_SOP = "situation-sop"
SITUATION_RELATED = "situation-related"
SITUATION_FEEDS = "situation-feeds"
SITUATION_TIMELINE = "situation-timeline"
SITUATION_STEP = "situation-step"


def situation_step(step: int) -> dict[str, str | int]:
    return {"type": SITUATION_STEP, "step": step}

# --- the video wall (/wall) -------------------------------------------------------------------------------
WALL = "wall"
WALL_SETUP = "wall-setup"  # the screen, its tick and loss times, its texts: fixed for the page's life
WALL_TICK = "wall-tick"
WALL_CLOCK_TICK = "wall-clock-tick"
WALL_STATE = "wall-state"  # the last state the server answered (view, takeover), or {revoked: true}
WALL_VIEW = "wall-view"  # the view on show: changes only when the rotation or a takeover moves on
WALL_ZOOMED = "wall-zoomed"  # the view whose area the map was last zoomed to
WALL_CONTENT = "wall-content"
WALL_BANNER = "wall-banner"
WALL_LABEL = "wall-label"
WALL_TIME = "wall-time"
WALL_BEAT = "wall-beat"
WALL_LOST = "wall-lost"
WALL_BLANK = "wall-blank"

# --- alarm floods: group lines, the flood banner, out of service (alert page, feed board) --------------------
ALERTS_FLOOD = "alerts-flood"
ALERTS_GROUPS_OPEN = "alerts-groups-open"  # the group lines an operator opened, by group key
ALERTS_GROUPS_VERSION = "alerts-groups-version"  # bumped when a group is acknowledged
ALERTS_GROUP_FEEDBACK = "alerts-group-feedback"
ALERTS_SERVICE = "alerts-service"
# pattern-matching types: {"type": ALERT_GROUP_ROW, "group": <key>} and {"type": ALERT_GROUP_ACK, "group": <key>}
ALERT_GROUP_ROW = "alerts-group-row"
ALERT_GROUP_ACK = "alerts-group-ack"


def alert_group_row(key: str) -> dict[str, str]:
    return {"type": ALERT_GROUP_ROW, "group": key}


def alert_group_ack(key: str) -> dict[str, str]:
    return {"type": ALERT_GROUP_ACK, "group": key}


# how many lines the queue draws (and an opened group lists); {"type": ALERTS_MORE, "at": <"queue" or a group key>}
ALERTS_QUEUE_LINES = "alerts-queue-lines"
ALERTS_MORE = "alerts-more"


def alerts_more(at: str) -> dict[str, str]:
    return {"type": ALERTS_MORE, "at": at}


# the feed board's out-of-service panel (layouts.feeds_service); {"type": FEEDS_SERVICE_END, "target": <target>}
FEEDS_SERVICE_VERSION = "feeds-service-version"
FEEDS_SERVICE_ENDED = "feeds-service-ended"
FEEDS_SERVICE_TITLE = "feeds-service-title"
FEEDS_SERVICE_FEEDS = "feeds-service-feeds"
FEEDS_SERVICE_ENTITY = "feeds-service-entity"
FEEDS_SERVICE_AREAS = "feeds-service-areas"
FEEDS_SERVICE_REASON = "feeds-service-reason"
FEEDS_SERVICE_HOURS = "feeds-service-hours"
FEEDS_SERVICE_OUT = "feeds-service-out"
FEEDS_SERVICE_MAINTENANCE = "feeds-service-maintenance"
FEEDS_SERVICE_FEEDBACK = "feeds-service-feedback"
FEEDS_SERVICE_LIST = "feeds-service-list"
FEEDS_SERVICE_END = "feeds-service-end"

# --- shift handover (/handover) and its reminder in the header --------------------------------------------
NAV_HANDOVER = "ioc-nav-handover"
HANDOVER_DUE = "ioc-handover-due"
HANDOVER_DUE_TICK = "ioc-handover-due-tick"
HANDOVER_TICK = "handover-tick"
HANDOVER_KEY = "handover-key"  # the shift a link asked for (?shift=), None for the one at hand
HANDOVER_SHOWN = "handover-shown"  # the shift the page shows: what its buttons act on
HANDOVER_VERSION = "handover-version"
HANDOVER_TITLE = "handover-title"
HANDOVER_STATE = "handover-state"
HANDOVER_SUMMARY = "handover-summary"
HANDOVER_NOTES_TITLE = "handover-notes-title"
HANDOVER_NOTES = "handover-notes"
HANDOVER_HAND = "handover-hand"
HANDOVER_ACCEPT = "handover-accept"
HANDOVER_FEEDBACK = "handover-feedback"
HANDOVER_PDF = "handover-pdf"
HANDOVER_PAST_TITLE = "handover-past-title"
HANDOVER_PAST = "handover-past"

# --- the regional view (/regional): this city and its peer IOCs side by side --------------------------------
NAV_REGIONAL = "ioc-nav-regional"
REGIONAL_TICK = "regional-tick"
REGIONAL_SCALE = "regional-scale"
REGIONAL_TITLE = "regional-title"
REGIONAL_NOTE = "regional-note"
REGIONAL_CARDS = "regional-cards"
REGIONAL_MAP = "regional-map"

# --- administration: sharing agreements with peer IOCs (layouts/admin_peers.py) -----------------------------
ADMIN_PEER_ID = "admin-peer-id"
ADMIN_PEER_NAME = "admin-peer-name"
ADMIN_PEER_GRANULARITY = "admin-peer-granularity"
ADMIN_PEER_DATASETS = "admin-peer-datasets"
ADMIN_PEER_KPIS = "admin-peer-kpis"
ADMIN_PEER_DAYS = "admin-peer-days"
ADMIN_PEER_GRANT = "admin-peer-grant"
ADMIN_PEERS = "admin-peers"
ADMIN_PEERS_MESSAGE = "admin-peers-message"
ADMIN_PEER_REVOKE = "admin-peer-revoke"  # pattern: {"type": ADMIN_PEER_REVOKE, "peer": <id>}
