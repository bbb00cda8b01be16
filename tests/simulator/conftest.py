"""Fixtures of the simulator tests: one city per seed and fixed simulated times, so runs repeat exactly;
a real mosquitto broker for the MQTT publisher."""

from __future__ import annotations

import shutil
import socket
import subprocess
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

from simulator.city import SimCity
from simulator.scenario import Scenario
from tests.conftest import missing_service
from tests.waiting import wait_until

# 12 June 2025, 08:00 in Da Nang (UTC+7): the morning rush, buses at full service
MORNING = datetime(2025, 6, 12, 1, 0, tzinfo=UTC)


@pytest.fixture(scope="session")
def city() -> SimCity:
    return SimCity(42, scenario=Scenario(MORNING))


@pytest.fixture(scope="session")
def quiet_city() -> SimCity:
    return SimCity(42)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="session")
def mosquitto_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A real mosquitto broker on a free local port for this test run, as mqtt://127.0.0.1:<port>."""
    binary = shutil.which("mosquitto")
    if not binary:
        missing_service("mosquitto")
    port = _free_port()
    folder = tmp_path_factory.mktemp("mosquitto")
    config = folder / "mosquitto.conf"
    config.write_text(f"listener {port} 127.0.0.1\nallow_anonymous true\npersistence false\n", encoding="utf-8")
    log = (folder / "mosquitto.log").open("wb")
    process = subprocess.Popen([binary, "-c", str(config)], stdout=log, stderr=subprocess.STDOUT)

    def broker_answers() -> bool:
        if process.poll() is not None:
            pytest.fail(f"mosquitto did not start: {(folder / 'mosquitto.log').read_text(errors='replace')}")
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
        return True

    try:
        wait_until(broker_answers, timeout=10, message=f"mosquitto on port {port}", ignoring=(OSError,))
        yield f"mqtt://127.0.0.1:{port}"
    finally:
        process.terminate()
        process.wait(timeout=10)
        log.close()
