"""What a KPI rollup bucket holds (a mergeable aggregate), the KPI's value over it, and its scopes.

Scopes: the city, each district, and each group (who is behind a record, e.g. the agency a citizen request
was sent to); a scope's key token is the slug of its name.
"""

from __future__ import annotations

import unicodedata
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field

from ioc.kpis import sketch
from ioc.kpis.catalogue import QUANTILES, Kpi

CITY = "city"


def slug(text: str) -> str:
    """'Hải Châu' -> 'hai-chau': a key token for a district or group name."""
    folded = unicodedata.normalize("NFKD", text.replace("đ", "d").replace("Đ", "D"))
    ascii_text = "".join(ch for ch in folded if not unicodedata.combining(ch)).lower()
    return "-".join("".join(ch if ch.isalnum() else " " for ch in ascii_text).split()) or "unknown"


def district_scope(name: str) -> str:
    return f"district:{slug(name)}"


def group_scope(name: str) -> str:
    return f"group:{slug(name)}"


# --- aggregates ----------------------------------------------------------------------------------------------


@dataclass(slots=True)
class Agg:
    """Mergeable aggregate of one bucket (an hour, a day, or any merge of them)."""

    n: int = 0
    s: float = 0.0
    k: int = 0
    d: float = 0.0
    lo: float | None = None
    hi: float | None = None
    bins: Counter[str] = field(default_factory=Counter)
    above: int = 0  # hours whose mean was above the KPI's limit (days only)

    def merge(self, other: Agg) -> Agg:
        self.n += other.n
        self.s += other.s
        self.k += other.k
        self.d += other.d
        if other.lo is not None:
            self.lo = other.lo if self.lo is None else min(self.lo, other.lo)
        if other.hi is not None:
            self.hi = other.hi if self.hi is None else max(self.hi, other.hi)
        if other.bins:
            self.bins.update(other.bins)
        self.above += other.above
        return self

    @classmethod
    def merged(cls, parts: Iterable[Agg]) -> Agg:
        total = cls()
        for part in parts:
            total.merge(part)
        return total


def value_of(kpi: Kpi, agg: Agg) -> float | None:
    """The KPI's value over an aggregate; None when the aggregate holds no record it can use."""
    if agg.n == 0:
        return None
    match kpi.aggregate:
        case "mean":
            return agg.s / agg.n
        case "sum":
            return agg.s
        case "count":
            return float(agg.n)
        case "min":
            return agg.lo
        case "max":
            return agg.hi
        case "median" | "p90":
            return sketch.quantile(agg.bins, QUANTILES[kpi.aggregate])
        case "share":
            return 100.0 * agg.k / agg.n
        case "ratio":
            return 100.0 * agg.s / agg.d if agg.d else None
        case "hours_above":
            return float(agg.above)
    raise ValueError(f"{kpi.id}: aggregate '{kpi.aggregate}' is not read from record rollups")


def hour_above(kpi: Kpi, agg: Agg) -> bool:
    return agg.n > 0 and kpi.limit is not None and agg.s / agg.n > kpi.limit
