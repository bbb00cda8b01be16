"""The control room's playback controls: a slider over the last 24 hours or an archived day, play at 1x / 10x /
60x, pause, back to live; and the PLAYBACK banner a screen shows while it is not live. The logic is
`ioc.playback.controls`; the control room draws the moment with its own rendering (layouts.control_room)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import dash
from dash import Input, Output, State, dcc, html

from ioc.archive import load_archive_settings
from ioc.i18n import t
from ioc.model import utcnow
from ioc.pages import Callback
from ioc.playback.controls import (
    LAST_DAY,
    LIVE,
    SLIDER_MINUTES,
    SPEEDS,
    archived_days,
    banner,
    moment,
    next_state,
    position_of,
    slider_marks,
)
from ioc.web import WebContext, language
from layouts import ids

CLOCK_MS = 1000  # the playback clock: the moment moves on speed x 1 s each second


def controls(context: WebContext, lang: str) -> html.Div:
    """The bar under the map: mode, day, slider, speeds, back to live (and the screen's playback state)."""
    now = utcnow()
    speed_buttons = [html.Button(f"▶ {speed}×", id=ids.playback_play(speed), n_clicks=0, className="playback-button",
                                 title=t("playback.play", lang, n=speed)) for speed in SPEEDS]
    return html.Div(
        className="playback-bar",
        children=[
            dcc.Store(id=ids.PLAYBACK, data=dict(LIVE)),
            dcc.Interval(id=ids.PLAYBACK_CLOCK, interval=CLOCK_MS, disabled=True),
            html.Span(t("playback.live", lang), id=ids.PLAYBACK_MODE, className="playback-mode"),
            dcc.Dropdown(id=ids.PLAYBACK_DAY, options=day_options(context, lang, now), value=LAST_DAY, clearable=False, searchable=False,
                         className="playback-day"),
            html.Div(dcc.Slider(id=ids.PLAYBACK_SLIDER, min=0, max=SLIDER_MINUTES, step=1, value=SLIDER_MINUTES,
                                marks=slider_marks(LAST_DAY, now), updatemode="mouseup", included=False,
                                allow_direct_input=False),
                     className="playback-slider"),
            html.Button(t("playback.pause", lang), id=ids.PLAYBACK_PAUSE, n_clicks=0, className="playback-button"),
            *speed_buttons,
            html.Button(t("playback.back_to_live", lang), id=ids.PLAYBACK_LIVE, n_clicks=0,
                        className="playback-button playback-button--live"),
        ],
    )


def day_options(context: WebContext, lang: str, now: datetime) -> list[dict[str, str]]:
    """The last 24 hours, then every local day the city's archive holds, newest first."""
    root = load_archive_settings(context.settings.directory).directory()
    return [{"label": t("playback.last24", lang), "value": LAST_DAY},
            *({"label": day, "value": day} for day in archived_days(root, now))]


def control(context: WebContext, position: float | None, day: str | None, *args: Any) -> tuple[Any, ...]:
    """A control moved, the playback clock ticked or the language changed: the screen's new playback state and
    how the controls and the banner show it."""
    *_clicks, _clock, lang, state = args
    lang = language(lang)
    day = day or LAST_DAY
    trigger = dash.ctx.triggered_id
    now = utcnow()
    if trigger in (ids.PLAYBACK_SLIDER, ids.PLAYBACK_DAY):
        new = next_state(state, "seek", day=day, position=position, now=now)
    elif isinstance(trigger, dict) and trigger.get("type") == ids.PLAYBACK_PLAY:
        new = next_state(state, "play", day=day, position=position, now=now, speed=int(trigger["speed"]))
    elif trigger == ids.PLAYBACK_PAUSE:
        new = next_state(state, "play", day=day, position=position, now=now, speed=0)
    elif trigger == ids.PLAYBACK_CLOCK:
        new = next_state(state, "clock", day=day, position=position, now=now, seconds=CLOCK_MS / 1000)
    elif trigger == ids.PLAYBACK_LIVE:
        new = next_state(state, "live", day=day, position=position, now=now)
    else:
        new = dict(state or LIVE)
    at = moment(new)
    shown_day = new.get("day") or LAST_DAY
    slider = position_of(shown_day, at, now) if at is not None else SLIDER_MINUTES
    playing = at is not None and int(new.get("speed") or 0) > 0
    mode = t("playback.badge", lang) if at is not None else t("playback.live", lang)
    root_class = "control-room control-room--playback" if at is not None else "control-room"
    return (new, slider, slider_marks(shown_day, now), not playing, banner(new, lang), mode, root_class,
            t("playback.back_to_live", lang), t("playback.pause", lang), day_options(context, lang, now))


CALLBACKS = (
    Callback(
        outputs=(Output(ids.PLAYBACK, "data"), Output(ids.PLAYBACK_SLIDER, "value"),
                 Output(ids.PLAYBACK_SLIDER, "marks"), Output(ids.PLAYBACK_CLOCK, "disabled"),
                 Output(ids.PLAYBACK_BANNER, "children"), Output(ids.PLAYBACK_MODE, "children"),
                 Output(ids.CONTROL_ROOM, "className"), Output(ids.PLAYBACK_LIVE, "children"),
                 Output(ids.PLAYBACK_PAUSE, "children"), Output(ids.PLAYBACK_DAY, "options")),
        inputs=(Input(ids.PLAYBACK_SLIDER, "value"), Input(ids.PLAYBACK_DAY, "value"),
                *(Input(ids.playback_play(speed), "n_clicks") for speed in SPEEDS),
                Input(ids.PLAYBACK_PAUSE, "n_clicks"), Input(ids.PLAYBACK_LIVE, "n_clicks"),
                Input(ids.PLAYBACK_CLOCK, "n_intervals"), Input(ids.LANG, "data")),
        states=(State(ids.PLAYBACK, "data"),),
        function=control,
    ),
)
