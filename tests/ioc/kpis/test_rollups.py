"""KPI rollups against hand-computed series: gaps, late and re-sent data, the city's midnight, flags, polls."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from ioc.config import Settings
from ioc.i18n import CITY_ZONE
from ioc.kpis.aggregates import CITY, district_scope, group_scope, slug, value_of
from ioc.kpis.catalogue import Catalogue
from ioc.kpis.rollup_reader import RollupReader
from ioc.kpis.rollups import KpiRollups
from ioc.model import Batch, utcnow
from ioc.store import Store
from tests.ioc.kpis.conftest import CITY_MIDNIGHT_UTC, pm25, request, station

NOV_20 = date(2026, 11, 20)
# 07:30 and 07:40 on the city's clock on 20 November
MORNING = datetime(2026, 11, 20, 0, 30, tzinfo=UTC)


def air(rollups: KpiRollups, settings: Settings, *observations, stations=None, now: datetime | None = None) -> int:
    stations = stations or [station(1, "Hải Châu"), station(2, "Liên Chiểu"), station(3, "Sơn Trà"),
                            station(4, "Hải Châu")]
    return rollups.ingest(settings.feed("air-stations"), Batch(entities=stations, observations=list(observations)),
                          now=now or MORNING, polls=0)


def hours(store: Store, kpi: str, scope: str, day: date) -> dict[str, str]:
    return store.redis.hgetall(store.keys.kpi_hours(kpi, scope, day.isoformat()))


def test_hourly_series_with_a_gap_and_the_citys_midnight(rollups: KpiRollups, fake_store: Store,
                                                          settings: Settings) -> None:
    air(rollups, settings, pm25(1, 20, MORNING), pm25(2, 60, MORNING + timedelta(minutes=10)))
    air(rollups, settings, pm25(1, 30, datetime(2026, 11, 20, 3, 10, tzinfo=UTC)))  # 10:10, after a gap
    air(rollups, settings,
        pm25(3, 44, CITY_MIDNIGHT_UTC + timedelta(days=1, seconds=-1)),  # 23:59:59 on the 20th
        pm25(2, 52, CITY_MIDNIGHT_UTC + timedelta(days=1)))  # 00:00 on the 21st, though still the 20th in UTC

    city = hours(fake_store, "pm25-mean", CITY, NOV_20)
    assert city == {"07:n": "2", "07:s": "80", "10:n": "1", "10:s": "30", "23:n": "1", "23:s": "44"}
    assert hours(fake_store, "pm25-mean", CITY, date(2026, 11, 21)) == {"00:n": "1", "00:s": "52"}
    assert hours(fake_store, "pm25-mean", district_scope("Hải Châu"), NOV_20) == {
        "07:n": "1", "07:s": "20", "10:n": "1", "10:s": "30"}
    # groups are kept by the day only
    assert hours(fake_store, "pm25-mean", group_scope("DN-AQ-01"), NOV_20) == {}

    reader = RollupReader(fake_store, CITY_ZONE)
    kpi = rollups.catalogue.get("pm25-mean")
    days = reader.days([(kpi, CITY), (kpi, group_scope("DN-AQ-01"))], NOV_20, date(2026, 11, 21))
    assert value_of(kpi, days[("pm25-mean", CITY)][NOV_20]) == pytest.approx((20 + 60 + 30 + 44) / 4)
    assert value_of(kpi, days[("pm25-mean", CITY)][date(2026, 11, 21)]) == 52
    assert value_of(kpi, days[("pm25-mean", group_scope("DN-AQ-01"))][NOV_20]) == 25
    extremes = fake_store.keys.kpi_day_extremes("pm25-mean", CITY, "2026-11")
    assert fake_store.redis.zrange(extremes, 0, -1, withscores=True) == [
        ("20:lo", 20), ("21:hi", 52), ("21:lo", 52), ("20:hi", 60)]
    assert reader.scopes(["pm25-mean"])["pm25-mean"][district_scope("Liên Chiểu")] == "Liên Chiểu"


def test_late_data_lands_in_its_own_hour_and_resent_data_counts_once(
    rollups: KpiRollups, fake_store: Store, settings: Settings
) -> None:
    first = [pm25(1, 20, MORNING), pm25(2, 60, MORNING + timedelta(minutes=10))]
    assert air(rollups, settings, *first) == 4  # two readings, each counted by both PM2.5 KPIs
    assert air(rollups, settings, *first) == 0  # the next poll re-sends the same readings

    # at 22:00 a station that was offline delivers what it measured at 09:05
    late = air(rollups, settings, pm25(3, 35, datetime(2026, 11, 20, 2, 5, tzinfo=UTC)),
               now=datetime(2026, 11, 20, 15, 0, tzinfo=UTC))
    # and a reading older than one already counted for the same station is a re-send too
    older = air(rollups, settings, pm25(1, 99, MORNING - timedelta(minutes=20)))

    assert (late, older) == (2, 0)
    city = hours(fake_store, "pm25-mean", CITY, NOV_20)
    assert (city["07:n"], city["07:s"], city["09:n"], city["09:s"]) == ("2", "80", "1", "35")
    assert "22:n" not in city


def test_requests_count_once_when_they_close(rollups: KpiRollups, fake_store: Store, settings: Settings) -> None:
    requested = datetime(2026, 11, 20, 1, 0, tzinfo=UTC)  # 08:00
    promised = requested + timedelta(hours=24)
    feed = settings.feed("citizen-requests")

    def poll(*requests, at: datetime) -> int:
        return rollups.ingest(feed, Batch(entities=list(requests)), now=at, polls=0)

    assert poll(request(1, "Thanh Khê", "open", requested, requested, promised), at=requested) == 0
    # closed 2.5 hours later (on time), and one closed a day and a half later (late), another agency
    on_time = request(1, "Thanh Khê", "closed", requested, requested + timedelta(hours=2.5), promised)
    late = request(2, "Cẩm Lệ", "closed", requested, requested + timedelta(hours=36), promised, agency="Sở GTVT")
    assert poll(on_time, at=requested + timedelta(hours=3)) == 2  # both KPIs count it
    assert poll(on_time, late, at=requested + timedelta(hours=37)) == 2
    assert poll(on_time, late, at=requested + timedelta(hours=38)) == 0

    reader = RollupReader(fake_store, CITY_ZONE)
    share = rollups.catalogue.get("requests-on-time")
    median = rollups.catalogue.get("resolution-median")
    found = reader.days([(share, CITY), (median, CITY), (share, group_scope("Sở GTVT"))], NOV_20, date(2026, 11, 21))
    # each request sits on the day it closed: 10:30 on the 20th, 21:00 on the 21st
    assert value_of(share, found[("requests-on-time", CITY)][NOV_20]) == 100
    assert value_of(share, found[("requests-on-time", CITY)][date(2026, 11, 21)]) == 0
    assert value_of(share, found[("requests-on-time", group_scope("Sở GTVT"))][date(2026, 11, 21)]) == 0
    both = found[("resolution-median", CITY)][NOV_20].merge(found[("resolution-median", CITY)][date(2026, 11, 21)])
    assert value_of(median, both) == pytest.approx(2.5, rel=0.02)  # the lower median of 2.5 h and 36 h


def test_hours_above_the_limit_follow_late_data(rollups: KpiRollups, fake_store: Store, settings: Settings) -> None:
    air(rollups, settings, pm25(1, 20, MORNING), pm25(2, 60, MORNING + timedelta(minutes=10)))
    days_key = fake_store.keys.kpi_days("pm25-hours", CITY, "2026-11")
    liên_chiểu = fake_store.keys.kpi_days("pm25-hours", district_scope("Liên Chiểu"), "2026-11")
    assert fake_store.redis.hget(days_key, "20:a07") == "0"  # city mean 40
    assert fake_store.redis.hget(liên_chiểu, "20:a07") == "1"  # Liên Chiểu alone 60

    air(rollups, settings, pm25(4, 100, MORNING + timedelta(minutes=20)))  # city mean now 60

    assert fake_store.redis.hget(days_key, "20:a07") == "1"
    kpi = rollups.catalogue.get("pm25-hours")
    found = RollupReader(fake_store, CITY_ZONE).days([(kpi, CITY)], NOV_20, NOV_20)
    assert value_of(kpi, found[("pm25-hours", CITY)][NOV_20]) == 1


def test_polls_are_capped_at_the_expected_count_per_hour(rollups: KpiRollups, fake_store: Store,
                                                         settings: Settings) -> None:
    feed = settings.feed("air-stations")
    expected = round(3600 / feed.interval)

    rollups.record_polls(feed, MORNING, expected - 10)
    rollups.record_polls(feed, MORNING + timedelta(minutes=5), 30)  # polled faster than its cadence
    rollups.record_polls(feed, MORNING + timedelta(hours=1), 1)

    assert fake_store.redis.hgetall(fake_store.keys.feed_polls_hours(feed.name, "2026-11-20")) == {
        "07": str(expected + 20), "08": "1"}
    assert fake_store.redis.hget(fake_store.keys.feed_polls_days(feed.name, "2026-11"), "20") == str(expected + 1)
    fresh = fake_store.redis.hkeys(fake_store.keys.agency_fresh(feed.agency, "2026-11"))
    assert sorted(fresh) == ["20:07", "20:08"]


def test_a_slow_feed_stays_fresh_for_its_stale_window(rollups: KpiRollups, fake_store: Store,
                                                      settings: Settings) -> None:
    daily = settings.feed("air-stations").model_copy(update={"interval": 86400.0, "stale_factor": 1.5})

    rollups.record_polls(daily, MORNING, 1)

    fresh = fake_store.redis.hkeys(fake_store.keys.agency_fresh(daily.agency, "2026-11"))
    # fresh from 07:00 for at most a day, though its window is a day and a half
    assert len(fresh) == 25 and min(fresh) == "20:07" and max(fresh) == "21:07"


def test_keys_keep_hours_for_90_days_and_days_for_five_years(rollups: KpiRollups, fake_store: Store,
                                                             settings: Settings) -> None:
    now = utcnow()
    air(rollups, settings, pm25(1, 20, now), now=now)
    day = now.astimezone(CITY_ZONE).date()

    hourly = fake_store.redis.ttl(fake_store.keys.kpi_hours("pm25-mean", CITY, day.isoformat()))
    daily = fake_store.redis.ttl(fake_store.keys.kpi_days("pm25-mean", CITY, f"{day.year}-{day.month:02d}"))
    assert 90 * 86400 < hourly <= 93 * 86400
    assert 5 * 365 * 86400 < daily <= (5 * 366 + 62) * 86400


def test_a_batch_of_another_feed_touches_no_kpi(rollups: KpiRollups, fake_store: Store, settings: Settings) -> None:
    version = fake_store.redis.get(fake_store.keys.kpi_rollup_version())
    rollups.ingest(settings.feed("bus-vehicles"), Batch(entities=[station(1, "Hải Châu")],
                                                        observations=[pm25(1, 20, MORNING)]), now=MORNING, polls=0)
    assert fake_store.redis.get(fake_store.keys.kpi_rollup_version()) == version
    assert not hours(fake_store, "pm25-mean", CITY, NOV_20)


def test_clear_removes_every_rollup_and_nothing_else(rollups: KpiRollups, fake_store: Store,
                                                     settings: Settings) -> None:
    fake_store.redis.set(fake_store.keys.changes(), 7)
    air(rollups, settings, pm25(1, 20, MORNING))
    rollups.record_polls(settings.feed("air-stations"), MORNING, 3)

    assert rollups.clear() > 5
    assert fake_store.redis.keys("*") == [fake_store.keys.changes()]


def test_scope_slugs() -> None:
    assert slug("Hải Châu") == "hai-chau"
    assert slug("Sở Giao thông vận tải") == "so-giao-thong-van-tai"
    assert slug("Đội PCCC & CNCH quận Sơn Trà") == "doi-pccc-cnch-quan-son-tra"


@pytest.mark.integration
def test_rollups_on_a_real_redis(store: Store, settings: Settings, catalogue: Catalogue) -> None:
    rollups = KpiRollups(store, settings, catalogue)
    air(rollups, settings, pm25(1, 20, MORNING), pm25(2, 60, MORNING + timedelta(minutes=10)))
    air(rollups, settings, pm25(4, 100, MORNING + timedelta(minutes=20)))

    assert hours(store, "pm25-mean", CITY, NOV_20) == {"07:n": "3", "07:s": "180"}
    assert store.redis.hget(store.keys.kpi_days("pm25-hours", CITY, "2026-11"), "20:a07") == "1"
    assert store.redis.zscore(store.keys.kpi_hour_extremes("pm25-mean", CITY, "2026-11-20"), "07:hi") == 100
