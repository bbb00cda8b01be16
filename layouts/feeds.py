"""The feeds page (/feeds): every agency feed's freshness, worst first, and the records and payloads refused."""

from __future__ import annotations

from typing import Any

import dash
from dash import ALL, Input, Output, State, dcc, html

from ioc.alerts.service import Service
from ioc.auth import may
from ioc.feed_board import FeedRow, RejectedPayload, feed_rows, rejected_payloads, status_counts
from ioc.i18n import t
from ioc.model import to_iso, utcnow
from ioc.pages import Callback, Page
from ioc.store import FeedHealth
from ioc.web import WebContext, language
from layouts import ids
from layouts.feeds_service import CALLBACKS as SERVICE_CALLBACKS
from layouts.feeds_service import service_panel

REFRESH_MS = 2000
# the payloads a reader refused, as received: the details panel is there only for roles that may read them
# (an operator sees the board read-only)
RAW = "feeds.raw"
COLUMNS = ("status", "agency", "sector", "reader", "cadence", "last_success", "lag", "records", "latency",
           "last_error", "details")


def layout(context: WebContext, feed: str | None = None, **_query: Any) -> html.Div:
    return html.Div(
        className="feeds-page",
        children=[
            dcc.Interval(id=ids.FEEDS_TICK, interval=REFRESH_MS),
            # /feeds?feed=<name> (a control-room tile's "stale since" link) opens with that feed marked
            dcc.Store(id=ids.FEEDS_SELECTED, data=feed if feed in {f.name for f in context.settings.feeds} else None),
            dcc.Store(id=ids.FEEDS_DETAILS_SEEN),
            html.Div(
                className="feeds-head",
                children=[html.H1(id=ids.FEEDS_TITLE, className="feeds-title"),
                          html.Div(id=ids.FEEDS_SUMMARY, className="feeds-summary")],
            ),
            html.Section(id=ids.FEEDS_BOARD, className="panel feeds-board"),
            *([html.Section(id=ids.FEEDS_DETAILS, className="panel feeds-details")] if may(RAW) else []),
            service_panel(context),
        ],
    )


def _change(row: FeedRow) -> Any:
    if row.record_change is None or row.record_change == 0:
        return None
    sign = "+" if row.record_change > 0 else "−"
    return html.Span(f"{sign}{abs(row.record_change):,}",
                     className="records-change records-change--" + ("up" if row.record_change > 0 else "down"))


def board_row(row: FeedRow, lang: str, selected: str | None) -> html.Tr:
    classes = f"feed-row feed-row--{row.status}" + (" feed-row--selected" if row.feed == selected else "")
    return html.Tr(
        className=classes,
        **{"data-feed": row.feed},
        children=[
            html.Td(html.Span(row.status_text, className=f"status-pill status-pill--{row.status}")),
            html.Td([html.Div(row.agency, className="feed-agency"), html.Div(row.feed, className="feed-name")]),
            html.Td(html.Span(row.sector, className="sector-chip", style={"--sector": row.sector_colour})),
            html.Td(row.reader, className="mono"),
            html.Td(row.cadence_text, className="num"),
            html.Td([html.Div(row.last_success_text), html.Div(row.last_success_ago, className="muted")],
                    className="when"),
            html.Td(row.lag_text, className="num"),
            html.Td([f"{row.record_count:,}" if row.record_count is not None else "—", " ", _change(row),
                     html.Div(row.problems_text, className="records-problems") if row.problems_text else None],
                    className="num"),
            html.Td(row.latency_text, className="num"),
            html.Td(
                [html.Div(row.last_error, className="feed-error", title=row.last_error),
                 html.Div(row.last_error_at_text, className="muted")] if row.last_error else "—",
                className="feed-error-cell",
            ),
            html.Td(html.Button(t("feeds.details_button", lang), id=ids.feed_details_button(row.feed),
                                className="details-button") if may(RAW) else None),
        ],
    )


def board(rows: list[FeedRow], lang: str, selected: str | None) -> html.Table:
    return html.Table(
        className="feed-table",
        children=[
            html.Thead(html.Tr([html.Th(t(f"feeds.col.{column}", lang)) for column in COLUMNS])),
            html.Tbody([board_row(row, lang, selected) for row in rows]),
        ],
    )


def summary(rows: list[FeedRow], lang: str) -> list[Any]:
    counts = status_counts(rows)
    pills = []
    for status in ("ok", "stale", "failing", "never", "out_of_service", "maintenance"):
        if status == "ok" or counts[status]:
            pills.append(html.Span(t(f"feeds.summary.{status}", lang, n=counts[status]),
                                   className=f"status-pill summary-pill status-pill--{status}"))
    return pills


def refresh_board(context: WebContext,
                  _tick: int | None, lang: str | None, selected: str | None) -> tuple[Any, Any, Any]:
    """The board redraws on every tick: its ages move every second and it is one small table."""
    lang = language(lang)
    settings = context.settings
    health = context.store.all_health(feed.name for feed in settings.feeds)
    now = utcnow()
    silenced = Service(context.store.redis, context.store.keys, settings).suppression(now)
    service = {feed.name: state for feed in settings.feeds if (state := silenced.feed_state(feed.name))}
    rows = feed_rows(settings, health, lang, now, service)
    return t("feeds.title", lang), summary(rows, lang), board(rows, lang, selected)


