"""KPI series from the history archive on a real redis-server: the archive's aggregates equal the live
rollups of the same batches, a report reaches into the archive where Redis rollups were trimmed (and says
so), and no day is counted from both sources."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from ioc.archive import Archiver
from ioc.config import Settings
from ioc.kpis.aggregates import CITY, district_scope, value_of
from ioc.kpis.archive_reader import ARCHIVE, ROLLUPS, ArchiveKpiReader, kpi_reader
from ioc.kpis.archive_rollups import archived_kpis, compact_kpis, kpi_day_dir
from ioc.kpis.catalogue import Catalogue
from ioc.kpis.periods import make_range
from ioc.kpis.report import compute_report
from ioc.kpis.rollup_reader import RollupReader
from ioc.kpis.rollups import KpiRollups
from ioc.model import Batch, Observation
from ioc.store import Store
from tests.ioc.kpis.conftest import CITY_MIDNIGHT_UTC, pm25, station, write_catalogue

ZONE = ZoneInfo("Asia/Ho_Chi_Minh")
FIRST_DAY = date(2026, 11, 20)  # local; starts at CITY_MIDNIGHT_UTC
DAYS = 4
DISTRICTS = ("Hải Châu", "Sơn Trà", "Liên Chiểu")

# the small catalogue plus KPIs whose records the archive must join to their entity (type, a per-record
# denominator, a true/false reading), and one on text readings
EXTRA = """
  - id: beds
    name: {vi: "Giường", en: "Beds"}
    sector: health
    agency: danang-doh
    source: {feeds: [hospital-beds], entity_type: Hospital, metric: beds_occupied, group_by: name}
    aggregate: ratio
    value: beds_occupied
    per: beds_total
    target: 85
    better: lower
  - id: lights-out
    name: {vi: "Đèn tắt", en: "Lights out"}
    sector: utilities
    agency: danang-lighting
    source: {feeds: [streetlights], entity_type: Streetlight, metric: lamp_out}
    aggregate: share
    count_if: "lamp_out == true"
    target: 3
    better: lower
  - id: pm25-p90
    name: {vi: "PM2.5 p90", en: "PM2.5 p90"}
    sector: environment
    agency: danang-donre
    source: {feeds: [air-stations], metric: pm25, hours: [6, 7, 8, 16, 17, 18]}
    aggregate: p90
    target: 40
    better: lower
