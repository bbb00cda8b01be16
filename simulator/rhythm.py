"""The city's daily rhythm: local hour of day, rush hours and daytime, shared by every simulated agency."""

from __future__ import annotations

import math
from datetime import datetime

from ioc.i18n import CITY_ZONE

# Da Nang's commuter peaks: schools and offices start around 7:00, the evening peak is broader.
MORNING_PEAK_H, MORNING_SPREAD_H = 7.25, 1.1
EVENING_PEAK_H, EVENING_SPREAD_H = 17.75, 1.4


def local_seconds(moment: datetime) -> float:
    """Seconds since the epoch on the city's wall clock (UTC seconds plus the zone's offset)."""
    offset = moment.astimezone(CITY_ZONE).utcoffset()
    return moment.timestamp() + (offset.total_seconds() if offset else 0.0)


def local_hour(moment: datetime) -> float:
    """Hour of day on the city's wall clock, 0 <= h < 24, with fractions."""
    return (local_seconds(moment) % 86400) / 3600


def rush_hour(hour: float) -> float:
    """0 off-peak to 1 at the morning peak (the evening peak reaches 0.9)."""
    morning = math.exp(-0.5 * ((hour - MORNING_PEAK_H) / MORNING_SPREAD_H) ** 2)
    evening = 0.9 * math.exp(-0.5 * ((hour - EVENING_PEAK_H) / EVENING_SPREAD_H) ** 2)
    return max(morning, evening)


def daytime(hour: float) -> float:
    """0 at night to 1 in the day: the city wakes around 6:00 and goes quiet around 22:00."""
    return 1 / (1 + math.exp(-2.0 * (hour - 6.0))) * 1 / (1 + math.exp(2.0 * (hour - 22.0)))
