"""The feed-freshness board: status of each feed, worst first, lag, record changes and refused payloads."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from ioc.config import Feed, Settings, Text
from ioc.feed_board import PAYLOAD_PREVIEW_CHARS, feed_rows, feed_status, rejected_payloads, status_counts
from ioc.i18n import local_time, t
from ioc.store import Store

NOW = datetime(2025, 3, 14, 3, 30, tzinfo=UTC)


def make_feed(name: str, interval: float = 10, **extra: object) -> Feed:
    return Feed(
        name=name,
        agency=f"agency-{name}",
        agency_name=Text(vi=f"Cơ quan {name}", en=f"Agency {name}"),
        sector="transport",
        reader="gtfs-rt",
        url="http://127.0.0.1:1/feed",
        interval=interval,
        **extra,
    )


def board_city(settings: Settings) -> Settings:
    feeds = [make_feed("healthy"), make_feed("paused", enabled=False), make_feed("quiet"), make_feed("silent"),
             make_feed("broken")]
    return settings.model_copy(update={"feeds": feeds})


def fill(store: Store) -> None:
    common = {"interval": 10, "stale_factor": 3}
    store.record_success("healthy", records=12, latency_ms=40, now=NOW - timedelta(seconds=30), **common)
    store.record_success("healthy", records=15, latency_ms=42.4, now=NOW - timedelta(seconds=5), **common)
    store.record_success("quiet", records=7, latency_ms=40, now=NOW - timedelta(minutes=5), **common)
    store.record_success("broken", records=9, latency_ms=40, now=NOW - timedelta(seconds=8), **common)
    store.record_failure("broken", error="HTTP 502 from upstream", payload=b"<html>bad gateway</html>",
                         now=NOW - timedelta(seconds=2), **common)


def test_rows_put_failing_and_stale_feeds_first(settings: Settings, fake_store: Store) -> None:
    fill(fake_store)
    city = board_city(settings)

    rows = feed_rows(city, fake_store.all_health(f.name for f in city.feeds), "vi", NOW)

    assert [(row.feed, row.status) for row in rows] == [
        ("broken", "failing"),
        ("quiet", "stale"),
        ("silent", "never"),
        ("healthy", "ok"),
        ("paused", "disabled"),
    ]
    assert [row.attention for row in rows] == [True, True, True, False, False]
    assert rows[0].status_text == t("feeds.status.failing", "vi")


def test_row_values_for_a_healthy_and_a_failing_feed(settings: Settings, fake_store: Store) -> None:
    fill(fake_store)
    city = board_city(settings)

    rows = {row.feed: row for row in feed_rows(city, fake_store.all_health(f.name for f in city.feeds), "en", NOW)}

    healthy = rows["healthy"]
    assert (healthy.record_count, healthy.record_change) == (15, 3)
    assert healthy.lag_seconds == 5.0
    assert healthy.lag_text == t("feeds.lag_ratio", "en", ratio="0.5")
    assert healthy.latency_text == "42 ms"
    assert healthy.last_success_text == local_time(NOW - timedelta(seconds=5), "%H:%M:%S %d/%m")
    assert healthy.cadence_text == t("feeds.every", "en", n="10")
    assert healthy.agency == "Agency healthy" and healthy.sector == settings.sector("transport").name.en
    broken = rows["broken"]
    assert broken.last_error == "HTTP 502 from upstream"
    assert broken.consecutive_failures == 1
    assert broken.last_error_at_text == local_time(NOW - timedelta(seconds=2), "%H:%M:%S %d/%m")
    assert rows["silent"].record_count is None and rows["silent"].last_success_ago == t("time.never", "en")


def test_a_feed_failing_before_its_first_success_is_failing(fake_store: Store) -> None:
    fake_store.record_failure("silent", error="timeout", interval=10, stale_factor=3, now=NOW)

    assert feed_status(fake_store.feed_health("silent"), True, NOW) == "failing"
    assert feed_status(None, True, NOW) == "never"
    assert feed_status(None, False, NOW) == "disabled"


def test_status_counts(settings: Settings, fake_store: Store) -> None:
    fill(fake_store)
    city = board_city(settings)

    counts = status_counts(feed_rows(city, fake_store.all_health(f.name for f in city.feeds), "vi", NOW))

    assert counts == {"failing": 1, "stale": 1, "never": 1, "out_of_service": 0, "maintenance": 0, "ok": 1,
                      "disabled": 1}


def test_a_feed_out_of_service_or_in_maintenance_says_so_instead_of_its_health(settings: Settings,
                                                                              fake_store: Store) -> None:
    fill(fake_store)
    city = board_city(settings)
    service = {"broken": "out_of_service", "healthy": "maintenance", "paused": "maintenance"}

    rows = feed_rows(city, fake_store.all_health(f.name for f in city.feeds), "en", NOW, service)

    # neither failed nor healthy: after the feeds that need an eye, before the healthy; a disabled feed stays so
    assert [(row.feed, row.status) for row in rows] == [
        ("quiet", "stale"), ("silent", "never"), ("broken", "out_of_service"), ("healthy", "maintenance"),
        ("paused", "disabled"),
    ]
    assert [row.attention for row in rows] == [True, True, False, False, False]
    assert rows[2].status_text == t("feeds.status.out_of_service", "en") != rows[3].status_text
    assert status_counts(rows)["out_of_service"] == 1


def test_rejected_payloads_are_shown_newest_first_and_trimmed(fake_store: Store) -> None:
    common = {"interval": 10, "stale_factor": 3}
    fake_store.record_failure("broken", error="first", payload=b"x" * (PAYLOAD_PREVIEW_CHARS + 10),
                              now=NOW - timedelta(seconds=20), **common)
    fake_store.record_failure("broken", error="second", payload=b"{}", now=NOW, **common)

    payloads = rejected_payloads(fake_store, "broken")

    assert [p.error for p in payloads] == ["second", "first"]
    assert payloads[0].preview == "{}" and not payloads[0].truncated
    assert len(payloads[1].preview) == PAYLOAD_PREVIEW_CHARS and payloads[1].truncated
    assert payloads[0].at_text == local_time(NOW)
    assert payloads[1].size_text == f"{PAYLOAD_PREVIEW_CHARS + 10:,} B"
    assert rejected_payloads(fake_store, "healthy") == []


def test_rows_count_the_records_refused_and_repaired_on_the_last_poll(settings: Settings, fake_store: Store) -> None:
    from ioc.model import RecordProblem

    problems = [RecordProblem("row 4", "row 4, column occupied_beds: expected a number, got 'bảy trăm'"),
                RecordProblem("row 1 (header)", "column 'bed_occupancy_pct': missing; read without it", refused=False),
                RecordProblem("row 6", "row 6, column latitude: expected a number, got 'abc'")]
    fake_store.record_success("healthy", records=15, latency_ms=40, interval=10, stale_factor=3,
                              now=NOW - timedelta(seconds=5), problems=problems)
    city = board_city(settings)

    rows = {row.feed: row for row in feed_rows(city, fake_store.all_health(f.name for f in city.feeds), "en", NOW)}

    assert (rows["healthy"].records_refused, rows["healthy"].records_repaired) == (2, 1)
    assert rows["healthy"].problems_text == t("feeds.records.problems", "en", refused=2, repaired=1)
    assert (rows["quiet"].records_refused, rows["quiet"].problems_text) == (0, "")
