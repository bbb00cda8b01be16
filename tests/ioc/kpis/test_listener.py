"""The runner hands every stored batch to the KPI rollups: a simulated poll ends up in the right hour."""

from __future__ import annotations

from datetime import UTC, datetime
from urllib.parse import parse_qsl, urlsplit

from ioc.areas import area_index
from ioc.config import Settings
from ioc.kpis.aggregates import CITY
from ioc.kpis.rollups import KpiRollups
from ioc.runner import default_listeners, ingest_payload
from ioc.store import Store
from simulator.city import SimCity
from simulator.feeds import FEEDS, FeedRequest


def test_default_listeners_keep_the_rollups(fake_store: Store, settings: Settings) -> None:
    assert any(isinstance(listener, KpiRollups) for listener in default_listeners(settings, fake_store))


def test_a_stored_poll_is_rolled_up(fake_store: Store, settings: Settings) -> None:
    feed = settings.feed("air-stations")
    url = urlsplit(feed.url)
    moment = datetime(2026, 11, 20, 1, 15, tzinfo=UTC)  # 08:15 in the city
    payload, _ = FEEDS[url.path](SimCity(42), moment, FeedRequest(parse_qsl(url.query)))

    outcome = ingest_payload(feed, payload, store=fake_store, areas=area_index(settings.city), city="danang",
                             listeners=default_listeners(settings, fake_store))

    assert outcome.ok
    hourly = fake_store.redis.hgetall(fake_store.keys.kpi_hours("pm25-mean", CITY, "2026-11-20"))
    stations = sum(1 for e in outcome.batch.entities if "pm25" in e.attributes)
    assert int(hourly["08:n"]) == stations
    assert float(hourly["08:s"]) == sum(e.attributes["pm25"] for e in outcome.batch.entities if "pm25" in e.attributes)
    assert fake_store.redis.hlen(fake_store.keys.feed_polls_hours(feed.name, _today(fake_store))) == 1


def _today(store: Store) -> str:
    from ioc.i18n import CITY_ZONE
    from ioc.model import utcnow

    return utcnow().astimezone(CITY_ZONE).date().isoformat()
