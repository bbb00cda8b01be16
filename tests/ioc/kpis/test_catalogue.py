"""The city's KPI catalogue: what it must hold, and load errors that name the file, the KPI and the field."""

from __future__ import annotations

from pathlib import Path

import pytest

from ioc.config import ConfigError, Settings
from ioc.kpis.catalogue import DATA_SECTOR, load_catalogue
from tests.ioc.kpis.conftest import SMALL_CATALOGUE, write_catalogue

# The KPIs of the demo city whose feeds agencies.yaml configures today (and the simulator serves): each of
# them must keep a configured feed, or the report would quietly lose it to "no data".
CONNECTED_TODAY = {
    "bus-speed-rush-hour", "bus-on-time", "traffic-speed-rush-hour", "flights-on-time", "pm25-hours-above-limit",
    "pm25-mean", "waste-containers-full", "water-quality-ph-ok", "hospital-bed-occupancy",
    "ambulance-response-median", "fire-response-p90", "dossiers-on-time", "power-outage-customers",
    "street-lights-out", "flood-hours-above-alert", "citizen-requests-on-time", "citizen-resolution-median",
    "citizen-resolution-p90", "international-visitor-share", "traffic-incidents", "cameras-online",
    "integration-rate", "feed-delivery",
}


def test_demo_catalogue_covers_the_city(settings: Settings) -> None:
    catalogue = load_catalogue(settings)

    assert len(catalogue.kpis) >= 15
    assert len(set(catalogue.sectors()) - {DATA_SECTOR}) >= 6
    assert {k.aggregate for k in catalogue.kpis} >= {"integration_rate", "feed_delivery", "median", "p90",
                                                       "share", "hours_above", "mean", "sum", "count"}
    for kpi in catalogue.kpis:
        assert kpi.name.vi and kpi.name.en and kpi.agency and kpi.better in ("higher", "lower")


def test_kpis_whose_feeds_exist_are_pinned(settings: Settings) -> None:
    catalogue = load_catalogue(settings)

    connected = {k.id for k in catalogue.kpis if catalogue.connected(k)}

    assert connected >= CONNECTED_TODAY
    assert not catalogue.missing_feeds & {f.name for f in settings.feeds}


def test_a_kpi_on_a_feed_not_configured_is_valid_and_known_as_missing(tmp_path: Path, settings: Settings) -> None:
    catalogue = write_catalogue(tmp_path, settings)

    assert catalogue.missing_feeds == {"a-feed-nobody-configured"}
    assert not catalogue.connected(catalogue.get("not-yet-connected"))
    assert catalogue.connected(catalogue.get("pm25-mean"))
    assert [k.id for k in catalogue.for_feed("citizen-requests")] == ["requests-on-time", "resolution-median"]


def test_additive_targets_are_per_day(tmp_path: Path, settings: Settings) -> None:
    catalogue = write_catalogue(tmp_path, settings)

    assert catalogue.get("pm25-hours").target_for(7) == 14
    assert catalogue.get("pm25-mean").target_for(7) == 25
    assert catalogue.get("pm25-hours").near_band(7) == pytest.approx(1.4)


def _broken(old: str, new: str) -> str:
    assert old in SMALL_CATALOGUE
    return SMALL_CATALOGUE.replace(old, new, 1)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (_broken("count_if: \"updated_datetime <= expected_datetime\"", "count_if: \"updated_datetime <=\""),
         "kpis[2] (requests-on-time): count_if: 'updated_datetime <=' is not a valid expression"),
        (_broken("    count_if: \"updated_datetime <= expected_datetime\"\n", ""),
         "kpis[2] (requests-on-time): (entry): aggregate 'share' needs `count_if`"),
        (_broken("aggregate: mean\n    target: 25", "aggregate: average\n    target: 25"),
         "kpis[0] (pm25-mean): aggregate: Input should be"),
        (_broken("    limit: 50\n", ""), "kpis[1] (pm25-hours): (entry): aggregate 'hours_above' needs `limit`"),
        (_broken("target: 25", "target: lots"), "kpis[0] (pm25-mean): target: Input should be a valid number"),
        (_broken("better: lower", "better: smaller"), "kpis[0] (pm25-mean): better: Input should be 'higher' or 'lower'"),
        (_broken("source: {feeds: [air-stations], metric: pm25, group_by: station_code}",
                 "source: {feeds: [air-stations], group_by: station_code}"),
         "kpis[0] (pm25-mean): source: records: observations needs `metric`"),
        (_broken("value: hours(requested_datetime, updated_datetime)", "value: hours(requested_datetime)"),
         "kpis[3] (resolution-median): value: 'hours(requested_datetime)': hours() takes two field names"),
        (_broken("id: pm25-hours", "id: pm25-mean"), "KPI id 'pm25-mean' is declared twice"),
        (_broken("    aggregate: integration_rate\n", "    aggregate: integration_rate\n    source: {feeds: [x], metric: y}\n"),
         "kpis[5] (integration-rate): (entry): aggregate 'integration_rate' is computed from every feed's polls"),
        (_broken("records: entities", "records: snapshots").replace(
            'aggregate: share\n    count_if: "updated_datetime <= expected_datetime"', "aggregate: count", 1),
         "kpis[2] (requests-on-time): (entry): aggregate 'count' adds up records, but `snapshots`"),
        (_broken("sector: citizen", "sector: weather"), "kpis[2] (requests-on-time): sector: 'weather' is not a sector"),
        (_broken("target: 25", "target: 25\n    colour: red"), "kpis[0] (pm25-mean): colour: Extra inputs are not permitted"),
    ],
)
def test_errors_name_file_kpi_and_field(tmp_path: Path, settings: Settings, text: str, expected: str) -> None:
    with pytest.raises(ConfigError) as caught:
        write_catalogue(tmp_path, settings, text)

    message = str(caught.value)
    assert str(tmp_path / "kpis.yaml") in message
    assert expected in message


def test_missing_and_unreadable_files_are_named(tmp_path: Path, settings: Settings) -> None:
    with pytest.raises(ConfigError, match="kpis.yaml: not valid YAML"):
        write_catalogue(tmp_path, settings, "kpis: [unclosed")
    moved = settings.model_copy(update={"directory": tmp_path / "elsewhere"})
    with pytest.raises(ConfigError, match="elsewhere/kpis.yaml: file not found"):
        load_catalogue(moved)
