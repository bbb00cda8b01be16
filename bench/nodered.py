"""Ingestion benchmark against Node-RED: the peer harness and our runner on the same SensorThings payload, in one run.

Run: python3 bench/nodered.py [--harness PATH] [--sizes 2000 20000] [--runs 5] [--warmup 1]
The Node-RED harness (default ../shared/peers/nodered from the project root) is a read-only folder; it is
copied to a temporary directory and `npm ci`-ed there (or reused from --install-dir). In one run this
1. generates the payloads with the harness's make_payload.py (N observations from 200 air stations, each
   Observation with its Datastream/Thing/Locations expanded inline) and checks that our sensorthings reader
   reads them right (an entity per station at its Location, one pm25 observation per item): if it does not,
   the benchmark says what is wrong and fails, since figures of a wrong ingestion compare nothing;
2. runs the harness's run.sh twice, per-message (flows.json) and batched (flows-batched.json), for
   Node-RED's figures on this machine now;
3. measures our IOC the same way on the same payload files: `python3 -m http.server` on loopback, a private
   redis-server, and the time of ioc.runner.poll_feed (fetch through httpx, parse, district placement,
   Store.write_batch acknowledged, feed health), 1 warm-up + 5 timed runs per N, median obs/s, Redis
   flushed before and read back after every run;
4. prints N, Node-RED per-message and batched obs/s, IOC obs/s and the ratios.
Exit status: 0 when all figures are valid (or the harness is absent: a benchmark, not a test), 1 otherwise.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(PROJECT_ROOT))

import redis  # noqa: E402

from bench.common import stop  # noqa: E402
from data_adapters.base import FeedContext, get_reader  # noqa: E402
from ioc.areas import AreaIndex, area_index  # noqa: E402
from ioc.config import Feed, load_settings  # noqa: E402
from ioc.model import Batch, from_iso  # noqa: E402
from ioc.redis_conn import free_port, start_redis_server  # noqa: E402
from ioc.runner import feed_context, make_http_client, poll_feed  # noqa: E402
from ioc.store import OBSERVATIONS_PER_STREAM, Store  # noqa: E402

DEFAULT_HARNESS = PROJECT_ROOT.parent / "shared" / "peers" / "nodered"
HARNESS_FILES = ("run.sh", "make_payload.py", "verify.py", "flows.json", "flows-batched.json", "package.json",
                 "package-lock.json")
FLOWS = {"per_message": "flows.json", "batched": "flows-batched.json"}
STATIONS = 200
METRIC = "pm25"
# The uniform model's unit for what the payload's Datastreams state (µg/m³ is the normalized form).
NORMALIZED_UNITS = {"ug/m3": "µg/m³", "µg/m3": "µg/m³", "μg/m³": "µg/m³"}


class BenchError(RuntimeError):
    """Something that makes the figures of this run meaningless; the message says what."""


# --- what a payload must become ------------------------------------------------------------------------


@dataclass(slots=True)
class Station:
    """One air station of the payload, as the payload itself states it (computed without our reader)."""

    entity_id: str
    lon: float
    lat: float
    values: list[tuple[datetime, float]] = field(default_factory=list)  # in payload order


@dataclass(slots=True)
class Expected:
    observations: int
    unit: str
    stations: dict[str, Station]  # by entity id
    sequence: list[tuple[str, datetime, float]]  # (entity id, time, value) of every item, in payload order


def _utc(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(UTC)


def expected_from_payload(path: Path, context: FeedContext) -> Expected:
    """The state an ingestion of this payload must leave: one entity per Datastream (a station), N values."""
    document = json.loads(path.read_bytes())
    stations: dict[str, Station] = {}
    sequence: list[tuple[str, datetime, float]] = []
    units: set[str] = set()
    for item in document["value"]:
        datastream = item["Datastream"]
        entity_id = context.urn(datastream["@iot.id"])
        if entity_id not in stations:
            lon, lat = datastream["Thing"]["Locations"][0]["location"]["coordinates"][:2]
            stations[entity_id] = Station(entity_id, float(lon), float(lat))
        units.add(datastream["unitOfMeasurement"]["symbol"])
        moment, value = _utc(item["phenomenonTime"]), float(item["result"])
        stations[entity_id].values.append((moment, value))
        sequence.append((entity_id, moment, value))
    if len(units) != 1:
        raise BenchError(f"{path.name}: expected one unit of measurement, found {sorted(units)}")
    unit = units.pop()
    return Expected(len(sequence), NORMALIZED_UNITS.get(unit, unit), stations, sequence)


class Problems:
    """Mismatches counted by kind, each with its first example, so a report stays short on 20,000 items."""

    def __init__(self) -> None:
        self.counts: dict[str, int] = {}
        self.examples: dict[str, str] = {}

    def add(self, kind: str, example: str) -> None:
        self.counts[kind] = self.counts.get(kind, 0) + 1
        self.examples.setdefault(kind, example)

    def __bool__(self) -> bool:
        return bool(self.counts)

    def lines(self) -> list[str]:
        return [f"{kind}: {count} (first: {self.examples[kind]})" for kind, count in self.counts.items()]


def _close(a: float | None, b: float | None) -> bool:
    return a is not None and b is not None and abs(a - b) <= 1e-9


def check_reader(batch: Batch, expected: Expected) -> Problems:
    """Does our reader's batch say what the payload says? Entities at their Location, every value, in order."""
    problems = Problems()
    entities = {entity.id: entity for entity in batch.entities}
    for entity_id in expected.stations.keys() - entities.keys():
        problems.add("station without an entity", entity_id)
    for entity_id in entities.keys() - expected.stations.keys():
        problems.add("entity that is no station of the payload", entity_id)
    for entity_id, station in expected.stations.items():
        entity = entities.get(entity_id)
        if entity is None:
            continue
        if entity.location is None or not (_close(entity.location[0], station.lon)
                                           and _close(entity.location[1], station.lat)):
            problems.add(
                "entity not located at its Datastream's Thing's Locations[0] point",
                f"{entity_id}: expected ({station.lon}, {station.lat}), got {entity.location}",
            )
        last_time, last_value = station.values[-1]
        if entity.attributes.get(METRIC) != last_value or entity.observed_at != last_time:
            problems.add(
                f"entity's latest {METRIC} is not the station's last observation",
                f"{entity_id}: expected {last_value} at {last_time.isoformat()}, "
                f"got {entity.attributes.get(METRIC)} at {entity.observed_at}",
            )
    if len(batch.observations) != expected.observations:
        problems.add("observation count", f"expected {expected.observations}, got {len(batch.observations)}")
    for index, (observation, (entity_id, moment, value)) in enumerate(
        zip(batch.observations, expected.sequence, strict=False)
    ):
        got = (observation.entity_id, observation.metric, observation.value, observation.unit, observation.time)
        want = (entity_id, METRIC, value, expected.unit, moment)
        if got != want:
            problems.add("observation differs from its payload item", f"item {index}: expected {want}, got {got}")
    return problems


