"""The bus operator's service as passengers see it: how late each trip runs, and the alerts it publishes.

Delays grow in the rush hours and in the rain, each trip with its own luck. A route is detoured while a
flood sensor on its path reads more than DETOUR_LEVEL_CM: the alert starts the minute the water rose past
it and leaves the feed when every spot has drained, so it follows the scenario's rain without being scripted. A standing
alert for road works is in force every week, as real operators always have one.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from simulator.rhythm import local_hour, local_seconds, rush_hour
from simulator.traffic import distance_to_path_km
from simulator.transit import BusRoute, VehicleState, pace
from simulator.water import FloodSensor, flood_sensors, read_flood_sensor

if TYPE_CHECKING:
    from simulator.city import SimCity

DETOUR_LEVEL_CM = 25.0
# a flood spot this close to a route's street blocks it
ROUTE_REACH_KM = 0.35
# how far back an ongoing flood is traced to find when it began
MAX_FLOOD_MINUTES = 8 * 60
STOPS_AHEAD = 3
DETOUR_REVIEW = timedelta(hours=1)
WORKS_ROUTE = "R6"


@dataclass(frozen=True, slots=True)
class StopArrival:
    stop_sequence: int
    stop_id: str
    arrival: datetime


@dataclass(frozen=True, slots=True)
class TripDelay:
    """A trip in progress: the bus on it, how late it runs, and its next stops with predicted arrivals."""

    state: VehicleState
    delay_s: int
    next_stops: tuple[StopArrival, ...]


def trip_delays(city: SimCity, moment: datetime) -> list[TripDelay]:
    """One prediction per bus in service, made at the bus's last GPS fix."""
    rain = city.scenario.rain_intensity(moment)
    found = []
    for state in city.vehicles(moment):
        route = state.route
        # a trip's luck holds for the whole trip (a late driver change, a full bus); noise per half minute
        luck = city.rng("trip-luck", state.trip_id).uniform(0.5, 1.5)
        jitter = city.rng("trip-delay", state.trip_id, int(moment.timestamp()) // 30).gauss(0, 20)
        hour = local_hour(state.timestamp)
        delay = round(luck * (45 + 420 * rush_hour(hour) + 14 * rain) + jitter)
        per_stop_h = route.stop_spacing_km / (route.corridor.cruise_kmh * pace(hour))
        stops = []
        for ahead in range(STOPS_AHEAD):
            sequence = state.stop_sequence + ahead
            if sequence > route.stop_count:
                break
            physical = sequence if state.direction_id == 0 else route.stop_count + 1 - sequence
            due = state.timestamp + timedelta(hours=per_stop_h * (ahead + 0.5), seconds=delay)
            stops.append(StopArrival(sequence, f"{route.id}-S{physical:02d}", due.replace(microsecond=0)))
        found.append(TripDelay(state, delay, tuple(stops)))
    return found


@dataclass(frozen=True, slots=True)
class ServiceAlert:
    id: str
    route_id: str
    stop_ids: tuple[str, ...]
    start: datetime
    end: datetime | None
    cause: str  # GTFS-RT Alert.Cause
    effect: str  # GTFS-RT Alert.Effect
    severity: str  # GTFS-RT Alert.SeverityLevel
    header_vi: str
    header_en: str
    description_vi: str
    description_en: str


def routes_at_flood_spots(city: SimCity) -> dict[str, tuple[FloodSensor, ...]]:
    """For each route, the flood sensors on its streets."""

    def build(built: SimCity) -> dict[str, tuple[FloodSensor, ...]]:
        return {
            route.id: tuple(
                s for s in flood_sensors(built) if distance_to_path_km((s.lon, s.lat), route.path) < ROUTE_REACH_KM
            )
            for route in built.bus_routes
        }

    return city.part("routes-at-flood-spots", build)


def _flooded(city: SimCity, sensors: tuple[FloodSensor, ...], moment: datetime) -> list[tuple[FloodSensor, float]]:
    """The sensors reading above the detour level at `moment`, with their levels."""
    readings = [(s, read_flood_sensor(city, s, moment).water_level_cm) for s in sensors]
    return [(sensor, level) for sensor, level in readings if level > DETOUR_LEVEL_CM]


def _detoured_since(city: SimCity, sensors: tuple[FloodSensor, ...], moment: datetime) -> datetime | None:
    """When the route's current detour began: the first minute of its unbroken run of flooding."""
    minute = datetime.fromtimestamp(int(moment.timestamp()) // 60 * 60, UTC)
    if not _flooded(city, sensors, minute):
        return None
    since = minute
    for _ in range(MAX_FLOOD_MINUTES):
        before = since - timedelta(minutes=1)
        if not _flooded(city, sensors, before):
            break
        since = before
    return since


def _nearest_stops(route: BusRoute, sensor: FloodSensor) -> tuple[str, ...]:
    # the two stops either side of the flooded spot are the ones buses skip
    distances = []
    for stop in range(route.stop_count):
        (lon, lat), _bearing = route.point_at(stop * route.stop_spacing_km)
        distances.append((distance_to_path_km((sensor.lon, sensor.lat), ((lon, lat), (lon, lat))), stop))
    nearest = sorted(distances)[:2]
    return tuple(f"{route.id}-S{stop + 1:02d}" for _distance, stop in sorted(nearest, key=lambda d: d[1]))


def service_alerts(city: SimCity, moment: datetime) -> list[ServiceAlert]:
    """The operator's alerts in force: the week's road works, and a detour on every route with flooding."""
    alerts = [_road_works(city, moment)]
    routes = {route.id: route for route in city.bus_routes}
    for route_id, sensors in routes_at_flood_spots(city).items():
        since = _detoured_since(city, sensors, moment)
        flooded = _flooded(city, sensors, moment)
        if since is None or not flooded:
            continue
        places = ", ".join(sensor.place for sensor, _level in flooded)
        deepest = max(level for _sensor, level in flooded)
        stops = tuple(dict.fromkeys(stop for sensor, _l in flooded for stop in _nearest_stops(routes[route_id], sensor)))
        alerts.append(
            ServiceAlert(
                id=f"flood-{route_id}-{since:%y%m%d%H%M}",
                route_id=route_id,
                stop_ids=stops,
                start=since,
                # "until further notice": the operator reviews a detour hourly and moves its end on
                end=datetime.fromtimestamp(int(moment.timestamp()) // 60 * 60, UTC) + DETOUR_REVIEW,
                cause="WEATHER",
                effect="DETOUR",
                severity="SEVERE" if deepest > 2 * DETOUR_LEVEL_CM else "WARNING",
                header_vi=f"Tuyến {route_id} chuyển hướng tránh điểm ngập {places}",
                header_en=f"Route {route_id} detoured around flooding at {places}",
                description_vi=(
                    f"Ngập sâu đến {deepest:.0f} cm tại {places}. Xe buýt tuyến {route_id} đi đường vòng và không "
                    "dừng tại các điểm dừng trên đoạn ngập. Hành khách vui lòng đón xe tại điểm dừng kế tiếp."
                ),
                description_en=(
                    f"Flooding up to {deepest:.0f} cm at {places}. Route {route_id} buses take a detour and skip "
                    "the stops on the flooded section. Please board at the next stop."
                ),
            )
        )
    return sorted(alerts, key=lambda a: (a.start, a.id))


def _road_works(city: SimCity, moment: datetime) -> ServiceAlert:
    # works are planned week by week, from Monday 00:00 on the city's clock
    local_day = int(local_seconds(moment) // 86400)
    monday = local_day - (local_day + 3) % 7  # 1 January 1970 was a Thursday
    offset = local_seconds(moment) - moment.timestamp()
    start = datetime.fromtimestamp(monday * 86400 - offset, UTC)
    route = next(r for r in city.bus_routes if r.id == WORKS_ROUTE)
    stop = f"{route.id}-S{1 + city.rng('road-works', monday).randrange(route.stop_count):02d}"
    return ServiceAlert(
        id=f"works-{route.id}-{start:%y%m%d}",
        route_id=route.id,
        stop_ids=(stop,),
        start=start,
        end=start + timedelta(days=7),
        cause="CONSTRUCTION",
        effect="STOP_MOVED",
        severity="INFO",
        header_vi=f"Tuyến {route.id}: tạm dời điểm dừng {stop} do thi công",
        header_en=f"Route {route.id}: stop {stop} moved for road works",
        description_vi="Điểm dừng tạm dời 50 m về phía trước trong thời gian thi công nâng cấp vỉa hè.",
        description_en="The stop is moved 50 m ahead while the pavement is rebuilt.",
    )
