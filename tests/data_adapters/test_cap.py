"""Tests of the CAP 1.2 reader on the published samples, Da Nang warnings, feeds and broken payloads."""

from __future__ import annotations

import json
import math
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from shapely.geometry import Point, shape

from data_adapters.base import FeedContext, PayloadError
from data_adapters.cap import CIRCLE_POINTS, KM_PER_DEGREE, CapReader
from ioc.model import Severity
from tests.data_adapters import as_stored

FIXTURES = Path(__file__).parents[1] / "fixtures" / "cap"
FEED = FeedContext(name="civil-defence", agency="danang-pctt", sector="safety")


def parse(payload: bytes, feed: FeedContext = FEED):
    return CapReader().parse(payload, feed)


def fixture(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)


def test_every_sample_parses_to_events_with_aware_utc_times() -> None:
    files = sorted(FIXTURES.glob("*.xml"))
    assert len(files) >= 4
    for path in files:
        batch = parse(path.read_bytes())
        assert batch.events, path.name
        assert not batch.entities and not batch.observations
        for event in batch.events:
            assert event.id.startswith("urn:ioc:danang:civil-defence:")
            assert event.agency == "danang-pctt" and event.sector == "safety"
            assert event.onset is not None and event.onset.utcoffset().total_seconds() == 0
            assert event.district is None  # the runner does the spatial join
        json.dumps([record for record in batch.to_records()])


def test_nws_thunderstorm_polygon_is_swapped_to_lon_lat() -> None:
    batch = parse(fixture("oasis-spec-thunderstorm.xml"))
    (event,) = batch.events
    assert event.id == "urn:ioc:danang:civil-defence:KSTO1055887203"
    assert event.type == "SEVERE THUNDERSTORM"
    assert event.headline == "SEVERE THUNDERSTORM WARNING"
    assert (event.severity, event.urgency, event.certainty) == (Severity.SEVERE, "immediate", "observed")
    # no onset or effective in the info: the alert's sent time, 14:57 PDT
    assert event.onset == utc(2003, 6, 17, 21, 57)
    assert event.expires == utc(2003, 6, 17, 23, 0)
    assert event.status == "actual"
    ring = event.area["coordinates"][0]
    assert event.area["type"] == "Polygon"
    assert ring[0] == [-120.14, 38.47] and ring[0] == ring[-1] and len(ring) == 5
    assert shape(event.area).contains(Point(event.location))
    assert "TAKE COVER IN A SUBSTANTIAL SHELTER" in event.description  # instruction appended
    assert "TUOLUMNE COUNTY" in event.description  # areaDesc kept


def test_homeland_security_area_without_shape_keeps_its_description() -> None:
    (event,) = parse(fixture("oasis-spec-homeland-security.xml")).events
    assert event.area is None and event.location is None
    assert "U.S. nationwide and interests worldwide" in event.description
    assert (event.severity, event.certainty) == (Severity.SEVERE, "likely")
    assert event.onset == utc(2003, 4, 2, 19, 39, 1)
    assert event.expires is None


def test_environment_canada_bilingual_keeps_english_and_joins_areas() -> None:
    batch = parse(fixture("ca-environment-canada.xml"))
    (event,) = batch.events
    assert event.id == "urn:ioc:danang:civil-defence:2.49.0.1.124.6bddbc91.2012"
    assert event.headline == "severe thunderstorm watch"
    assert event.severity == Severity.MINOR and event.urgency == "past"
    assert event.onset == utc(2012, 5, 2, 23, 20)  # effective
    assert event.expires == utc(2012, 5, 3, 0, 20)
    area = shape(event.area)
    # the two areas share a border: published as a valid MultiPolygon covering both, lon,lat order
    assert event.area["type"] == "MultiPolygon" and area.is_valid
    assert area.covers(Point(-82.9314, 42.3481)) and area.covers(Point(-81.5498, 42.3564))
    assert area.contains(Point(event.location))
    dumped = json.dumps(batch.to_records(), ensure_ascii=False)
    assert "orages" not in event.headline + event.description and "Windsor - Leamington - Essex County" in dumped
    # the French info is kept beside it, for screens that show the warning in each published language
    assert event.translations["en"]["headline"] == "severe thunderstorm watch"
    assert event.translations["fr"]["headline"] == "veille d'orages violents"


