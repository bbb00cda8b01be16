"""Reader of CAP 1.2 (Common Alerting Protocol) warnings: one alert, a wrapper or an Atom/RSS feed of alerts."""

from __future__ import annotations

import contextlib
import html
import math
import re
import xml.etree.ElementTree as ET
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urljoin

import httpx
import shapely
from shapely.geometry import MultiPolygon, Polygon, mapping, shape

from data_adapters.contract import (
    Batch,
    Event,
    FeedContext,
    PayloadError,
    Reader,
    Severity,
    lon_lat,
    parse_time,
    read_records,
    register,
)

# 1.2 is what we read; 1.1 documents have the same structure and many national feeds still publish it.
CAP_NAMESPACES = ("urn:oasis:names:tc:emergency:cap:1.2", "urn:oasis:names:tc:emergency:cap:1.1")
ATOM = "http://www.w3.org/2005/Atom"

SEVERITIES = {
    "extreme": Severity.EXTREME,
    "severe": Severity.SEVERE,
    "moderate": Severity.MODERATE,
    "minor": Severity.MINOR,
    "unknown": Severity.UNKNOWN,
}
URGENCIES = {"immediate", "expected", "future", "past", "unknown"}
# "Very Likely" is CAP 1.0, kept by the standard as an alias of Likely
CERTAINTIES = {"observed": "observed", "likely": "likely", "very likely": "likely", "possible": "possible",
               "unlikely": "unlikely", "unknown": "unknown"}
# msgType Ack carries no warning; Cancel and Error both withdraw the alerts they reference
WITHDRAWING = {"cancel", "error"}

CIRCLE_POINTS = 32
KM_PER_DEGREE = 111.32
# a feed of links is followed at most this far each poll, so one bad index cannot stall the runner
MAX_LINKED_ALERTS = 200

_TAG = re.compile(r"<[^>]+>")
_BREAK = re.compile(r"<br\s*/?>|</p>", re.IGNORECASE)
_XML_DECLARATION = re.compile(rb"^\s*<\?xml[^>]*\?>")
_DECLARED_ENCODING = re.compile(rb"""^\s*<\?xml[^>]*encoding\s*=\s*["']([A-Za-z0-9._-]+)["']""")


@register
class CapReader(Reader):
    """CAP alerts to Events: one Event per kept <info>, its area as GeoJSON in lon,lat order."""

    id = "cap"

    def fetch(self, client: httpx.Client, feed: FeedContext) -> bytes:
        """GET the URL; when it is an Atom/RSS index of links (not embedded alerts), GET each linked alert."""
        index = super().fetch(client, feed)
        links = linked_alert_urls(index, feed.url)
        if not links:
            return index
        documents = []
        for url in links[:MAX_LINKED_ALERTS]:
            response = client.get(url)
            response.raise_for_status()
            documents.append(_without_declaration(response.content))
        # one document holding every alert, so parse() sees the whole poll (and refuses one bad alert alone)
        return b'<?xml version="1.0" encoding="UTF-8"?>\n<alerts>\n' + b"\n".join(documents) + b"\n</alerts>\n"

    def parse(self, payload: bytes, feed: FeedContext) -> Batch:
        root = parse_xml(payload)
        alerts = find_alerts(root)
        if not alerts:
            if _local(root.tag) in ("feed", "rss", "alerts"):
                entries = _feed_entries(root)
                if entries:
                    raise PayloadError(
                        f"a feed of {len(entries)} linked alerts with no <alert> inside; "
                        "the cap reader's fetch follows the links, a saved index alone holds no warning"
                    )
                return Batch()  # an empty feed: no warning in force
            raise PayloadError(f"expected a CAP 1.2 <alert> (or a feed holding alerts), got <{_local(root.tag)}>")
        batch = Batch()
        single = len(alerts) == 1 and alerts[0] is root
        located = [("alert" if single else f"alert[{index}]", alert) for index, alert in enumerate(alerts)]
        return read_records(batch, located, lambda where, alert: batch.events.extend(_alert_events(alert, feed, where)))


# --- XML ------------------------------------------------------------------------------------------------


def parse_xml(payload: bytes) -> ET.Element:
    """Parse untrusted XML, refusing DTDs and entity declarations (entity expansion bombs)."""
    if payload.startswith((b"\xff\xfe", b"\xfe\xff")):
        probe = payload.decode("utf-16", errors="replace").encode()
    else:
        probe = payload
    upper = probe.upper()
    if b"<!DOCTYPE" in upper or b"<!ENTITY" in upper:
        raise PayloadError("XML with a DTD or entity declarations is refused (CAP needs neither)")
    if payload.startswith(b"\xef\xbb\xbf"):
        payload = payload[3:]
    payload = payload.lstrip()  # a blank line before <?xml is common in feeds and harmless
    if not payload:
        raise PayloadError("empty document: expected CAP XML")
    try:
        return ET.fromstring(payload)
    except ET.ParseError as exc:
        raise PayloadError(f"not well-formed XML: {exc}") from None


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _namespace(tag: str) -> str:
    return tag[1:].split("}", 1)[0] if tag.startswith("{") else ""