def check_redis(store: Store, feed: str, expected: Expected, areas: AreaIndex) -> Problems:
    """What one ingestion left in Redis, read back through the store and the key schema."""
    problems = Problems()
    keys = store.keys
    ids = {entity["id"] for entity in store.entities_of_feed(feed)}
    if ids != expected.stations.keys():
        problems.add("feed's entity records", f"{len(ids)} ids, expected the {len(expected.stations)} stations' ids")
    stored = {entity["id"]: entity for entity in store.entities(expected.stations)}
    stream_entries = 0
    for entity_id, station in expected.stations.items():
        entity = stored.get(entity_id)
        if entity is None:
            problems.add("station without an entity record", entity_id)
            continue
        if not (_close(entity["lon"], station.lon) and _close(entity["lat"], station.lat)):
            problems.add("entity record not at the station's Location",
                         f"{entity_id}: expected ({station.lon}, {station.lat}), got ({entity['lon']}, {entity['lat']})")
        else:
            district = areas.assign([(station.lon, station.lat)])[0]
            if entity["district"] != district:
                problems.add("entity record in the wrong area", f"{entity_id}: expected {district}, got {entity['district']}")
        last_time, last_value = station.values[-1]
        if entity["attributes"].get(METRIC) != last_value or from_iso(entity["observed_at"]) != last_time:
            problems.add(f"entity record's latest {METRIC} is not the station's last observation",
                         f"{entity_id}: expected {last_value} at {last_time.isoformat()}, "
                         f"got {entity['attributes'].get(METRIC)} at {entity['observed_at']}")
        rows = store.redis.xrange(keys.observations(entity_id, METRIC))
        stream_entries += len(rows)
        got = [(from_iso(row["t"]), float(row["v"]), row["u"]) for _, row in rows]
        want = [(moment, value, expected.unit) for moment, value in station.values]
        if got != want:
            problems.add("observation stream differs from the station's items (in order)",
                         f"{entity_id}: {len(got)} entries, expected {len(want)}")
    # every observation stream of the city, not only the stations' own: nothing extra may have been written
    all_entries = sum(store.redis.xlen(key) for key in store.redis.scan_iter(keys.observations("*", "*"), count=1000))
    if stream_entries != expected.observations or all_entries != expected.observations:
        problems.add("observation stream entries", f"{all_entries} in Redis ({stream_entries} in the stations' "
                                                   f"streams), expected {expected.observations}")
    return problems