def test_nsw_prefixed_alert_with_two_english_infos_gives_two_circle_events() -> None:
    batch = parse(fixture("au-nsw-rfs-bushfire.xml"))
    assert len(batch.events) == 2
    assert len({event.id for event in batch.events}) == 2
    event = batch.events[0]
    assert event.id.startswith("urn:ioc:danang:civil-defence:tag:www.rfs.nsw.gov.au2011-10-06:40184")
    assert event.type == "Fire" and event.severity == Severity.MINOR
    assert event.onset == utc(2011, 10, 5, 13, 4)  # effective 23:04 +10:00
    assert event.location == (147.0598, -35.3888)  # the circle's centre
    ring = event.area["coordinates"][0]
    assert event.area["type"] == "Polygon" and len(ring) == CIRCLE_POINTS + 1 and ring[0] == ring[-1]
    lats = [lat for _, lat in ring]
    assert max(lats) - (-35.3888) == pytest.approx(25.0 / KM_PER_DEGREE, abs=1e-4)
    lons = [lon for lon, _ in ring]
    # 25 km spans more degrees of longitude than of latitude away from the equator
    assert max(lons) - 147.0598 == pytest.approx(25.0 / (KM_PER_DEGREE * math.cos(math.radians(-35.3888))), abs=1e-4)
    assert "<br" not in event.description and "LOCATION: 12 Cox Street, Yerong Creek" in event.description


def test_da_nang_typhoon_prefers_vietnamese_and_scrubs_phone_numbers() -> None:
    batch = parse(fixture("danang-typhoon-warning.xml"))
    (event,) = batch.events
    assert event.id == "urn:ioc:danang:civil-defence:DN-PCTT-2024-0917-001"
    assert event.type == "Bão số 4" and event.severity == Severity.EXTREME
    assert event.headline.startswith("Cảnh báo bão số 4")
    assert event.onset == utc(2024, 9, 18, 19, 0) and event.expires == utc(2024, 9, 20, 5, 0)
    area = shape(event.area)
    # the coast polygon and the 40 km sea circle overlap: merged into one valid area
    assert event.area["type"] == "MultiPolygon" and area.is_valid
    assert area.covers(Point(108.12, 16.13)) and area.covers(Point(108.33, 15.96))
    assert area.contains(Point(108.9, 16.3)) and not area.contains(Point(109.0, 16.3))  # circle's east edge
    assert "Mưa 200-350 mm" in event.description and "<br" not in event.description
    dumped = json.dumps(as_stored(batch).to_records(), ensure_ascii=False)
    assert "3822 123" not in dumped  # scrubbed in every language kept
    assert "Typhoon" not in event.headline + event.description
    assert event.translations["vi"]["headline"] == event.headline
    assert event.translations["en"]["headline"].startswith("Typhoon No. 4 to make landfall in Da Nang")


def test_cancel_clears_the_referenced_alert() -> None:
    (warning,) = parse(fixture("danang-typhoon-warning.xml")).events
    (cancel,) = parse(fixture("danang-typhoon-cancel.xml")).events
    assert cancel.id == warning.id
    assert cancel.status == "cancelled"
    assert cancel.area is None and "Thành phố Đà Nẵng" in cancel.description


ALERT = """<alert xmlns="urn:oasis:names:tc:emergency:cap:1.2">
  <identifier>{identifier}</identifier><sender>pctt@danang.gov.vn</sender>
  <sent>2024-10-01T08:00:00+07:00</sent><status>{status}</status><msgType>{msg_type}</msgType>
  <scope>Public</scope>{references}{info}
</alert>"""
INFO = """<info><language>{language}</language><category>Met</category><event>{event}</event>
  <urgency>Immediate</urgency><severity>{severity}</severity><certainty>Observed</certainty>
  <headline>{headline}</headline>
  <area><areaDesc>Hòa Vang</areaDesc><polygon>{polygon}</polygon></area></info>"""
DA_NANG_POLYGON = "16.00,108.10 16.10,108.10 16.10,108.30 16.00,108.30 16.00,108.10"


