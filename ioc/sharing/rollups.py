"""Rows rolled up to what a granularity allows: per area (`ward`) or for the whole city (`aggregates`). The
answers hold counts, means and ranges, never an entity's id, name or own position."""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Callable, Iterable
from typing import Any

Rows = list[dict[str, Any]]
CentreOf = Callable[[str], tuple[float, float] | None]


def _number(value: Any) -> float | None:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def _groups(rows: Iterable[dict[str, Any]], fields: tuple[str, ...], by_area: bool) -> dict[tuple, Rows]:
    grouped: dict[tuple, Rows] = defaultdict(list)
    for row in rows:
        area = (row.get("district") or "") if by_area else None
        grouped[(area, *(row.get(name) for name in fields))].append(row)
    return grouped


def _row(key: tuple, fields: tuple[str, ...], by_area: bool, centre: CentreOf | None) -> dict[str, Any]:
    row: dict[str, Any] = dict(zip(fields, key[1:], strict=True))
    if by_area:
        row["area"] = key[0] or None
        # an area's own centre (from the boundaries), never a point of one of its entities
        place = centre(key[0]) if centre and key[0] else None
        row["lon"], row["lat"] = place if place else (None, None)
    return row


def entities(rows: Rows, *, by_area: bool, centre: CentreOf | None = None) -> Rows:
    """How many entities of each feed and type, per area or city-wide."""
    fields = ("feed", "type", "sector")
    return [{**_row(key, fields, by_area, centre), "count": len(group)}
            for key, group in sorted(_groups(rows, fields, by_area).items(), key=lambda item: str(item[0]))]


def observations(rows: Rows, *, by_area: bool, centre: CentreOf | None = None) -> Rows:
    """Each metric's count, mean, minimum and maximum over the newest observations, per area or city-wide."""
    fields = ("feed", "metric", "unit")
    out = []
    for key, group in sorted(_groups(rows, fields, by_area).items(), key=lambda item: str(item[0])):
        values = [number for row in group if (number := _number(row.get("value"))) is not None]
        out.append({**_row(key, fields, by_area, centre), "count": len(values),
                    "mean": round(sum(values) / len(values), 3) if values else None,
                    "min": min(values) if values else None, "max": max(values) if values else None})
    return out


def alerts(rows: Rows, *, by_area: bool, centre: CentreOf | None = None) -> Rows:
    """Open alerts counted by severity and sector, per area or city-wide."""
    fields = ("severity", "sector")
    return [{**_row(key, fields, by_area, centre), "count": len(group)}
            for key, group in sorted(_groups(rows, fields, by_area).items(), key=lambda item: str(item[0]))]


def events(rows: Rows, *, by_area: bool, centre: CentreOf | None = None) -> Rows:
    """Warnings and incidents in force counted by type and severity, per area or city-wide."""
    fields = ("type", "severity")
    return [{**_row(key, fields, by_area, centre), "count": len(group)}
            for key, group in sorted(_groups(rows, fields, by_area).items(), key=lambda item: str(item[0]))]


ROLLUPS: dict[str, Callable[..., Rows]] = {"entities": entities, "observations": observations, "alerts": alerts,
                                           "events": events}
