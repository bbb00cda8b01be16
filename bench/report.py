"""KPI report benchmark: the /reports page for 90 days x all districts x all KPIs, from rollups vs from raw records.

Run: python3 bench/report.py [--days 90] [--seed 42] [--rounds 5]
It starts a private redis-server (or uses IOC_BENCH_REDIS_URL, which it flushes), backfills `--days` of history
from the seeded simulator (one process, keeping every record the rollups count), then measures in the same run:
  page cold:   server time of the page's two report callbacks (KPI cards; league table and map) for the
               last `--days` complete days, every KPI and district, through the Dash HTTP endpoint with a
               signed-in manager, report cache emptied before each round
  page warm:   the same with the report cache warm (same period, filters and rollup version)
  raw:         the same KPI values (period, previous period, daily trend, every district and group)
               recomputed with pandas from the raw records held in memory: no Redis, no page building,
               which favours the baseline
and prints the ratios, the rollups' size in Redis, and how far the rollup values are from the raw ones
(medians and p90s come from a 2%-accurate sketch; everything else should agree to rounding).
"""

from __future__ import annotations

import argparse
import json
import re
import statistics
import sys
import time
from datetime import date, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import pandas as pd  # noqa: E402
import redis  # noqa: E402

from bench.common import bench_redis, stop  # noqa: E402
from ioc.config import load_settings  # noqa: E402
from ioc.i18n import CITY_ZONE  # noqa: E402
from ioc.kpis.catalogue import QUANTILES, Kpi, load_catalogue  # noqa: E402
from ioc.kpis.periods import make_range  # noqa: E402
from ioc.kpis.records import Contribution  # noqa: E402
from ioc.kpis.report import compute_report  # noqa: E402
from ioc.store import Store  # noqa: E402
from layouts import ids  # noqa: E402
from simulator.backfill import backfill  # noqa: E402

PASSWORD = "bench-password-0123"


class Records:
    """Every record the rollups counted, as columns (what recomputing from raw would have to read)."""

    def __init__(self) -> None:
        self.rows: list[tuple[Any, ...]] = []

    def __call__(self, kpi: Kpi, part: Contribution) -> None:
        local = part.time.astimezone(CITY_ZONE)
        district = next((label for scope, label in part.scopes if scope.startswith("district:")), None)
        group = next((label for scope, label in part.scopes if scope.startswith("group:")), None)
        self.rows.append((kpi.id, local.date(), local.hour, part.value, part.per, part.hit, district, group))

    def frame(self) -> pd.DataFrame:
        return pd.DataFrame(self.rows, columns=["kpi", "day", "hour", "value", "per", "hit", "district", "group"])


def _value(kpi: Kpi, rows: pd.DataFrame) -> float | None:
    if rows.empty:
        return None
    match kpi.aggregate:
        case "mean":
            return float(rows["value"].mean())
        case "sum":
            return float(rows["value"].sum())
        case "count":
            return float(len(rows))
        case "min":
            return float(rows["value"].min())
        case "max":
            return float(rows["value"].max())
        case "median" | "p90":
            return float(rows["value"].quantile(QUANTILES[kpi.aggregate], interpolation="lower"))
        case "share":
            return 100.0 * float(rows["hit"].mean())
        case "ratio":
            return 100.0 * float(rows["value"].sum() / rows["per"].sum())
        case "hours_above":
            means = rows.groupby(["day", "hour"])["value"].mean()
            return float((means > kpi.limit).sum())
    raise ValueError(kpi.aggregate)


def recompute_from_raw(frame: pd.DataFrame, kpis: list[Kpi], first: date, last: date) -> dict[str, Any]:
    """Every value the page shows of the record KPIs, from raw records: period, previous period, daily trend,
    districts and groups."""
    length = (last - first).days + 1
    previous_first = first - timedelta(days=length)
    results: dict[str, Any] = {}
    for kpi in kpis:
        rows = frame[(frame["kpi"] == kpi.id) & (frame["day"] >= previous_first) & (frame["day"] <= last)]
        now_rows = rows[rows["day"] >= first]
        results[kpi.id] = {
            "value": _value(kpi, now_rows),
            "previous": _value(kpi, rows[rows["day"] < first]),
            "trend": {day: _value(kpi, part) for day, part in now_rows.groupby("day")},
            "districts": {name: _value(kpi, part) for name, part in now_rows.groupby("district")},
            "groups": {name: _value(kpi, part) for name, part in now_rows.groupby("group")},
        }
    return results