def alert_xml(identifier: str = "DN-1", *, status: str = "Actual", msg_type: str = "Alert", references: str = "",
              infos: tuple[dict[str, str], ...] = ({},)) -> str:
    rendered = "".join(
        INFO.format(**{"language": "vi-VN", "event": "Lũ quét", "severity": "Severe",
                       "headline": "Cảnh báo lũ quét", "polygon": DA_NANG_POLYGON, **info})
        for info in infos
    )
    refs = f"<references>{references}</references>" if references else ""
    return ALERT.format(identifier=identifier, status=status, msg_type=msg_type, references=refs, info=rendered)


def test_polygon_points_are_latitude_first() -> None:
    (event,) = parse(alert_xml().encode()).events
    assert event.area["coordinates"][0][0] == [108.10, 16.00]
    assert event.location is not None and 108.1 < event.location[0] < 108.3 and 16.0 < event.location[1] < 16.1


def test_separate_areas_stay_separate_polygons_in_published_order() -> None:
    second = "<area><areaDesc>Hoàng Sa</areaDesc><polygon>16.4,111.6 16.6,111.6 16.6,111.8 16.4,111.6</polygon></area>"
    xml = alert_xml().replace("</area></info>", "</area>" + second + "</info>")
    (event,) = parse(xml.encode()).events
    assert event.area["type"] == "MultiPolygon"
    assert [part[0][0] for part in event.area["coordinates"]] == [[108.10, 16.00], [111.6, 16.4]]


def test_self_crossing_polygon_becomes_a_valid_area() -> None:
    bow_tie = "16.00,108.10 16.10,108.30 16.10,108.10 16.00,108.30 16.00,108.10"
    (event,) = parse(alert_xml(infos=({"polygon": bow_tie},)).encode()).events
    area = shape(event.area)
    assert area.is_valid and area.area > 0 and area.contains(Point(event.location))


def test_feed_and_wrapper_yield_every_alert() -> None:
    wrapper = f"<alerts>{alert_xml('DN-1')}{alert_xml('DN-2')}</alerts>"
    assert [e.id.rsplit(":", 1)[-1] for e in parse(wrapper.encode()).events] == ["DN-1", "DN-2"]
    atom = (
        '<?xml version="1.0" encoding="UTF-8"?><feed xmlns="http://www.w3.org/2005/Atom"><title>PCTT</title>'
        f"<entry><id>1</id><content type='text/xml'>{alert_xml('DN-7')}</content></entry>"
        f"<entry><id>2</id><content type='text/xml'>{alert_xml('DN-8', status='Exercise')}</content></entry></feed>"
    )
    events = parse(atom.encode()).events
    assert [e.id.rsplit(":", 1)[-1] for e in events] == ["DN-7", "DN-8"]
    assert [e.status for e in events] == ["actual", "exercise"]


def test_empty_feed_is_an_empty_batch() -> None:
    batch = parse(b'<feed xmlns="http://www.w3.org/2005/Atom"><title>PCTT</title></feed>')
    assert batch.events == [] and batch.record_count == 0


def test_several_infos_in_one_language_are_numbered() -> None:
    xml = alert_xml("DN-9", infos=({"headline": "Khu vực 1"}, {"headline": "Khu vực 2"}, {"language": "en-US"}))
    events = parse(xml.encode()).events
    assert [e.id.rsplit(":", 2)[-2:] for e in events] == [["DN-9", "0"], ["DN-9", "1"]]
    assert [e.headline for e in events] == ["Khu vực 1", "Khu vực 2"]


def test_first_language_is_kept_when_neither_vietnamese_nor_english() -> None:
    xml = alert_xml(infos=({"language": "fr-CA", "headline": "Orage"}, {"language": "es", "headline": "Tormenta"}))
    assert [e.headline for e in parse(xml.encode()).events] == ["Orage"]


def test_ack_is_not_a_warning() -> None:
    assert parse(alert_xml(msg_type="Ack", references="a,DN-1,2024-10-01T08:00:00+07:00").encode()).events == []


def test_cancel_without_info_still_clears() -> None:
    xml = alert_xml("DN-2", msg_type="Cancel", references="pctt@danang.gov.vn,DN-1,2024-10-01T08:00:00+07:00",
                    infos=())
    (event,) = parse(xml.encode()).events
    assert event.id == FEED.urn("DN-1") and event.status == "cancelled"


