"""The city's administrative areas: loaded from a boundaries file, and the spatial join that places entities.

The level (district, ward, commune) is whatever the file holds: a city swaps the file, not the code.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from functools import cache
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import shapely

from ioc.config import City, resolve_path


class AreaIndex:
    """Point-in-area lookups against the city's boundaries, vectorised through geopandas' spatial index."""

    def __init__(self, boundaries: Path, name_property: str) -> None:
        frame = gpd.read_file(boundaries)
        if name_property not in frame.columns:
            raise ValueError(f"{boundaries}: features have no property '{name_property}'")
        self.frame = frame.set_crs("EPSG:4326", allow_override=True)[[name_property, "geometry"]].rename(
            columns={name_property: "area"}
        )
        self.names: list[str] = list(self.frame["area"])
        self.geojson: dict[str, Any] = json.loads(self.frame.to_json())
        for feature in self.geojson["features"]:
            feature["id"] = feature["properties"]["area"]

    def assign(self, points: Sequence[tuple[float, float] | None]) -> list[str | None]:
        """The area of each (lon, lat) point, None outside the city or for a missing point."""
        result: list[str | None] = [None] * len(points)
        located = [(i, p) for i, p in enumerate(points) if p is not None]
        if not located:
            return result
        coords = np.array([p for _, p in located], dtype=float)
        geometry = gpd.GeoSeries(shapely.points(coords), crs="EPSG:4326")
        hits = self.frame.sindex.query(geometry, predicate="intersects")
        # hits[0]: index into points, hits[1]: index into areas; a point on a shared border takes the first
        for point_pos, area_pos in zip(hits[0][::-1], hits[1][::-1], strict=True):
            result[located[point_pos][0]] = self.names[area_pos]
        return result

    def assign_geometry(self, geometry: dict[str, Any]) -> str | None:
        """The area holding most of a polygon's surface (or a point), for events with an area."""
        shape = shapely.geometry.shape(geometry)
        if not shape.is_valid:  # sources publish overlapping or self-touching areas; GEOS refuses those
            shape = shapely.make_valid(shape)
        if shape.geom_type == "Point":
            return self.assign([(shape.x, shape.y)])[0]
        overlaps = self.frame.geometry.intersection(shape).area
        if overlaps.max() <= 0:
            return None
        return self.names[int(overlaps.argmax())]

    def bounds(self) -> tuple[float, float, float, float]:
        minx, miny, maxx, maxy = self.frame.total_bounds
        return float(minx), float(miny), float(maxx), float(maxy)


@cache
def _load(path: str, name_property: str) -> AreaIndex:
    return AreaIndex(Path(path), name_property)


def area_index(city: City) -> AreaIndex:
    """The (cached) area index of a city."""
    return _load(str(resolve_path(city.boundaries)), city.area_name_property)