def _sign_in(client: Any, username: str) -> None:
    form = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf" value="([^"]+)"', form)
    response = client.post("/login", data={"username": username, "password": PASSWORD, "csrf": token.group(1)})
    if response.status_code != 302:
        raise SystemExit(f"sign-in failed: HTTP {response.status_code}")


def _callback_body(app: Any, output_id: str, values: dict[str, Any]) -> dict[str, Any]:
    from dash._utils import split_callback_id

    key = next(k for k in app.callback_map if output_id in k)
    spec = app.callback_map[key]
    return {
        "output": key,
        "outputs": split_callback_id(key),
        "inputs": [{**item, "value": values.get(f"{item['id']}.{item['property']}")} for item in spec["inputs"]],
        "state": [{**item, "value": values.get(f"{item['id']}.{item['property']}")} for item in spec["state"]],
        "changedPropIds": [f"{ids.REPORTS_RANGE}.start_date"],
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--days", type=int, default=90)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()

    url, process = bench_redis()
    client = redis.Redis.from_url(url, decode_responses=True)
    client.flushdb()
    try:
        settings = load_settings()
        catalogue = load_catalogue(settings)
        store = Store(client, settings.city.id)
        records = Records()
        print(f"backfill: {args.days} days (seed {args.seed}), keeping every record for the raw baseline ...",
              flush=True)
        result = backfill(store, settings, days=args.days, seed=args.seed, on_record=records, catalogue=catalogue)
        memory = client.info("memory")["used_memory"]
        rollup_keys = sum(1 for _ in client.scan_iter(match=store.keys.kpi_rollups_pattern(), count=1000))
        print(f"  {result.seconds:.1f} s, {result.samples:,} payloads, {len(records.rows):,} records, "
              f"{rollup_keys:,} rollup keys, Redis {memory / 2**20:.1f} MiB")

        from layouts.app import create_app

        app = create_app(store, settings, redis_kind="server", cookie_secure=False)
        app.server.extensions["ioc_security"].users.add("bench-manager", "manager", PASSWORD, actor="bench")
        http = app.server.test_client()
        _sign_in(http, "bench-manager")

        today = time.localtime()
        last = date(today.tm_year, today.tm_mon, today.tm_mday) - timedelta(days=1)
        first = last - timedelta(days=args.days - 1)
        values = {
            f"{ids.REPORTS_PERIOD_KIND}.value": "range", f"{ids.REPORTS_DATE}.date": last.isoformat(),
            f"{ids.REPORTS_RANGE}.start_date": first.isoformat(), f"{ids.REPORTS_RANGE}.end_date": last.isoformat(),
            f"{ids.REPORTS_DISTRICT}.value": "", f"{ids.REPORTS_SECTOR}.value": "", f"{ids.REPORTS_KPI}.value": None,
            f"{ids.LANG}.data": "vi",
        }
        bodies = [json.dumps(_callback_body(app, output, values))
                  for output in (ids.REPORTS_BODY, ids.REPORTS_MAP)]

        def page() -> tuple[float, int]:
            began = time.perf_counter()
            size = 0
            for body in bodies:
                response = http.post("/_dash-update-component", data=body, content_type="application/json")
                if response.status_code != 200:
                    raise SystemExit(f"callback failed: HTTP {response.status_code} {response.get_data()[:300]!r}")
                size += len(response.get_data())
            return time.perf_counter() - began, size

        cache = app.server.extensions["ioc"].cache
        cold, warm = [], []
        for _ in range(args.rounds):
            cache.clear()
            seconds, size = page()
            cold.append(seconds)
            warm.append(page()[0])
        print(f"page for {first:%d/%m/%Y}..{last:%d/%m/%Y} ({args.days} days, {len(catalogue.kpis)} KPIs, every "
              f"district; responses {size / 1024:.0f} KiB)")
        print(f"  cold  {statistics.median(cold) * 1000:8.1f} ms  (median of {args.rounds}; min {min(cold) * 1000:.1f})")
        print(f"  warm  {statistics.median(warm) * 1000:8.1f} ms  (median of {args.rounds}; min {min(warm) * 1000:.1f})")

        record_kpis = [k for k in catalogue.kpis if not k.is_data_kpi]
        began = time.perf_counter()
        frame = records.frame()
        framed = time.perf_counter() - began
        raw_times = []
        raw: dict[str, Any] = {}
        for _ in range(args.rounds):
            began = time.perf_counter()
            raw = recompute_from_raw(frame, record_kpis, first, last)
            raw_times.append(time.perf_counter() - began)
        raw_median = statistics.median(raw_times)
        print(f"raw: {len(frame):,} records in memory (DataFrame built in {framed:.1f} s, not counted)")
        print(f"  raw   {raw_median * 1000:8.1f} ms  (median of {args.rounds}; {len(record_kpis)} record KPIs only)")
        print(f"ratio raw / page cold: {raw_median / statistics.median(cold):6.1f}x")
        print(f"ratio raw / page warm: {raw_median / statistics.median(warm):6.1f}x")

        report = compute_report(store, settings, make_range(first, last), catalogue=catalogue)
        worst: list[tuple[float, str]] = []
        for kpi in record_kpis:
            mine, theirs = report.result(kpi.id).value, raw[kpi.id]["value"]
            if mine is None or theirs is None:
                worst.append((0.0 if mine == theirs else float("inf"), kpi.id))
                continue
            worst.append((abs(mine - theirs) / max(abs(theirs), 1e-9), kpi.id))
        worst.sort(reverse=True)
        print("rollup vs raw, period value, largest relative differences: "
              + ", ".join(f"{kpi_id} {difference:.2%}" for difference, kpi_id in worst[:4]))
    finally:
        client.close()
        stop(process)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