def _is_alert(element: ET.Element) -> bool:
    if _local(element.tag) != "alert":
        return False
    ns = _namespace(element.tag)
    # an un-namespaced <alert> counts when it looks like CAP (some wrappers drop the namespace)
    return ns in CAP_NAMESPACES or (not ns and element.find("identifier") is not None)


def find_alerts(root: ET.Element) -> list[ET.Element]:
    """The CAP alerts of a document: the root itself, or every alert a feed or wrapper holds."""
    if _is_alert(root):
        return [root]
    return [element for element in root.iter() if _is_alert(element)]


def _feed_entries(root: ET.Element) -> list[ET.Element]:
    return [e for e in root.iter() if _local(e.tag) in ("entry", "item")]


def linked_alert_urls(payload: bytes, base_url: str) -> list[str]:
    """URLs of the alerts an Atom/RSS index links to; empty when the document holds its alerts itself."""
    try:
        root = parse_xml(payload)
    except PayloadError:
        return []  # parse() will say what is wrong with it
    if _local(root.tag) not in ("feed", "rss") or find_alerts(root):
        return []
    urls: list[str] = []
    for entry in _feed_entries(root):
        url = _entry_link(entry)
        if url:
            urls.append(urljoin(base_url, url))
    return urls


def _entry_link(entry: ET.Element) -> str:
    links = [child for child in entry if _local(child.tag) in ("link", "enclosure")]
    # prefer the link typed as CAP, then an Atom alternate link, then an RSS <link> text
    for link in links:
        if "cap" in (link.get("type") or "").lower() and (link.get("href") or link.get("url")):
            return link.get("href") or link.get("url") or ""
    for link in links:
        if link.get("href") and link.get("rel", "alternate") == "alternate":
            return link.get("href") or ""
    for link in links:
        if (link.text or "").strip():
            return (link.text or "").strip()
    return ""


def _without_declaration(document: bytes) -> bytes:
    match = _DECLARED_ENCODING.match(document)
    encoding = match.group(1).decode() if match else "utf-8"
    if document.startswith(b"\xef\xbb\xbf"):
        document = document[3:]
    body = _XML_DECLARATION.sub(b"", document, count=1)
    if encoding.lower().replace("_", "-") not in ("utf-8", "utf8"):
        # undecodable: left as it is, parse() then reports the document as not well-formed
        with contextlib.suppress(LookupError, UnicodeDecodeError):
            body = body.decode(encoding).encode("utf-8")
    return body


# --- one alert --------------------------------------------------------------------------------------------


def _child(element: ET.Element, name: str) -> ET.Element | None:
    for child in element:
        if _local(child.tag) == name:
            return child
    return None


def _children(element: ET.Element, name: str) -> list[ET.Element]:
    return [child for child in element if _local(child.tag) == name]


def _text(element: ET.Element, name: str) -> str:
    child = _child(element, name)
    return (child.text or "").strip() if child is not None else ""


def _required(element: ET.Element, name: str, where: str) -> str:
    value = _text(element, name)
    if not value:
        raise PayloadError(f"{where}: missing <{name}>")
    return value


def _time(element: ET.Element, name: str, where: str) -> datetime | None:
    value = _text(element, name)
    # CAP times carry the sender's offset; the model holds UTC
    return parse_time(value, field_name=f"{where}.{name}").astimezone(UTC) if value else None


