"""The bus operator's GTFS-Realtime ServiceAlerts feed: road works, and detours around flooded streets."""

from __future__ import annotations

from datetime import datetime

from google.transit import gtfs_realtime_pb2

from simulator.bus_service import ServiceAlert, service_alerts
from simulator.city import SimCity
from simulator.feeds.common import FeedRequest
from simulator.feeds.gtfs_rt import CONTENT_TYPE

_ALERT = gtfs_realtime_pb2.Alert


def render(city: SimCity, now: datetime, request: FeedRequest) -> tuple[bytes, str]:
    message = gtfs_realtime_pb2.FeedMessage()
    message.header.gtfs_realtime_version = "2.0"
    message.header.incrementality = gtfs_realtime_pb2.FeedHeader.FULL_DATASET
    message.header.timestamp = int(now.timestamp())
    for alert in service_alerts(city, now):
        entity = message.entity.add()
        entity.id = alert.id
        _fill(entity.alert, alert)
    return message.SerializeToString(deterministic=True), CONTENT_TYPE


def _fill(target: gtfs_realtime_pb2.Alert, alert: ServiceAlert) -> None:
    period = target.active_period.add()
    period.start = int(alert.start.timestamp())
    if alert.end is not None:
        period.end = int(alert.end.timestamp())
    route = target.informed_entity.add()
    route.route_id = alert.route_id
    for stop_id in alert.stop_ids:
        stop = target.informed_entity.add()
        stop.route_id = alert.route_id
        stop.stop_id = stop_id
    target.cause = _ALERT.Cause.Value(alert.cause)
    target.effect = _ALERT.Effect.Value(alert.effect)
    target.severity_level = _ALERT.SeverityLevel.Value(alert.severity)
    for language, text in (("vi", alert.header_vi), ("en", alert.header_en)):
        translation = target.header_text.translation.add()
        translation.language, translation.text = language, text
    for language, text in (("vi", alert.description_vi), ("en", alert.description_en)):
        translation = target.description_text.translation.add()
        translation.language, translation.text = language, text
