"""Civil defence warnings: the CAP messages the city's steering committee for natural disaster prevention
(Ban Chỉ huy PCTT và TKCN) has published for the scenario's typhoon, and which of them is in force.

A warning is a thread: the Alert when the scenario's typhoon warning begins, an Update when the storm
strengthens, a Cancel when it has weakened. A feed shows the thread's latest message, and a Cancel for a
day after it, as national alerting feeds do.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from ioc.i18n import CITY_ZONE

if TYPE_CHECKING:
    from simulator.city import SimCity
    from simulator.scenario import ActiveIncident

SENDER = "pctt@danang.gov.vn"
SENDER_NAME = "Ban Chỉ huy PCTT và TKCN thành phố Đà Nẵng"
CANCEL_SHOWN_FOR = timedelta(days=1)
# the coast of Liên Chiểu, Thanh Khê, Sơn Trà and Ngũ Hành Sơn ("lat,lon" pairs, as CAP writes them)
COAST_POLYGON = "16.13,108.12 16.13,108.33 15.96,108.33 15.96,108.24 16.05,108.20 16.13,108.12"
# the storm's danger zone at sea, east of the city: "lat,lon radius_km"
SEA_CIRCLE = "16.16,108.38 25"


@dataclass(frozen=True, slots=True)
class CapArea:
    description_vi: str
    description_en: str
    polygon: str | None = None
    circle: str | None = None


@dataclass(frozen=True, slots=True)
class CapMessage:
    identifier: str
    sent: datetime
    msg_type: str  # Alert | Update | Cancel
    references: tuple[tuple[str, datetime], ...]
    event_vi: str
    event_en: str
    urgency: str
    severity: str
    certainty: str
    onset: datetime
    expires: datetime
    headline_vi: str
    headline_en: str
    description_vi: str
    description_en: str
    instruction_vi: str
    instruction_en: str
    areas: tuple[CapArea, ...]

    def reference_text(self) -> str:
        return " ".join(f"{SENDER},{identifier},{_cap_time(sent)}" for identifier, sent in self.references)


def _cap_time(moment: datetime) -> str:
    return moment.astimezone(CITY_ZONE).isoformat(timespec="seconds")


AREAS = (
    CapArea("Ven biển quận Liên Chiểu, Thanh Khê, Sơn Trà, Ngũ Hành Sơn", "Coast of Lien Chieu, Thanh Khe, "
            "Son Tra and Ngu Hanh Son", polygon=COAST_POLYGON),
    CapArea("Vùng biển gần bờ Đà Nẵng", "Da Nang coastal waters", circle=SEA_CIRCLE),
)


def typhoon_thread(placed: ActiveIncident) -> list[CapMessage]:
    """Every message of one typhoon warning, in the order they are sent."""
    incident = placed.incident
    day = placed.onset.astimezone(CITY_ZONE).strftime("%Y%m%d")
    base = f"DN-PCTT-{day}-{incident.id}"
    landfall = placed.onset + timedelta(hours=6)
    alert = CapMessage(
        identifier=f"{base}-1",
        sent=placed.onset,
        msg_type="Alert",
        references=(),
        event_vi="Bão",
        event_en="Typhoon",
        urgency="Expected",
        severity="Severe",
        certainty="Likely",
        onset=landfall,
        expires=placed.ends,
        headline_vi=incident.title_vi,
        headline_en=incident.title_en,
        description_vi=(
            "Bão trên Biển Đông di chuyển theo hướng Tây, sức gió mạnh nhất cấp 10, giật cấp 12. "
            "Mưa to 150-250 mm, nguy cơ ngập ở Hòa Vang, Cẩm Lệ, Liên Chiểu."
        ),
        description_en=(
            "A storm in the East Sea is moving west, winds up to force 10 gusting 12. "
            "Heavy rain of 150-250 mm, flooding likely in Hoa Vang, Cam Le and Lien Chieu."
        ),
        instruction_vi="Tàu thuyền vào nơi tránh trú. Chuẩn bị di dời dân ở vùng trũng. Đường dây nóng: 0236 3822 123.",
        instruction_en="Vessels to shelter. Prepare to evacuate low-lying areas.",
        areas=AREAS,
    )
    thread = [alert]
    if placed.updated is not None and placed.updated < placed.ends:
        thread.append(
            CapMessage(
                identifier=f"{base}-2",
                sent=placed.updated,
                msg_type="Update",
                references=((alert.identifier, alert.sent),),
                event_vi="Bão",
                event_en="Typhoon",
                urgency="Immediate",
                severity="Extreme",
                certainty="Likely",
                onset=landfall,
                expires=placed.ends,
                headline_vi="Bão mạnh lên cấp 12, giật cấp 14, hướng thẳng vào Đà Nẵng",
                headline_en="Typhoon strengthens to force 12 gusting 14, heading for Da Nang",
                description_vi=(
                    "Bão mạnh lên, sức gió mạnh nhất cấp 12, giật cấp 14, dự kiến đổ bộ trong 6 giờ tới. "
                    "Mưa rất to, nước dâng do bão 0,5-1 m ở ven biển."
                ),
                description_en=(
                    "The storm has strengthened to force 12 gusting 14 and is expected to make landfall within "
                    "6 hours. Very heavy rain, storm surge of 0.5-1 m on the coast."
                ),
                instruction_vi="Di dời dân khỏi nhà yếu và vùng trũng ngay. Không ra đường khi không cần thiết.",
                instruction_en="Evacuate weak houses and low-lying areas now. Stay indoors.",
                areas=AREAS,
            )
        )
    thread.append(
        CapMessage(
            identifier=f"{base}-3",
            sent=placed.ends,
            msg_type="Cancel",
            references=tuple((m.identifier, m.sent) for m in thread),
            event_vi="Bão",
            event_en="Typhoon",
            urgency="Past",
            severity="Minor",
            certainty="Observed",
            onset=placed.ends,
            expires=placed.ends + CANCEL_SHOWN_FOR,
            headline_vi="Hủy tin bão: bão đã suy yếu thành áp thấp nhiệt đới",
            headline_en="Typhoon warning cancelled: the storm has weakened to a tropical depression",
            description_vi="Bão đã suy yếu thành áp thấp nhiệt đới, không còn ảnh hưởng trực tiếp đến Đà Nẵng.",
            description_en="The storm has weakened to a tropical depression and no longer threatens Da Nang.",
            instruction_vi="",
            instruction_en="",
            areas=(CapArea("Thành phố Đà Nẵng", "Da Nang City"),),
        )
    )
    return thread


def messages_in_force(city: SimCity, now: datetime) -> list[CapMessage]:
    """The latest message of every warning thread the feed still shows at `now`, oldest first."""
    shown = []
    for placed in city.scenario.issued(now, "typhoon_warning"):
        sent = [m for m in typhoon_thread(placed) if m.sent <= now]
        latest = sent[-1]
        if latest.msg_type == "Cancel" and now >= latest.expires:
            continue
        shown.append(latest)
    return shown
