"""The health department's bed census as the CSV export its hospital system publishes every quarter hour.

A Vietnamese Excel export: UTF-8 with a byte-order mark, ';' between columns, decimal commas, '.' grouping
thousands, dd/mm/yyyy times and CRLF line ends. Like the real export, `patient_contact` names the last
patient admitted through the emergency ward and their phone: the feed's mapping must drop it.
"""

from __future__ import annotations

import random
from datetime import datetime

from ioc.i18n import CITY_ZONE
from simulator.citizens import person_name, phone_number
from simulator.city import SimCity
from simulator.feeds.common import FeedRequest
from simulator.geography import DISTRICT_CODES, district_of
from simulator.health import BedReport, bed_report, hospitals

CSV = "text/csv; charset=utf-8"
HEADER = (
    "bed_facility_id",
    "facility_name",
    "district_code",
    "latitude",
    "longitude",
    "total_beds",
    "occupied_beds",
    "bed_occupancy_pct",
    "icu_beds_total",
    "icu_beds_occupied",
    "status",
    "updated_at",
    "patient_contact",
)


def vi_number(value: float, decimals: int = 0) -> str:
    """1350 -> '1.350', 16.0722 -> '16,0722': numbers as a vi-VN spreadsheet writes them."""
    text = f"{value:,.{decimals}f}"
    return text.replace(",", " ").replace(".", ",").replace(" ", ".")


def render(city: SimCity, now: datetime, request: FeedRequest) -> tuple[bytes, str]:
    lines = [";".join(HEADER)]
    for hospital in hospitals(city):
        report = bed_report(city, hospital, now)
        lines.append(";".join(_row(report, city.rng("beds-contact", hospital.id, int(report.updated_at.timestamp())))))
    return ("\ufeff" + "\r\n".join(lines) + "\r\n").encode("utf-8"), CSV


def _row(report: BedReport, rng: random.Random) -> list[str]:
    hospital = report.hospital
    emergency_contact = hospital.emergency and rng.random() < 0.6
    contact = f"{person_name(rng)} - {phone_number(rng, spaced=True)}" if emergency_contact else ""
    return [
        hospital.id,
        hospital.name,
        DISTRICT_CODES.get(district_of(hospital.lon, hospital.lat) or "", ""),
        vi_number(hospital.lat, 4),
        vi_number(hospital.lon, 4),
        vi_number(hospital.beds),
        vi_number(report.occupied),
        vi_number(report.occupancy_pct, 1),
        vi_number(hospital.icu_beds) if hospital.icu_beds else "",
        vi_number(report.icu_occupied) if report.icu_occupied is not None else "",
        "quá tải" if report.occupied > hospital.beds else "hoạt động",
        report.updated_at.astimezone(CITY_ZONE).strftime("%d/%m/%Y %H:%M"),
        contact,
    ]