def _alert_events(alert: ET.Element, feed: FeedContext, where: str) -> list[Event]:
    identifier = _required(alert, "identifier", where)
    sent = _time(alert, "sent", where)
    if sent is None:
        raise PayloadError(f"{where}: missing <sent>")
    status = _required(alert, "status", where).lower()
    msg_type = _required(alert, "msgType", where).lower()
    if msg_type == "ack":
        return []  # an acknowledgement of another message, not a warning
    withdrawing = msg_type in WITHDRAWING
    infos = _kept_infos(_children(alert, "info"))

    ids = [identifier]
    if withdrawing:
        # Cancel/Error name the alerts they withdraw in <references> ("sender,identifier,sent ...");
        # the events must carry those ids so the alert engine clears what it raised
        referenced = [ref.split(",")[1] for ref in _text(alert, "references").split() if ref.count(",") >= 2]
        ids = referenced or ids
        if not infos:
            return [
                Event(id=feed.urn(ref), type="Cancel", agency=feed.agency, sector=feed.sector,
                      headline=ref, onset=sent, status="cancelled")
                for ref in ids
            ]
    by_language = _infos_by_language(_children(alert, "info"))
    events = []
    for alert_id in ids:
        for position, (index, info) in enumerate(infos):
            local_id = alert_id if len(infos) == 1 else f"{alert_id}:{position}"
            event = _info_event(info, feed, f"{where}.info[{index}]", local_id, sent)
            event.status = "cancelled" if withdrawing else status
            if len(by_language) > 1:
                # the same warning in each published language: the info at the same place in each
                event.translations = {
                    language: dict(zip(("headline", "description"), _texts(same[position]), strict=True))
                    for language, same in by_language.items() if position < len(same)}
            events.append(event)
    return events


def _infos_by_language(infos: list[ET.Element]) -> dict[str, list[ET.Element]]:
    """The infos of each language ("vi" from "vi-VN"), in document order."""
    found: dict[str, list[ET.Element]] = {}
    for info in infos:
        found.setdefault(_language(info).split("-")[0], []).append(info)
    return found


def _language(info: ET.Element) -> str:
    # CAP: an info with no <language> is in en-US
    return (_text(info, "language") or "en-US").lower()


def _kept_infos(infos: list[ET.Element]) -> list[tuple[int, ET.Element]]:
    """The infos in the language operators read: Vietnamese, else English, else the first language."""
    if not infos:
        return []
    languages = [_language(info) for info in infos]
    for prefix in ("vi", "en"):
        kept = [(i, info) for i, info in enumerate(infos) if languages[i].startswith(prefix)]
        if kept:
            return kept
    return [(i, info) for i, info in enumerate(infos) if languages[i] == languages[0]]


def _info_event(info: ET.Element, feed: FeedContext, where: str, local_id: str, sent: datetime) -> Event:
    event_type = _required(info, "event", where)
    severity_text = _text(info, "severity").lower() or "unknown"
    if severity_text not in SEVERITIES:
        raise PayloadError(f"{where}.severity: '{_text(info, 'severity')}' is not a CAP severity")
    urgency = _text(info, "urgency").lower() or "unknown"
    if urgency not in URGENCIES:
        raise PayloadError(f"{where}.urgency: '{_text(info, 'urgency')}' is not a CAP urgency")
    certainty = CERTAINTIES.get(_text(info, "certainty").lower() or "unknown")
    if certainty is None:
        raise PayloadError(f"{where}.certainty: '{_text(info, 'certainty')}' is not a CAP certainty")

    polygons: list[list[list[float]]] = []
    centres: list[tuple[float, float]] = []
    for index, area in enumerate(_children(info, "area")):
        area_where = f"{where}.area[{index}]"
        for p, polygon in enumerate(_children(area, "polygon")):
            polygons.append(polygon_ring(polygon.text or "", f"{area_where}.polygon[{p}]"))
        for c, circle in enumerate(_children(area, "circle")):
            centre, ring = circle_ring(circle.text or "", f"{area_where}.circle[{c}]")
            centres.append(centre)
            if ring:
                polygons.append(ring)
    geometry = _area_geometry(polygons, f"{where}.area")

    headline, description = _texts(info)
    return Event(
        id=feed.urn(local_id),
        type=_plain(event_type),
        agency=feed.agency,
        sector=feed.sector,
        headline=headline,
        severity=SEVERITIES[severity_text],
        urgency=urgency,
        certainty=certainty,
        description=description,
        area=geometry,
        location=_representative(geometry, polygons, centres),
        onset=_time(info, "onset", where) or _time(info, "effective", where) or sent,
        expires=_time(info, "expires", where),
    )


def _texts(info: ET.Element) -> tuple[str, str]:
    """An info's headline (else its event type) and its text: description, instruction, areas, categories."""
    area_names = [_text(area, "areaDesc") for area in _children(info, "area") if _text(area, "areaDesc")]
    categories = [(c.text or "").strip() for c in _children(info, "category") if (c.text or "").strip()]
    parts = [_plain(_text(info, "description")), _plain(_text(info, "instruction"))]
    if area_names:
        parts.append("Area: " + "; ".join(_plain(name) for name in area_names))
    if categories:
        parts.append("Category: " + ", ".join(categories))
    return (_plain(_text(info, "headline")) or _plain(_text(info, "event")),
            "\n\n".join(part for part in parts if part))