"""


def archive_catalogue(tmp_path: Path, settings: Settings) -> Catalogue:
    from tests.ioc.kpis.conftest import SMALL_CATALOGUE

    return write_catalogue(tmp_path, settings, SMALL_CATALOGUE.rstrip() + "\n" + EXTRA)


def archive_polls(day_index: int) -> list[tuple[str, datetime, Batch]]:
    """Every 2 hours of one local day: six air stations (pm25), two hospitals, four street lights."""
    from ioc.model import Entity

    polls = []
    for step in range(12):
        moment = CITY_MIDNIGHT_UTC + timedelta(days=day_index, hours=2 * step, minutes=7)
        seed = day_index * 100 + step
        stations = [station(s, DISTRICTS[s % 3], reading=seed + s) for s in range(6)]
        values = [float((seed * 7 + s * 13) % 90) for s in range(6)]
        air = Batch(entities=stations, observations=[pm25(s, values[s], moment) for s in range(6)])
        hospitals = [Entity(f"urn:ioc:danang:hospital-beds:{h}", "Hospital", "danang-doh", "health",
                            name=f"Bệnh viện {h}", district=DISTRICTS[h],
                            attributes={"beds_total": 200 + 50 * h, "beds_occupied": 150 + (seed + h) % 60},
                            feed="hospital-beds") for h in range(2)]
        beds = Batch(entities=hospitals, observations=[
            Observation(e.id, "beds_occupied", e.attributes["beds_occupied"], "", moment) for e in hospitals])
        lights = [Entity(f"urn:ioc:danang:streetlights:{n}", "Streetlight", "danang-lighting", "utilities",
                         district=DISTRICTS[n % 3], attributes={"lamp_out": (seed + n) % 5 == 0},
                         feed="streetlights") for n in range(4)]
        lamps = Batch(entities=lights, observations=[
            Observation(e.id, "lamp_out", e.attributes["lamp_out"], "", moment) for e in lights])
        polls += [("air-stations", moment, air), ("hospital-beds", moment, beds), ("streetlights", moment, lamps)]
    return polls


@pytest.fixture
def archived(store: Store, settings: Settings, tmp_path: Path) -> tuple[Store, Catalogue, Path]:
    """DAYS local days of polls, ingested (Store + live rollups, as the runner does) and archived."""
    catalogue = archive_catalogue(tmp_path, settings)
    rollups = KpiRollups(store, settings, catalogue)
    root = tmp_path / "archive"
    for day_index in range(DAYS):
        for feed, moment, batch in archive_polls(day_index):
            store.write_batch(feed, batch, now=moment)
            rollups.ingest(settings.feed(feed), batch, now=moment)
        # a re-sent observation (same entity, metric and time) counts once, as it does live
        feed, moment, batch = archive_polls(day_index)[0]
        store.write_batch(feed, Batch(entities=batch.entities, observations=batch.observations[:2]), now=moment)
    Archiver(store.redis, store.keys, root).archive_once()
    now = CITY_MIDNIGHT_UTC + timedelta(days=DAYS, hours=3)
    written = compact_kpis(root, catalogue, ZONE, now)
    assert written == [FIRST_DAY + timedelta(days=n) for n in range(DAYS)]
    return store, catalogue, root


def _wanted(catalogue: Catalogue, reader: RollupReader) -> list:
    kpis = archived_kpis(catalogue)
    scopes = reader.scopes([k.id for k in kpis])
    return [(k, s) for k in kpis for s in dict.fromkeys([CITY, *map(district_scope, DISTRICTS), *scopes[k.id]])]


def test_archive_aggregates_equal_the_live_rollups_of_the_same_batches(archived) -> None:
    store, catalogue, root = archived
    last = FIRST_DAY + timedelta(days=DAYS - 1)
    live_reader = RollupReader(store, ZONE)
    wanted = _wanted(catalogue, live_reader)
    live = live_reader.days(wanted, FIRST_DAY, last)
    from_archive = ArchiveKpiReader(root, FIRST_DAY, last).days(wanted, FIRST_DAY, last)
    assert {k.id for k, _ in wanted} == {"pm25-mean", "pm25-hours", "not-yet-connected", "beds", "lights-out",
                                         "pm25-p90"}
    assert any(s.startswith("group:") for _, s in wanted)
    assert set(from_archive) == set(live)
    for key, series in live.items():
        assert set(from_archive[key]) == set(series), key
        for day, agg in series.items():
            mine = from_archive[key][day]
            assert (mine.n, mine.k, mine.above, dict(mine.bins)) == (agg.n, agg.k, agg.above, dict(agg.bins)), key
            assert mine.s == pytest.approx(agg.s) and mine.d == pytest.approx(agg.d), key
    # the re-sent readings were archived twice and counted once; an hour's flag as Redis keeps it
    assert live[("pm25-mean", CITY)][FIRST_DAY].n == 12 * 6
    hours = ArchiveKpiReader(root, FIRST_DAY, last).hours(wanted, FIRST_DAY)
    live_hours = live_reader.hours(wanted, FIRST_DAY)
    for key, series in live_hours.items():
        assert {h: (a.n, a.above) for h, a in hours.get(key, {}).items()} == {
            h: (a.n, a.above) for h, a in series.items()}, key


def _trim_redis(store: Store, days: tuple[str, ...]) -> None:
    """Delete the days' daily rollups of every KPI, as if their keys had expired or rollups began later."""
    for key in store.redis.scan_iter(match=store.keys.prefix + ":kpi:*:daily*"):
        members = [f for f in (store.redis.hkeys(key) if store.redis.type(key) == "hash"
                               else store.redis.zrange(key, 0, -1)) if f.split(":")[0] in days]
        if members:
            (store.redis.hdel if store.redis.type(key) == "hash" else store.redis.zrem)(key, *members)


