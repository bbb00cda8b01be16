"""Civil defence's CAP 1.2 warnings as an Atom feed, each entry embedding the CAP alert it announces.

An empty feed when no warning is in force; otherwise the latest message (Alert, Update or Cancel) of each
warning, in Vietnamese and English <info> blocks, with the area as a polygon and a circle.
"""

from __future__ import annotations

from datetime import datetime
from xml.sax.saxutils import escape

from ioc.i18n import CITY_ZONE
from simulator.city import SimCity
from simulator.civil_defence import SENDER_NAME, CapMessage, messages_in_force
from simulator.feeds.common import FeedRequest

ATOM = "application/atom+xml; charset=utf-8"
PATH = "/cap/pctt/alerts.atom"


def _time(moment: datetime) -> str:
    return moment.astimezone(CITY_ZONE).isoformat(timespec="seconds")


def _element(name: str, text: str, indent: str) -> str:
    return f"{indent}<{name}>{escape(text)}</{name}>\n"


def render(city: SimCity, now: datetime, request: FeedRequest) -> tuple[bytes, str]:
    messages = messages_in_force(city, now)
    updated = max((m.sent for m in messages), default=now)
    parts = [
        '<?xml version="1.0" encoding="UTF-8"?>\n',
        '<feed xmlns="http://www.w3.org/2005/Atom">\n',
        "  <id>urn:danang:pctt:cap</id>\n",
        _element("title", f"{SENDER_NAME} - Tin cảnh báo thiên tai", "  "),
        _element("updated", _time(updated), "  "),
        f"  <author><name>{escape(SENDER_NAME)}</name></author>\n",
        f'  <link rel="self" href="{escape(request.base_url + PATH)}"/>\n',
    ]
    for message in messages:
        parts += [
            "  <entry>\n",
            _element("id", f"urn:danang:pctt:cap:{message.identifier}", "    "),
            _element("title", message.headline_vi, "    "),
            _element("updated", _time(message.sent), "    "),
            '    <content type="application/cap+xml">\n',
            _alert(message),
            "    </content>\n",
            "  </entry>\n",
        ]
    parts.append("</feed>\n")
    return "".join(parts).encode("utf-8"), ATOM


def _alert(message: CapMessage) -> str:
    indent = "      "
    lines = [f'{indent}<alert xmlns="urn:oasis:names:tc:emergency:cap:1.2">\n']
    inner = indent + "  "
    lines += [
        _element("identifier", message.identifier, inner),
        _element("sender", "pctt@danang.gov.vn", inner),
        _element("sent", _time(message.sent), inner),
        _element("status", "Actual", inner),
        _element("msgType", message.msg_type, inner),
        _element("scope", "Public", inner),
    ]
    if message.references:
        lines.append(_element("references", message.reference_text(), inner))
    for language in ("vi", "en"):
        lines.append(_info(message, language, inner))
    lines.append(f"{indent}</alert>\n")
    return "".join(lines)


def _info(message: CapMessage, language: str, indent: str) -> str:
    inner = indent + "  "
    vi = language == "vi"
    lines = [
        f"{indent}<info>\n",
        _element("language", "vi-VN" if vi else "en-US", inner),
        _element("category", "Met", inner),
        _element("category", "Safety", inner),
        _element("event", message.event_vi if vi else message.event_en, inner),
        _element("urgency", message.urgency, inner),
        _element("severity", message.severity, inner),
        _element("certainty", message.certainty, inner),
        _element("onset", _time(message.onset), inner),
        _element("expires", _time(message.expires), inner),
        _element("senderName", SENDER_NAME, inner),
        _element("headline", message.headline_vi if vi else message.headline_en, inner),
        _element("description", message.description_vi if vi else message.description_en, inner),
    ]
    instruction = message.instruction_vi if vi else message.instruction_en
    if instruction:
        lines.append(_element("instruction", instruction, inner))
    for area in message.areas:
        lines.append(f"{inner}<area>\n")
        lines.append(_element("areaDesc", area.description_vi if vi else area.description_en, inner + "  "))
        if area.polygon:
            lines.append(_element("polygon", area.polygon, inner + "  "))
        if area.circle:
            lines.append(_element("circle", area.circle, inner + "  "))
        lines.append(f"{inner}  <geocode><valueName>ISO3166-2</valueName><value>VN-DN</value></geocode>\n")
        lines.append(f"{inner}</area>\n")
    lines.append(f"{indent}</info>\n")
    return "".join(lines)
