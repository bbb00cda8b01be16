"""Every string the interface shows, through one function `t`, Vietnamese first and English second.

The catalogues are ioc/locales/<lang>.json; both must hold the same keys (a test checks it).
Times are shown in the city's zone, Asia/Ho_Chi_Minh for the demo.
"""

from __future__ import annotations

import json
from datetime import datetime
from functools import cache
from pathlib import Path
from zoneinfo import ZoneInfo

LANGUAGES = ("vi", "en")
DEFAULT_LANGUAGE = "vi"
CITY_ZONE = ZoneInfo("Asia/Ho_Chi_Minh")
_LOCALES = Path(__file__).with_name("locales")


@cache
def catalogue(lang: str) -> dict[str, str]:
    if lang not in LANGUAGES:
        raise ValueError(f"unsupported language '{lang}' (supported: {', '.join(LANGUAGES)})")
    return json.loads((_LOCALES / f"{lang}.json").read_text(encoding="utf-8"))


def t(key: str, lang: str = DEFAULT_LANGUAGE, /, **values: object) -> str:
    """The text for `key` in `lang`, with {placeholders} filled; the key itself if it is missing."""
    text = catalogue(lang if lang in LANGUAGES else DEFAULT_LANGUAGE).get(key)
    if text is None:
        text = catalogue("en").get(key, key)
    return text.format(**values) if values else text


def local_time(moment: datetime | None, fmt: str = "%H:%M:%S %d/%m/%Y") -> str:
    """A time as the control room reads it: in the city's zone."""
    if moment is None:
        return "—"
    return moment.astimezone(CITY_ZONE).strftime(fmt)


def age_text(seconds: float | None, lang: str = DEFAULT_LANGUAGE) -> str:
    """'12 s', '5 min', '3 h' ago, in the interface language."""
    if seconds is None:
        return t("time.never", lang)
    if seconds < 90:
        return t("time.seconds_ago", lang, n=int(seconds))
    if seconds < 90 * 60:
        return t("time.minutes_ago", lang, n=int(seconds // 60))
    if seconds < 48 * 3600:
        return t("time.hours_ago", lang, n=int(seconds // 3600))
    return t("time.days_ago", lang, n=int(seconds // 86400))