# --- Node-RED -------------------------------------------------------------------------------------------


def prepare_harness(harness: Path, install_dir: Path | None, scratch: Path) -> Path:
    """A runnable copy of the read-only harness with its node_modules, installed by `npm ci` when needed."""
    if (harness / "node_modules" / "node-red" / "red.js").is_file():
        return harness  # already installed where it lies; run.sh writes nothing into its folder
    target = install_dir or scratch / "nodered-harness"
    target.mkdir(parents=True, exist_ok=True)
    lock_unchanged = (target / "package-lock.json").is_file() and (
        (target / "package-lock.json").read_bytes() == (harness / "package-lock.json").read_bytes()
    )
    for name in HARNESS_FILES:
        # copyfile, not copy: the originals are read-only and the copies must stay replaceable
        shutil.copyfile(harness / name, target / name)
    if lock_unchanged and (target / "node_modules" / "node-red" / "red.js").is_file():
        return target
    npm = shutil.which("npm")
    if not npm:
        raise BenchError("npm not found: it is needed to install the Node-RED harness (npm ci)")
    print(f"installing the Node-RED harness (npm ci) in {target} ...", file=sys.stderr, flush=True)
    done = subprocess.run([npm, "ci", "--no-audit", "--no-fund"], cwd=target, capture_output=True, text=True)
    if done.returncode != 0:
        raise BenchError(f"npm ci failed in {target}:\n{(done.stdout + done.stderr)[-3000:]}")
    return target


def run_nodered(harness: Path, flow: str, sizes: list[int], runs: int, warmup: int, scratch: Path) -> dict[int, int]:
    """Node-RED's median obs/s per N for one flow, from the harness's own run.sh (which verifies every run)."""
    json_out = scratch / f"nodered-{flow}.json"
    env = {**os.environ, "FLOW": flow, "RUNS": str(runs), "WARMUP": str(warmup), "STATIONS": str(STATIONS),
           "JSON_OUT": str(json_out)}
    env.pop("KEEP_WORK", None)
    print(f"\n== Node-RED, {flow} ==", flush=True)
    done = subprocess.run(["bash", "run.sh", *map(str, sizes)], cwd=harness, env=env)
    if done.returncode != 0:
        raise BenchError(f"the Node-RED harness failed ({flow}, exit {done.returncode}): see its output above")
    result = json.loads(json_out.read_text())
    return {int(size["observations"]): int(size["median_obs_per_s"]) for size in result["sizes"]}


# --- our IOC ---------------------------------------------------------------------------------------------


