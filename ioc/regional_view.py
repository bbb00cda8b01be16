"""What the regional page shows, computed without a browser: a card per IOC (this city first, then each peer
as last read, with its state in words) and the region map (this city's outline, each peer's centre, open
alerts as markers coloured by severity)."""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from datetime import datetime
from functools import cache
from pathlib import Path
from typing import Any

import shapely

from ioc.areas import area_index
from ioc.city_map import LABEL_COLOUR, MAP_BACKGROUND, SEVERITY_COLOURS
from ioc.feed_board import feed_rows
from ioc.i18n import age_text, local_time, t
from ioc.kpis.tiles import feed_kpi, format_value
from ioc.model import Severity
from ioc.regional import SEVERITIES, PeerReading, Regional, alert_summary, feed_summary, kpi_summary
from ioc.sharing.peers import PeerFile, load_peers, peers_path

OUTLINE = "#8fb3d9"
PEER_COLOUR = "#9ad0ff"
OWN_COLOUR = "#44bb99"
ATTENTION = ("failing", "stale", "never")


@dataclass(frozen=True, slots=True)
class Card:
    """One IOC side by side with the others, in the interface language."""

    id: str
    name: str
    own: bool
    state: str
    state_text: str
    values_text: str
    kpis: list[tuple[str, str, str]] = field(default_factory=list)  # label, value, unit
    alerts: dict[str, int] = field(default_factory=dict)
    alerts_total: int | None = None
    feeds_ok: int | None = None
    feeds_attention: int | None = None
    centre: tuple[float, float] = (0.0, 0.0)
    markers: list[dict[str, Any]] = field(default_factory=list)


def _kpi_rows(kpis: list[dict[str, Any]], lang: str) -> list[tuple[str, str, str]]:
    return [(str((row.get("label_en") if lang == "en" else None) or row.get("label") or row.get("id") or ""),
             format_value(row["value"]) if isinstance(row.get("value"), int | float) else "—",
             str(row.get("unit") or "")) for row in kpis]


def own_card(context: Any, lang: str, now: datetime) -> Card:
    """This city, read from its own store through the same summaries a peer's answers go through."""
    settings = context.settings
    store = context.store
    enabled = [feed for feed in settings.feeds if feed.enabled]
    by_feed = store.entities_of_feeds([feed.name for feed in enabled])
    kpis = []
    for feed in enabled:
        value = feed_kpi(feed, by_feed.get(feed.name, []))
        kpis.append({"id": f"feed:{feed.name}", "label": value.label.get(lang), "value": value.value,
                     "unit": value.unit})
    alerts = alert_summary({"items": [record.to_dict() for record in store.alerts.records(limit=sys.maxsize)]})
    health = store.all_health(feed.name for feed in settings.feeds)
    feeds = feed_summary({"items": [{"status": row.status} for row in feed_rows(settings, health, lang, now)]})
    city = settings.city
    return Card(id=city.id, name=city.name.get(lang), own=True, state="ok", state_text=t("regional.own", lang),
                values_text=t("regional.live", lang), kpis=_kpi_rows(kpi_summary({"items": kpis}), lang),
                alerts=alerts["counts"], alerts_total=alerts["total"],
                feeds_ok=feeds.get("ok", 0), feeds_attention=sum(feeds.get(name, 0) for name in ATTENTION),
                centre=(city.center[0], city.center[1]), markers=alerts["markers"])


def peer_card(peer: Any, reading: PeerReading, lang: str, now: datetime) -> Card:
    since = local_time(reading.since, "%H:%M %d/%m")
    took = f"{reading.elapsed_ms / 1000:.1f} s" if reading.elapsed_ms is not None else ""
    state_text = {
        "ok": t("regional.state.ok", lang),
        "slow": t("regional.state.slow", lang, took=took or "—", since=since),
        "down": t("regional.state.down", lang, since=since),
        "refused": t("regional.state.refused", lang, since=since),
        "unconfigured": t("regional.state.unconfigured", lang),
        "never": t("regional.state.never", lang),
    }.get(reading.state, reading.state)
    if reading.good_at is None:
        values_text = t("regional.no_values", lang)
    else:
        values_text = t("regional.values_of", lang, time=local_time(reading.good_at, "%H:%M:%S"),
                        ago=age_text((now - reading.good_at).total_seconds(), lang))
    feeds = reading.feeds
    return Card(id=peer.id, name=peer.name.get(lang), own=False, state=reading.state, state_text=state_text,
                values_text=values_text, kpis=_kpi_rows(reading.kpis, lang), alerts=reading.alerts.get("counts", {}),
                alerts_total=reading.alerts.get("total") if reading.good_at else None,
                feeds_ok=feeds.get("ok", 0) if feeds else None,
                feeds_attention=sum(feeds.get(name, 0) for name in ATTENTION) if feeds else None,
                centre=(peer.centre[0], peer.centre[1]), markers=reading.alerts.get("markers", []))


