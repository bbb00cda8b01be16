"""The quantile sketch: within its stated accuracy of the exact quantile, and merged by adding counts."""

from __future__ import annotations

import random
from collections import Counter

import pytest

from ioc.kpis import sketch


def exact(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[int(q * (len(ordered) - 1))]


@pytest.mark.parametrize("q", [0.1, 0.5, 0.9, 0.99])
def test_quantile_within_relative_accuracy(q: float) -> None:
    rng = random.Random(7)
    values = [rng.lognormvariate(2.0, 0.8) for _ in range(5000)]  # resolution hours are skewed like this
    bins: Counter[str] = Counter()
    sketch.add(bins, values)

    assert sketch.quantile(bins, q) == pytest.approx(exact(values, q), rel=sketch.RELATIVE_ACCURACY)


def test_merging_two_sketches_is_the_sketch_of_both() -> None:
    rng = random.Random(3)
    morning = [rng.uniform(1, 30) for _ in range(400)]
    evening = [rng.uniform(20, 90) for _ in range(600)]
    first, second, both = Counter(), Counter(), Counter()
    sketch.add(first, morning)
    sketch.add(second, evening)
    sketch.add(both, morning + evening)

    assert first + second == both
    assert sketch.quantile(first + second, 0.5) == pytest.approx(exact(morning + evening, 0.5), rel=0.02)


def test_zero_and_negative_values_keep_their_order() -> None:
    bins: Counter[str] = Counter()
    sketch.add(bins, [-120, -30, 0, 0, 45, 300, 600])  # bus delays: early, on time, late

    assert sketch.quantile(bins, 0.0) == pytest.approx(-120, rel=0.02)
    assert sketch.quantile(bins, 0.5) == 0
    assert sketch.quantile(bins, 1.0) == pytest.approx(600, rel=0.02)


def test_empty_sketch_has_no_quantile() -> None:
    assert sketch.quantile({}, 0.5) is None