def test_a_report_reaches_into_the_archive_where_redis_was_trimmed(
        archived, settings: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    store, catalogue, root = archived
    period = make_range(FIRST_DAY, FIRST_DAY + timedelta(days=DAYS - 1))
    now = CITY_MIDNIGHT_UTC + timedelta(days=DAYS, hours=3)
    monkeypatch.setenv("IOC_ARCHIVE_DIR", str(tmp_empty := root.parent / "no-archive"))
    whole = compute_report(store, settings, period, catalogue=catalogue, now=now)
    assert not tmp_empty.exists() and set(whole.sources["pm25-mean"]) == {ROLLUPS}
    _trim_redis(store, ("20", "21"))
    trimmed = compute_report(store, settings, period, catalogue=catalogue, now=now)
    assert trimmed.result("pm25-mean").records == whole.result("pm25-mean").records // 2

    monkeypatch.setenv("IOC_ARCHIVE_DIR", str(root))
    merged = compute_report(store, settings, period, catalogue=catalogue, now=now)
    for kpi in archived_kpis(catalogue):
        mine, theirs = merged.result(kpi.id), whole.result(kpi.id)
        assert mine.value == pytest.approx(theirs.value), kpi.id
        assert mine.records == theirs.records, kpi.id
        assert [p.value for p in mine.trend] == pytest.approx([p.value for p in theirs.trend]), kpi.id
        assert [(d.label, d.value) for d in mine.districts] == pytest.approx(
            [(d.label, d.value) for d in theirs.districts]), kpi.id
        assert [(g.label, g.value) for g in mine.groups] == [(g.label, g.value) for g in theirs.groups], kpi.id
    assert merged.sources["pm25-mean"] == {ARCHIVE: 2, ROLLUPS: 2}
    # a KPI the archive cannot answer (entities counted once) comes from Redis alone
    assert ARCHIVE not in merged.sources.get("requests-on-time", {})
    # a day's report of a trimmed day has its hours from the archive
    day = compute_report(store, settings, make_range(FIRST_DAY, FIRST_DAY), catalogue=catalogue, now=now)
    assert day.result("pm25-mean").records == 12 * 6


def test_a_day_is_never_counted_from_both_sources(archived) -> None:
    store, catalogue, root = archived
    last = FIRST_DAY + timedelta(days=DAYS - 1)
    reader = kpi_reader(store, ZONE, root, FIRST_DAY, last)
    wanted = _wanted(catalogue, RollupReader(store, ZONE))
    merged = reader.days(wanted, FIRST_DAY, last)
    live = RollupReader(store, ZONE).days(wanted, FIRST_DAY, last)
    # with both sources whole, Redis answers (a tie) and the values are Redis's, not their sum
    assert merged[("pm25-mean", CITY)][FIRST_DAY].n == live[("pm25-mean", CITY)][FIRST_DAY].n
    assert set(reader.answered["pm25-mean"].values()) == {ROLLUPS}
    # a day Redis holds only half of is answered by the archive, every scope of it
    key = store.keys.kpi_days("pm25-mean", CITY, "2026-11")
    store.redis.hset(key, "22:n", 3)
    reader = kpi_reader(store, ZONE, root, FIRST_DAY, last)
    merged = reader.days(wanted, FIRST_DAY, last)
    assert reader.answered["pm25-mean"][date(2026, 11, 22)] == ARCHIVE
    assert merged[("pm25-mean", CITY)][date(2026, 11, 22)].n == 12 * 6
    assert value_of(catalogue.get("pm25-mean"), merged[("pm25-mean", CITY)][date(2026, 11, 22)]) is not None


def test_compaction_redoes_a_day_only_when_its_observations_changed(archived) -> None:
    store, catalogue, root = archived
    now = CITY_MIDNIGHT_UTC + timedelta(days=DAYS, hours=3)
    assert compact_kpis(root, catalogue, ZONE, now) == []
    # a late reading of the second local day (5 am: still the first UTC day) lands in that UTC day's
    # observation partition: the two local days it touches are redone, no other
    last = FIRST_DAY + timedelta(days=DAYS - 1)
    before = ArchiveKpiReader(root, FIRST_DAY, last).days([(catalogue.get("pm25-mean"), CITY)], FIRST_DAY, last)
    late = CITY_MIDNIGHT_UTC + timedelta(days=1, hours=5, minutes=30)
    store.write_batch("air-stations", Batch(entities=[station(0, DISTRICTS[0], reading=-1)],
                                            observations=[pm25(0, 77.0, late)]), now=now)
    Archiver(store.redis, store.keys, root).archive_once()
    assert compact_kpis(root, catalogue, ZONE, now) == [date(2026, 11, 20), date(2026, 11, 21)]
    after = ArchiveKpiReader(root, FIRST_DAY, last).days([(catalogue.get("pm25-mean"), CITY)], FIRST_DAY, last)
    changed = {day for day, agg in after[("pm25-mean", CITY)].items()
               if agg.n != before[("pm25-mean", CITY)][day].n}
    assert changed == {date(2026, 11, 21)}
    # the running day is not rolled up until it is over
    assert not kpi_day_dir(root, FIRST_DAY + timedelta(days=DAYS)).exists()


def test_ioc_archive_compact_rolls_up_the_citys_kpis(store: Store, tmp_path: Path,
                                                      capsys: pytest.CaptureFixture[str]) -> None:
    """`ioc archive compact` on an archive of the demo city's catalogue: no Redis needed."""
    import json

    from ioc.cli import main

    root = tmp_path / "archive"
    moment = datetime(2026, 3, 2, 3, 0, tzinfo=ZONE)
    store.write_batch("air-stations", Batch(entities=[station(1, DISTRICTS[0])],
                                            observations=[pm25(1, 42.0, moment)]), now=moment)
    Archiver(store.redis, store.keys, root).archive_once()
    assert main(["archive", "compact", "--folder", str(root)]) == 0
    printed = json.loads(capsys.readouterr().out)
    assert printed == {"folder": str(root), "days": 1, "first": "2026-03-02", "last": "2026-03-02"}
    rows = ArchiveKpiReader(root, date(2026, 3, 2), date(2026, 3, 2)).days(
        [(k, CITY) for k in archived_kpis(_demo_catalogue())], date(2026, 3, 2), date(2026, 3, 2))
    assert rows[("pm25-mean", CITY)][date(2026, 3, 2)].s == 42.0


def test_the_archivers_rounds_roll_up_finished_days_with_no_cron_job(store: Store, tmp_path: Path) -> None:
    """The archiver (`ioc archive`, the demo's) rolls finished days up after each round, so a year's report
    reaches the archive without anyone having scheduled `ioc archive compact`."""
    import threading

    from ioc.config import load_settings
    from ioc.kpis.archive_rollups import daily_compaction

    root = tmp_path / "archive"
    moment = datetime(2026, 3, 2, 3, 0, tzinfo=ZONE)
    store.write_batch("air-stations", Batch(entities=[station(1, DISTRICTS[0])],
                                            observations=[pm25(1, 42.0, moment)]), now=moment)
    stop = threading.Event()
    stop.set()  # one round, then stop
    Archiver(store.redis, store.keys, root, after_round=daily_compaction(root, load_settings())).run(
        stop, interval=0, retention={})
    rows = ArchiveKpiReader(root, date(2026, 3, 2), date(2026, 3, 2)).days(
        [(k, CITY) for k in archived_kpis(_demo_catalogue())], date(2026, 3, 2), date(2026, 3, 2))
    assert rows[("pm25-mean", CITY)][date(2026, 3, 2)].s == 42.0


def test_a_failing_roll_up_does_not_stop_the_archiving(store: Store, tmp_path: Path) -> None:
    import threading

    def broken() -> None:
        raise ValueError("a damaged catalogue")

    moment = datetime(2026, 3, 2, 3, 0, tzinfo=ZONE)
    store.write_batch("air-stations", Batch(entities=[station(1, DISTRICTS[0])],
                                            observations=[pm25(1, 42.0, moment)]), now=moment)
    stop = threading.Event()
    stop.set()
    archiver = Archiver(store.redis, store.keys, tmp_path, after_round=broken)
    archiver.run(stop, interval=0, retention={})  # raises nothing
    assert archiver.archive_once().entries == 0  # the round had archived the batch all the same
    assert list(tmp_path.glob("observations/**/*.parquet"))


def _demo_catalogue() -> Catalogue:
    from ioc.config import load_settings
    from ioc.kpis.catalogue import load_catalogue

    return load_catalogue(load_settings())


def test_a_damaged_aggregate_file_costs_the_archives_days_not_the_report(
        archived, settings: Settings, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> None:
    store, catalogue, root = archived
    (kpi_day_dir(root, FIRST_DAY) / "days.parquet").write_bytes(b"not parquet")
    (kpi_day_dir(root, FIRST_DAY) / "hours.parquet").write_bytes(b"not parquet")
    _trim_redis(store, ("20",))
    monkeypatch.setenv("IOC_ARCHIVE_DIR", str(root))
    now = CITY_MIDNIGHT_UTC + timedelta(days=DAYS, hours=3)
    report = compute_report(store, settings, make_range(FIRST_DAY, FIRST_DAY + timedelta(days=DAYS - 1)),
                            catalogue=catalogue, now=now)
    # Redis answers the days it holds; the archive's damaged file is named in the log
    assert report.result("pm25-mean").records == (DAYS - 1) * 12 * 6
    assert report.sources["pm25-mean"] == {ROLLUPS: DAYS - 1}
    assert "KPI archive" in caplog.text
    day = compute_report(store, settings, make_range(FIRST_DAY, FIRST_DAY), catalogue=catalogue, now=now)
    assert day.result("pm25-mean").value is None
