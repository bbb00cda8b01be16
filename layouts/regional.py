"""The regional page (/regional): this city and each peer IOC side by side (KPIs, open alerts, feed health, and
whether the peer answers: "slow", "down since"), and a map of the region with every city and its open alerts.
Layout and thin callbacks; what is shown is computed in ioc.regional_view from readings kept by ioc.regional."""

from __future__ import annotations

from typing import Any

from dash import ClientsideFunction, Input, Output, State, dcc, html

from ioc.i18n import t
from ioc.map_view import screen_scale
from ioc.model import utcnow
from ioc.pages import Callback, Page
from ioc.regional import SEVERITIES
from ioc.regional_view import Card, cards, region_figure, regional_of
from ioc.web import WebContext, language
from layouts import ids

REFRESH_MS = 5000
MAP_CONFIG = {"displaylogo": False, "scrollZoom": True, "modeBarButtonsToRemove": ["select2d", "lasso2d"]}


def layout(_context: WebContext, **_query: Any) -> html.Div:
    return html.Div(className="regional-page", children=[
        dcc.Interval(id=ids.REGIONAL_TICK, interval=REFRESH_MS),
        dcc.Store(id=ids.REGIONAL_SCALE),
        html.Div(className="regional-head", children=[html.H1(id=ids.REGIONAL_TITLE, className="regional-title"),
                                                      html.Div(id=ids.REGIONAL_NOTE, className="regional-note")]),
        html.Div(className="regional-body", children=[
            html.Section(id=ids.REGIONAL_CARDS, className="regional-cards"),
            html.Section(className="panel regional-map-panel", children=[
                dcc.Graph(id=ids.REGIONAL_MAP, config=MAP_CONFIG, className="regional-map", responsive=True,
                          figure={"data": [], "layout": {"paper_bgcolor": "#070d18", "plot_bgcolor": "#070d18"}}),
            ]),
        ]),
    ])


def card_view(card: Card, lang: str) -> html.Article:
    counts = [html.Span(f"{card.alerts.get(name, 0)}", title=t(f"control_room.severity.{name}", lang),
                        className=f"regional-sev regional-sev--{name}")
              for name in SEVERITIES if card.alerts.get(name)]
    alerts = "—" if card.alerts_total is None else str(card.alerts_total)
    feeds = ("—" if card.feeds_ok is None
             else t("regional.feeds_line", lang, ok=card.feeds_ok, attention=card.feeds_attention))
    return html.Article(className=f"panel regional-card regional-card--{card.state}"
                                  + (" regional-card--own" if card.own else ""),
                        **{"data-peer": card.id, "data-state": card.state}, children=[
        html.Div(className="regional-card-head", children=[
            html.H2(card.name, className="regional-card-name"),
            html.Span(card.state_text, className=f"regional-state regional-state--{card.state}"),
        ]),
        html.Div(card.values_text, className="regional-values-at"),
        html.Div(className="regional-alerts", children=[
            html.Span(t("regional.open_alerts", lang), className="regional-label"),
            html.Span(alerts, className="regional-alerts-total"), *counts]),
        html.Div(className="regional-feeds", children=[html.Span(t("regional.feeds", lang),
                                                                 className="regional-label"), html.Span(feeds)]),
        html.Ul(className="regional-kpis", children=[
            html.Li(className="regional-kpi", children=[html.Span(label, className="regional-kpi-label", title=label),
                                                        html.Span(value, className="regional-kpi-value"),
                                                        html.Span(unit, className="regional-kpi-unit")])
            for label, value, unit in card.kpis] or [html.Li(t("regional.no_kpis", lang), className="regional-kpi")]),
    ])


def refresh(context: WebContext, _tick: int | None, lang: str | None, scale: float | None
            ) -> tuple[Any, Any, Any, Any]:
    """Draws from the kept readings only: asking the peers happens in the background (ioc.regional)."""
    lang = language(lang)
    now = utcnow()
    regional = regional_of(context)
    region = cards(context, regional, lang, now)
    note = (t("regional.note", lang, n=len(regional.config.peers), seconds=f"{regional.config.refresh:g}")
            if regional.config.peers else t("regional.no_peers", lang))
    figure = region_figure(context.settings.city, region, lang, screen_scale(scale))
    return t("regional.title", lang), note, [card_view(card, lang) for card in region], figure


PAGE = Page(
    module=__name__,
    path="/regional",
    title_key="nav.regional",
    order=5,
    permission="control_room.view",
    nav_id=ids.NAV_REGIONAL,
    layout=layout,
    callbacks=(
        Callback(
            outputs=(Output(ids.REGIONAL_TITLE, "children"), Output(ids.REGIONAL_NOTE, "children"),
                     Output(ids.REGIONAL_CARDS, "children"), Output(ids.REGIONAL_MAP, "figure")),
            inputs=(Input(ids.REGIONAL_TICK, "n_intervals"), Input(ids.LANG, "data"),
                    Input(ids.REGIONAL_SCALE, "data")),
            function=refresh,
        ),
        Callback(
            outputs=(Output(ids.REGIONAL_SCALE, "data"),),
            inputs=(Input(ids.REGIONAL_TICK, "n_intervals"),),
            states=(State(ids.REGIONAL_SCALE, "data"),),
            function=ClientsideFunction(namespace="ioc", function_name="screenScale"),
        ),
    ),
)
