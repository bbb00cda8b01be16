"""The 1022 citizen hotline as an Open311 GeoReport v2 server: GET requests.json and services.json.

requests.json lists the requests of the last 3 simulated days, newest first, or those the client asks
for with the spec's start_date / end_date (at most 90 days apart), status, service_code and
service_request_id (comma-separated lists). Errors are the spec's error list with HTTP 400. Like the real
system, records carry reporters' names, e-mail addresses and phone numbers.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from ioc.i18n import CITY_ZONE
from simulator.citizens import CitizenRequest
from simulator.city import SimCity
from simulator.feeds.common import JSON, BadFeedRequest, FeedRequest, json_bytes, local_iso

DEFAULT_WINDOW = timedelta(days=3)
# "may not span more than 90 days" (GeoReport v2, GET Service Requests)
MAX_WINDOW = timedelta(days=90)
STATUSES = ("open", "closed")
ZIPCODE = "550000"


def render(city: SimCity, now: datetime, request: FeedRequest) -> tuple[bytes, str]:
    """GET /requests.json"""
    statuses = _list(request, "status")
    if unknown := [s for s in statuses if s not in STATUSES]:
        raise _bad(f"status: unknown value '{unknown[0]}' (one of: {', '.join(STATUSES)})")
    codes = _list(request, "service_code")
    known_codes = {s.code for s in city.service_types}
    if unknown := [c for c in codes if c not in known_codes]:
        raise _bad(f"service_code: unknown service '{unknown[0]}'")

    wanted_ids = _list(request, "service_request_id")
    if wanted_ids:
        # asking by id ignores every other parameter, as the spec says
        found = (city.citizen_request(i) for i in wanted_ids)
        chosen = [r for r in found if r is not None and r.requested_at <= now]
    else:
        since, until = _window(request, now)
        chosen = [
            r
            for r in city.citizen_requests(since, until)
            if (not codes or r.service.code in codes) and (not statuses or r.status(now) in statuses)
        ]
        chosen.reverse()
    return json_bytes([_record(r, now) for r in chosen]), JSON


def render_services(city: SimCity, now: datetime, request: FeedRequest) -> tuple[bytes, str]:
    """GET /services.json"""
    services = [
        {
            "service_code": s.code,
            "service_name": s.name,
            "description": s.description,
            "metadata": False,
            "type": "realtime",
            "keywords": s.keywords,
            "group": s.group,
        }
        for s in city.service_types
    ]
    return json_bytes(services), JSON


def _record(r: CitizenRequest, now: datetime) -> dict[str, object]:
    record: dict[str, object] = {
        "service_request_id": r.id,
        "status": r.status(now),
        "status_notes": r.status_notes(now),
        "service_name": r.service.name,
        "service_code": r.service.code,
        "description": r.description,
        "agency_responsible": r.service.agency,
        "service_notice": f"Thời hạn xử lý: {r.service.promised_hours:g} giờ",
        "requested_datetime": local_iso(r.requested_at),
        "updated_datetime": local_iso(r.updated_at(now)),
        "expected_datetime": local_iso(r.expected_at),
        "address": r.address.text,
        "address_id": r.address.id,
        "zipcode": ZIPCODE,
        "lat": r.address.lat,
        "long": r.address.lon,
        # photos stay in the hotline's own system: the simulator serves no media
        "media_url": "",
    }
    if r.reporter is not None:
        # the hotline's own system keeps who called; an open-data export would not, the IOC must not
        record["first_name"] = r.reporter.first_name
        record["last_name"] = r.reporter.last_name
        if r.reporter.email:
            record["email"] = r.reporter.email
        if r.reporter.phone:
            record["phone"] = r.reporter.phone
    return record


def _window(request: FeedRequest, now: datetime) -> tuple[datetime, datetime]:
    start = _date(request, "start_date")
    end = _date(request, "end_date")
    if end is None:
        end = now
    if start is None:
        start = end - DEFAULT_WINDOW
    if end < start:
        raise _bad("end_date is before start_date")
    if end - start > MAX_WINDOW:
        raise _bad("start_date and end_date may not span more than 90 days")
    # nothing is requested in the future: the window stops at the simulator's now
    return start, min(end, now)


def _date(request: FeedRequest, name: str) -> datetime | None:
    text = request.get(name, "").strip()
    if not text:
        return None
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise _bad(f"{name}: '{text}' is not a w3c date-time (e.g. 2025-06-12T00:00:00+07:00)") from None
    # a date-time without an offset is the city's wall clock
    return moment if moment.tzinfo else moment.replace(tzinfo=CITY_ZONE)


def _list(request: FeedRequest, name: str) -> list[str]:
    return [item.strip() for item in request.get(name, "").split(",") if item.strip()]


def _bad(message: str) -> BadFeedRequest:
    return BadFeedRequest(message, json_bytes([{"code": 400, "description": message}]))