def _plain(text: str) -> str:
    """Free text as operators read it: agencies put HTML (escaped) in CAP text fields."""
    if "<" not in text and "&" not in text:
        return text
    text = _BREAK.sub("\n", html.unescape(text))
    return html.unescape(_TAG.sub("", text)).strip()


# --- geometry ---------------------------------------------------------------------------------------------


def _pairs(text: str, where: str) -> Iterable[tuple[float, float]]:
    """CAP "lat,lon" pairs (latitude first!) as (lon, lat)."""
    for pair in text.split():
        parts = pair.split(",")
        if len(parts) != 2:
            raise PayloadError(f"{where}: '{pair}' is not a 'latitude,longitude' pair")
        yield lon_lat(parts[1], parts[0], field_name=where)


def polygon_ring(text: str, where: str) -> list[list[float]]:
    """A CAP polygon ("lat,lon lat,lon ...") as a closed GeoJSON ring in lon,lat order."""
    ring = [[lon, lat] for lon, lat in _pairs(text, where)]
    if ring and ring[0] != ring[-1]:
        ring.append(list(ring[0]))  # CAP requires a closed ring; some senders forget the last point
    if len(ring) < 4:
        raise PayloadError(f"{where}: a polygon needs at least 4 'lat,lon' pairs, got {len(ring)}")
    return ring


def circle_ring(text: str, where: str) -> tuple[tuple[float, float], list[list[float]] | None]:
    """A CAP circle ("lat,lon radius_km") as its centre and a 32-point ring (None for a zero radius)."""
    parts = text.split()
    if len(parts) != 2:
        raise PayloadError(f"{where}: expected 'latitude,longitude radius_km', got '{text.strip()}'")
    (lon, lat), = list(_pairs(parts[0], where))
    try:
        radius_km = float(parts[1])
    except ValueError:
        raise PayloadError(f"{where}: radius '{parts[1]}' is not a number of kilometres") from None
    if not math.isfinite(radius_km) or radius_km < 0:
        raise PayloadError(f"{where}: radius '{parts[1]}' is not a distance")
    if radius_km == 0:
        return (lon, lat), None
    dlat = radius_km / KM_PER_DEGREE
    # a degree of longitude shrinks with cos(latitude); the floor keeps polar circles finite
    dlon = radius_km / (KM_PER_DEGREE * max(math.cos(math.radians(lat)), 0.01))
    ring = []
    for step in range(CIRCLE_POINTS):
        angle = 2 * math.pi * step / CIRCLE_POINTS
        ring.append([round(lon + dlon * math.cos(angle), 6), round(lat + dlat * math.sin(angle), 6)])
    ring.append(list(ring[0]))
    return (lon, lat), ring


def _area_geometry(polygons: list[list[list[float]]], where: str) -> dict[str, Any] | None:
    """The info's shapes as one valid GeoJSON Polygon or MultiPolygon (several shapes -> MultiPolygon)."""
    if not polygons:
        return None
    if len(polygons) == 1:
        geometry: dict[str, Any] = {"type": "Polygon", "coordinates": [polygons[0]]}
    else:
        geometry = {"type": "MultiPolygon", "coordinates": [[ring] for ring in polygons]}
    if shape(geometry).is_valid:
        return geometry
    # CAP areas often overlap or share a border (a coast polygon and a sea circle, adjacent counties),
    # and senders draw self-crossing rings; either is invalid GeoJSON that breaks spatial joins, so
    # the published shapes are merged into the same area drawn validly
    merged = shapely.union_all([shapely.make_valid(Polygon(ring)) for ring in polygons])
    parts = [part for part in shapely.get_parts(merged) if isinstance(part, Polygon) and not part.is_empty]
    if not parts:
        raise PayloadError(f"{where}: the area's polygons enclose no surface")
    if len(parts) == 1 and len(polygons) == 1:
        return _lists(mapping(parts[0]))
    return _lists(mapping(MultiPolygon(parts)))


def _lists(value: Any) -> Any:
    """Shapely's nested tuples as the nested lists of GeoJSON read from JSON."""
    if isinstance(value, dict):
        return {key: _lists(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_lists(item) for item in value]
    return value


def _representative(
    geometry: dict[str, Any] | None, polygons: list[list[list[float]]], centres: list[tuple[float, float]]
) -> tuple[float, float] | None:
    if len(centres) == 1 and len(polygons) <= 1:
        return centres[0]  # exactly one circle: its centre is the point the sender meant
    if geometry is None:
        return centres[0] if centres else None
    # representative_point lies inside the area, unlike a centroid of a concave or split area
    point = shape(geometry).representative_point()
    return (round(point.x, 6), round(point.y, 6))
