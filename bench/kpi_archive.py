"""KPI reports over a year read from the history archive, cold, against pandas recomputing them from the raw
archived observations.

Run: python3 bench/kpi_archive.py [--days 365] [--per-hour 1] [--seed 42] [--rounds 3] [--keep DIR] [--drop-caches]
In one run:
  archive:    `--days` of polls of every feed the archived KPIs read (`--per-hour` polls an hour each): each
              day's entities and readings rendered by the seeded simulator and read by the feed's own reader,
              each poll's readings varied around them; written through Store.write_batch with each poll's own
              time and copied by ioc.archive.Archiver into a fresh archive folder, as the live archiver does;
              rows and bytes of the observations and entity records are printed
  compact:    `ioc archive compact` over it (ioc.kpis.archive_rollups): once, not part of the report's time
  report:     ioc.kpis.report.compute_report of the last `--days` complete days, every KPI and district, with
              the Redis rollups deleted (so the archive answers every day of the KPIs it can), each round in
              a fresh Python process (a fresh DuckDB connection); with `--drop-caches` (root, Linux) the page
              cache is dropped before each round, else the files are in the OS cache from the compaction
  pandas:     the same values (period, previous period, daily trend, every district and group) recomputed with
              pandas from the raw archived observation and entity files: pandas.read_parquet, the first copy
              of each reading, its entity's record joined as of its batch (merge_asof), the catalogue's own
              expressions per row for where/value/per/count_if, pandas group-bys for the aggregates
              (bench/report.py's); and, as a floor, pandas only reading those files
and prints the ratios and how far the report's values are from pandas' (medians and p90s come from a
2%-accurate sketch; everything else must agree to rounding, or the run exits 1).
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import pandas as pd  # noqa: E402

from bench.report import recompute_from_raw  # noqa: E402
from ioc.archive.files import compact as merge_days  # noqa: E402
from ioc.archive.files import files_of  # noqa: E402
from ioc.kpis.archive_rollups import ENTITY_LOOKBACK, archived_kpis, entity_fields  # noqa: E402
from ioc.kpis.catalogue import Kpi  # noqa: E402
from ioc.kpis.periods import day_start  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]


# --- the baseline: pandas over the raw archived files -------------------------------------------------------


def _ord(sids: pd.Series) -> pd.Series:
    parts = sids.str.split("-", n=1, expand=True)
    return parts[0].astype("int64") * 1_000_000 + parts[1].astype("int64")


def _read(paths: list[Path], columns: list[str], metrics: list[str] | None = None) -> pd.DataFrame:
    if not paths:
        return pd.DataFrame(columns=columns)
    filters = [("metric", "in", metrics)] if metrics is not None else None
    return pd.concat([pd.read_parquet(path, columns=columns, filters=filters) for path in paths], ignore_index=True)


def _metrics(kpis: list[Kpi], feed: str) -> list[str]:
    return sorted({k.source.metric for k in kpis if k.source and feed in k.source.feeds and k.source.metric})


def raw_files(root: Path, kpis: list[Kpi], start: datetime, end: datetime) -> dict[str, tuple[list[Path], list[Path]]]:
    """Feed -> (observation files, entity files) a recomputation of [start, end) must read."""
    feeds = {feed for kpi in kpis if kpi.source for feed in kpi.source.feeds}
    last = (end - timedelta(microseconds=1)).date()
    return {feed: (files_of(root, "observations", start.date(), last, feed),
                   files_of(root, "entities", (start - ENTITY_LOOKBACK).date(), last, feed)) for feed in sorted(feeds)}


def records_frame(root: Path, kpis: list[Kpi], zone: ZoneInfo, first: date, last: date) -> pd.DataFrame:
    """Every record the KPIs count in the local days first..last, from the raw archived files, as the frame
    bench/report.py's recompute_from_raw takes (kpi, day, hour, value, per, hit, district, group)."""
    start, end = day_start(first, zone).astimezone(UTC), day_start(last + timedelta(days=1), zone).astimezone(UTC)
    frames = []
    for feed, (observed, described) in raw_files(root, kpis, start, end).items():
        feed_kpis = [k for k in kpis if k.source and feed in k.source.feeds]
        obs = _read(observed, ["sid", "entity", "metric", "time", "value", "text"], _metrics(kpis, feed))
        obs = obs[(obs["time"] >= start) & (obs["time"] < end)]
        if obs.empty:
            continue
        obs = obs.assign(ord=_ord(obs["sid"])).sort_values("ord")
        obs = obs.drop_duplicates(["entity", "metric", "time"], keep="first")
        ents = _read(described, ["sid", "entity", "record", "ingested_at"]).rename(columns={"ingested_at": "at"})
        ents = ents.assign(ord=_ord(ents["sid"])).sort_values("ord")[["ord", "entity", "record", "at"]]
        joined = pd.merge_asof(obs, ents, on="ord", by="entity", direction="backward")
        # a record archived longer ago than the look back does not describe the reading
        joined.loc[joined["at"] < joined["time"] - ENTITY_LOOKBACK, "record"] = None
        parsed = {text: entity_fields(text) for text in joined["record"].dropna().unique()}
        types = {text: (fields or {}).get("type") for text, fields in parsed.items()}
        joined["etype"] = joined["record"].map(types)
        local = joined["time"].dt.tz_convert(zone)
        joined["day"], joined["hour"] = local.dt.date, local.dt.hour
        for kpi in feed_kpis:
            source = kpi.source
            assert source is not None
            rows = joined[joined["metric"] == source.metric]
            if source.entity_type:
                rows = rows[rows["etype"] == source.entity_type]
            if source.hours:
                rows = rows[rows["hour"].isin(source.hours)]
            readings = rows["value"].where(rows["value"].notna(), rows["text"])
            # the catalogue's own expressions, per record (what a record is: its entity's fields and reading)
            out = []
            for text, reading, day, hour in zip(rows["record"], readings, rows["day"], rows["hour"], strict=True):
                record = {**(parsed.get(text) or {}), source.metric: reading}
                if not all(condition.test(record) for condition in source.where):
                    continue
                value = kpi.value_expr.of(record) if kpi.value_expr is not None else None
                if kpi.value_expr is not None and (value is None or value in (float("inf"), float("-inf"))):
                    continue
                per = kpi.per.of(record) if kpi.per is not None else None
                if kpi.per is not None and (per is None or per <= 0):
                    continue
                hit = bool(kpi.count_if.test(record)) if kpi.count_if is not None else False
                group = record.get(source.group_by) if source.group_by else None
                out.append((kpi.id, day, hour, value, per, hit, record.get("district") or None,
                            str(group) if group not in (None, "") else None))
            frames.append(pd.DataFrame(out, columns=["kpi", "day", "hour", "value", "per", "hit", "district",
                                                     "group"]))
    if not frames:
        return pd.DataFrame(columns=["kpi", "day", "hour", "value", "per", "hit", "district", "group"])
    return pd.concat(frames, ignore_index=True)


