"""The 1022 hotline's Open311 GeoReport v2 feed: requests of the last days, the spec's filters, raw records."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from ioc.areas import area_index
from ioc.config import Settings
from ioc.privacy import scrub_text
from simulator.city import SimCity
from simulator.feeds import BadFeedRequest, FeedRequest
from simulator.feeds.open311 import render, render_services

from ..conftest import MORNING

SPEC = Path(__file__).parents[2] / "fixtures" / "open311"
NOW = MORNING + timedelta(days=4)
FIELDS = [
    "service_request_id",
    "status",
    "status_notes",
    "service_name",
    "service_code",
    "description",
    "agency_responsible",
    "service_notice",
    "requested_datetime",
    "updated_datetime",
    "expected_datetime",
    "address",
    "address_id",
    "zipcode",
    "lat",
    "long",
    "media_url",
]


def requests(city: SimCity, args: dict[str, str] | None = None, now: datetime = NOW) -> list[dict]:
    body, content_type = render(city, now, FeedRequest(args or {}))
    assert content_type.startswith("application/json")
    return json.loads(body)


def when(record: dict, field: str = "requested_datetime") -> datetime:
    return datetime.fromisoformat(record[field])


def test_records_have_every_field_of_the_spec(city: SimCity) -> None:
    records = requests(city)
    assert records
    chicago = json.loads((SPEC / "chicago-service-requests.json").read_text())
    for record in records:
        assert list(record)[: len(FIELDS)] == FIELDS
        assert set(chicago[0]) <= set(record)
        assert record["status"] in ("open", "closed")
        assert when(record).utcoffset() == timedelta(hours=7)  # the city's wall clock, with its offset
        assert when(record) <= when(record, "updated_datetime") <= NOW


def test_default_is_the_last_three_days_newest_first(city: SimCity) -> None:
    records = requests(city)
    times = [when(r) for r in records]
    assert times == sorted(times, reverse=True)
    assert NOW - timedelta(days=3) <= times[-1] and times[0] <= NOW
    assert times[-1] < NOW - timedelta(days=2, hours=20)  # the window is filled, not just today


def test_start_and_end_date_select_a_window(city: SimCity) -> None:
    start, end = NOW - timedelta(days=10), NOW - timedelta(days=9)
    records = requests(city, {"start_date": start.isoformat(), "end_date": end.isoformat()})
    assert records
    assert all(start <= when(r) <= end for r in records)
    # a date-time without an offset is Da Nang's wall clock
    local = requests(city, {"start_date": "2025-06-14T00:00:00", "end_date": "2025-06-14T06:00:00"})
    assert {when(r).strftime("%Y-%m-%d") for r in local} == {"2025-06-14"}
    assert all(when(r).hour < 6 for r in local)


def test_statuses_change_from_open_to_closed_as_time_passes(city: SimCity) -> None:
    window = {"start_date": (NOW - timedelta(hours=6)).isoformat(), "end_date": NOW.isoformat()}
    before = {r["service_request_id"]: r for r in requests(city, window)}
    after = {r["service_request_id"]: r for r in requests(city, window, now=NOW + timedelta(days=3))}
    assert before.keys() == after.keys()
    assert any(r["status"] == "open" for r in before.values())
    changed = [i for i in before if before[i]["status"] == "open" and after[i]["status"] == "closed"]
    assert changed
    for i in changed:
        assert after[i]["status_notes"]
        assert when(after[i], "updated_datetime") > when(before[i], "updated_datetime")
    assert not [i for i in before if before[i]["status"] == "closed" and after[i]["status"] == "open"]


@pytest.mark.parametrize("status", ["open", "closed"])
def test_status_filter(city: SimCity, status: str) -> None:
    records = requests(city, {"status": status})
    assert records and {r["status"] for r in records} == {status}
    both = requests(city, {"status": "open,closed"})
    assert len(both) == len(requests(city))


def test_service_code_filter(city: SimCity) -> None:
    records = requests(city, {"service_code": "RAC-TH,NGAP"})
    assert records and {r["service_code"] for r in records} <= {"RAC-TH", "NGAP"}


def test_service_request_id_lookup(city: SimCity) -> None:
    some = requests(city)[5:8]
    ids = ",".join(r["service_request_id"] for r in some)
    assert requests(city, {"service_request_id": ids}) == some
    # an hour with no 99th request, a request not yet made, and no request id at all
    unknown = "PA-250612-2399,PA-301231-2301,garbage"
    assert requests(city, {"service_request_id": unknown}) == []


@pytest.mark.parametrize(
    "args",
    [
        {"start_date": "2025-01-01T00:00:00Z", "end_date": "2025-06-01T00:00:00Z"},
        {"start_date": "yesterday"},
        {"start_date": "2025-06-10T00:00:00Z", "end_date": "2025-06-09T00:00:00Z"},
        {"status": "pending"},
        {"service_code": "NOPE"},
    ],
)
def test_bad_queries_get_the_spec_error_list(city: SimCity, args: dict[str, str]) -> None:
    with pytest.raises(BadFeedRequest) as refused:
        render(city, NOW, FeedRequest(args))
    [error] = json.loads(refused.value.body)
    assert error["code"] == 400 and error["description"]


def test_coordinates_fall_inside_da_nang(settings: Settings, city: SimCity) -> None:
    records = requests(city)
    placed = area_index(settings.city).assign([(r["long"], r["lat"]) for r in records])
    assert None not in placed
    for record, district in zip(records, placed, strict=True):
        assert district in record["address"]


def test_raw_records_carry_reporters_personal_data(city: SimCity) -> None:
    """The hotline's system is the real-world source: the simulator serves what the IOC's readers must strip."""
    records = requests(city)
    named = [r for r in records if "first_name" in r]
    assert len(named) > len(records) / 2
    assert all(r["last_name"] for r in named)
    assert any("@" in r.get("email", "") for r in named)
    assert any(r.get("phone", "").isdigit() for r in named)
    assert any(scrub_text(r["description"]) != r["description"] for r in records)


def test_services_list(city: SimCity) -> None:
    body, content_type = render_services(city, NOW, FeedRequest())
    services = json.loads(body)
    spec = json.loads((SPEC / "spec-services.json").read_text())
    assert content_type.startswith("application/json")
    assert len(services) == 6
    for service in services:
        assert set(spec[0]) <= set(service)
    codes = {s["service_code"] for s in services}
    assert {r["service_code"] for r in requests(city)} <= codes