def cpu_seconds(pid: int) -> float | None:
    """User+system CPU seconds a process has used so far (Linux /proc), for the same split the harness prints."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def serve_directory(directory: Path, probe: str) -> tuple[subprocess.Popen[bytes], int]:
    """`python3 -m http.server` on a free loopback port, as the harness serves Node-RED its payload."""
    for _ in range(3):
        port = free_port()
        process = subprocess.Popen(
            [sys.executable, "-m", "http.server", "--bind", "127.0.0.1", "--directory", str(directory), str(port)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and process.poll() is None:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/{probe}", timeout=2):
                    return process, port
            except OSError:
                time.sleep(0.1)
        stop(process)
    raise BenchError("could not start python3 -m http.server on loopback")


@dataclass(slots=True)
class IocFigures:
    rates: dict[int, float] = field(default_factory=dict)
    failures: list[tuple[str, str]] = field(default_factory=list)  # (run, what the read-back found)


def run_ioc(payloads: dict[int, Path], expected: dict[int, Expected], runs: int, warmup: int) -> IocFigures:
    settings = load_settings()
    city = settings.city.id
    areas = area_index(settings.city)
    binary = shutil.which("redis-server")
    if not binary:
        raise BenchError("redis-server not found on PATH")
    figures = IocFigures()
    www = next(iter(payloads.values())).parent
    http_server, http_port = serve_directory(www, next(iter(payloads.values())).name)
    redis_server, redis_url = start_redis_server(binary)
    client = redis.Redis.from_url(redis_url, decode_responses=True)
    store = Store(client, city)
    print(f"\n== IOC (ioc.runner.poll_feed, reader sensorthings) ==\nredis {redis_url}, payload http port "
          f"{http_port}; runs per N: {runs} (+{warmup} warm-up)", flush=True)
    try:
        for n, path in payloads.items():
            feed = bench_feed(f"http://127.0.0.1:{http_port}/{path.name}")
            rates: list[float] = []
            with make_http_client(feed.timeout) as http:
                for run in range(1, warmup + runs + 1):
                    label = f"warm-up {run}/{warmup}" if run <= warmup else f"run {run - warmup}/{runs}"
                    client.flushall()
                    own_cpu, redis_cpu = time.process_time(), cpu_seconds(redis_server.pid)
                    started = time.perf_counter()
                    outcome = poll_feed(feed, store=store, http=http, areas=areas, city=city)
                    elapsed = time.perf_counter() - started
                    own_cpu = time.process_time() - own_cpu
                    redis_after = cpu_seconds(redis_server.pid)
                    if not outcome.ok:
                        raise BenchError(f"N={n} {label}: the poll failed: {outcome.error}")
                    problems = check_redis(store, feed.name, expected[n], areas)
                    verdict = "VERIFY OK" if not problems else "VERIFY FAIL: " + "; ".join(problems.lines())
                    if problems:
                        figures.failures.append((f"N={n} {label}", verdict))
                    rate = n / elapsed
                    if run > warmup:
                        rates.append(rate)
                    redis_part = f", redis {redis_after - redis_cpu:.2f}" if redis_cpu and redis_after else ""
                    print(f"N={n:<6} {label:<13} {elapsed:7.3f} s {rate:8.0f} obs/s | fetch {outcome.latency_ms:5.1f} ms"
                          f" | cpu s: ioc {own_cpu:.2f}{redis_part} | {verdict}", flush=True)
            figures.rates[n] = statistics.median(rates)
            print(f"N={n:<6} median {figures.rates[n]:8.0f} obs/s (min {min(rates):.0f}, max {max(rates):.0f}; "
                  f"{len(rates)} runs)", flush=True)
    finally:
        client.close()
        stop(redis_server)
        stop(http_server)
        workdir = redis_server.args[redis_server.args.index("--dir") + 1]  # type: ignore[index,union-attr]
        shutil.rmtree(workdir, ignore_errors=True)
    return figures


def bench_feed(url: str) -> Feed:
    """The feed our runner polls: the environment department's air stations, as agencies.yaml declares one."""
    return Feed(name="air", agency="danang-donre", agency_name={"vi": "Sở Tài nguyên và Môi trường",
                "en": "Department of Natural Resources and Environment"}, sector="environment",
                reader="sensorthings", url=url, interval=60, timeout=60, retries=0)


# --- the run -----------------------------------------------------------------------------------------------


def make_payloads(harness: Path, sizes: list[int], www: Path) -> dict[int, Path]:
    payloads = {}
    for n in sizes:
        path = www / f"payload-{n}.json"
        subprocess.run([sys.executable, str(harness / "make_payload.py"), "--observations", str(n),
                        "--stations", str(STATIONS), "--out", str(path)], check=True)
        digest = hashlib.sha256(path.read_bytes()).hexdigest()[:16]
        print(f"payload N={n}: {path.stat().st_size / 1e6:.1f} MB, sha256 {digest}... (make_payload.py, "
              f"{STATIONS} stations, its default seed; run.sh generates the same bytes)", flush=True)
        payloads[n] = path
    return payloads


def check_reader_on(payloads: dict[int, Path]) -> tuple[dict[int, Expected], list[str]]:
    reader = get_reader("sensorthings")
    expected, failures = {}, []
    for n, path in payloads.items():
        context = feed_context(bench_feed(f"http://127.0.0.1/{path.name}"), "danang")
        expected[n] = expected_from_payload(path, context)
        problems = check_reader(reader.parse(path.read_bytes(), context), expected[n])
        failures.extend(f"N={n}: {line}" for line in problems.lines())
    return expected, failures


