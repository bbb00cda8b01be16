"""The situation of an alarm or a CAP warning: its area, what is inside, related alarms, texts, procedure."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from ioc import situation
from ioc.config import Settings
from ioc.model import Alert, Batch, Entity, Event, Severity, utcnow
from ioc.store import Store

# a warning polygon over central Hai Chau (lon, lat), and points inside and outside it
POLYGON = {"type": "Polygon", "coordinates": [[[108.205, 16.045], [108.230, 16.045], [108.230, 16.075],
                                                [108.205, 16.075], [108.205, 16.045]]]}
INSIDE = (108.2153, 16.0581)
OUTSIDE = (108.150, 16.005)
EVENT_ID = "urn:ioc:danang:cap:typhoon-test"


def _feed(settings: Settings, name: str):  # noqa: ANN202 - a Feed
    return next(feed for feed in settings.feeds if feed.name == name)


def scene(store: Store, settings: Settings) -> dict[str, str]:
    """A CAP warning with a polygon relayed as an alarm, entities of two feeds inside and one outside, a
    flood alarm inside and another outside the polygon."""
    now = utcnow()
    feed_a, feed_b = settings.feeds[0], settings.feeds[3]
    store.write_batch(feed_a.name, Batch(entities=[
        Entity(id=f"urn:test:{feed_a.name}:{n}", type="station", agency=feed_a.agency, sector=feed_a.sector,
               name=f"A{n}", location=(INSIDE[0] + n * 0.001, INSIDE[1]), district="Hải Châu",
               attributes={"value": 1.0}, observed_at=now, feed=feed_a.name) for n in range(3)
    ] + [Entity(id=f"urn:test:{feed_a.name}:far", type="station", agency=feed_a.agency, sector=feed_a.sector,
                name="far", location=OUTSIDE, district=None, attributes={}, observed_at=now, feed=feed_a.name)]),
        now=now)
    store.write_batch(feed_b.name, Batch(entities=[
        Entity(id=f"urn:test:{feed_b.name}:0", type="bus", agency=feed_b.agency, sector=feed_b.sector, name="B0",
               location=(INSIDE[0], INSIDE[1] + 0.002), district="Hải Châu", attributes={}, observed_at=now,
               feed=feed_b.name)]), now=now)
    store.write_batch("cap-warnings", Batch(events=[Event(
        id=EVENT_ID, type="typhoon", agency="danang-civil-defence", sector="emergency",
        headline="Bão số 5 đổ bộ", description="Gió mạnh cấp 10.", severity=Severity.SEVERE, urgency="expected",
        certainty="likely", area=POLYGON, location=INSIDE, district="Hải Châu", onset=now,
        expires=now + timedelta(hours=6), feed="cap-warnings")]), now=now, replace=False)
    book = store.alerts
    main, _ = book.raise_alert(Alert(
        id="", rule_id="cap-warning", entity_id=EVENT_ID, title="Bão số 5 đổ bộ", severity=Severity.SEVERE,
        sector="emergency", agency="danang-civil-defence", district="Hải Châu", raised_at=now, updated_at=now,
        location=INSIDE), extra={"kind": "relay", "place": "Bão số 5 đổ bộ", "procedure": "typhoon-response",
                                 "area": json.dumps(POLYGON)})
    near, _ = book.raise_alert(Alert(
        id="", rule_id="flood-depth", entity_id="urn:test:flood:1", title="Ngập", severity=Severity.MODERATE,
        sector="environment", agency="danang-drainage", district="Hải Châu", raised_at=now, updated_at=now,
        location=(INSIDE[0] + 0.003, INSIDE[1] + 0.003)), extra={"place": "Lê Duẩn"})
    far, _ = book.raise_alert(Alert(
        id="", rule_id="flood-depth", entity_id="urn:test:flood:2", title="Ngập", severity=Severity.MODERATE,
        sector="environment", agency="danang-drainage", district="Cẩm Lệ", raised_at=now, updated_at=now,
        location=OUTSIDE))
    return {"main": main.id, "near": near.id, "far": far.id, "feed_a": feed_a.name, "feed_b": feed_b.name}


def test_alert_situation_has_area_entities_feeds_and_related(store: Store, settings: Settings) -> None:
    ids = scene(store, settings)
    found = situation.assemble(store, settings, "vi", utcnow(), alert=ids["main"])
    assert found.stored and found.link == f"/situation?alert={ids['main']}"
    assert found.event is not None and found.event["headline"] == "Bão số 5 đổ bộ"
    assert found.area.contains(situation.shapely.Point(*INSIDE))
    assert "Hải Châu" in found.area_names
    # three of feed A and one of feed B inside; the far one is not
    assert found.entity_count == 4
    by_feed = {feed.feed: feed.entities for feed in found.feeds}
    assert by_feed[ids["feed_a"]] == 3 and by_feed[ids["feed_b"]] == 1
    grouped = [alert_id for group in found.groups for alert_id, _, _ in group.alerts]
    assert grouped == [ids["near"]]
    assert found.groups[0].rule_id == "flood-depth"


def test_warning_reads_in_both_languages_and_procedure_names_who(store: Store, settings: Settings) -> None:
    ids = scene(store, settings)
    found = situation.assemble(store, settings, "en", utcnow(), alert=ids["main"])
    vi, en = found.texts
    assert (vi.lang, en.lang) == ("vi", "en")
    assert vi.title.startswith("Cảnh báo thiên tai (CAP)") and en.title.startswith("Disaster warning (CAP)")
    assert any(line.startswith("Mức độ:") for line in vi.lines) and any("Severity: Severe" in line for line in en.lines)
    assert any("Likely" in line for line in en.lines) and any("Nhiều khả năng" in line for line in vi.lines)
    assert found.issued == ("Bão số 5 đổ bộ", "Gió mạnh cấp 10.")
    assert found.sop is not None and found.sop.editable
    assert found.sop.steps[0].who == "Shift supervisor · " + situation.agency_name(settings, "danang-pctt", "en")
    store.alerts.check_step(ids["main"], 0, actor="op-1")
    again = situation.assemble(store, settings, "en", utcnow(), alert=ids["main"])
    assert again.sop is not None and again.sop.steps[0].done and "op-1" in again.sop.steps[0].done_text
    assert [line.action for line in again.timeline][:1] == ["step_done"]


def test_event_link_opens_the_alarm_relayed_for_it(store: Store, settings: Settings) -> None:
    ids = scene(store, settings)
    found = situation.assemble(store, settings, "vi", utcnow(), event=EVENT_ID)
    assert found.stored and found.record.id == ids["main"]


def test_unrelayed_warning_still_has_a_situation(store: Store, settings: Settings) -> None:
    now = utcnow()
    store.write_batch("cap-warnings", Batch(events=[Event(
        id="urn:ioc:danang:cap:minor", type="rain", agency="danang-kttv", sector="emergency", headline="Mưa to",
        severity=Severity.MINOR, area=POLYGON, onset=now, expires=now + timedelta(hours=2),
        feed="cap-warnings")]), now=now, replace=False)
    found = situation.assemble(store, settings, "vi", now, event="urn:ioc:danang:cap:minor")
    assert not found.stored and found.sop is None
    assert found.link == "/situation?event=urn%3Aioc%3Adanang%3Acap%3Aminor"
    assert found.area is not None and "Hải Châu" in found.area_names


def test_point_alarm_gets_a_ring_and_district_alarm_its_district(fake_store: Store, settings: Settings) -> None:
    now = utcnow()
    point, _ = fake_store.alerts.raise_alert(Alert(
        id="", rule_id="pm25-high", entity_id="urn:x", title="PM2.5", severity=Severity.SEVERE, sector="environment",
        agency="danang-donre", district="Hải Châu", raised_at=now, updated_at=now, location=INSIDE))
    ring = situation.assemble(fake_store, settings, "vi", now, alert=point.id).area
    # about 1 km around the point, round on the ground
    minx, miny, maxx, maxy = ring.bounds
    assert 0.017 < maxy - miny < 0.019 and maxx - minx > maxy - miny
    nowhere, _ = fake_store.alerts.raise_alert(Alert(
        id="", rule_id="feed-silent", entity_id="air-stations", title="silent", severity=Severity.MINOR,
        sector="administration", agency="danang-ioc", district="Sơn Trà", raised_at=now, updated_at=now))
    found = situation.assemble(fake_store, settings, "vi", now, alert=nowhere.id)
    assert found.area_names[0] == "Sơn Trà"
    assert [feed.feed for feed in found.feeds] == ["air-stations"]


def test_unknown_ids_are_not_found(fake_store: Store, settings: Settings) -> None:
    with pytest.raises(situation.SituationNotFound):
        situation.assemble(fake_store, settings, "vi", utcnow(), alert="A999999")
    with pytest.raises(situation.SituationNotFound):
        situation.assemble(fake_store, settings, "vi", utcnow(), event="urn:none")
    with pytest.raises(situation.SituationNotFound):
        situation.assemble(fake_store, settings, "vi", utcnow())


def test_link_and_which_alarms_open_a_situation(settings: Settings) -> None:
    assert situation.link(alert="A000001", wall=True) == "/situation?alert=A000001&wall=1"

    def record(rule: str, severity: Severity, kind: str = "") -> situation.AlertRecord:
        alert = Alert(id="A1", rule_id=rule, entity_id="e", title="t", severity=severity, sector="s", agency="a")
        return situation.AlertRecord(alert=alert, kind=kind)

    assert situation.is_situation(record("pm25-high", Severity.SEVERE), settings)
    assert not situation.is_situation(record("pm25-high", Severity.MINOR), settings)
    # a CAP warning whatever its severity; an agency's relayed incident only when severe
    assert situation.is_situation(record("cap-warning", Severity.MINOR, "relay"), settings)
    assert not situation.is_situation(record("agency-incident", Severity.MODERATE, "relay"), settings)


def test_an_alarm_title_is_not_repeated_and_who_is_named_once(fake_store: Store, settings: Settings) -> None:
    now = utcnow()
    alarm, _ = fake_store.alerts.raise_alert(Alert(
        id="", rule_id="pm25-high", entity_id="urn:y", title="PM2.5", severity=Severity.SEVERE, sector="environment",
        agency="danang-donre", district="Liên Chiểu", raised_at=now, updated_at=now, location=INSIDE),
        extra={"procedure": "air-quality", "place": "Trạm Hòa Khánh"})
    found = situation.assemble(fake_store, settings, "vi", now, alert=alarm.id)
    vi, en = found.texts
    rule = next(r for r in settings.rules if r.id == "pm25-high")
    assert vi.title == f"{rule.title.vi} — Trạm Hòa Khánh" and en.title == f"{rule.title.en} — Trạm Hòa Khánh"
    # the health department is both the role and the agency of the advisory step: named once
    health = situation.agency_name(settings, "danang-doh", "vi")
    assert health == "Sở Y tế"
    assert found.sop is not None and found.sop.steps[2].who == "Sở Y tế"


def test_a_warning_covering_the_area_is_a_related_alarm(store: Store, settings: Settings) -> None:
    ids = scene(store, settings)
    now = utcnow()
    # an alarm in the polygon's corner, 2 km from the warning's own point: the warning's area reaches it
    corner, _ = store.alerts.raise_alert(Alert(
        id="", rule_id="pm25-high", entity_id="urn:test:corner", title="PM2.5", severity=Severity.SEVERE,
        sector="environment", agency="danang-donre", district="Hải Châu", raised_at=now, updated_at=now,
        location=(108.228, 16.072)))
    found = situation.assemble(store, settings, "vi", now, alert=corner.id)
    related = {alert_id for group in found.groups for alert_id, _, _ in group.alerts}
    assert related == {ids["main"]}
    # the flood alarm outside it is not
    outside = situation.assemble(store, settings, "vi", utcnow(), alert=ids["far"])
    assert ids["main"] not in {alert_id for group in outside.groups for alert_id, _, _ in group.alerts}


def test_the_map_frames_the_area_and_caps_the_points_drawn(store: Store, settings: Settings) -> None:
    from ioc.city_map import district_layer

    ids = scene(store, settings)
    found = situation.assemble(store, settings, "vi", utcnow(), alert=ids["main"])
    figure = situation.situation_map(found, settings, district_layer(settings.city), "vi")
    points = figure["data"][-1]
    assert len(points["x"]) == found.entity_count == 4
    xmin, xmax = figure["layout"]["xaxis"]["range"]
    assert xmin < 108.205 and xmax > 108.230  # the whole warning polygon in view
    assert figure["layout"]["height"] is None  # the panel sets the height
    found.points = [(108.2 + i * 1e-6, 16.05) for i in range(situation.POINTS_DRAWN * 3)]
    many = situation.situation_map(found, settings, district_layer(settings.city), "vi")
    assert len(many["data"][-1]["x"]) == situation.POINTS_DRAWN


def test_a_warning_published_in_both_languages_reads_in_each(store: Store, settings: Settings) -> None:
    now = utcnow()
    store.write_batch("cap-warnings", Batch(events=[Event(
        id="urn:ioc:danang:cap:two", type="typhoon", agency="danang-kttv", sector="emergency",
        headline="Bão số 4 đổ bộ", description="Gió cấp 10. Gọi 0905123456.", severity=Severity.MINOR, area=POLYGON,
        onset=now, expires=now + timedelta(hours=2), feed="cap-warnings",
        translations={"vi": {"headline": "Bão số 4 đổ bộ", "description": "Gió cấp 10. Gọi 0905123456."},
                      "en": {"headline": "Typhoon No. 4 landfall", "description": "Winds force 10."}})]),
        now=now, replace=False)
    found = situation.assemble(store, settings, "en", now, event="urn:ioc:danang:cap:two")
    vi, en = found.texts
    assert vi.title == "Cảnh báo: Bão số 4 đổ bộ" and en.title == "Warning: Typhoon No. 4 landfall"
    assert en.source == ("Typhoon No. 4 landfall", "Winds force 10.")
    # the source's words are scrubbed in every language, as every text that reaches Redis
    assert vi.source is not None and "0905123456" not in vi.source[1]
