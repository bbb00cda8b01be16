"""The annunciator in every page's frame: a pop-up naming each unacknowledged alarm of the top priorities
(what, where, since when) and its sound, repeating until someone acknowledges it or this screen silences it."""

from __future__ import annotations

import secrets
from typing import Any

import dash
from dash import ClientsideFunction, Input, Output, State, dcc, html

from ioc.alerts import ALERTS_LAYER
from ioc.alerts.open_snapshot import open_alarms
from ioc.alerts.shelf import Shelf, return_due
from ioc.annunciation import annunciate, record_silence
from ioc.audit import AuditTrail
from ioc.auth import current_actor, current_address
from ioc.i18n import t
from ioc.model import utcnow
from ioc.pages import Callback
from ioc.web import WebContext, age_step, language
from layouts import ids

ANNOUNCE_MS = 2000
PERMISSION = "alerts.view"
SOUNDS = {"urgent": ("/assets/sounds/alarm-urgent.wav", ids.AUDIO_URGENT),
          "high": ("/assets/sounds/alarm-high.wav", ids.AUDIO_HIGH)}


def annunciator(lang: str) -> html.Div:
    """The pop-up and its sounds; a frame includes it only for a role that sees alerts."""
    return html.Div(
        id=ids.ANNUNCIATOR,
        className="annunciator",
        role="alertdialog",
        children=[
            dcc.Interval(id=ids.ANNUNCIATION_TICK, interval=ANNOUNCE_MS),
            dcc.Store(id=ids.ANNUNCIATION, data=[]),
            dcc.Store(id=ids.ANNUNCIATION_SEEN),
            dcc.Store(id=ids.SOUND_ON, data=False),
            dcc.Store(id=ids.SILENCED, storage_type="session", data=[]),
            dcc.Store(id=ids.SCREEN_ID, storage_type="local"),
            # the browser finds them by data-sound (ioc.js), the sound an announcement names
            *[html.Audio(id=element, src=src, loop=True, preload="auto", **{"data-sound": sound})
              for sound, (src, element) in SOUNDS.items()],
            html.Div(t("annunciator.title", lang), className="annunciator-title"),
            html.Div(id=ids.ANNUNCIATOR_LIST, className="annunciator-list"),
            html.Div(className="annunciator-actions", children=[
                html.Button(t("annunciator.sound_off", lang), id=ids.SOUND_ENABLE, n_clicks=0,
                            className="annunciator-sound"),
                html.Button(t("annunciator.silence", lang), id=ids.SILENCE, n_clicks=0,
                            className="annunciator-silence"),
                dcc.Link(t("annunciator.open_queue", lang), href="/alerts", className="annunciator-open"),
            ]),
            html.Div(t("annunciator.sound_notice", lang), id=ids.SOUND_NOTICE, className="sound-notice"),
        ],
    )


def refresh(context: WebContext, _tick: int | None, lang: str | None, seen: str | None) -> tuple[Any, ...]:
    """The alarms to announce now, and their lines in the pop-up; nothing read or sent while no alert changed
    (every screen asks every 2 s) and the ages shown have not stepped on."""
    lang = language(lang)
    now = utcnow()
    book = context.store.alerts
    shelf = Shelf(book.redis, book.keys, context.settings.shelving)
    return_due(shelf, book.get, now)  # an alarm back from the shelf is an alert change, so it is drawn below
    context.live.watch_alerts()  # this worker's builder reads the open alarms on the next change, off this tick
    version = context.store.layer_versions().get(ALERTS_LAYER, 0)
    key = f"{version}:{lang}:{age_step(now)}"
    if key == seen:
        return dash.no_update, dash.no_update, dash.no_update
    # the open alarms as every screen reads them: one read of Redis per alert change, however many screens
    snapshot = open_alarms(book, context.cache, version=version)
    found = annunciate(snapshot.records, context.settings, lang, now, shelved=shelf.shelved_ids(now))
    lines = [html.Div(className=f"annunciator-line annunciator-line--{item.sound}", **{"data-alert": item.id},
                      children=[html.Span(item.severity_text, className="annunciator-severity"),
                                html.Span(item.title, className="annunciator-what"),
                                html.Span(f"{item.where} · {item.since}", className="annunciator-where")])
             for item in found.shown]
    if found.more:
        lines.append(html.Div(t("annunciator.more", lang, n=found.more), className="annunciator-more",
                              **{"data-more": str(found.more)}))
    return found.to_data(), lines, key


def silence(context: WebContext, clicks: int | None, announced: list[dict[str, Any]] | None,
            silenced: list[str] | None, screen: str | None) -> tuple[Any, ...]:
    """Silence what this screen is sounding now (a new alarm sounds again); audited with the screen's id."""
    if not clicks:
        return dash.no_update, dash.no_update
    screen = screen or secrets.token_hex(4)
    now_sounding = [item["id"] for item in announced or [] if item["id"] not in (silenced or [])]
    if now_sounding:
        record_silence(AuditTrail(context.store.redis, context.store.keys), actor=current_actor(), screen=screen, alert_ids=now_sounding,
                       address=current_address())
    return [*(silenced or []), *now_sounding], screen


CALLBACKS = (
    Callback(
        outputs=(Output(ids.ANNUNCIATION, "data"), Output(ids.ANNUNCIATOR_LIST, "children"),
                 Output(ids.ANNUNCIATION_SEEN, "data")),
        inputs=(Input(ids.ANNUNCIATION_TICK, "n_intervals"), Input(ids.LANG, "data")),
        states=(State(ids.ANNUNCIATION_SEEN, "data"),),
        function=refresh,
        permission=PERMISSION,
    ),
    Callback(
        outputs=(Output(ids.SILENCED, "data"), Output(ids.SCREEN_ID, "data")),
        inputs=(Input(ids.SILENCE, "n_clicks"),),
        states=(State(ids.ANNUNCIATION, "data"), State(ids.SILENCED, "data"), State(ids.SCREEN_ID, "data")),
        function=silence,
        permission=PERMISSION,
        prevent_initial_call=True,
    ),
    # a click is what lets a browser play sound at all: the button says the sound is off until then
    Callback(
        outputs=(Output(ids.SOUND_ON, "data"),),
        inputs=(Input(ids.SOUND_ENABLE, "n_clicks"),),
        function=ClientsideFunction(namespace="ioc", function_name="enableSound"),
        permission=PERMISSION,
        prevent_initial_call=True,
    ),
    Callback(
        outputs=(Output(ids.ANNUNCIATOR, "className"), Output(ids.SOUND_NOTICE, "className"),
                 Output(ids.SOUND_ENABLE, "className")),
        inputs=(Input(ids.ANNUNCIATION, "data"), Input(ids.SOUND_ON, "data"), Input(ids.SILENCED, "data")),
        function=ClientsideFunction(namespace="ioc", function_name="annunciate"),
        permission=PERMISSION,
    ),
)
