"""The runner against a real HTTP server: retries, timeouts, refused payloads, and feeds kept apart."""

from __future__ import annotations

import json
import shutil
import threading
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response

from data_adapters.base import FeedContext, PayloadError, Reader, as_float, load_json, lon_lat, register
from ioc.areas import area_index
from ioc.config import DEFAULT_CONFIG_DIR, Feed, Settings
from ioc.model import Batch, Entity, Observation, utcnow
from ioc.runner import backoff_delay, ingest_payload, poll_feed, poll_job
from ioc.scheduler import FeedScheduler
from ioc.store import Store
from tests.waiting import wait_until

STATIONS = {"stations": [
    {"id": "hk", "lon": 108.15, "lat": 16.07, "pm25": 72.0},   # Liên Chiểu
    {"id": "hc", "lon": 108.2208, "lat": 16.0678, "pm25": 18.0},  # Hải Châu
]}


@register
class StationListReader(Reader):
    """A minimal reader for these tests: {"stations": [{id, lon, lat, pm25}]}."""

    id = "test-station-list"

    def parse(self, payload: bytes, feed: FeedContext) -> Batch:
        doc = load_json(payload)
        if not isinstance(doc, dict) or not isinstance(doc.get("stations"), list):
            raise PayloadError("expected an object with a 'stations' list")
        batch = Batch()
        now = utcnow()
        for i, row in enumerate(doc["stations"]):
            value = as_float(row.get("pm25"), field_name=f"stations[{i}].pm25")
            entity = Entity(id=feed.urn(row["id"]), type="AirQualityStation", agency=feed.agency,
                            sector=feed.sector, name=row["id"], location=lon_lat(row["lon"], row["lat"]),
                            attributes={"pm25": value}, observed_at=now)
            batch.entities.append(entity)
            batch.observations.append(Observation(entity.id, "pm25", value, "µg/m³", now))
        return batch


class AgencyServer:
    """Stand-in agency endpoints: healthy, failing, hanging and malformed."""

    def __init__(self) -> None:
        self.hits: Counter[str] = Counter()
        self.slow_seconds = 3.0
        self.released = threading.Event()  # set at teardown: a hanging request then ends at once
        self.server = make_server("127.0.0.1", 0, self.app, threaded=True)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        # shutdown() waits for the serve loop's next poll: 0.5 s by default, after every test
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05},
                                       daemon=True)

    @Request.application
    def app(self, request: Request) -> Response:
        self.hits[request.path] += 1
        if request.path == "/good":
            return Response(json.dumps(STATIONS), content_type="application/json")
        if request.path == "/error":
            return Response("boom", status=500)
        if request.path == "/slow":
            # the hang is the point: this agency answers only long after the client's timeout
            self.released.wait(self.slow_seconds)
            return Response(json.dumps(STATIONS), content_type="application/json")
        if request.path == "/bad":
            return Response(json.dumps(STATIONS)[:40], content_type="application/json")
        if request.path == "/wrong-type":
            return Response(json.dumps({"stations": [{"id": "x", "lon": 108.2, "lat": 16.0, "pm25": "high"}]}))
        return Response("not found", status=404)


@pytest.fixture
def agency() -> Iterator[AgencyServer]:
    server = AgencyServer()
    server.thread.start()
    yield server
    server.released.set()
    server.server.shutdown()


def _feed(name: str, url: str, **overrides: object) -> Feed:
    fields = dict(name=name, agency="danang-donre", agency_name={"vi": "Sở", "en": "Dept"},
                  sector="environment", reader="test-station-list", url=url, interval=0.2, timeout=1.0,
                  retries=1)
    fields.update(overrides)
    return Feed(**fields)


def _poll(feed: Feed, store: Store, settings: Settings) -> object:
    import httpx

    with httpx.Client(timeout=feed.timeout) as http:
        return poll_feed(feed, store=store, http=http, areas=area_index(settings.city), sleep=lambda s: None)


def test_a_good_poll_stores_entities_with_their_district(agency, fake_store, settings) -> None:  # noqa: ANN001
    outcome = _poll(_feed("air", f"{agency.url}/good"), fake_store, settings)
    assert outcome.ok and outcome.records == 2 and outcome.observations == 2
    districts = {e["name"]: e["district"] for e in fake_store.entities_of_feed("air")}
    assert districts == {"hk": "Liên Chiểu", "hc": "Hải Châu"}
    health = fake_store.feed_health("air")
    assert health.record_count == 2 and health.last_error == "" and health.fetch_latency_ms > 0