def pandas_recompute(root: Path, kpis: list[Kpi], zone: ZoneInfo, first: date, last: date) -> dict[str, Any]:
    """The report's values of the archived KPIs for first..last (and the period before), from raw files."""
    previous = first - timedelta(days=(last - first).days + 1)
    return recompute_from_raw(records_frame(root, kpis, zone, previous, last), kpis, first, last)


def compare(report: Any, raw: dict[str, Any], kpis: list[Kpi]) -> list[tuple[float, str]]:
    """(largest relative difference, where) per KPI over period value, previous, trend, districts, groups."""
    def gap(mine: float | None, theirs: float | None) -> float:
        if mine is None or theirs is None:
            return 0.0 if mine == theirs or (mine == 0.0 and theirs is None) else float("inf")
        return abs(mine - theirs) / max(abs(theirs), 1e-9)

    worst = []
    for kpi in kpis:
        result, theirs = report.result(kpi.id), raw[kpi.id]
        gaps = [(gap(result.value, theirs["value"]), "value"), (gap(result.previous, theirs["previous"]), "previous")]
        gaps += [(gap(p.value, theirs["trend"].get(p.start.date())), f"trend {p.start.date()}") for p in result.trend
                 if p.value is not None or p.start.date() in theirs["trend"]]
        gaps += [(gap(d.value, theirs["districts"].get(d.label)), f"district {d.label}") for d in result.districts]
        gaps += [(gap(g.value, theirs["groups"].get(g.label)), f"group {g.label}") for g in result.groups]
        difference, where = max(gaps)
        worst.append((difference, f"{kpi.id} ({where})"))
    return sorted(worst, reverse=True)