def select_feed(_context: WebContext, _clicks: list[int | None], selected: str | None) -> Any:
    """A click on a row's details button opens that feed's panel; a second click closes it."""
    trigger = dash.ctx.triggered_id
    # a redraw of the board re-creates the buttons, which can fire this callback without a click
    if not isinstance(trigger, dict) or not any(item.get("value") for item in dash.ctx.triggered):
        return dash.no_update
    return toggle_selection(trigger.get("feed"), selected)


def toggle_selection(clicked: str | None, selected: str | None) -> str | None:
    return None if clicked == selected else clicked


def rejected_item(item: RejectedPayload, lang: str) -> html.Div:
    size = item.size_text + (f" · {t('feeds.details.truncated', lang)}" if item.truncated else "")
    return html.Div(
        className="rejected",
        children=[
            html.Div([html.Span(item.at_text, className="rejected-at"), html.Span(size, className="muted")],
                     className="rejected-head"),
            html.Div(item.error, className="rejected-error"),
            html.Pre(item.preview, className="rejected-payload"),
        ],
    )


def record_problems(health: FeedHealth | None, lang: str) -> list[Any]:
    """The records the last stored poll refused or repaired, each with its reason (the first few of them)."""
    count = (health.records_refused + health.records_repaired) if health else 0
    title = html.H3(t("feeds.details.problems", lang, n=count), className="details-subtitle")
    if not health or not count:
        return [title, html.Div(t("feeds.details.no_problems", lang), className="muted")]
    return [title, html.Ul(
        [html.Li(str(problem), className="record-problem" + ("" if problem.refused else " record-problem--repaired"))
         for problem in health.record_problems],
        className="record-problems",
    )]


def refresh_details(context: WebContext,
                    selected: str | None, lang: str | None, _tick: int | None, seen: dict[str, Any] | None
) -> tuple[Any, Any]:
    """The selected feed's last error and refused payloads; fetched again only when that feed fails again."""
    lang = language(lang)
    if not selected:
        signature: dict[str, Any] = {"feed": None, "lang": lang}
        if seen == signature:
            return dash.no_update, dash.no_update
        return html.Div(t("feeds.details.choose", lang), className="muted details-empty"), signature
    health = context.store.feed_health(selected)
    signature = {
        "feed": selected,
        "lang": lang,
        # times have one-second resolution: the failure count tells two failures in one second apart
        "error_at": to_iso(health.last_error_at) if health else "",
        "failures": health.consecutive_failures if health else 0,
        # a poll that refuses other records than the last one changes the panel without failing
        "problems": [str(problem) for problem in health.record_problems] if health else [],
    }
    if seen == signature:
        return dash.no_update, dash.no_update
    payloads = rejected_payloads(context.store, selected)
    try:
        feed_label = context.settings.feed(selected).agency_name.get(lang)
    except KeyError:
        feed_label = selected
    children: list[Any] = [
        html.H2(t("feeds.details.title", lang, feed=f"{feed_label} ({selected})"), className="panel-title"),
        html.Div(
            [html.Span(t("feeds.col.last_error", lang) + ": ", className="muted"),
             html.Span(health.last_error if health and health.last_error else "—", className="feed-error-full")],
            className="details-error",
        ),
        *record_problems(health, lang),
        html.H3(t("feeds.details.rejected", lang, n=len(payloads)), className="details-subtitle"),
    ]
    if payloads:
        children.extend(rejected_item(item, lang) for item in payloads)
    else:
        children.append(html.Div(t("feeds.details.no_rejected", lang), className="muted"))
    return children, signature


PAGE = Page(
    module=__name__,
    path="/feeds",
    title_key="nav.feeds",
    order=3,
    permission="feeds.view",
    nav_id=ids.NAV_FEEDS,
    layout=layout,
    callbacks=(
        Callback(
            outputs=(Output(ids.FEEDS_TITLE, "children"),
                     Output(ids.FEEDS_SUMMARY, "children"),
                     Output(ids.FEEDS_BOARD, "children")),
            inputs=(Input(ids.FEEDS_TICK, "n_intervals"),
                     Input(ids.LANG, "data"),
                     Input(ids.FEEDS_SELECTED, "data")),
            function=refresh_board,
        ),
        Callback(
            outputs=(Output(ids.FEEDS_SELECTED, "data"),),
            inputs=(Input({"type": ids.FEED_DETAILS_BUTTON, "feed": ALL}, "n_clicks"),),
            states=(State(ids.FEEDS_SELECTED, "data"),),
            function=select_feed,
            prevent_initial_call=True,
        ),
        Callback(
            outputs=(Output(ids.FEEDS_DETAILS, "children"),
                     Output(ids.FEEDS_DETAILS_SEEN, "data")),
            inputs=(Input(ids.FEEDS_SELECTED, "data"),
                     Input(ids.LANG, "data"),
                     Input(ids.FEEDS_TICK, "n_intervals")),
            states=(State(ids.FEEDS_DETAILS_SEEN, "data"),),
            function=refresh_details,
            permission="feeds.raw",
        ),
        *SERVICE_CALLBACKS,
    ),
)
