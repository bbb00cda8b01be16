"""Administration's section for sharing agreements with peer IOCs: grant one (datasets, KPIs, granularity,
expiry; its key shown once), the list of agreements, revoke one. Audited by ioc.sharing.AgreementBook."""

from __future__ import annotations

from typing import Any

import dash
import flask
from dash import ALL, Input, Output, State, dcc, html

from ioc.auth import current_actor, current_address
from ioc.i18n import t
from ioc.pages import Callback
from ioc.sharing import DATASETS, GRANULARITIES, AgreementBook, SharingError
from ioc.sharing.agreements import agreement_rows
from ioc.web import WebContext, language
from layouts import ids

DEFAULT_DATASETS = ["kpis", "alerts", "feeds"]


def peers_section() -> list[Any]:
    return [
        html.H2(t("admin.peers", "vi"), className="panel-title admin-peers-title"),
        html.Div(className="admin-form", children=[
            dcc.Input(id=ids.ADMIN_PEER_ID, type="text", placeholder=t("admin.peer_id", "vi"),
                      className="admin-input", maxLength=31),
            dcc.Input(id=ids.ADMIN_PEER_NAME, type="text", placeholder=t("admin.peer_name", "vi"),
                      className="admin-input", maxLength=80),
            dcc.Dropdown(id=ids.ADMIN_PEER_GRANULARITY, options=[
                {"label": t(f"admin.granularity.{name}", "vi"), "value": name} for name in GRANULARITIES],
                value="aggregates", clearable=False, className="admin-select"),
        ]),
        dcc.Checklist(id=ids.ADMIN_PEER_DATASETS, options=[{"label": name, "value": name} for name in DATASETS],
                      value=DEFAULT_DATASETS, inline=True, className="admin-peer-datasets"),
        html.Div(className="admin-form", children=[
            dcc.Input(id=ids.ADMIN_PEER_KPIS, type="text", placeholder=t("admin.peer_kpis", "vi"),
                      className="admin-input", maxLength=400),
            dcc.Input(id=ids.ADMIN_PEER_DAYS, type="number", min=1, placeholder=t("admin.peer_days", "vi"),
                      className="admin-input"),
            html.Button(t("admin.grant", "vi"), id=ids.ADMIN_PEER_GRANT, n_clicks=0, className="admin-button"),
        ]),
        html.Div(id=ids.ADMIN_PEERS_MESSAGE, className="admin-message"),
        html.Div(id=ids.ADMIN_PEERS, className="admin-peers"),
    ]


def _book() -> AgreementBook:
    users = flask.current_app.extensions["ioc_security"].users
    return AgreementBook(users.redis, users.keys, users)


def peers_table(lang: str) -> Any:
    rows = agreement_rows(_book())
    if not rows:
        return html.Div(t("admin.no_peers", lang), className="muted")
    body = [html.Tr(className="admin-peer" + ("" if row["state"] == "in force" else " admin-user--disabled"),
                    **{"data-peer": row["peer"]}, children=[
        html.Td(row["peer"], className="mono"),
        html.Td(row["name"]),
        html.Td(f"{row['datasets']} · {row['kpis']}"),
        html.Td(t(f"admin.granularity.{row['granularity']}", lang)),
        html.Td(t(f"admin.peer_state.{row['state'].replace(' ', '_')}", lang)
                + (f" ({row['expires'][:10]})" if row["expires"] else "")),
        html.Td(None if row["state"] == "revoked" else html.Button(
            t("admin.revoke", lang), id={"type": ids.ADMIN_PEER_REVOKE, "peer": row["peer"]}, n_clicks=0,
            className="admin-button admin-button--small admin-button--danger")),
    ]) for row in rows]
    head = html.Thead(html.Tr([html.Th(t(f"admin.col.{col}", lang))
                               for col in ("peer", "name", "datasets", "granularity", "status", "action")]))
    return html.Table([head, html.Tbody(body)], className="admin-table")


def manage_peers(_context: WebContext, _grant: int, _revokes: list[int | None], lang: str | None,
                 peer: str | None, name: str | None, granularity: str | None, datasets: list[str] | None,
                 kpis: str | None, days: float | None) -> tuple[Any, Any]:
    """Grants an agreement (its key shown once) or revokes one, audited with who did it and from where."""
    lang = language(lang)
    trigger = dash.ctx.triggered_id
    clicked = any(item.get("value") for item in dash.ctx.triggered)
    book, actor, address = _book(), current_actor(), current_address()
    message: Any = ""
    try:
        if trigger == ids.ADMIN_PEER_GRANT and clicked:
            wanted = (peer or "").strip().lower()
            key = book.grant(wanted, name=name or wanted, datasets=list(datasets or []),
                             granularity=granularity or "aggregates",
                             kpis=[part.strip() for part in (kpis or "").split(",") if part.strip()],
                             days=float(days) if days else None, actor=actor, address=address)
            message = html.Div([html.Span(t("admin.peer_granted", lang, name=wanted) + " "),
                                html.Code(key, className="admin-secret")], className="admin-message admin-message--ok")
        elif isinstance(trigger, dict) and clicked and trigger.get("type") == ids.ADMIN_PEER_REVOKE:
            book.revoke(str(trigger.get("peer")), actor=actor, address=address)
    except SharingError as exc:
        message = html.Div(str(exc), className="admin-message admin-message--error")
    return message, peers_table(lang)


CALLBACKS = (
    Callback(
        outputs=(Output(ids.ADMIN_PEERS_MESSAGE, "children"), Output(ids.ADMIN_PEERS, "children")),
        inputs=(Input(ids.ADMIN_PEER_GRANT, "n_clicks"),
                Input({"type": ids.ADMIN_PEER_REVOKE, "peer": ALL}, "n_clicks"),
                Input(ids.LANG, "data")),
        states=(State(ids.ADMIN_PEER_ID, "value"), State(ids.ADMIN_PEER_NAME, "value"),
                State(ids.ADMIN_PEER_GRANULARITY, "value"), State(ids.ADMIN_PEER_DATASETS, "value"),
                State(ids.ADMIN_PEER_KPIS, "value"), State(ids.ADMIN_PEER_DAYS, "value")),
        function=manage_peers,
    ),
)
