"""The regional page without a browser: this city's card from its own store, a peer's card from its kept
reading (state in words, last good values), the region map's traces; and the page declared for roles that see
the control room."""

from __future__ import annotations

from datetime import timedelta

import dash
import pytest

from ioc.config import Settings
from ioc.keys import Keys
from ioc.model import Alert, Severity, utcnow
from ioc.regional import PeerReading
from ioc.regional_view import cards, own_card, peer_card, region_figure, regional_of
from ioc.sharing.peers import PeerFile
from ioc.store import Store
from layouts import regional
from layouts.app import create_app
from tests.layouts.dom import text

PEERS = PeerFile.model_validate({"peers": [
    {"id": "hue", "name": {"vi": "Huế", "en": "Hue"}, "base_url": "http://127.0.0.1:9", "centre": [107.59, 16.46]}]})


@pytest.fixture
def app(fake_store: Store, settings: Settings) -> dash.Dash:
    fake_store.raise_alert(Alert(id="", rule_id="pm25-high", entity_id="urn:x:1", title="PM2.5 cao",
                                 severity=Severity.SEVERE, sector="environment", agency="a", district="Hải Châu",
                                 location=(108.2, 16.05)))
    return create_app(fake_store, settings, redis_kind="in-process", cookie_secure=False)


def test_a_down_peer_shows_down_since_with_its_last_good_values() -> None:
    now = utcnow()
    reading = PeerReading(peer="hue", state="down", since=now - timedelta(minutes=3), checked_at=now,
                          good_at=now - timedelta(minutes=4), kpis=[{"id": "feed:air", "label": "PM2.5",
                                                                     "value": 31.25, "unit": "µg/m³"}],
                          alerts={"counts": {"severe": 2}, "total": 2, "markers": []}, feeds={"ok": 5, "stale": 1})
    card = peer_card(PEERS.peers[0], reading, "en", now)
    assert card.state_text.startswith("Down since ")
    assert card.kpis == [("PM2.5", "31.2", "µg/m³")] and card.alerts_total == 2
    assert (card.feeds_ok, card.feeds_attention) == (5, 1)
    assert "4 min" in card.values_text
    view = text(regional.card_view(card, "vi"))
    assert "Down since" in view and "Cảnh báo đang mở" in view and "PM2.5" in view
    never = peer_card(PEERS.peers[0], PeerReading(peer="hue", state="never"), "en", now)
    assert never.state_text == "Not read yet" and never.alerts_total is None and never.feeds_ok is None


def test_this_city_and_the_region_map(app: dash.Dash) -> None:
    context = app.server.extensions["ioc"]
    own = own_card(context, "en", utcnow())
    assert own.own and own.alerts == {"severe": 1} and own.name == "Da Nang City"
    assert len(own.kpis) == 8
    peer = peer_card(PEERS.peers[0], PeerReading(peer="hue", state="slow", elapsed_ms=2300.0, since=utcnow(),
                                                 good_at=utcnow(), alerts={"counts": {"extreme": 1}, "total": 1,
                                                 "markers": [{"lon": 107.6, "lat": 16.45, "severity": "extreme",
                                                              "count": 1, "title": "Lũ"}]}), "en", utcnow())
    assert peer.state_text.startswith("Slow (2.3 s)")
    figure = region_figure(context.settings.city, [own, peer], "en", 2.0)
    names = [trace.get("name") for trace in figure["data"]]
    assert names[1:] == ["Severe", "Extreme", "IOC"]  # the most severe drawn last
    centres = figure["data"][-1]
    assert centres["text"] == ["Da Nang City", "Hue"] and centres["x"] == [108.2022, 107.59]
    assert figure["data"][-2]["marker"]["size"] == [28.0]  # 2x on a 4K wall
    assert figure["layout"]["xaxis"]["range"][0] < 107.59  # every city in view


def test_the_page_reads_kept_readings_only(app: dash.Dash, monkeypatch: pytest.MonkeyPatch, tmp_path: object) -> None:
    from pathlib import Path

    peers_file = Path(str(tmp_path)) / "peers.yaml"
    peers_file.write_text("refresh: 60\npeers:\n  - {id: hue, name: {vi: Huế, en: Hue}, "
                          "base_url: 'http://127.0.0.1:9', centre: [107.59, 16.46]}\n", encoding="utf-8")
    monkeypatch.setenv("IOC_PEERS_FILE", str(peers_file))
    context = app.server.extensions["ioc"]
    context.store.redis.set(Keys(context.settings.city.id).regional_refresh(), "1")  # someone else refreshes
    title, note, shown, figure = regional.refresh(context, 1, "en", 1.0)
    assert title == "Region: neighbouring IOCs" and "1 peer IOCs" in note
    assert [getattr(card, "data-peer") for card in shown] == ["danang", "hue"]
    assert "Not read yet" in text(shown[1])
    assert regional_of(context).config.peers[0].id == "hue"
    assert len(cards(context, regional_of(context), "vi", utcnow())) == 2


def test_declared_for_roles_that_see_the_control_room() -> None:
    assert regional.PAGE.path == "/regional" and regional.PAGE.permission == "control_room.view"