@pytest.mark.parametrize(
    ("path", "error_start"),
    [("/error", "HTTP 500"), ("/slow", "timeout"), ("/missing", "HTTP 404")],
)
def test_fetch_failures_are_retried_then_recorded(agency, fake_store, settings, path, error_start) -> None:  # noqa: ANN001
    agency.slow_seconds = 2.0
    outcome = _poll(_feed("air", f"{agency.url}{path}", timeout=0.5, retries=2), fake_store, settings)
    assert not outcome.ok and outcome.attempts == 3
    assert agency.hits[path] == 3
    health = fake_store.feed_health("air")
    assert health.last_error.startswith(error_start) and health.consecutive_failures == 1
    assert health.last_success is None and fake_store.entities_of_feed("air") == []


@pytest.mark.parametrize(("path", "message"), [("/bad", "not valid JSON"), ("/wrong-type", "pm25")])
def test_a_refused_payload_writes_nothing_and_is_kept(agency, fake_store, settings, path, message) -> None:  # noqa: ANN001
    good = _poll(_feed("air", f"{agency.url}/good"), fake_store, settings)
    assert good.ok
    outcome = _poll(_feed("air", f"{agency.url}{path}"), fake_store, settings)
    assert not outcome.ok and outcome.attempts == 1  # a bad payload is not retried: it would come back bad
    health = fake_store.feed_health("air")
    assert health.last_error.startswith("payload refused") and message in health.last_error
    # the previous good data is untouched, and the refused payload is there to inspect
    assert {e["attributes"]["pm25"] for e in fake_store.entities_of_feed("air")} == {72.0, 18.0}
    assert fake_store.rejected_payloads("air")[0]["payload"]


def test_backoff_grows_and_is_capped() -> None:
    import random

    rng = random.Random(1)
    delays = [backoff_delay(a, rng) for a in range(10)]
    assert delays[0] <= 0.5 and delays[3] > delays[0] and max(delays) <= 8.0


@pytest.mark.integration
def test_broken_feeds_never_stop_the_others(agency, store, settings) -> None:  # noqa: ANN001
    agency.slow_seconds = 5.0
    feeds = [
        _feed("good", f"{agency.url}/good"),
        _feed("failing", f"{agency.url}/error", retries=2),
        _feed("hanging", f"{agency.url}/slow", timeout=1.0, retries=0),
        _feed("malformed", f"{agency.url}/bad"),
    ]
    scheduler = FeedScheduler(settings, store, feeds=feeds)
    scheduler.start()
    names = ["good", "failing", "hanging", "malformed"]

    def settled() -> bool:
        """Every broken feed has recorded its failure, and the healthy feed has polled 8 times or the hanging
        feed has begun its sixth poll. The hangs are the measure, not the wall clock: a healthy feed polled in
        turn with the hanging one would have at most 7 polls by then, one on its own cadence has 8 long before
        (about 1.6 s), so a quiet machine does not wait out a fixed sleep and a busy one gets 5 s of slack."""
        health = store.all_health(names)
        failures_recorded = all(health[name] and health[name].last_error for name in names[1:])
        return failures_recorded and (agency.hits["/good"] >= 8 or agency.hits["/slow"] >= 6)

    wait_until(settled, timeout=30, interval=0.1, message="8 polls of the good feed or 6 of the hanging one")
    scheduler.stop(timeout=6)
    # the healthy feed kept its 0.2 s cadence while the hanging one blocked for a second at a time
    assert agency.hits["/good"] >= 8
    health = store.all_health(["good", "failing", "hanging", "malformed"])
    assert health["good"].last_error == "" and health["good"].record_count == 2
    assert health["failing"].last_error.startswith("HTTP 500")
    assert health["hanging"].last_error.startswith("timeout")
    assert health["malformed"].last_error.startswith("payload refused")
    assert len(store.entities_of_feed("good")) == 2
    assert store.entities_of_feed("malformed") == []


