"""GBFS 2.x and 3.0 bike share reader: stations with their bikes and docks, free-floating vehicles."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

import httpx

from data_adapters.contract import (
    Batch,
    Entity,
    FeedContext,
    Observation,
    PayloadError,
    Reader,
    load_json,
    lon_lat,
    parse_time,
    read_records,
    refuse_if_nothing_kept,
    register,
    to_iso,
)

# The files fetch() follows from gbfs.json and merges into one document; free_bike_status is the 2.x name
# of vehicle_status.
MERGED_FILES = ("station_information", "station_status", "vehicle_status", "free_bike_status")
# system_information is accepted in a merged document too, though fetch() does not ask for it
_MERGED_KEYS = (*MERGED_FILES, "system_information")

# The data members of the other GBFS files (vehicle types, pricing, regions, alerts, hours, zones,
# versions, the 3.0 manifest): valid documents that describe nothing the map shows, so an empty Batch.
NO_CITY_DATA = frozenset(
    {
        "vehicle_types",
        "plans",
        "regions",
        "alerts",
        "rental_hours",
        "calendars",
        "geofencing_zones",
        "versions",
        "datasets",
    }
)

# Members that only station_status carries (station_information has name/lat/lon instead).
_STATUS_MEMBERS = frozenset(
    {
        "num_bikes_available",
        "num_vehicles_available",
        "num_docks_available",
        "is_installed",
        "is_renting",
        "is_returning",
        "last_reported",
    }
)

# station_status member -> (metric, unit); the first member present of each metric wins (3.0 renamed
# num_bikes_* to num_vehicles_*).
STATION_METRICS: tuple[tuple[tuple[str, ...], str, str], ...] = (
    (("num_bikes_available", "num_vehicles_available"), "bikes_available", "count"),
    (("num_docks_available",), "docks_available", "count"),
    (("num_bikes_disabled", "num_vehicles_disabled"), "bikes_disabled", "count"),
    (("num_docks_disabled",), "docks_disabled", "count"),
)
STATION_FLAGS = ("is_renting", "is_returning", "is_installed")
# The flag that is a time series (the control room counts stations not renting); the others are state.
OBSERVED_FLAGS = frozenset({"is_renting"})

# Station descriptors worth keeping on the map tooltip; everything else (rental URIs, contact phone) is
# left out on purpose.
STATION_TEXT = ("address", "short_name", "region_id", "post_code", "cross_street")

# Language preference for 3.0 localized strings: the city's language, then English, then whatever is first.
PREFERRED_LANGUAGES = ("vi", "en")


@register
class GbfsReader(Reader):
    """Reads GBFS (General Bikeshare Feed Specification) 2.x and 3.0, single files or the merged feed."""

    id = "gbfs"

    def check_mapping(self, mapping: dict[str, Any]) -> None:
        if mapping:
            raise ValueError(f"the gbfs reader takes no mapping (got {', '.join(sorted(mapping))})")

    def fetch(self, client: httpx.Client, feed: FeedContext) -> bytes:
        """GET the feed URL; if it is gbfs.json, follow it to the station and vehicle files and merge them."""
        response = client.get(feed.url)
        response.raise_for_status()
        try:
            document = json.loads(response.content)
        except (UnicodeDecodeError, json.JSONDecodeError):
            return response.content  # parse() says what is wrong with it
        files = discovery_feeds(document)
        if files is None:
            return response.content
        base = httpx.URL(feed.url)
        merged: dict[str, Any] = {}
        for name in MERGED_FILES:
            url = files.get(name)
            if not url:
                continue
            part = client.get(base.join(url))
            part.raise_for_status()
            merged[name] = _load_json_named(part.content, name)
        if not merged:
            return response.content  # parse() explains that gbfs.json lists no station or vehicle file
        return json.dumps(merged).encode()

    def parse(self, payload: bytes, feed: FeedContext) -> Batch:
        document = load_json(payload)
        if not isinstance(document, dict):
            raise PayloadError(f"expected a GBFS JSON object, got {type(document).__name__}")
        assembly = _Assembly(feed)
        if "data" in document:
            assembly.add_file(document, "")
        elif any(key in document for key in _MERGED_KEYS):
            for key in _MERGED_KEYS:
                if key in document:
                    assembly.add_file(document[key], f"{key}.")
        else:
            raise PayloadError(
                "not a GBFS file: no 'data' member (and not a merged document of "
                + ", ".join(MERGED_FILES)
                + ")"
            )
        return refuse_if_nothing_kept(assembly.batch())


def discovery_feeds(document: Any) -> dict[str, str] | None:
    """The file name -> URL table of a gbfs.json auto-discovery file, or None if it is not one."""
    if not isinstance(document, dict) or not isinstance(document.get("data"), dict):
        return None
    data = document["data"]
    if isinstance(data.get("feeds"), list):  # 3.0: data.feeds[]
        listing = data["feeds"]
    else:  # 2.x: data.<language>.feeds[]
        by_language = {
            lang: block["feeds"]
            for lang, block in data.items()
            if isinstance(block, dict) and isinstance(block.get("feeds"), list)
        }
        if not by_language:
            return None
        listing = next(
            (by_language[lang] for lang in _language_order(by_language) if lang in by_language), []
        )
    return {
        item["name"]: item["url"]
        for item in listing
        if isinstance(item, dict) and isinstance(item.get("name"), str) and isinstance(item.get("url"), str)
    }


def _language_order(available: dict[str, Any]) -> list[str]:
    """Available languages, preferred ones first (matching 'vi-VN' as 'vi')."""
    ranked: list[str] = []
    for wanted in PREFERRED_LANGUAGES:
        ranked.extend(lang for lang in available if lang.lower().split("-")[0] == wanted and lang not in ranked)
    ranked.extend(lang for lang in available if lang not in ranked)
    return ranked


def _load_json_named(content: bytes, name: str) -> Any:
    try:
        return load_json(content)
    except PayloadError as exc:
        raise PayloadError(f"{name}: {exc}") from None


class _Assembly:
    """Collects the files of one poll into one entity per station and vehicle, then one Batch."""

    def __init__(self, feed: FeedContext) -> None:
        self.feed = feed
        self.stations: dict[str, Entity] = {}
        self.vehicles: dict[str, Entity] = {}
        self.systems: list[Entity] = []
        self.observations: list[Observation] = []
        # vehicles docked at a station are placed at the station once station_information is known
        self.docked: dict[str, str] = {}
        # a station one file refuses is left out of the batch, whatever another file said of it
        self.refused_stations: set[str] = set()
        self.problems = Batch()  # the records refused, with their reasons

    def _each(self, records: list[Any], where: str, read: Callable[[str, Any], None]) -> None:
        """Each record of one file through `read`: one refused is counted and leaves nothing behind."""

        def guarded(at: str, record: Any) -> None:
            kept = len(self.observations)
            try:
                read(at, record)
            except PayloadError:
                del self.observations[kept:]
                raise

        read_records(self.problems, ((f"{where}[{i}]", record) for i, record in enumerate(records)), guarded,
                     last=False)

    def add_file(self, document: Any, label: str) -> None:
        if not isinstance(document, dict):
            name = label.rstrip(".") or "document"
            raise PayloadError(f"{name}: expected a GBFS file object, got {type(document).__name__}")
        data = document.get("data")
        if not isinstance(data, dict):
            raise PayloadError(f"{label}data: expected an object, got {type(data).__name__}")
        if discovery_feeds(document) is not None:
            # gbfs.json only lists the other files: fetch() follows it; parsed on its own it holds nothing
            return
        updated = _utc_time(document.get("last_updated"), f"{label}last_updated")
        if "stations" in data:
            stations = _list(data["stations"], f"{label}data.stations")
            if any(isinstance(s, dict) and _STATUS_MEMBERS & s.keys() for s in stations):
                self._station_status(stations, updated, f"{label}data.stations")
            else:
                self._station_information(stations, updated, f"{label}data.stations")
        elif "vehicles" in data or "bikes" in data:
            key = "vehicles" if "vehicles" in data else "bikes"
            self._vehicles(_list(data[key], f"{label}data.{key}"), updated, f"{label}data.{key}")
        elif "system_id" in data:
            self._system(data, updated, f"{label}data")
        elif NO_CITY_DATA & data.keys():
            pass  # a real GBFS file, but nothing in it is a station or a vehicle on the map
        else:
            raise PayloadError(
                f"{label}data: none of 'stations', 'vehicles', 'bikes', 'system_id': this reader reads "
                "station_information, station_status, vehicle_status/free_bike_status and system_information"
            )

    # --- stations -------------------------------------------------------------------------------------

    @contextmanager
    def _station(self, record: Any, where: str) -> Iterator[tuple[dict[str, Any], Entity]]:
        """The station a record describes; if the rest of the record is refused, so is the station."""
        if not isinstance(record, dict):
            raise PayloadError(f"{where}: expected a station object, got {type(record).__name__}")
        station_id = _identifier(record.get("station_id"), f"{where}.station_id")
        entity = self.stations.get(station_id)
        if entity is None:
            entity = Entity(
                id=self.feed.urn(station_id),
                type="BikeStation",
                agency=self.feed.agency,
                sector=self.feed.sector,
                feed=self.feed.name,
                attributes={"station_id": station_id},
            )
            self.stations[station_id] = entity
        try:
            yield record, entity
        except PayloadError:
            self.refused_stations.add(station_id)
            raise

    def _station_information(self, stations: list[Any], updated: datetime, where: str) -> None:
        self._each(stations, where, lambda at, raw: self._one_station_information(raw, updated, at))

    def _one_station_information(self, raw: Any, updated: datetime, at: str) -> None:
        with self._station(raw, at) as (record, entity):
            entity.name = localized(record.get("name"), f"{at}.name")
            entity.location = _position(record, at)
            if "capacity" in record:
                entity.attributes["capacity"] = _count(record["capacity"], f"{at}.capacity")
            for key in STATION_TEXT:
                value = record.get(key)
                if isinstance(value, str | int | float) and not isinstance(value, bool):
                    entity.attributes[key] = str(value)
            if isinstance(record.get("is_virtual_station"), bool):
                entity.attributes["is_virtual_station"] = record["is_virtual_station"]
            if entity.observed_at is None:
                entity.observed_at = updated

    def _station_status(self, stations: list[Any], updated: datetime, where: str) -> None:
        self._each(stations, where, lambda at, raw: self._one_station_status(raw, updated, at))

    def _one_station_status(self, raw: Any, updated: datetime, at: str) -> None:
        with self._station(raw, at) as (record, entity):
            entity.observed_at = updated
            found_bikes = False
            for members, metric, unit in STATION_METRICS:
                member = next((m for m in members if m in record), None)
                if member is None:
                    continue
                found_bikes = found_bikes or metric == "bikes_available"
                self._observe(entity, metric, _count(record[member], f"{at}.{member}"), unit, updated)
            if not found_bikes:
                raise PayloadError(f"{at}: missing num_bikes_available (2.x) / num_vehicles_available (3.0)")
            for flag in STATION_FLAGS:
                if flag not in record:
                    continue
                value = _flag(record[flag], f"{at}.{flag}")
                if flag in OBSERVED_FLAGS:
                    self._observe(entity, flag, value, "", updated)
                else:
                    entity.attributes[flag] = value
            if record.get("last_reported") is not None:
                reported = _utc_time(record["last_reported"], f"{at}.last_reported")
                entity.attributes["last_reported"] = to_iso(reported)

    # --- vehicles -------------------------------------------------------------------------------------

    def _vehicles(self, vehicles: list[Any], updated: datetime, where: str) -> None:
        self._each(vehicles, where, lambda at, record: self._vehicle(record, updated, at))

    def _vehicle(self, record: Any, updated: datetime, at: str) -> None:
        if not isinstance(record, dict):
            raise PayloadError(f"{at}: expected a vehicle object, got {type(record).__name__}")
        id_member = "vehicle_id" if "vehicle_id" in record else "bike_id"
        vehicle_id = _identifier(record.get(id_member), f"{at}.{id_member}")
        reserved = _flag(record.get("is_reserved", False), f"{at}.is_reserved")
        disabled = _flag(record.get("is_disabled", False), f"{at}.is_disabled")
        entity = Entity(
            id=self.feed.urn(vehicle_id),
            type="BikeShareVehicle",
            agency=self.feed.agency,
            sector=self.feed.sector,
            feed=self.feed.name,
            observed_at=updated,
            attributes={"vehicle_id": vehicle_id, "is_reserved": reserved, "is_disabled": disabled},
        )
        has_position = record.get("lat") is not None or record.get("lon") is not None
        position = _position(record, at) if has_position else None
        # a reserved or disabled vehicle is not where a rider can take it: keep it off the map
        if position is not None and not reserved and not disabled:
            entity.location = position
        if record.get("vehicle_type_id") is not None:
            entity.attributes["vehicle_type_id"] = _identifier(record["vehicle_type_id"], f"{at}.vehicle_type_id")
        if record.get("station_id") is not None:
            station_id = _identifier(record["station_id"], f"{at}.station_id")
            entity.attributes["station_id"] = station_id
            if entity.location is None and position is None and not reserved and not disabled:
                self.docked[vehicle_id] = station_id
        if record.get("current_range_meters") is not None:
            range_m = _number(record["current_range_meters"], f"{at}.current_range_meters")
            self._observe(entity, "current_range_meters", range_m, "m", updated)
        if record.get("last_reported") is not None:
            reported = _utc_time(record["last_reported"], f"{at}.last_reported")
            entity.attributes["last_reported"] = to_iso(reported)
        self.vehicles[vehicle_id] = entity

    # --- system ---------------------------------------------------------------------------------------

    def _system(self, data: dict[str, Any], updated: datetime, where: str) -> None:
        system_id = _identifier(data.get("system_id"), f"{where}.system_id")
        attributes: dict[str, Any] = {"system_id": system_id}
        for key in ("operator", "short_name"):
            if data.get(key) is not None:
                attributes[key] = localized(data[key], f"{where}.{key}")
        for key in ("timezone", "url", "start_date", "language"):
            if isinstance(data.get(key), str):
                attributes[key] = data[key]
        self.systems.append(
            Entity(
                id=self.feed.urn(system_id),
                type="BikeShareSystem",
                agency=self.feed.agency,
                sector=self.feed.sector,
                feed=self.feed.name,
                name=localized(data.get("name"), f"{where}.name"),
                observed_at=updated,
                attributes=attributes,
            )
        )

    # --- output ---------------------------------------------------------------------------------------

    def _observe(self, entity: Entity, metric: str, value: float | bool, unit: str, moment: datetime) -> None:
        entity.attributes[metric] = value
        self.observations.append(Observation(entity.id, metric, value, unit, moment))

    def batch(self) -> Batch:
        refused = {self.stations[station_id].id for station_id in self.refused_stations}
        stations = {key: entity for key, entity in self.stations.items() if entity.id not in refused}
        for vehicle_id, station_id in self.docked.items():
            station = stations.get(station_id)
            if station is not None and station.location is not None:
                self.vehicles[vehicle_id].location = station.location
        return Batch(
            entities=[*self.systems, *stations.values(), *self.vehicles.values()],
            observations=[o for o in self.observations if o.entity_id not in refused] if refused else self.observations,
            problems=self.problems.problems,
        )


# --- value readers: each names the member it refuses --------------------------------------------------


def localized(value: Any, where: str) -> str:
    """A 2.x plain string or a 3.0 localized string [{text, language}]: Vietnamese, English, else first."""
    if isinstance(value, str):
        return value
    if isinstance(value, list) and value:
        texts: dict[str, str] = {}
        for index, item in enumerate(value):
            if not isinstance(item, dict) or not isinstance(item.get("text"), str):
                raise PayloadError(f"{where}[{index}]: expected {{text, language}}, got {item!r}")
            texts.setdefault(str(item.get("language") or ""), item["text"])
        return texts[_language_order(texts)[0]]
    raise PayloadError(f"{where}: expected a string or a list of {{text, language}}, got {value!r}")



def _utc_time(value: Any, where: str) -> datetime:
    """ISO 8601 text or epoch seconds as an aware UTC datetime (offsets such as +07:00 are converted)."""
    if isinstance(value, bool):
        raise PayloadError(f"{where}: expected a time, got {value!r}")
    return parse_time(value, field_name=where).astimezone(UTC)


def _list(value: Any, where: str) -> list[Any]:
    if not isinstance(value, list):
        raise PayloadError(f"{where}: expected an array, got {type(value).__name__}")
    return value


def _identifier(value: Any, where: str) -> str:
    if isinstance(value, bool) or not isinstance(value, str | int) or str(value).strip() == "":
        raise PayloadError(f"{where}: expected an id string, got {value!r}")
    return str(value).strip()


def _number(value: Any, where: str) -> float:
    # JSON numbers only: a quoted number is a sign the publisher's serialiser is broken
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise PayloadError(f"{where}: expected a number, got {value!r}")
    return float(value)


def _count(value: Any, where: str) -> int:
    number = _number(value, where)
    if number < 0 or number != int(number):
        raise PayloadError(f"{where}: expected a count (a whole number >= 0), got {value!r}")
    return int(number)


def _flag(value: Any, where: str) -> bool:
    # the spec says boolean; Oslo Bysykkel (and other 2.x feeds) publish 0/1 integers
    if isinstance(value, bool):
        return value
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    raise PayloadError(f"{where}: expected true/false (or 0/1), got {value!r}")


def _position(record: dict[str, Any], where: str) -> tuple[float, float]:
    lat = _number(record.get("lat"), f"{where}.lat")
    lon = _number(record.get("lon"), f"{where}.lon")
    return lon_lat(lon, lat, field_name=where)