@pytest.mark.parametrize(
    ("payload", "message"),
    [
        (fixture("oasis-spec-thunderstorm.xml")[:700], "not well-formed"),  # truncated
        (b"", "empty"),
        (b"<html><body>502 Bad Gateway</body></html>", "expected a CAP 1.2 <alert>"),
        (alert_xml(infos=({"polygon": "abc,def 16.1,108.1 16.1,108.3 abc,def"},)).encode(), "expected a number"),
        (alert_xml(infos=({"polygon": "16.0,108.1 16.1,108.1"},)).encode(), "at least 4"),
        (alert_xml(infos=({"polygon": "108.1,16.0 108.1,16.1 108.3,16.1 108.1,16.0"},)).encode(),
         "not a WGS84"),  # lon,lat written the wrong way round puts latitude out of range
        (alert_xml(infos=({"polygon": "16.0,108.1 16.0,108.1 16.0,108.1 16.0,108.1"},)).encode(), "no surface"),
        (alert_xml(infos=({"severity": "Hot"},)).encode(), "is not a CAP severity"),
        (alert_xml().replace("<identifier>DN-1</identifier>", "").encode(), "missing <identifier>"),
        (alert_xml().replace("2024-10-01T08:00:00+07:00", "yesterday").encode(), "sent"),
    ],
)
def test_broken_payloads_are_refused(payload: bytes, message: str) -> None:
    with pytest.raises(PayloadError, match=message):
        parse(payload)


def test_circle_with_text_radius_is_refused() -> None:
    xml = alert_xml().replace(f"<polygon>{DA_NANG_POLYGON}</polygon>", "<circle>16.05,108.2 far</circle>")
    with pytest.raises(PayloadError, match=r"info\[0\]\.area\[0\]\.circle\[0\]: radius"):
        parse(xml.encode())


def test_entity_declarations_are_refused() -> None:
    bomb = (
        b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;">]>'
        b'<alert xmlns="urn:oasis:names:tc:emergency:cap:1.2"><identifier>&lol2;</identifier></alert>'
    )
    with pytest.raises(PayloadError, match="DTD"):
        parse(bomb)


def test_fetch_follows_an_atom_index_of_linked_alerts() -> None:
    index = (
        '<feed xmlns="http://www.w3.org/2005/Atom"><title>PCTT</title>'
        '<entry><id>1</id><link rel="alternate" type="application/cap+xml" href="alerts/DN-1.xml"/></entry>'
        '<entry><id>2</id><link href="https://cap.example.vn/alerts/DN-2.xml"/></entry></feed>'
    )
    pages = {
        "/cap/index.atom": index.encode(),
        "/cap/alerts/DN-1.xml": b'<?xml version="1.0" encoding="UTF-8"?>\n' + alert_xml("DN-1").encode(),
        "/alerts/DN-2.xml": alert_xml("DN-2").encode(),
    }
    requested: list[str] = []

    def serve(request: httpx.Request) -> httpx.Response:
        requested.append(str(request.url))
        return httpx.Response(200, content=pages[request.url.path])

    feed = FeedContext(name="civil-defence", agency="danang-pctt", sector="safety",
                       url="https://cap.example.vn/cap/index.atom")
    reader = CapReader()
    with httpx.Client(transport=httpx.MockTransport(serve)) as client:
        payload = reader.fetch(client, feed)
    assert requested[1:] == ["https://cap.example.vn/cap/alerts/DN-1.xml", "https://cap.example.vn/alerts/DN-2.xml"]
    assert [e.id for e in reader.parse(payload, feed).events] == [feed.urn("DN-1"), feed.urn("DN-2")]


def test_saved_index_of_links_is_not_mistaken_for_no_warnings() -> None:
    index = b'<feed xmlns="http://www.w3.org/2005/Atom"><entry><link href="a.xml"/></entry></feed>'
    with pytest.raises(PayloadError, match="linked alerts"):
        parse(index)


def test_fetch_returns_a_single_alert_unchanged() -> None:
    body = fixture("oasis-spec-thunderstorm.xml")
    transport = httpx.MockTransport(lambda request: httpx.Response(200, content=body))
    feed = FeedContext(name="nws", agency="nws", sector="safety", url="https://cap.example.vn/a.xml")
    with httpx.Client(transport=transport) as client:
        assert CapReader().fetch(client, feed) == body