def print_table(sizes: list[int], per_message: dict[int, int], batched: dict[int, int], ioc: dict[int, float],
                caveat: str) -> None:
    header = ("N", "Node-RED per-message obs/s", "Node-RED batched obs/s", "IOC obs/s", "IOC / per-message",
              "IOC / batched")
    rows = [header]
    for n in sizes:
        pm, bt, ours = per_message.get(n), batched.get(n), ioc.get(n)
        rows.append((
            f"{n:,}", f"{pm:,}" if pm else "-", f"{bt:,}" if bt else "-", f"{ours:,.0f}" if ours else "-",
            f"{ours / pm:.2f}x" if ours and pm else "-", f"{ours / bt:.2f}x" if ours and bt else "-",
        ))
    widths = [max(len(row[i]) for row in rows) for i in range(len(header))]
    print("\n" + "summary: median obs/s of the timed runs, same payload, same machine, same run" + caveat)
    for index, row in enumerate(rows):
        print("| " + " | ".join(cell.rjust(widths[i]) for i, cell in enumerate(row)) + " |")
        if index == 0:
            print("|" + "|".join("-" * (w + 1) + ":" for w in widths) + "|")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--harness", type=Path, default=DEFAULT_HARNESS,
                        help="the Node-RED harness folder (default: ../shared/peers/nodered from the project root)")
    parser.add_argument("--sizes", type=int, nargs="+", default=[2000, 20000], help="observations per ingest")
    parser.add_argument("--runs", type=int, default=5, help="timed runs per N (median reported)")
    parser.add_argument("--warmup", type=int, default=1, help="warm-up runs per N (not counted)")
    parser.add_argument("--install-dir", type=Path,
                        help="keep the harness copy and its node_modules here and reuse them next time")
    parser.add_argument("--ioc-only", action="store_true", help="measure only our IOC (no Node-RED figures)")
    parser.add_argument("--ignore-reader-check", action="store_true",
                        help="measure even when our reader misreads the payload (figures marked not valid, exit 1)")
    args = parser.parse_args(argv)
    harness = args.harness.resolve()
    if not (harness / "make_payload.py").is_file():
        print(f"Node-RED harness not found at {harness}: nothing to compare against, benchmark skipped "
              "(pass --harness PATH to point at it).")
        return 0
    if args.runs < 1 or args.warmup < 0 or min(args.sizes) < 1:
        parser.error("--runs and --sizes must be >= 1, --warmup >= 0")
    if max(args.sizes) / STATIONS > OBSERVATIONS_PER_STREAM:
        parser.error(f"N above {OBSERVATIONS_PER_STREAM * STATIONS:,} overflows our per-station stream cap, "
                     "so the read-back check could not count every observation")

    scratch = Path(tempfile.mkdtemp(prefix="ioc-bench-nodered-"))
    try:
        www = scratch / "www"
        www.mkdir()
        payloads = make_payloads(harness, args.sizes, www)
        expected, reader_failures = check_reader_on(payloads)
        if reader_failures:
            print("\nREADER CHECK FAILED: data_adapters/sensorthings.py misreads make_payload.py's Observations "
                  "(Datastream/Thing/Locations expanded inline):", file=sys.stderr)
            for line in reader_failures:
                print("  - " + line, file=sys.stderr)
            if not args.ignore_reader_check:
                print("benchmark not run: figures of a wrong ingestion compare nothing "
                      "(--ignore-reader-check measures anyway, marked not valid)", file=sys.stderr)
                return 1
        else:
            print("reader check OK: one entity per station at its Location, one pm25 observation per item "
                  "with its value, unit and time", flush=True)

        cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                    if line.startswith("model name")), "unknown cpu") if Path("/proc/cpuinfo").exists() else "unknown cpu"
        print(f"machine: {os.cpu_count()} cores ({cpu}); python {sys.version.split()[0]}", flush=True)
        per_message: dict[int, int] = {}
        batched: dict[int, int] = {}
        if not args.ioc_only:
            runnable = prepare_harness(harness, args.install_dir, scratch)
            per_message = run_nodered(runnable, FLOWS["per_message"], args.sizes, args.runs, args.warmup, scratch)
            batched = run_nodered(runnable, FLOWS["batched"], args.sizes, args.runs, args.warmup, scratch)
        figures = run_ioc(payloads, expected, args.runs, args.warmup)
    except BenchError as exc:
        print(f"\nbenchmark FAILED: {exc}", file=sys.stderr)
        return 1
    finally:
        shutil.rmtree(scratch, ignore_errors=True)

    invalid = bool(reader_failures or figures.failures)
    print_table(args.sizes, per_message, batched, figures.rates,
                " (IOC FIGURES NOT VALID: see the failures below)" if invalid else "")
    if invalid:
        print("\nIOC figures are NOT valid:", file=sys.stderr)
        for line in reader_failures:
            print(f"  - reader check {line}", file=sys.stderr)
        # the same mismatch in every run is one finding, not ten
        runs_by_finding: dict[str, list[str]] = {}
        for run_label, finding in figures.failures:
            runs_by_finding.setdefault(finding, []).append(run_label)
        for finding, run_labels in runs_by_finding.items():
            print(f"  - read-back after {len(run_labels)} run(s) ({', '.join(run_labels)}): {finding}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
