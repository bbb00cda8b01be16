"""The control room's components: tiles, the open-alert list, the legend beside the map, the detail card."""

from __future__ import annotations

from typing import Any

from dash import dcc, html

from ioc.auth import may
from ioc.city_map import AlertRow
from ioc.control_room import AlertList
from ioc.i18n import t
from ioc.kpis.tiles import KpiTile, tile_columns
from ioc.live_map import LegendEntry
from layouts import ids


def kpi_tile(tile: KpiTile, agency_full: str) -> html.Div:
    return html.Div(
        className="kpi-tile kpi-tile--stale" if tile.stale else "kpi-tile",
        style={"--sector": tile.colour},
        title=f"{tile.full_label} · {agency_full}",
        **{"data-feed": tile.feed},
        children=[
            html.Div(tile.label, className="kpi-label"),
            html.Div(
                [html.Span(tile.value_text, className="kpi-value"), html.Span(tile.unit, className="kpi-unit")],
                className="kpi-number",
            ),
            stale_badge(tile) if tile.stale_text else html.Div(tile.agency, className="kpi-agency"),
        ],
    )


def stale_badge(tile: KpiTile) -> Any:
    """"Stale since 10:42", opening the feed board behind it for a role that may read it."""
    if may("feeds.view"):
        return dcc.Link(tile.stale_text, href=f"/feeds?feed={tile.feed}", className="kpi-stale-badge",
                        title=tile.stale_text)
    return html.Div(tile.stale_text, className="kpi-stale-badge")


def kpi_panel(tiles: list[KpiTile], agency_names: dict[str, str], lang: str) -> list[Any]:
    stale = sum(1 for tile in tiles if tile.stale)
    title: list[Any] = [t("control_room.kpis", lang)]
    if stale:
        title.append(html.Span(t("control_room.stale_count", lang, n=stale), className="count-badge count-badge--stale"))
    return [
        html.H2(title, className="panel-title"),
        html.Div([kpi_tile(tile, agency_names.get(tile.feed, tile.agency)) for tile in tiles], className="kpi-grid",
                 style={"--kpi-columns": tile_columns(len(tiles))}),
    ]


def alert_item(row: AlertRow, lang: str) -> html.Div:
    meta = " · ".join(part for part in (row.district, row.value_text, row.state_text) if part)
    return html.Div(
        className=f"alert-row alert-row--{row.severity}",
        style={"--severity": row.colour},
        **{"data-alert": row.id},
        children=[
            html.Div(row.severity_text, className="alert-severity"),
            html.Div([html.Div(row.title, className="alert-title"), html.Div(meta, className="alert-meta")],
                     className="alert-body"),
            html.Div(
                [
                    html.Div(row.age_text, className="alert-age"),
                    html.Div(t("control_room.alert_since", lang, time=row.raised_text, n=row.occurrences),
                             className="alert-since"),
                ],
                className="alert-when",
            ),
        ],
    )


def alert_panel(listing: AlertList, lang: str) -> list[Any]:
    """The open alerts, most severe first: the first rows and a line counting the rest; the title counts the
    whole queue by severity, whatever is listed below."""
    body: list[Any] = [alert_item(row, lang) for row in listing.rows]
    if listing.more:
        body.append(html.Div(t("control_room.more_alerts", lang, n=listing.more), className="alert-more",
                             **{"data-more": str(listing.more)}))
    chips = [html.Span(f"{text} {count}", className=f"severity-chip severity-chip--{severity}")
             for severity, count, text in listing.by_severity]
    return [
        html.H2(
            [t("control_room.alerts", lang),
             html.Span(str(listing.total), className="count-badge" + (" count-badge--hot" if listing.total else ""),
                       id=ids.ALERT_COUNT),
             html.Span(chips, className="severity-chips")],
            className="panel-title",
        ),
        html.Div(body or html.Div(t("control_room.no_alerts", lang), className="alert-empty"),
                 className="alert-list"),
    ]


def legend(entries: list[LegendEntry], hidden: frozenset[str] = frozenset(), lang: str = "en") -> list[Any]:
    """The map's layers as chips beside it (never over the data); a click hides or shows a sector."""
    chips: list[Any] = []
    for entry in entries:
        off = entry.sector in hidden
        label: list[Any] = [html.Span(entry.glyph, className="legend-glyph", style={"color": entry.colour},
                                      **{"aria-hidden": "true"}), entry.name]
        if entry.stale:
            label.append(html.Span(f"⚠ {t('map.stale_layer', lang)}", className="legend-stale"))
        chips.append(html.Button(label, id=ids.map_layer_toggle(entry.sector), n_clicks=0,
                                 title=t("map.legend.toggle", lang), **{"aria-pressed": "false" if off else "true"},
                                 className="legend-chip" + (" legend-chip--stale" if entry.stale else "")
                                 + (" legend-chip--off" if off else "")))
    chips.append(html.Span([html.Span(className="legend-ring"), t("map.alerts_layer", lang)],
                           className="legend-chip legend-chip--alerts"))
    return chips


def detail_card(title: str, lines: list[str]) -> list[Any]:
    return [html.Div(title, className="map-detail-title"), *[html.Div(line, className="map-detail-line")
                                                             for line in lines]]
