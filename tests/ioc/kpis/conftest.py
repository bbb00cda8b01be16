"""What the KPI tests share: a small catalogue written for the test, and entities and observations made by hand."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from ioc.config import Feed, Settings
from ioc.kpis.catalogue import Catalogue, parse_catalogue
from ioc.kpis.rollups import KpiRollups
from ioc.model import Entity, Observation
from ioc.store import Store

# Local Da Nang time is UTC+7: 2026-11-19 17:00 UTC is midnight of 2026-11-20 in the city.
CITY_MIDNIGHT_UTC = datetime(2026, 11, 19, 17, 0, tzinfo=UTC)

# A catalogue whose numbers can be worked out by hand, on feeds the demo city configures.
SMALL_CATALOGUE = """
kpis:
  - id: pm25-mean
    name: {vi: "PM2.5 trung bình", en: "Mean PM2.5"}
    sector: environment
    agency: danang-donre
    unit: "µg/m³"
    source: {feeds: [air-stations], metric: pm25, group_by: station_code}
    aggregate: mean
    target: 25
    better: lower
  - id: pm25-hours
    name: {vi: "Giờ PM2.5 vượt ngưỡng", en: "Hours above the PM2.5 limit"}
    sector: environment
    agency: danang-donre
    unit: h
    source: {feeds: [air-stations], metric: pm25}
    aggregate: hours_above
    limit: 50
    target: 2
    better: lower
  - id: requests-on-time
    name: {vi: "Phản ánh đúng hạn", en: "Requests on time"}
    sector: citizen
    agency: danang-1022
    source:
      records: entities
      feeds: [citizen-requests]
      entity_type: CitizenRequest
      where: {status: closed}
      time: updated_datetime
      group_by: agency_responsible
    aggregate: share
    count_if: "updated_datetime <= expected_datetime"
    target: 90
    better: higher
  - id: resolution-median
    name: {vi: "Thời gian xử lý (trung vị)", en: "Median resolution time"}
    sector: citizen
    agency: danang-1022
    unit: h
    source:
      records: entities
      feeds: [citizen-requests]
      entity_type: CitizenRequest
      where: {status: closed}
      time: updated_datetime
    aggregate: median
    value: hours(requested_datetime, updated_datetime)
    target: 24
    better: lower
  - id: not-yet-connected
    name: {vi: "Chưa kết nối", en: "Not connected yet"}
    sector: utilities
    agency: danang-nobody
    source: {feeds: [a-feed-nobody-configured], metric: level}
    aggregate: mean
    target: 1
    better: lower
  - id: integration-rate
    name: {vi: "Tỷ lệ tích hợp", en: "Integration rate"}
    sector: data
    agency: danang-ioc
    aggregate: integration_rate
    target: 95
    better: higher
  - id: feed-delivery
    name: {vi: "Gửi dữ liệu đúng hạn", en: "On-time delivery"}
    sector: data
    agency: danang-ioc
    aggregate: feed_delivery
    target: 98
    better: higher
"""


def write_catalogue(folder: Path, settings: Settings, text: str = SMALL_CATALOGUE) -> Catalogue:
    path = folder / "kpis.yaml"
    path.write_text(text, encoding="utf-8")
    return parse_catalogue(path, settings)


@pytest.fixture
def catalogue(tmp_path: Path, settings: Settings) -> Catalogue:
    return write_catalogue(tmp_path, settings)


@pytest.fixture
def rollups(fake_store: Store, settings: Settings, catalogue: Catalogue) -> KpiRollups:
    return KpiRollups(fake_store, settings, catalogue)


def station(number: int, district: str, **attributes: Any) -> Entity:
    return Entity(
        id=f"urn:ioc:danang:air-stations:{number}", type="AirQualityStation", agency="danang-donre",
        sector="environment", name=f"Trạm {number}", district=district,
        attributes={"station_code": f"DN-AQ-{number:02d}", **attributes}, feed="air-stations",
    )


def pm25(number: int, value: float, moment: datetime) -> Observation:
    return Observation(f"urn:ioc:danang:air-stations:{number}", "pm25", value, "µg/m³", moment)


def request(number: int, district: str, status: str, requested: datetime, updated: datetime,
            expected: datetime, agency: str = "Sở Xây dựng") -> Entity:
    return Entity(
        id=f"urn:ioc:danang:citizen-requests:PA-{number}", type="CitizenRequest", agency="danang-1022",
        sector="citizen", district=district, feed="citizen-requests",
        attributes={"status": status, "requested_datetime": requested.isoformat(),
                    "updated_datetime": updated.isoformat(), "expected_datetime": expected.isoformat(),
                    "agency_responsible": agency},
    )


def feed_named(settings: Settings, name: str) -> Feed:
    return settings.feed(name)
