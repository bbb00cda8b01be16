"""A mergeable quantile sketch for medians and p90s: counts in logarithmic bins (the DDSketch idea).

A value v > 0 falls in bin ceil(log(v) / log(GAMMA)); every value of a bin is within RELATIVE_ACCURACY of
the bin's representative, so a quantile read from the bins is within 2% of the true one. Bins are plain
counters, so an hour's sketch is merged into a day's, and days into a month, by adding counts: exactly
what Redis HINCRBY does, in any order, with late data too. Zero and negative values (a bus running early)
have their own bins.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Mapping

RELATIVE_ACCURACY = 0.02
GAMMA = (1 + RELATIVE_ACCURACY) / (1 - RELATIVE_ACCURACY)
_LOG_GAMMA = math.log(GAMMA)
# below this a value is zero for the sketch (durations and speeds are not measured this finely)
ZERO = 1e-9
ZERO_BIN = "z"


def bin_of(value: float) -> str:
    """The bin name of a value: 'p<i>' for positive, 'n<i>' for negative, 'z' for zero."""
    magnitude = abs(value)
    if magnitude <= ZERO:
        return ZERO_BIN
    index = math.ceil(math.log(magnitude) / _LOG_GAMMA)
    return f"{'p' if value > 0 else 'n'}{index}"


def representative(name: str) -> float:
    """The value a bin stands for (the point of least relative error in it)."""
    if name == ZERO_BIN:
        return 0.0
    index = int(name[1:])
    value = 2 * GAMMA**index / (GAMMA + 1)
    return value if name[0] == "p" else -value


def _order(name: str) -> float:
    return representative(name)


def add(bins: Counter[str], values: Iterable[float]) -> None:
    for value in values:
        bins[bin_of(value)] += 1


def quantile(bins: Mapping[str, int], q: float) -> float | None:
    """The q-quantile (0..1) of the values counted in `bins`; None when there are none."""
    items = sorted(((name, count) for name, count in bins.items() if count > 0), key=lambda item: _order(item[0]))
    total = sum(count for _, count in items)
    if total == 0:
        return None
    # the rank of the lower median for q=0.5 and an even count, as the nearest-rank method has it
    rank = q * (total - 1)
    seen = 0
    for name, count in items:
        seen += count
        if seen > rank:
            return representative(name)
    return representative(items[-1][0])
