"""The `ioc` command line as a user runs it: subprocesses, real files, a real Redis where one is needed."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import redis

from ioc.config import PROJECT_ROOT
from ioc.keys import Keys

FIXTURES = Path(__file__).parents[1] / "fixtures"


def ioc(*args: str, env: dict[str, str] | None = None, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "ioc", *args], cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=timeout,
        env={**os.environ, **(env or {})},
    )


def test_adapters_list_json_names_every_feed() -> None:
    result = ioc("adapters", "list", "--json")
    assert result.returncode == 0, result.stderr
    feeds = json.loads(result.stdout)
    assert {"air-stations", "citizen-requests", "bus-vehicles"} <= {f["name"] for f in feeds}
    for feed in feeds:
        assert {"name", "agency", "sector", "reader", "url", "interval"} <= set(feed)
        assert feed["interval"] > 0 and feed["url"]


def test_adapters_list_text_counts_sectors() -> None:
    result = ioc("adapters", "list")
    assert result.returncode == 0
    assert "feeds," in result.stdout.splitlines()[-1] and "sectors" in result.stdout.splitlines()[-1]


def test_adapters_test_prints_normalized_records_without_redis() -> None:
    result = ioc("adapters", "test", "open311", "--file", str(FIXTURES / "open311" / "chicago-service-requests.json"),
                 "--json", env={"IOC_REDIS_URL": "redis://127.0.0.1:1/0"})  # unreachable: must not matter
    assert result.returncode == 0, result.stderr
    records = json.loads(result.stdout)
    entities = [r for r in records if r["kind"] == "entity"]
    assert [e["attributes"]["service_request_id"] for e in entities] == ["14-01100669", "14-01100627"]
    assert all(r["kind"] in {"entity", "observation", "event"} for r in records)


def test_adapters_test_prints_no_personal_data(tmp_path: Path) -> None:
    # what the store would refuse to keep must not reach a terminal, a log or a pasted bug report either
    request = {"service_request_id": "DN-2026-0042", "status": "open", "service_name": "Đèn đường hỏng",
               "service_code": "street-light", "requested_datetime": "2026-11-20T08:15:00+07:00",
               "description": "Đèn tắt cả tuần, gọi 0905 123 456 hoặc minh.nguyen@example.com",
               "email": "minh.nguyen@example.com", "phone": "+84 236 3822 123", "lat": 16.0678, "long": 108.2208}
    payload = tmp_path / "requests.json"
    payload.write_text(json.dumps([request], ensure_ascii=False), encoding="utf-8")

    for output in ((), ("--json",)):
        result = ioc("adapters", "test", "open311", "--file", str(payload), *output)
        assert result.returncode == 0, result.stderr
        for personal in ("minh.nguyen@example.com", "0905 123 456", "3822 123"):
            assert personal not in result.stdout, (output, personal)
        assert "[redacted]" in result.stdout and "DN-2026-0042" in result.stdout


def test_adapters_test_explains_a_refused_payload(tmp_path: Path) -> None:
    broken = tmp_path / "broken.pb"
    broken.write_bytes((FIXTURES / "gtfs-rt" / "caltrain-vehicle-positions.pb").read_bytes()[:100])
    result = ioc("adapters", "test", "gtfs-rt", "--file", str(broken))
    assert result.returncode == 1
    assert "payload refused by reader 'gtfs-rt'" in result.stderr


def test_adapters_test_says_which_records_it_left_out_and_why(tmp_path: Path) -> None:
    good = {"service_request_id": "DN-1", "status": "open", "service_code": "street-light",
            "requested_datetime": "2026-11-20T08:15:00+07:00", "lat": 16.0678, "long": 108.2208}
    bad = {**good, "service_request_id": "DN-2", "requested_datetime": "call 0905 123 456"}
    payload = tmp_path / "requests.json"
    payload.write_text(json.dumps([good, bad]), encoding="utf-8")

    result = ioc("adapters", "test", "open311", "--file", str(payload))

    assert result.returncode == 0, result.stderr
    assert "DN-1" in result.stdout and "DN-2" not in result.stdout
    refused = [line for line in result.stderr.splitlines() if line.startswith("refused: ")]
    assert len(refused) == 1
    assert "0905 123 456" not in result.stderr  # a reason quoting a value is scrubbed like the records


def test_adapters_test_names_unknown_readers() -> None:
    result = ioc("adapters", "test", "telex", "--file", "x")
    assert result.returncode == 2 and "unknown reader 'telex'" in result.stderr


def test_configuration_errors_name_file_entry_and_field(tmp_path: Path) -> None:
    import shutil

    city = tmp_path / "city"
    shutil.copytree(PROJECT_ROOT / "config" / "danang", city)
    text = (city / "agencies.yaml").read_text(encoding="utf-8").replace("interval: 10", "interval: ten", 1)
    (city / "agencies.yaml").write_text(text, encoding="utf-8")
    result = ioc("--config", str(city), "adapters", "list")
    assert result.returncode == 2
    assert "agencies.yaml: feeds[0] (air-stations): interval" in result.stderr


@pytest.mark.integration
def test_adapters_run_once_polls_the_simulator_into_redis(redis_server_url: str, redis_client: redis.Redis) -> None:
    from ioc.redis_conn import free_port
    from simulator.server import start

    simulator = start(port=free_port(), seed=7)
    try:
        result = ioc("adapters", "run", "air-stations", "--once",
                     env={"IOC_REDIS_URL": redis_server_url, "IOC_SIM_URL": simulator.url})
    finally:
        simulator.stop()
    assert result.returncode == 0, result.stderr
    outcome = json.loads(result.stdout)
    assert outcome["ok"] and outcome["records"] >= 10
    assert redis_client.hlen(Keys("danang").entities_of_feed("air-stations")) == outcome["records"]
    assert "IOC_REDIS_URL" in result.stderr  # says which Redis it used


def test_adapters_run_names_unknown_feeds(redis_server_url: str) -> None:
    result = ioc("adapters", "run", "pigeons", "--once", env={"IOC_REDIS_URL": redis_server_url})
    assert result.returncode == 2 and "no feed named 'pigeons'" in result.stderr


def test_adapters_test_takes_a_mapping_file_for_generic_readers(tmp_path: Path) -> None:
    mapping = tmp_path / "mapping.yaml"
    mapping.write_text("id: sensor_id\nlon: lon\nlat: lat\ntime: ts\nentity_type: FloodSensor\n"
                       "metrics: {water_level_cm: {field: water_level_cm, unit: cm}}\n", encoding="utf-8")
    result = ioc("adapters", "test", "mqtt-json", "--file", str(FIXTURES / "mqtt-json" / "flood-sensor-envelopes.json"),
                 "--mapping", str(mapping), "--json")
    assert result.returncode == 0, result.stderr
    entities = [r for r in json.loads(result.stdout) if r["kind"] == "entity"]
    assert [e["attributes"]["water_level_cm"] for e in entities] == [12.5, 38.0]
    assert entities[0]["district"] == "Hải Châu"
    bad = tmp_path / "bad.yaml"
    bad.write_text("lon: lon\n", encoding="utf-8")
    refused = ioc("adapters", "test", "mqtt-json", "--file", str(FIXTURES / "mqtt-json" / "flood-sensor-message.json"),
                  "--mapping", str(bad))
    assert refused.returncode == 2 and "id" in refused.stderr


def test_the_simulator_commands_come_from_the_module_the_table_names() -> None:
    from ioc.cli import SIMULATOR_COMMANDS, build_parser

    commands = build_parser()._subparsers._group_actions[0].choices
    for command, module_name in SIMULATOR_COMMANDS.items():
        assert commands[command].get_default("func").__module__ == module_name
    result = ioc("demo", "--help")
    assert result.returncode == 0, result.stderr
    assert "--sim-port" in result.stdout and "--history-days" in result.stdout


def test_without_the_simulator_package_its_commands_say_what_is_missing(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from ioc.cli import main

    # None in sys.modules makes an import fail as if the package were not installed
    monkeypatch.setitem(sys.modules, "simulator", None)
    monkeypatch.setitem(sys.modules, "simulator.cli", None)

    assert main(["demo", "--port", "0"]) == 2
    assert "'ioc demo' comes with the demo's simulator package (simulator.cli)" in capsys.readouterr().err
    assert main(["backfill", "--days", "1"]) == 2
    assert main(["adapters", "test", "telex", "--file", "x"]) == 2  # the rest of the command line still runs
    assert "unknown reader 'telex'" in capsys.readouterr().err


@pytest.mark.integration
def test_serve_with_workers_runs_gunicorn_on_the_shared_redis(redis_server_url: str) -> None:
    import httpx

    from ioc.redis_conn import free_port
    from tests.waiting import wait_until

    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "ioc", "serve", "--workers", "2", "--port", str(port)], cwd=PROJECT_ROOT,
        env={**os.environ, "IOC_REDIS_URL": redis_server_url}, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
        text=True, start_new_session=True,
    )
    try:
        reply = wait_until(lambda: httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=2), timeout=60,
                           message="gunicorn answering", ignoring=(httpx.HTTPError,))
        assert reply.status_code == 200
        assert reply.headers.get("server", "").startswith("gunicorn")
        assert httpx.get(f"http://127.0.0.1:{port}/login", timeout=5).status_code == 200
    finally:
        os.killpg(process.pid, 15)
        output = process.communicate(timeout=30)[0]
    assert "development server" not in output.lower()


def test_serve_with_workers_needs_a_shared_redis() -> None:
    env = {key: value for key, value in os.environ.items() if key != "IOC_REDIS_URL"}
    result = subprocess.run([sys.executable, "-m", "ioc", "serve", "--workers", "2"], cwd=PROJECT_ROOT,
                            capture_output=True, text=True, timeout=60, env=env)
    assert result.returncode == 2 and "IOC_REDIS_URL" in result.stderr
