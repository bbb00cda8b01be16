"""Environment department air stations as an OGC SensorThings API v1.1 server's Things collection.

Always the expanded form the reader asks for: Things with their Locations and Datastreams, each
Datastream with its ObservedProperty and latest Observation. Paging follows the standard: $top (default
10), $skip, `@iot.nextLink` (absolute) while more remain, `@iot.count` when $count=true. Other query
options are accepted and ignored, as the response shape is fixed.
"""

from __future__ import annotations

from datetime import datetime
from urllib.parse import quote

from simulator.air import AIR_METRICS, AirReading, AirStation, read_station
from simulator.city import SimCity
from simulator.feeds.common import BadFeedRequest, FeedRequest, json_bytes, utc_iso

ROOT = "/sensorthings/v1.1"
DEFAULT_TOP = 10
MAX_TOP = 1000
OPERATOR = "Sở Tài nguyên và Môi trường thành phố Đà Nẵng"
# keep the OData syntax readable in links ($expand=A($orderby=...;$top=1)): escape spaces, & and the like
_QUERY_SAFE = "$(),;=/:'"
OM_MEASUREMENT = "http://www.opengis.net/def/observationType/OGC-OM/2.0/OM_Measurement"


def render(city: SimCity, now: datetime, request: FeedRequest) -> tuple[bytes, str]:
    top = _int_option(request, "$top", DEFAULT_TOP, MAX_TOP)
    skip = _int_option(request, "$skip", 0, None)
    count = request.get("$count", "false").strip().lower()
    if count not in ("true", "false"):
        raise _bad(f"$count must be true or false, not '{request['$count']}'")

    stations = city.stations
    page = stations[skip : skip + top]
    document: dict[str, object] = {}
    if count == "true":
        document["@iot.count"] = len(stations)
    # $top=0 asks for the count alone: a next page of nothing would never end
    if top and skip + top < len(stations):
        document["@iot.nextLink"] = _next_link(request, top, skip + top)
    base = request.base_url + ROOT
    document["value"] = [_thing(base, read_station(city, station, now)) for station in page]
    return json_bytes(document), "application/json; charset=utf-8"


def _thing(base: str, reading: AirReading) -> dict[str, object]:
    station = reading.station
    link = f"{base}/Things({station.id})"
    return {
        "@iot.id": station.id,
        "@iot.selfLink": link,
        "name": station.name,
        "description": f"Trạm quan trắc chất lượng không khí tự động, {_district_phrase(station)}",
        "properties": {
            "stationCode": station.code,
            "district": station.district,
            "operator": OPERATOR,
            "stationType": "industrial" if station.industrial else "urban",
        },
        "Locations@iot.navigationLink": f"{link}/Locations",
        "Locations": [
            {
                "@iot.id": station.id,
                "@iot.selfLink": f"{base}/Locations({station.id})",
                "name": station.name,
                "description": _district_phrase(station),
                "encodingType": "application/geo+json",
                "location": {"type": "Point", "coordinates": [station.lon, station.lat]},
                "Things@iot.navigationLink": f"{base}/Locations({station.id})/Things",
                "HistoricalLocations@iot.navigationLink": f"{base}/Locations({station.id})/HistoricalLocations",
            }
        ],
        "HistoricalLocations@iot.navigationLink": f"{link}/HistoricalLocations",
        "Datastreams@iot.navigationLink": f"{link}/Datastreams",
        "Datastreams": [_datastream(base, station, reading, number) for number in range(len(AIR_METRICS))],
    }


def _datastream(base: str, station: AirStation, reading: AirReading, number: int) -> dict[str, object]:
    metric = AIR_METRICS[number]
    datastream_id = station.id * 10 + number + 1
    property_id = number + 1
    link = f"{base}/Datastreams({datastream_id})"
    # one Observation id per datastream and minute, so a re-read of the same minute is the same Observation
    observation_id = int(reading.observed_at.timestamp()) // 60 * 1000 + datastream_id
    observed = utc_iso(reading.observed_at)
    return {
        "@iot.id": datastream_id,
        "@iot.selfLink": link,
        "name": f"{metric.name} - {station.name}",
        "description": metric.description,
        "observationType": OM_MEASUREMENT,
        "unitOfMeasurement": {
            "name": metric.unit_name,
            "symbol": metric.unit_symbol,
            "definition": metric.unit_definition,
        },
        "ObservedProperty@iot.navigationLink": f"{link}/ObservedProperty",
        "ObservedProperty": {
            "@iot.id": property_id,
            "@iot.selfLink": f"{base}/ObservedProperties({property_id})",
            "name": metric.name,
            "definition": metric.definition,
            "description": metric.description,
        },
        "Thing@iot.navigationLink": f"{link}/Thing",
        "Sensor@iot.navigationLink": f"{link}/Sensor",
        "Observations@iot.navigationLink": f"{link}/Observations",
        "Observations": [
            {
                "@iot.id": observation_id,
                "@iot.selfLink": f"{base}/Observations({observation_id})",
                "Datastream@iot.navigationLink": f"{base}/Observations({observation_id})/Datastream",
                "FeatureOfInterest@iot.navigationLink": f"{base}/Observations({observation_id})/FeatureOfInterest",
                "phenomenonTime": observed,
                "resultTime": observed,
                "result": reading.values[metric.key],
            }
        ],
    }


def _district_phrase(station: AirStation) -> str:
    unit = "huyện" if station.district == "Hòa Vang" else "quận"
    return f"{unit} {station.district}, thành phố Đà Nẵng"


def _int_option(request: FeedRequest, name: str, default: int, maximum: int | None) -> int:
    text = request.get(name)
    if text is None or text == "":
        return default
    try:
        value = int(text)
    except ValueError:
        raise _bad(f"{name} must be a non-negative integer, not '{text}'") from None
    if value < 0:
        raise _bad(f"{name} must be a non-negative integer, not '{text}'")
    return min(value, maximum) if maximum is not None else value


def _next_link(request: FeedRequest, top: int, skip: int) -> str:
    """The same query with $top and $skip moved on, as an absolute URL."""
    options = {key: value for key, value in request.items() if key not in ("$top", "$skip")}
    options["$top"] = str(top)
    options["$skip"] = str(skip)
    query = "&".join(
        f"{quote(key, safe='$')}={quote(value, safe=_QUERY_SAFE)}" for key, value in options.items()
    )
    return f"{request.base_url}{ROOT}/Things?{query}"


def _bad(message: str) -> BadFeedRequest:
    # the error document FROST-Server, the reference implementation, returns
    return BadFeedRequest(message, json_bytes({"code": 400, "type": "error", "message": message}))
