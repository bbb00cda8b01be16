"""The 1022 citizen hotline's requests: what people report, where, and how each moves from open to closed.

Arrivals are a deterministic process per hour: the count and every detail of the hour's requests come
from a Random seeded with (seed, hour), busier in the daytime and, for flooding and fallen trees, during
the scenario's rain. Each request carries the time it will be acknowledged and closed, so its status at
any moment is a comparison, and a request never reopens. Like the real hotline's system, the raw records
hold reporters' names, e-mail addresses and phone numbers (some inside the description): the IOC's
readers must strip them.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from ioc.i18n import CITY_ZONE
from simulator.geography import REPORT_SHARE, STREETS, ascii_fold
from simulator.rhythm import daytime, local_hour

if TYPE_CHECKING:
    from simulator.city import SimCity

ADDRESSES_PER_DISTRICT = 150
MAX_PER_HOUR = 99
# rain at which rain-driven reports (flooding, fallen trees) double, mm/h
RAIN_DOUBLING_MM_H = 10.0


@dataclass(frozen=True, slots=True)
class ServiceType:
    """A kind of request the hotline takes (Open311 'service')."""

    code: str
    name: str
    description: str
    group: str
    keywords: str
    agency: str
    # typical hours to fix, and the hours the agency promises (expected_datetime)
    resolve_hours: float
    promised_hours: float
    # share of ordinary daytime reports
    weight: float
    # extra reports per hour for every RAIN_DOUBLING_MM_H of rain
    rain_rate: float
    problems: tuple[str, ...]
    closing_notes: tuple[str, ...]


SERVICE_TYPES: tuple[ServiceType, ...] = (
    ServiceType(
        code="DEN-CS",
        name="Đèn chiếu sáng công cộng hư hỏng",
        description="Đèn đường không sáng, chập chờn hoặc sáng cả ban ngày",
        group="Hạ tầng đô thị",
        keywords="đèn đường, chiếu sáng, street light",
        agency="Sở Xây dựng",
        resolve_hours=30,
        promised_hours=48,
        weight=0.22,
        rain_rate=0.0,
        problems=(
            "Đèn đường trên đường {street} không sáng từ tối qua.",
            "Cụm đèn chiếu sáng đoạn {street} chập chờn, tắt mở liên tục.",
            "Đèn đường tại {street} sáng cả ban ngày, gây lãng phí điện.",
        ),
        closing_notes=("Đã thay bóng đèn, đèn hoạt động bình thường.", "Đã sửa chữa tủ điện chiếu sáng."),
    ),
    ServiceType(
        code="RAC-TH",
        name="Rác thải, vệ sinh môi trường",
        description="Rác tồn đọng, thu gom không đúng giờ, đổ rác trái phép",
        group="Môi trường",
        keywords="rác, vệ sinh, garbage",
        agency="Công ty Môi trường đô thị Đà Nẵng",
        resolve_hours=9,
        promised_hours=24,
        weight=0.30,
        rain_rate=0.0,
        problems=(
            "Rác tồn đọng nhiều ngày tại kiệt {number} {street}, bốc mùi hôi.",
            "Có người đổ xà bần, rác thải trái phép trên vỉa hè đường {street}.",
            "Xe thu gom rác không đến thu gom ở {street} hai ngày nay.",
        ),
        closing_notes=("Đã thu gom, vệ sinh khu vực.", "Đã thu gom và nhắc nhở hộ dân đổ rác đúng giờ."),
    ),
    ServiceType(
        code="NGAP",
        name="Ngập úng đường phố",
        description="Đường ngập nước, cống thoát nước bị tắc",
        group="Hạ tầng đô thị",
        keywords="ngập, thoát nước, flooding",
        agency="Công ty Thoát nước và Xử lý nước thải Đà Nẵng",
        resolve_hours=6,
        promised_hours=12,
        weight=0.06,
        rain_rate=3.0,
        problems=(
            "Đường {street} ngập sâu khoảng 30 cm, xe máy chết máy nhiều.",
            "Hố ga trên đường {street} bị tắc, nước không thoát được.",
            "Nước tràn vào nhà dân tại {number} {street} do cống bị nghẹt.",
        ),
        closing_notes=("Đã nạo vét hố ga, nước đã rút.", "Đã khơi thông cống thoát nước."),
    ),
    ServiceType(
        code="MAT-DUONG",
        name="Hư hỏng mặt đường, ổ gà",
        description="Mặt đường bị sụt lún, ổ gà, nắp hố ga hư hỏng",
        group="Giao thông",
        keywords="ổ gà, mặt đường, pothole",
        agency="Sở Giao thông vận tải",
        resolve_hours=60,
        promised_hours=72,
        weight=0.17,
        rain_rate=0.3,
        problems=(
            "Ổ gà lớn giữa đường {street}, nguy hiểm cho xe máy vào ban đêm.",
            "Mặt đường {street} bị sụt lún sau đợt thi công cống.",
            "Nắp hố ga trên đường {street} bị vỡ, chưa có biển cảnh báo.",
        ),
        closing_notes=("Đã vá ổ gà, thảm lại mặt đường.", "Đã thay nắp hố ga mới."),
    ),
    ServiceType(
        code="TIENG-ON",
        name="Tiếng ồn, mất trật tự",
        description="Karaoke, công trình thi công gây ồn ngoài giờ cho phép",
        group="An ninh trật tự",
        keywords="tiếng ồn, karaoke, noise",
        agency="Công an thành phố Đà Nẵng",
        resolve_hours=3,
        promised_hours=8,
        weight=0.15,
        rain_rate=0.0,
        problems=(
            "Quán karaoke tại {number} {street} hát to sau 22 giờ.",
            "Công trình xây dựng trên đường {street} thi công gây ồn vào ban đêm.",
            "Loa kẹo kéo ở {street} mở quá lớn, ảnh hưởng người dân.",
        ),
        closing_notes=("Công an phường đã đến nhắc nhở, xử lý.", "Đã lập biên bản, yêu cầu chấm dứt gây ồn."),
    ),
    ServiceType(
        code="CAY-XANH",
        name="Cây xanh gãy đổ",
        description="Cây xanh gãy cành, ngã đổ, có nguy cơ gây nguy hiểm",
        group="Môi trường",
        keywords="cây xanh, gãy đổ, tree fallen",
        agency="Công ty Công viên cây xanh Đà Nẵng",
        resolve_hours=5,
        promised_hours=12,
        weight=0.10,
        rain_rate=2.0,
        problems=(
            "Cây xanh trước nhà số {number} {street} bị gãy cành lớn, chắn một phần đường.",
            "Cây trên vỉa hè đường {street} nghiêng, có nguy cơ ngã đổ.",
            "Cây đổ chắn ngang kiệt {number} {street}, người dân không qua lại được.",
        ),
        closing_notes=("Đã cắt tỉa, dọn dẹp cây gãy đổ.", "Đã chặt hạ cây nguy hiểm, trồng cây thay thế."),
    ),
)

ACKNOWLEDGED_NOTE = "Đã tiếp nhận, chuyển {agency} xử lý."

FAMILY_NAMES = ("Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Huỳnh", "Phan", "Võ", "Đặng", "Bùi", "Đỗ", "Ngô")
GIVEN_NAMES = (
    "Văn An",
    "Thị Hoa",
    "Minh Tuấn",
    "Thị Lan",
    "Quốc Bảo",
    "Thu Hà",
    "Đức Huy",
    "Ngọc Ánh",
    "Văn Hùng",
    "Thị Mai",
    "Thanh Tâm",
    "Hữu Phước",
    "Bảo Ngọc",
    "Công Danh",
)
# Viettel, MobiFone and VinaPhone mobile prefixes
PHONE_PREFIXES = (
    "090",
    "093",
    "089",
    "091",
    "094",
    "088",
    "096",
    "097",
    "098",
    "086",
    "070",
    "079",
    "077",
    "035",
)
# reserved example domains: the simulated addresses can never reach anyone
EMAIL_DOMAINS = ("example.com", "example.net", "example.org")


@dataclass(frozen=True, slots=True)
class Address:
    id: str
    district: str
    street: str
    number: int
    lon: float
    lat: float

    @property
    def text(self) -> str:
        unit = "huyện" if self.district == "Hòa Vang" else "quận"
        return f"{self.number} {self.street}, {unit} {self.district}, Đà Nẵng"


@dataclass(frozen=True, slots=True)
class Reporter:
    first_name: str
    last_name: str
    email: str | None
    phone: str | None


@dataclass(frozen=True, slots=True)
class CitizenRequest:
    id: str
    service: ServiceType
    address: Address
    description: str
    requested_at: datetime
    acknowledged_at: datetime
    closed_at: datetime
    expected_at: datetime
    closing_note: str
    reporter: Reporter | None

    def status(self, now: datetime) -> str:
        return "closed" if now >= self.closed_at else "open"

    def updated_at(self, now: datetime) -> datetime:
        if now >= self.closed_at:
            return self.closed_at
        return self.acknowledged_at if now >= self.acknowledged_at else self.requested_at

    def status_notes(self, now: datetime) -> str:
        if now >= self.closed_at:
            return self.closing_note
        if now >= self.acknowledged_at:
            return ACKNOWLEDGED_NOTE.format(agency=self.service.agency)
        return ""


def build_address_book(city: SimCity) -> dict[str, tuple[Address, ...]]:
    """Addresses people report from, per district: a point inside the district and a street of it."""
    book: dict[str, tuple[Address, ...]] = {}
    for number, district in enumerate(city.districts, start=1):
        rng = city.rng("addresses", district.name)
        addresses = []
        for index in range(ADDRESSES_PER_DISTRICT):
            lon, lat = district.sample_point(rng)
            street = rng.choice(STREETS[district.name])
            addresses.append(
                Address(f"{number}{index:04d}", district.name, street, rng.randint(1, 480), lon, lat)
            )
        book[district.name] = tuple(addresses)
    return book


def hour_index(moment: datetime) -> int:
    """Which hour since the epoch a moment falls in (the unit of the arrival process)."""
    return int(moment.timestamp() // 3600)


def _poisson(rng: random.Random, mean: float) -> int:
    # Knuth's method: fine for the small hourly means of a hotline
    limit, count, product = math.exp(-mean), 0, rng.random()
    while product > limit:
        count += 1
        product *= rng.random()
    return count


def requests_in_hour(city: SimCity, hour: int) -> tuple[CitizenRequest, ...]:
    """Every request that arrives in one hour, in arrival order."""
    hour_start = datetime.fromtimestamp(hour * 3600, UTC)
    middle = hour_start + timedelta(minutes=30)
    local = local_hour(middle)
    rain_factor = city.scenario.rain_intensity(middle) / RAIN_DOUBLING_MM_H
    rates = []
    for service in SERVICE_TYPES:
        rate = service.weight * (0.6 + 5.5 * daytime(local))
        if service.code == "TIENG-ON" and (local >= 19 or local < 1):
            rate *= 2.5  # karaoke hours
        rates.append(rate + service.rain_rate * rain_factor)

    rng = city.rng("1022", hour)
    count = min(MAX_PER_HOUR, _poisson(rng, sum(rates)))
    offsets = sorted(rng.randrange(3600) for _ in range(count))
    local_start = hour_start.astimezone(CITY_ZONE)
    districts = list(REPORT_SHARE)
    shares = [REPORT_SHARE[d] for d in districts]
    requests = []
    for number, offset in enumerate(offsets, start=1):
        one = city.rng("1022", hour, number)
        service = one.choices(SERVICE_TYPES, weights=rates)[0]
        district = one.choices(districts, weights=shares)[0]
        address = one.choice(city.address_book[district])
        requested_at = hour_start + timedelta(seconds=offset)
        description = one.choice(service.problems).format(street=address.street, number=address.number)
        reporter = _reporter(one)
        if one.random() < 0.25:
            # people leave a number in the text for the crew to call back: the readers must scrub it
            description += f" Liên hệ: {phone_number(one, spaced=True)}."
        resolve = service.resolve_hours * one.lognormvariate(0, 0.6)
        requests.append(
            CitizenRequest(
                id=f"PA-{local_start:%y%m%d}-{local_start:%H}{number:02d}",
                service=service,
                address=address,
                description=description,
                requested_at=requested_at,
                acknowledged_at=requested_at + timedelta(minutes=one.uniform(5, 45)),
                closed_at=requested_at + timedelta(hours=max(0.8, resolve)),
                expected_at=requested_at + timedelta(hours=service.promised_hours),
                closing_note=one.choice(service.closing_notes),
                reporter=reporter,
            )
        )
    return tuple(requests)


def _reporter(rng: random.Random) -> Reporter | None:
    if rng.random() < 0.3:
        return None  # reported anonymously
    family, given = rng.choice(FAMILY_NAMES), rng.choice(GIVEN_NAMES)
    email = None
    if rng.random() < 0.5:
        handle = f"{ascii_fold(given.split()[-1]).lower()}.{ascii_fold(family).lower()}{rng.randint(60, 99)}"
        email = f"{handle}@{rng.choice(EMAIL_DOMAINS)}"
    phone = phone_number(rng) if rng.random() < 0.8 else None
    return Reporter(first_name=given, last_name=family, email=email, phone=phone)


def person_name(rng: random.Random) -> str:
    """A Vietnamese full name, family name first."""
    return f"{rng.choice(FAMILY_NAMES)} {rng.choice(GIVEN_NAMES)}"


def phone_number(rng: random.Random, *, spaced: bool = False) -> str:
    """A Vietnamese mobile number (the simulator's raw records hold them, like the agencies' own)."""
    prefix = rng.choice(PHONE_PREFIXES)
    rest = f"{rng.randrange(10_000_000):07d}"
    if spaced:
        return f"{prefix}{rest[0]} {rest[1:4]} {rest[4:]}"
    return prefix + rest


def parse_request_id(request_id: str) -> tuple[int, int] | None:
    """(hour index, number in the hour) of a request id like 'PA-250612-1403', None if it is not one."""
    try:
        prefix, day, hour_number = request_id.split("-")
        local = datetime.strptime(f"{day}{hour_number[:2]}", "%y%m%d%H").replace(tzinfo=CITY_ZONE)
        number = int(hour_number[2:])
    except ValueError:
        return None
    if prefix != "PA" or len(hour_number) != 4:
        return None
    return hour_index(local), number