@pytest.mark.integration
def test_poll_job_takes_only_serialisable_arguments(agency, redis_server_url, redis_client, tmp_path) -> None:  # noqa: ANN001
    # the demo city (its city.yaml) with this one feed and the demo's rules for it: nothing else of the demo
    # configuration, whose other files name feeds and agencies this city lacks
    city = tmp_path / "city"
    city.mkdir()
    shutil.copy(DEFAULT_CONFIG_DIR / "city.yaml", city)
    (city / "agencies.yaml").write_text(yaml.safe_dump({"feeds": [
        _feed("air-stations", f"{agency.url}/good").model_dump(exclude_none=True)
    ]}, allow_unicode=True), encoding="utf-8")
    demo_rules = yaml.safe_load((DEFAULT_CONFIG_DIR / "rules.yaml").read_text(encoding="utf-8"))
    rules = [r for r in demo_rules["rules"] if r.get("feed") == "air-stations"]
    for rule in rules:
        rule.pop("procedure", None)  # procedures name the demo's agencies
    (city / "rules.yaml").write_text(yaml.safe_dump({"rules": rules}, allow_unicode=True), encoding="utf-8")
    result = poll_job("air-stations", redis_server_url, str(city))
    assert result["ok"] and result["records"] == 2
    # the demo's PM2.5 rule (above 50) fires for the Hòa Khánh station and only for it
    assert result["alerts_raised"] == 1
    alerts = Store(redis_client, "danang").open_alerts()
    assert alerts[0].entity_id == "urn:ioc:danang:air-stations:hk" and alerts[0].district == "Liên Chiểu"
    assert Path(city / "rules.yaml").exists()


# --- records refused or repaired: counted with their reasons in the feed's health -----------------------

HOSPITAL_BEDS_CSV = Path(__file__).parents[1] / "fixtures" / "csv" / "danang-hospital-beds.csv"


def _hospital_beds(settings: Settings, change: tuple[str, str] | None = None) -> tuple[Feed, bytes]:
    feed = settings.feed("hospital-beds")
    payload = HOSPITAL_BEDS_CSV.read_bytes()
    if change:
        payload = payload.replace(change[0].encode(), change[1].encode(), 1)
    return feed, payload


def test_a_refused_record_is_counted_with_its_reason_and_the_rest_stored(fake_store, settings) -> None:  # noqa: ANN001
    # the recorded export has no bed_occupancy_pct column (noted once), and here one row's bed count is a
    # phone number someone typed in the wrong cell: that row is refused, the other five stored
    feed, payload = _hospital_beds(settings, (";600;498;", ";gọi 0905 123 456;498;"))
    outcome = ingest_payload(feed, payload, store=fake_store, areas=area_index(settings.city))

    assert outcome.ok and outcome.records == 5
    health = fake_store.feed_health("hospital-beds")
    assert (health.records_refused, health.records_repaired) == (1, 1)
    refused = [problem for problem in health.record_problems if problem.refused]
    assert [problem.where for problem in refused] == ["row 3"]
    assert "column total_beds: expected a number" in refused[0].reason
    assert "0905" not in refused[0].reason  # the reason is stored scrubbed like every other text
    assert health.to_dict()["records_refused"] == 1 and "record_problems" not in health.to_dict()

    # the next clean poll clears them: the counts describe the last stored batch
    metrics = {name: spec for name, spec in feed.mapping["metrics"].items() if name != "bed_occupancy"}
    matching = feed.model_copy(update={"mapping": {**feed.mapping, "metrics": metrics}})
    ingest_payload(matching, HOSPITAL_BEDS_CSV.read_bytes(), store=fake_store, areas=area_index(settings.city))
    health = fake_store.feed_health("hospital-beds")
    assert (health.records_refused, health.records_repaired, health.record_problems) == (0, 0, ())


def test_a_payload_of_only_refused_records_is_refused_and_kept(fake_store, settings) -> None:  # noqa: ANN001
    feed = _feed("air", "http://127.0.0.1:1/unused", reader="geojson")
    payload = json.dumps({"type": "FeatureCollection", "features": [
        {"type": "Feature", "geometry": {"type": "Point", "coordinates": [108.2, 116.0]}, "properties": {"id": 1}},
    ]}).encode()
    outcome = ingest_payload(feed, payload, store=fake_store, areas=area_index(settings.city))
    assert not outcome.ok and "every record refused (1)" in outcome.error
    assert fake_store.rejected_payloads("air")[0]["error"] == outcome.error
