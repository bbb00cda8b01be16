"""The control room's headline numbers: aggregates, the `where` filter, formatting and the tiles."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from ioc.config import Feed, FeedKpi, Settings, Text, load_settings
from ioc.i18n import local_time, t
from ioc.kpis.tiles import KpiValue, feed_kpi, format_value, kpi_tiles, tile_columns
from ioc.store import FeedHealth

NOW = datetime(2025, 3, 14, 3, 30, tzinfo=UTC)


def make_feed(name: str = "air", kpi: FeedKpi | None = None, **extra: object) -> Feed:
    return Feed(
        name=name,
        agency="danang-donre",
        agency_name=Text(vi="Sở Tài nguyên và Môi trường", en="Environment department"),
        sector="environment",
        reader="sensorthings",
        url="http://127.0.0.1:1/air",
        interval=10,
        kpi=kpi,
        **extra,
    )


def entity(**attributes: object) -> dict[str, object]:
    return {"id": f"urn:x:{len(attributes)}", "attributes": attributes}


def kpi(aggregate: str, metric: str | None = "pm25", **extra: object) -> FeedKpi:
    return FeedKpi(label=Text(vi="Chỉ số", en="Index"), metric=metric, aggregate=aggregate, unit="µg/m³", **extra)


STATIONS = [entity(pm25=20.0), entity(pm25="40"), entity(pm25=None), entity(pm25="n/a"), entity(no2=5)]


@pytest.mark.parametrize(
    ("aggregate", "expected"),
    [("mean", 30.0), ("max", 40.0), ("min", 20.0), ("sum", 60.0), ("count", 2.0)],
)
def test_aggregates_use_only_numeric_values_of_the_metric(aggregate: str, expected: float) -> None:
    value = feed_kpi(make_feed(kpi=kpi(aggregate)), STATIONS)

    assert value == KpiValue(expected, "µg/m³", Text(vi="Chỉ số", en="Index"))


def test_an_aggregate_over_no_values_is_none_not_zero() -> None:
    assert feed_kpi(make_feed(kpi=kpi("mean")), [entity(no2=3)]).value is None
    assert feed_kpi(make_feed(kpi=kpi("max")), []).value is None


def test_count_with_where_counts_matching_entities_case_insensitively() -> None:
    requests = [entity(status="open"), entity(status="OPEN "), entity(status="closed"), entity(priority=1)]
    spec = kpi("count", metric=None, where={"status": "open"})

    assert feed_kpi(make_feed(kpi=spec), requests).value == 2


def test_where_compares_numbers_and_booleans_by_value() -> None:
    lights = [entity(level=2, on=True, watts=60), entity(level="2.0", on="true", watts=40),
              entity(level=3, on=False, watts=80), entity(level=2, on="false", watts=10)]

    on_level_two = kpi("sum", metric="watts", where={"level": 2, "on": True})
    off = kpi("count", metric=None, where={"on": False})

    assert feed_kpi(make_feed(kpi=on_level_two), lights).value == 100
    assert feed_kpi(make_feed(kpi=off), lights).value == 2


def test_a_feed_without_kpi_shows_its_record_count() -> None:
    value = feed_kpi(make_feed(), [entity(a=1), entity(b=2), entity(c=3)])

    assert value.value == 3
    assert value.label.get("vi") == t("kpi.records", "vi")
    assert value.label.get("en") == t("kpi.records", "en")


@pytest.mark.parametrize(
    ("value", "text"),
    [(None, "—"), (3.0, "3"), (12.345, "12.3"), (1234.5, "1\u202f234"), (0.05, "0.1")],
)
def test_format_value(value: float | None, text: str) -> None:
    assert format_value(value) == text


def health(feed: Feed, last_success: datetime | None, failures: int = 0) -> FeedHealth:
    return FeedHealth(
        feed=feed.name, last_success=last_success, last_attempt=last_success, last_error="",
        last_error_at=None, record_count=2, previous_record_count=2, fetch_latency_ms=12.0,
        consecutive_failures=failures, interval=feed.interval, stale_factor=feed.stale_factor,
    )


def test_tiles_mark_stale_feeds_with_the_time_of_their_last_data(settings: Settings) -> None:
    fresh = make_feed("fresh", kpi("mean"))
    quiet = make_feed("quiet", kpi("max"))
    silent = make_feed("silent")
    paused = make_feed("paused", enabled=False)
    city = settings.model_copy(update={"feeds": [fresh, quiet, silent, paused]})
    last_heard = NOW - timedelta(minutes=10)
    entities = {"fresh": [entity(pm25=10), entity(pm25=20)], "quiet": [entity(pm25=70)]}
    states = {"fresh": health(fresh, NOW - timedelta(seconds=5)), "quiet": health(quiet, last_heard),
              "silent": None}

    tiles = {tile.feed: tile for tile in kpi_tiles(city, entities, states, "en", NOW)}

    assert set(tiles) == {"fresh", "quiet", "silent"}
    assert (tiles["fresh"].value_text, tiles["fresh"].stale, tiles["fresh"].stale_text) == ("15", False, "")
    assert tiles["quiet"].stale and tiles["quiet"].value_text == "70"
    assert tiles["quiet"].stale_text == t("kpi.stale_since", "en", time=local_time(last_heard, "%H:%M"))
    assert tiles["silent"].stale and tiles["silent"].value_text == "—"
    assert tiles["silent"].stale_text == t("kpi.no_data", "en")
    assert tiles["fresh"].colour == settings.sector("environment").colour
    assert tiles["fresh"].label == "Index" and tiles["fresh"].agency == "Environment department"


def test_a_tile_prints_the_short_label_and_keeps_the_whole_one_for_its_tooltip(settings: Settings) -> None:
    long = FeedKpi(label=Text(vi="Thời gian tiếp cận trung bình", en="Mean response time"),
                   short=Text(vi="Thời gian tiếp cận", en="Response time"), metric="minutes", unit="min")
    feeds = [make_feed("ambulance", long), make_feed("air", kpi("mean"))]
    city = settings.model_copy(update={"feeds": feeds})

    tiles = {tile.feed: tile for tile in kpi_tiles(city, {}, {}, "vi", NOW)}

    assert (tiles["ambulance"].label, tiles["ambulance"].full_label) == ("Thời gian tiếp cận",
                                                                         "Thời gian tiếp cận trung bình")
    assert tiles["air"].label == tiles["air"].full_label == "Chỉ số"  # no short label: the whole one


def test_every_demo_tile_label_fits_two_lines_of_a_tile() -> None:
    for feed in load_settings().feeds:
        if feed.kpi:
            for lang in ("vi", "en"):
                label = (feed.kpi.short or feed.kpi.label).get(lang)
                # about 14 characters a line on a 1/13-wide tile; words do not break, so allow for the ragged edge
                assert len(label) <= 25, f"{feed.name}: '{label}' needs a kpi.short in agencies.yaml"


@pytest.mark.parametrize(("tiles", "columns"), [(0, 1), (1, 1), (13, 13), (14, 7), (26, 13), (27, 9), (40, 10)])
def test_tile_rows_are_evenly_filled(tiles: int, columns: int) -> None:
    assert tile_columns(tiles) == columns
