"""What one wall screen shows now, as its page asks for it every tick: the playlist's view, or the
situation view of what took the wall over, with the places (areas, sectors) resolved for the map."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from ioc import situation
from ioc.alerts.shelf import shelved_ids
from ioc.areas import area_index
from ioc.config import Settings
from ioc.i18n import local_time, t
from ioc.store import Store
from ioc.wall.config import PlaylistItem, WallConfig
from ioc.wall.rotation import position
from ioc.wall.takeover import CAP_READER, Target, takeover_target

CONTROL_ROOM = "/"


def area_bounds(settings: Settings, name: str) -> list[float] | None:
    """[west, south, east, north] of one of the city's areas, None for an unknown name."""
    index = area_index(settings.city)
    if name not in index.names:
        return None
    west, south, east, north = index.frame.geometry.iloc[index.names.index(name)].bounds
    return [float(west), float(south), float(east), float(north)]


def item_view(item: PlaylistItem, settings: Settings, lang: str, page_titles: dict[str, str]) -> dict[str, Any]:
    """A playlist item as the wall draws it: the page's address, the sectors its map hides, the area it zooms
    to, and its label."""
    view: dict[str, Any] = {"key": item.key(), "kind": item.kind, "address": CONTROL_ROOM, "hidden": [],
                            "bounds": None}
    if item.page is not None:
        view["address"] = item.page
        view["label"] = t("wall.item.page", lang, name=page_titles.get(item.page, item.page))
    elif item.area is not None:
        view["bounds"] = area_bounds(settings, item.area)
        view["label"] = t("wall.item.area", lang, name=item.area)
    else:
        sector = settings.sector(str(item.sector))
        view["hidden"] = sorted(other.id for other in settings.city.sectors if other.id != item.sector)
        view["label"] = t("wall.item.sector", lang, name=sector.name.get(lang) if sector else item.sector)
    return view


def takeover_view(target: Target, lang: str) -> dict[str, Any]:
    address = situation.link(alert=target.id, wall=True) if target.kind == "alert" else \
        situation.link(event=target.id, wall=True)
    return {"key": f"takeover:{target.key()}", "kind": "takeover", "address": address, "hidden": [],
            "bounds": None, "label": t("wall.takeover", lang),
            "takeover": {"kind": target.kind, "id": target.id, "severity": str(target.severity),
                         "severity_text": t(f"control_room.severity.{target.severity}", lang), "title": target.title,
                         "district": target.district,
                         "since": t("wall.since", lang, time=local_time(target.since, "%H:%M"))}}


def cap_feeds(settings: Settings) -> set[str]:
    return {feed.name for feed in settings.feeds if feed.reader == CAP_READER}


def current_target(store: Store, settings: Settings, config: WallConfig, now: datetime) -> Target | None:
    """What takes the takeover screens over now (the same answer for every screen and worker)."""
    policy = config.takeover
    events = store.active_events(now) if policy.cap_warnings else []
    return takeover_target(store.alerts.records(), shelved_ids(store.redis, store.keys, now), events,
                           cap_feeds(settings), policy, now)


def wall_state(store: Store, settings: Settings, config: WallConfig, screen_id: str, lang: str, now: datetime,
               page_titles: dict[str, str]) -> dict[str, Any]:
    """The screen's state at `now`: its view (a playlist item or a takeover), where it is in the playlist, and
    the server's time the data is as of."""
    items = config.playlist(screen_id)
    at = position(items, now)
    target = current_target(store, settings, config, now) if config.screen(screen_id).takeover else None
    view = takeover_view(target, lang) if target is not None else item_view(at.item, settings, lang, page_titles)
    if target is None:
        # the index is part of the key: a playlist showing one page twice in a row still moves on
        view["key"] = f"{at.index}:{view['key']}"
        view["position"] = f"{at.index + 1}/{len(items)}"
    settings_of_screen = config.screen(screen_id)
    return {
        "screen": screen_id,
        "name": settings_of_screen.name.get(lang) if settings_of_screen.name else screen_id,
        "view": view,
        "index": at.index,
        "count": len(items),
        "seconds_left": round(at.seconds_left, 1),
        "as_of": local_time(now, "%H:%M:%S"),
    }
