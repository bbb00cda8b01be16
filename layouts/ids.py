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
NAV_CONTROL_ROOM = "ioc-nav-control-room"
NAV_FEEDS = "ioc-nav-feeds"
CLOCK_TICK = "ioc-clock-tick"
CLOCK_TIME = "ioc-clock-time"
CLOCK_DATE = "ioc-clock-date"
HEARTBEAT = "ioc-heartbeat"
HEARTBEAT_LABEL = "ioc-heartbeat-label"
HEARTBEAT_TICK = "ioc-heartbeat-tick"
HEARTBEAT_STATE = "ioc-heartbeat-state"

# --- control room -----------------------------------------------------------------------------------------
CONTROL_ROOM_TICK = "control-room-tick"
CONTROL_ROOM_SEEN = "control-room-seen"
CITY_MAP = "control-room-map"
CITY_MAP_TITLE = "control-room-map-title"
KPI_PANEL = "control-room-kpis"
ALERT_PANEL = "control-room-alerts"

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
