"""The administration page (/admin): users and their roles, open-data API keys, and the audit trail with
its search and CSV export; plus the signed-in user's menu in the header."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

import dash
import flask
from dash import ALL, Input, Output, State, dcc, html

from ioc.access import csrf_token, safe_href
from ioc.audit import AuditEntry, AuditQuery, AuditTrail, parse_time
from ioc.auth import UserBook, UserError, current_actor, current_address, current_user, generate_password
from ioc.i18n import local_time, t
from ioc.model import from_iso
from ioc.pages import Callback, Page, Route
from ioc.wall.screens import ScreenBook, ScreenError
from ioc.wall.screens import pairing_address as screen_address
from ioc.web import WebContext, language
from layouts import admin_peers

USERS = "admin-users"
USERS_MESSAGE = "admin-users-message"
NEW_NAME = "admin-new-name"
NEW_ROLE = "admin-new-role"
ADD_USER = "admin-add-user"
KEY_HOLDER = "admin-key-holder"
ISSUE_KEY = "admin-issue-key"
KEYS = "admin-keys"
USER_TOGGLE = "admin-user-toggle"  # pattern: {"type": USER_TOGGLE, "user": <name>}
KEY_REVOKE = "admin-key-revoke"  # pattern: {"type": KEY_REVOKE, "holder": <name>}
AUDIT_ACTOR = "admin-audit-actor"
AUDIT_ACTION = "admin-audit-action"
AUDIT_SINCE = "admin-audit-since"
AUDIT_UNTIL = "admin-audit-until"
AUDIT_SEARCH = "admin-audit-search"
AUDIT_RESULTS = "admin-audit-results"
AUDIT_EXPORT = "admin-audit-export"
TITLE = "admin-title"
SCREEN_ID = "admin-screen-id"
SCREEN_NAME = "admin-screen-name"
ADD_SCREEN = "admin-add-screen"
SCREENS = "admin-screens"
SCREENS_MESSAGE = "admin-screens-message"
SCREEN_KEY = "admin-screen-key"  # pattern: {"type": SCREEN_KEY, "screen": <id>}
SCREEN_REVOKE = "admin-screen-revoke"  # pattern: {"type": SCREEN_REVOKE, "screen": <id>}
AUDIT_SHOWN = 200
LANG = "ioc-lang"  # the shell's language store (layouts.ids.LANG)


def _security() -> Any:
    return flask.current_app.extensions["ioc_security"]


def _users() -> UserBook:
    return _security().users


def layout(_context: WebContext, **_query: Any) -> html.Div:
    roles = _security().roles
    return html.Div(
        className="admin-page",
        children=[
            html.H1(id=TITLE, className="admin-title"),
            html.Div(className="admin-columns", children=[
                html.Section(className="panel admin-panel", children=[
                    html.H2(t("admin.users", "vi"), className="panel-title admin-users-title"),
                    html.Div(className="admin-form", children=[
                        dcc.Input(id=NEW_NAME, type="text", placeholder=t("admin.new_name", "vi"),
                                  className="admin-input", debounce=False, maxLength=40),
                        dcc.Dropdown(id=NEW_ROLE, options=[{"label": f"{role.title.vi} ({name})", "value": name}
                                                           for name, role in roles.roles.items()],
                                     value=next(iter(roles.roles)), clearable=False, className="admin-select"),
                        html.Button(t("admin.add", "vi"), id=ADD_USER, n_clicks=0, className="admin-button"),
                    ]),
                    html.Div(id=USERS_MESSAGE, className="admin-message"),
                    html.Div(id=USERS, className="admin-users"),
                    html.H2(t("admin.api_keys", "vi"), className="panel-title"),
                    html.Div(className="admin-form", children=[
                        dcc.Input(id=KEY_HOLDER, type="text", placeholder=t("admin.key_holder", "vi"),
                                  className="admin-input", maxLength=40),
                        html.Button(t("admin.issue_key", "vi"), id=ISSUE_KEY, n_clicks=0, className="admin-button"),
                    ]),
                    html.Div(id=KEYS, className="admin-keys"),
                    *screens_section(),
                    *admin_peers.peers_section(),
                ]),
                html.Section(className="panel admin-panel admin-audit", children=[
                    html.H2(t("admin.audit", "vi"), className="panel-title"),
                    html.Div(className="admin-form admin-audit-form", children=[
                        dcc.Input(id=AUDIT_ACTOR, type="text", placeholder=t("admin.audit.actor", "vi"),
                                  className="admin-input"),
                        dcc.Input(id=AUDIT_ACTION, type="text", placeholder=t("admin.audit.action", "vi"),
                                  className="admin-input"),
                        dcc.Input(id=AUDIT_SINCE, type="text", placeholder=t("admin.audit.since", "vi"),
                                  className="admin-input"),
                        dcc.Input(id=AUDIT_UNTIL, type="text", placeholder=t("admin.audit.until", "vi"),
                                  className="admin-input"),
                        html.Button(t("admin.audit.search", "vi"), id=AUDIT_SEARCH, n_clicks=0,
                                    className="admin-button"),
                        html.A(t("admin.audit.export", "vi"), id=AUDIT_EXPORT, href="/admin/audit.csv",
                               className="admin-button admin-export"),
                    ]),
                    html.Div(id=AUDIT_RESULTS, className="admin-audit-results"),
                ]),
            ]),
        ],
    )


# --- users and keys --------------------------------------------------------------------------------------


def users_table(lang: str) -> html.Table:
    me = current_actor("")
    roles = _security().roles
    rows = []
    for user in _users().all():
        role = roles.role(user.role)
        toggle = html.Button(
            t("admin.enable" if user.disabled else "admin.disable", lang),
            id={"type": USER_TOGGLE, "user": user.name}, n_clicks=0,
            className="admin-button admin-button--small" + ("" if user.disabled else " admin-button--danger"),
        ) if user.name != me else html.Span(t("admin.you", lang), className="muted")
        rows.append(html.Tr(className="admin-user" + (" admin-user--disabled" if user.disabled else ""),
                            **{"data-user": user.name}, children=[
            html.Td(user.name, className="mono"),
            html.Td(role.title.get(lang) if role else user.role),
            html.Td(t("admin.disabled" if user.disabled else "admin.active", lang)),
            html.Td(local_time(user.last_sign_in, "%H:%M %d/%m/%Y") if user.last_sign_in else "—"),
            html.Td(user.created_by or "—", className="muted"),
            html.Td(toggle),
        ]))
    head = html.Thead(html.Tr([html.Th(t(f"admin.col.{col}", lang))
                               for col in ("name", "role", "status", "last_sign_in", "created_by", "action")]))
    return html.Table([head, html.Tbody(rows)], className="admin-table")


def keys_table(lang: str) -> Any:
    holders = _users().api_key_holders()
    if not holders:
        return html.Div(t("admin.no_keys", lang), className="muted")
    rows = [html.Tr([html.Td(item["holder"], className="mono"),
                     html.Td(local_time(from_iso(item["created_at"]), "%H:%M %d/%m/%Y")),
                     html.Td(item["created_by"], className="muted"),
                     html.Td(html.Button(t("admin.revoke", lang), id={"type": KEY_REVOKE, "holder": item["holder"]},
                                         n_clicks=0, className="admin-button admin-button--small admin-button--danger"))])
            for item in holders]
    head = html.Thead(html.Tr([html.Th(t(f"admin.col.{col}", lang)) for col in ("holder", "created", "created_by",
                                                                                "action")]))
    return html.Table([head, html.Tbody(rows)], className="admin-table")


def _secret_message(label: str, secret: str) -> html.Div:
    return html.Div([html.Span(label + " "), html.Code(secret, className="admin-secret")],
                    className="admin-message admin-message--ok")


def manage_users(_context: WebContext,
                 _add: int, _issue: int, _toggles: list[int | None], _revokes: list[int | None], lang: str | None,
                 name: str | None, role: str | None, holder: str | None) -> tuple[Any, Any, Any, Any]:
    """Adds a user, issues or revokes a key, disables or enables a user; then redraws both tables."""
    lang = language(lang)
    trigger = dash.ctx.triggered_id
    clicked = any(item.get("value") for item in dash.ctx.triggered)
    book, actor, address = _users(), current_actor(), current_address()
    message: Any = ""
    try:
        if trigger == ADD_USER and clicked:
            password = generate_password()
            user = book.add(name or "", role or "", password, actor=actor, address=address)
            message = _secret_message(t("admin.added", lang, name=user.name), password)
        elif trigger == ISSUE_KEY and clicked:
            key = book.issue_api_key(holder or "", actor=actor, address=address)
            message = _secret_message(t("admin.key_issued", lang, name=(holder or "").strip().lower()), key)
        elif isinstance(trigger, dict) and clicked and trigger.get("type") == USER_TOGGLE:
            target = book.get(str(trigger.get("user")))
            if target is not None and target.name != actor:
                book.set_disabled(target.name, not target.disabled, actor=actor, address=address)
        elif isinstance(trigger, dict) and clicked and trigger.get("type") == KEY_REVOKE:
            book.revoke_api_key(str(trigger.get("holder")), actor=actor, address=address)
    except UserError as exc:
        message = html.Div(str(exc), className="admin-message admin-message--error")
    return t("admin.title", lang), message, users_table(lang), keys_table(lang)


# --- wall screens: devices with a view-only key (ioc.wall.screens) ---------------------------------------


def screens_section() -> list[Any]:
    return [
        html.H2(t("admin.screens", "vi"), className="panel-title admin-screens-title"),
        html.Div(className="admin-form", children=[
            dcc.Input(id=SCREEN_ID, type="text", placeholder=t("admin.screen_id", "vi"), className="admin-input",
                      maxLength=40),
            dcc.Input(id=SCREEN_NAME, type="text", placeholder=t("admin.screen_name", "vi"),
                      className="admin-input", maxLength=80),
            html.Button(t("admin.add_screen", "vi"), id=ADD_SCREEN, n_clicks=0, className="admin-button"),
        ]),
        html.Div(id=SCREENS_MESSAGE, className="admin-message"),
        html.Div(id=SCREENS, className="admin-screens"),
    ]


def _screens() -> ScreenBook:
    users = _users()
    return ScreenBook(users.redis, users.keys)


def screens_table(lang: str) -> Any:
    screens = _screens().all()
    if not screens:
        return html.Div(t("admin.no_screens", lang), className="muted")
    rows = [html.Tr(className="admin-screen" + (" admin-user--disabled" if screen.revoked else ""),
                    **{"data-screen": screen.id}, children=[
        html.Td(screen.id, className="mono"),
        html.Td(screen.name),
        html.Td(t("admin.screen_revoked" if screen.revoked else "admin.active", lang)),
        html.Td(local_time(screen.last_seen, "%H:%M %d/%m/%Y") if screen.last_seen else "—"),
        html.Td([dcc.Link(t("admin.preview", lang), href=f"/wall?screen={screen.id}",
                          className="admin-button admin-button--small"),
                 html.Button(t("admin.new_key", lang), id={"type": SCREEN_KEY, "screen": screen.id}, n_clicks=0,
                             className="admin-button admin-button--small"),
                 None if screen.revoked else html.Button(
                     t("admin.revoke", lang), id={"type": SCREEN_REVOKE, "screen": screen.id}, n_clicks=0,
                     className="admin-button admin-button--small admin-button--danger")]),
    ]) for screen in screens]
    head = html.Thead(html.Tr([html.Th(t(f"admin.col.{col}", lang))
                               for col in ("screen", "name", "status", "last_seen", "action")]))
    return html.Table([head, html.Tbody(rows)], className="admin-table")


def manage_screens(_context: WebContext, _add: int, _keys: list[int | None], _revokes: list[int | None],
                   lang: str | None, screen_id: str | None, name: str | None) -> tuple[Any, Any]:
    """Registers a screen, gives one a new key or revokes one (audited); a key is shown once, inside the
    address the screen opens."""
    lang = language(lang)
    trigger = dash.ctx.triggered_id
    clicked = any(item.get("value") for item in dash.ctx.triggered)
    book, actor, address = _screens(), current_actor(), current_address()
    message: Any = ""
    try:
        if trigger == ADD_SCREEN and clicked:
            key = book.add(screen_id or "", name or "", actor=actor, address=address)
            wanted = (screen_id or "").strip().lower()
            message = _secret_message(t("admin.screen_added", lang, name=wanted), pairing_address(wanted, key))
        elif isinstance(trigger, dict) and clicked and trigger.get("type") == SCREEN_KEY:
            wanted = str(trigger.get("screen"))
            key = book.new_key(wanted, actor=actor, address=address)
            message = _secret_message(t("admin.screen_key", lang, name=wanted), pairing_address(wanted, key))
        elif isinstance(trigger, dict) and clicked and trigger.get("type") == SCREEN_REVOKE:
            book.revoke(str(trigger.get("screen")), actor=actor, address=address)
    except ScreenError as exc:
        message = html.Div(str(exc), className="admin-message admin-message--error")
    return message, screens_table(lang)


def pairing_address(screen_id: str, key: str) -> str:
    return screen_address(flask.request.host_url, screen_id, key)


# --- audit trail -----------------------------------------------------------------------------------------


def audit_query(actor: str | None, action: str | None, since: str | None, until: str | None,
                limit: int = AUDIT_SHOWN) -> AuditQuery:
    return AuditQuery(actor=(actor or "").strip(), action=(action or "").strip(), since=parse_time(since),
                      until=parse_time(until), limit=limit)


def export_href(actor: str | None, action: str | None, since: str | None, until: str | None) -> str:
    query = {key: value.strip() for key, value in (("actor", actor), ("action", action), ("since", since),
                                                   ("until", until)) if value and value.strip()}
    return safe_href("/admin/audit.csv" + ("?" + urlencode(query) if query else "")) or "/admin/audit.csv"


def audit_row(entry: AuditEntry) -> html.Tr:
    change = f"{entry.from_state} → {entry.to_state}" if entry.from_state or entry.to_state else ""
    return html.Tr(className="audit-row", children=[
        html.Td(local_time(from_iso(entry.at), "%H:%M:%S %d/%m/%Y") if entry.at else "—", className="mono"),
        html.Td(entry.actor, className="mono"),
        html.Td(entry.action),
        html.Td(entry.object, className="mono"),
        html.Td(change),
        html.Td(entry.address, className="mono muted"),
        html.Td(entry.note, className="audit-note"),
    ])


def search_audit(context: WebContext,
                 _clicks: int, lang: str | None, actor: str | None, action: str | None, since: str | None,
                 until: str | None) -> tuple[Any, str]:
    lang = language(lang)
    entries = AuditTrail(context.store.redis, context.store.keys).search(audit_query(actor, action, since, until))
    head = html.Thead(html.Tr([html.Th(t(f"admin.audit.col.{col}", lang))
                               for col in ("at", "actor", "action", "object", "change", "address", "note")]))
    body: Any = html.Table([head, html.Tbody([audit_row(entry) for entry in entries])], className="admin-table")
    if not entries:
        body = html.Div(t("admin.audit.none", lang), className="muted")
    return [html.Div(t("admin.audit.shown", lang, n=len(entries)), className="muted"), body], \
        export_href(actor, action, since, until)


def audit_csv(context: WebContext) -> flask.Response:
    """GET /admin/audit.csv: the search as CSV (ioc.access lets only audit.view through); read-only."""
    args = flask.request.args
    query = audit_query(args.get("actor"), args.get("action"), args.get("since"), args.get("until"), limit=100_000)
    from ioc.audit import to_csv

    trail = AuditTrail(context.store.redis, context.store.keys)
    body = to_csv(trail.search(query))
    trail.record(actor=current_actor(), action="audit.exported", object="audit", address=current_address(),
                 note=" ".join(f"{k}={v}" for k, v in args.items())[:300])
    response = flask.make_response("\ufeff" + body)  # the BOM makes spreadsheets read Vietnamese as UTF-8
    response.headers["Content-Type"] = "text/csv; charset=utf-8"
    response.headers["Content-Disposition"] = "attachment; filename=audit.csv"
    response.headers["Cache-Control"] = "no-store"
    return response


# --- the header's account menu --------------------------------------------------------------------------


def account_menu(lang: str = "vi") -> html.Div:
    """Who is signed in, their role, and the sign-out button (a real form post to /logout)."""
    user = current_user()
    if user is None:
        return html.Div(className="ioc-account")
    roles = _security().roles
    role = roles.role(user.role)
    admin_link = (dcc.Link(t("nav.admin", lang), href="/admin", className="ioc-account-admin")
                  if roles.allows(user.role, "users.manage") else None)
    return html.Div(className="ioc-account", children=[
        admin_link,
        html.Div([html.Div(user.name, className="ioc-account-name"),
                  html.Div(role.title.get(lang) if role else user.role, className="ioc-account-role")],
                 className="ioc-account-who"),
        html.Form(action="/logout", method="POST", className="ioc-account-form", children=[
            # sign-out checks it, so another site's page cannot sign the operator out
            dcc.Input(type="hidden", name="csrf", value=csrf_token()),
            html.Button(t("auth.sign_out", lang), type="submit", className="ioc-signout-button"),
        ]),
    ])


PAGE = Page(
    module=__name__,
    path="/admin",
    title_key="nav.admin",
    order=90,
    permission="users.manage",
    layout=layout,
    callbacks=(
        Callback(
            outputs=(Output(TITLE, "children"),
                     Output(USERS_MESSAGE, "children"),
                     Output(USERS, "children"),
                     Output(KEYS, "children")),
            inputs=(Input(ADD_USER, "n_clicks"),
                     Input(ISSUE_KEY, "n_clicks"),
                     Input({"type": USER_TOGGLE, "user": ALL}, "n_clicks"),
                     Input({"type": KEY_REVOKE, "holder": ALL}, "n_clicks"),
                     Input(LANG, "data")),
            states=(State(NEW_NAME, "value"),
                     State(NEW_ROLE, "value"),
                     State(KEY_HOLDER, "value")),
            function=manage_users,
        ),
        Callback(
            outputs=(Output(SCREENS_MESSAGE, "children"), Output(SCREENS, "children")),
            inputs=(Input(ADD_SCREEN, "n_clicks"),
                    Input({"type": SCREEN_KEY, "screen": ALL}, "n_clicks"),
                    Input({"type": SCREEN_REVOKE, "screen": ALL}, "n_clicks"),
                    Input(LANG, "data")),
            states=(State(SCREEN_ID, "value"), State(SCREEN_NAME, "value")),
            function=manage_screens,
        ),
        *admin_peers.CALLBACKS,
        Callback(
            outputs=(Output(AUDIT_RESULTS, "children"),
                     Output(AUDIT_EXPORT, "href")),
            inputs=(Input(AUDIT_SEARCH, "n_clicks"),
                     Input(LANG, "data")),
            states=(State(AUDIT_ACTOR, "value"),
                     State(AUDIT_ACTION, "value"),
                     State(AUDIT_SINCE, "value"),
                     State(AUDIT_UNTIL, "value")),
            function=search_audit,
            permission="audit.view",
        ),
    ),
    routes=(Route("/admin/audit.csv", "ioc_audit_csv", audit_csv, permission="audit.view"),),
)