@cache
def _peer_file(folder: str, _path: str, _mtime: float) -> PeerFile:
    return load_peers(Path(folder))  # cached per file and version: an edited peers.yaml is read again


def regional_of(context: Any) -> Regional:
    """The city's peers (peers.yaml, read again when it changes) and their kept readings."""
    folder = context.settings.directory
    path = peers_path(folder)
    mtime = path.stat().st_mtime if path.exists() else 0.0
    return Regional(context.store.redis, context.store.keys, _peer_file(str(folder), str(path), mtime))


def cards(context: Any, regional: Regional, lang: str, now: datetime) -> list[Card]:
    readings = regional.snapshot(now)
    return [own_card(context, lang, now)] + [peer_card(peer, readings[peer.id], lang, now)
                                             for peer in regional.config.peers]


def _outline(city: Any) -> dict[str, Any]:
    shape = shapely.union_all(list(area_index(city).frame.geometry)).simplify(0.002)
    xs: list[float | None] = []
    ys: list[float | None] = []
    for polygon in getattr(shape, "geoms", [shape]):
        if xs:
            xs.append(None)
            ys.append(None)
        xs.extend(round(x, 5) for x, _ in polygon.exterior.coords)
        ys.extend(round(y, 5) for _, y in polygon.exterior.coords)
    return {"type": "scatter", "x": xs, "y": ys, "mode": "lines", "fill": "toself", "fillcolor": "#1d2c44",
            "line": {"color": OUTLINE, "width": 2}, "hoverinfo": "skip", "showlegend": False}


def region_figure(city: Any, region: list[Card], lang: str, scale: float = 1.0) -> dict[str, Any]:
    """The region map as a JSON-ready figure: this city's outline, every IOC's centre named, alert markers."""
    traces: list[dict[str, Any]] = [_outline(city)]
    for severity in reversed(SEVERITIES):  # the most severe drawn last, on top
        points = [(marker, card) for card in region for marker in card.markers if marker["severity"] == severity]
        if not points:
            continue
        traces.append({
            "type": "scatter", "mode": "markers", "name": t(f"control_room.severity.{severity}", lang),
            "x": [marker["lon"] for marker, _ in points], "y": [marker["lat"] for marker, _ in points],
            "marker": {"size": [round((11 + 3 * min(marker["count"], 5)) * scale, 1) for marker, _ in points],
                       "color": SEVERITY_COLOURS[Severity(severity)], "line": {"color": "#000", "width": scale}},
            "text": [f"{card.name}: {marker['title']}" + (f" ×{marker['count']}" if marker["count"] > 1 else "")
                     for marker, card in points], "hoverinfo": "text", "showlegend": True})
    traces.append({
        "type": "scatter", "mode": "markers+text", "name": "IOC", "showlegend": False,
        "x": [card.centre[0] for card in region], "y": [card.centre[1] for card in region],
        "text": [card.name for card in region], "textposition": "top center",
        "textfont": {"size": round(16 * scale), "color": LABEL_COLOUR},
        "marker": {"symbol": "diamond-wide", "size": round(20 * scale),
                   "color": [OWN_COLOUR if card.own else _state_colour(card.state) for card in region],
                   "line": {"color": "#000", "width": 2 * scale}},
        "hoverinfo": "text"})
    xs = [card.centre[0] for card in region]
    ys = [card.centre[1] for card in region]
    west, south, east, north = area_index(city).bounds()
    xs += [west, east]
    ys += [south, north]
    pad = 0.15
    return {"data": traces, "layout": {
        "paper_bgcolor": MAP_BACKGROUND, "plot_bgcolor": MAP_BACKGROUND, "margin": {"l": 0, "r": 0, "t": 0, "b": 0},
        "xaxis": {"visible": False, "range": [min(xs) - pad, max(xs) + pad]},
        "yaxis": {"visible": False, "range": [min(ys) - pad, max(ys) + pad], "scaleanchor": "x",
                  "scaleratio": 1.04},  # a degree of longitude is shorter than one of latitude at 16° N
        "legend": {"font": {"color": LABEL_COLOUR, "size": round(14 * scale)}, "bgcolor": "rgba(7,13,24,0.7)",
                   "x": 0.01, "y": 0.99},
        "font": {"color": LABEL_COLOUR, "size": round(14 * scale)}, "uirevision": "region", "dragmode": "pan"}}


def _state_colour(state: str) -> str:
    return {"ok": PEER_COLOUR, "slow": "#ff9100", "down": "#ff3d3d", "refused": "#ff3dd2"}.get(state, "#b0bec5")
