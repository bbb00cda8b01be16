"""Fixtures of the simulator tests: one city per seed and fixed simulated times, so runs repeat exactly."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from ioc.simulator.city import SimCity
from ioc.simulator.scenario import Scenario

# 12 June 2025, 08:00 in Da Nang (UTC+7): the morning rush, buses at full service
MORNING = datetime(2025, 6, 12, 1, 0, tzinfo=UTC)


@pytest.fixture(scope="session")
def city() -> SimCity:
    return SimCity(42, scenario=Scenario(MORNING))


@pytest.fixture(scope="session")
def quiet_city() -> SimCity:
    return SimCity(42)