# --- a year of polls -------------------------------------------------------------------------------------------


def polls(settings: Any, kpis: list[Kpi], start: datetime, days: int, seed: int, per_hour: int
          ) -> Iterator[tuple[str, Any, datetime]]:
    """(feed, batch, moment) of every feed the archived KPIs read, `per_hour` polls an hour from `start`: each
    day's entities and readings as the seeded simulator renders them at noon, through the feed's own reader
    and the city's areas, and each poll's readings varied around them (each record carries its reading, so
    it changes every poll, as a live feed's does)."""
    from data_adapters.base import get_reader
    from ioc.areas import area_index
    from ioc.model import Batch, Observation
    from ioc.runner import feed_context, place_in_areas
    from simulator.backfill import simulated_feeds
    from simulator.city import SimCity

    wanted = {feed for kpi in kpis if kpi.source for feed in kpi.source.feeds}
    served = [item for item in simulated_feeds(settings)[0] if item[0].name in wanted]
    city, areas, rng = SimCity(seed), area_index(settings.city), random.Random(seed)
    for day in range(days):
        templates = []
        for feed, render, request in served:
            body, _ = render(city, start + timedelta(days=day, hours=12), request)
            batch = get_reader(feed.reader).parse(body, feed_context(feed, settings.city.id))
            place_in_areas(batch, areas)
            templates.append((feed.name, batch))
        for step in range(24 * per_hour):
            moment = start + timedelta(days=day, seconds=step * 3600 // per_hour)
            for name, template in templates:
                readings: dict[str, dict[str, Any]] = {}
                observations = []
                for o in template.observations:
                    value: Any = o.value
                    if isinstance(value, bool):
                        value = value != (rng.random() < 0.05)
                    elif isinstance(value, int | float):
                        value = round(value * rng.uniform(0.6, 1.4), 2)
                    readings.setdefault(o.entity_id, {})[o.metric] = value
                    observations.append(Observation(o.entity_id, o.metric, value, o.unit, moment))
                entities = [dataclasses.replace(e, attributes={**e.attributes, **readings.get(e.id, {})},
                                                observed_at=moment) for e in template.entities]
                yield name, Batch(entities=entities, observations=observations), moment


# --- the report in a fresh process ----------------------------------------------------------------------------


def _child(args: argparse.Namespace) -> int:
    """One cold report: a fresh interpreter, a fresh DuckDB connection; prints seconds and the values."""
    import redis

    from ioc.config import load_settings
    from ioc.kpis.catalogue import load_catalogue
    from ioc.kpis.periods import make_range
    from ioc.kpis.report import compute_report
    from ioc.store import Store

    settings = load_settings()
    catalogue = load_catalogue(settings)
    store = Store(redis.Redis.from_url(args.redis, decode_responses=True), settings.city.id)
    first, last = date.fromisoformat(args.first), date.fromisoformat(args.last)
    now = datetime.fromisoformat(args.now)
    began, cpu = time.perf_counter(), time.process_time()
    report = compute_report(store, settings, make_range(first, last), catalogue=catalogue, now=now)
    seconds, cpu = time.perf_counter() - began, time.process_time() - cpu
    import pickle

    Path(args.out).write_bytes(pickle.dumps(report))
    print(json.dumps({"seconds": seconds, "cpu": cpu}))
    return 0


def cold_report(url: str, first: date, last: date, now: datetime, out: Path, drop: bool) -> tuple[float, float]:
    """(wall seconds, CPU seconds of the process and its DuckDB threads) of one report in a fresh process."""
    if drop:
        subprocess.run(["sync"], check=False)
        Path("/proc/sys/vm/drop_caches").write_text("3\n")
    command = [sys.executable, __file__, "--child", "--redis", url, "--first", first.isoformat(),
               "--last", last.isoformat(), "--now", now.isoformat(), "--out", str(out)]
    done = subprocess.run(command, check=True, capture_output=True, text=True, env=os.environ.copy())
    figures = json.loads(done.stdout.strip().splitlines()[-1])
    return float(figures["seconds"]), float(figures["cpu"])


def _bytes(root: Path, kind: str) -> tuple[int, int]:
    paths = list((root / kind).rglob("*.parquet"))
    return len(paths), sum(p.stat().st_size for p in paths)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--raw-rounds", type=int, default=1, help="rounds of the pandas baseline (default 1)")
    parser.add_argument("--per-hour", type=int, default=1, help="polls of each feed an hour (default 1)")
    parser.add_argument("--keep", help="keep the archive in this folder (and reuse it when it is there)")
    parser.add_argument("--drop-caches", action="store_true", help="drop the OS page cache before each round")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    for name in ("--redis", "--first", "--last", "--now", "--out"):
        parser.add_argument(name, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        return _child(args)

    import pyarrow.parquet as pq
    import redis

    from bench.common import bench_redis, stop
    from ioc.archive import Archiver
    from ioc.config import load_settings
    from ioc.kpis.archive_rollups import compact_kpis
    from ioc.kpis.catalogue import load_catalogue
    from ioc.kpis.rollups import KpiRollups
    from ioc.model import utcnow
    from ioc.store import Store

    url, process = bench_redis()
    client = redis.Redis.from_url(url, decode_responses=True)
    client.flushdb()
    folder = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="kpi-archive-"))
    os.environ["IOC_ARCHIVE_DIR"] = str(folder)  # the report's children find the archive here
    try:
        settings = load_settings()
        catalogue = load_catalogue(settings)
        zone = ZoneInfo(settings.city.timezone)
        store = Store(client, settings.city.id)
        kpis = archived_kpis(catalogue)
        now = utcnow()
        today = now.astimezone(zone).date()
        last = today - timedelta(days=1)
        first = last - timedelta(days=args.days - 1)

        if not (folder / "observations").is_dir():
            archiver = Archiver(client, store.keys, folder)
            print(f"archive: {args.days} days, {args.per_hour} polls an hour of {len(kpis)} KPIs' feeds "
                  f"(seed {args.seed}), through Store.write_batch and the archiver ...", flush=True)
            began = time.perf_counter()
            start = day_start(first, zone).astimezone(UTC)
            for written, (feed, batch, moment) in enumerate(
                    polls(settings, kpis, start, args.days, args.seed, args.per_hour), 1):
                store.write_batch(feed, batch, now=moment)
                if written % 1000 == 0:
                    archiver.archive_once()
                    client.flushdb()  # the entities' recent readings: only the archive matters here
            archiver.archive_once()
            print(f"  {written:,} polls in {time.perf_counter() - began:.0f} s", flush=True)
        # as the archiver does after each round: a finished day's files of a feed merged into one
        merged = merge_days(folder, today)
        if merged:
            print(f"  {len(merged):,} day partitions merged into one file each, as the archiver does")
        rows = {kind: sum(pq.ParquetFile(p).metadata.num_rows for p in (folder / kind).rglob("*.parquet"))
                for kind in ("observations", "entities")}
        for kind in ("observations", "entities"):
            files, size = _bytes(folder, kind)
            print(f"  {kind}: {rows[kind]:,} rows in {files:,} files, {size / 2**20:.1f} MiB "
                  f"({size / max(rows[kind], 1):.1f} bytes/row)")

        began = time.perf_counter()
        days = compact_kpis(folder, catalogue, zone, now)
        files, size = _bytes(folder, "kpis")
        print(f"compact: {len(days)} days rolled up in {time.perf_counter() - began:.1f} s "
              f"({files:,} files, {size / 2**20:.1f} MiB)", flush=True)

        removed = KpiRollups(store, settings, catalogue).clear()
        print(f"Redis holds no rollups ({removed:,} keys deleted): the archive answers every day of {len(kpis)} KPIs")

        out = folder / "report.pickle"
        load = os.getloadavg()[0]
        rounds = [cold_report(url, first, last, now, out, args.drop_caches) for _ in range(args.rounds)]
        cold, cpu = [wall for wall, _ in rounds], [used for _, used in rounds]
        import pickle

        report = pickle.loads(out.read_bytes())
        from_archive = sum(1 for sources in report.sources.values() if sources.get("archive"))
        print(f"report {first:%d/%m/%Y}..{last:%d/%m/%Y} ({args.days} days, {len(report.results)} KPIs, every "
              f"district; {from_archive} KPIs from the archive), fresh process each round"
              f"{', page cache dropped' if args.drop_caches else ''}:")
        print(f"  cold    {statistics.median(cold) * 1000:8.1f} ms  (median of {args.rounds}; "
              f"min {min(cold) * 1000:.1f}, max {max(cold) * 1000:.1f}); CPU {statistics.median(cpu) * 1000:.0f} ms; "
              f"load average {load:.1f} on {os.cpu_count()} cores")

        start = day_start(first - timedelta(days=args.days), zone).astimezone(UTC)
        end = day_start(today, zone).astimezone(UTC)
        paths = raw_files(folder, kpis, start, end)
        read_times, raw_times = [], []
        raw: dict[str, Any] = {}
        for _ in range(args.raw_rounds):
            began = time.perf_counter()
            for feed, (observed, described) in paths.items():
                _read(observed, ["sid", "entity", "metric", "time", "value", "text"], _metrics(kpis, feed))
                _read(described, ["sid", "entity", "record", "ingested_at"])
            read_times.append(time.perf_counter() - began)
            began = time.perf_counter()
            raw = pandas_recompute(folder, kpis, zone, first, last)
            raw_times.append(time.perf_counter() - began)
        raw_median, read_median = statistics.median(raw_times), statistics.median(read_times)
        read_files = sum(len(o) + len(e) for o, e in paths.values())
        print(f"pandas from the raw archive ({read_files:,} files), median of {args.raw_rounds}:")
        print(f"  recompute {raw_median * 1000:8.1f} ms   read only {read_median * 1000:8.1f} ms")
        print(f"ratio pandas recompute / report cold: {raw_median / statistics.median(cold):6.1f}x")
        print(f"ratio pandas read only / report cold: {read_median / statistics.median(cold):6.1f}x")

        worst = compare(report, raw, kpis)
        print("report vs pandas, largest relative differences: "
              + ", ".join(f"{where} {difference:.2%}" for difference, where in worst[:4]))
        exact = [(d, w) for d, w in worst if not any(k.id in w and k.needs_sketch for k in kpis) and d > 1e-9]
        sketched = [(d, w) for d, w in worst if any(k.id in w and k.needs_sketch for k in kpis) and d > 0.021]
        if exact or sketched:
            print(f"MISMATCH: {exact + sketched}")
            return 1
    finally:
        client.close()
        stop(process)
        if not args.keep:
            with contextlib.suppress(OSError):
                shutil.rmtree(folder)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
