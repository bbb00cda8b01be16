"""A reorganisation of the city's areas as data: the new areas (wards, communes) and where each old area's
wards went, validated at load, with the shares that report an old area's history under the new areas.

The file (config/<city>/areas-2025.yaml for Da Nang's 2025 reform) lists the new areas, and for each old area
(a name in today's boundaries file) its old wards, each with the new area or areas it became part of. From
that the loader derives each old area's share in each new area: the part of its old wards that went there,
a ward split between several new areas counted equally in each (the published mapping says where a ward
went, not how much of it). Shares apportion additive figures (counts, sums); a mean or a rate cannot be
apportioned and stays with the old area until the new boundaries exist to place each record again.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from datetime import date
from functools import cached_property
from pathlib import Path

from pydantic import Field, model_validator

from ioc.config import ConfigError, _validate
from ioc.config_base import Strict

MAPPING_FILE = "areas-2025.yaml"


class NewArea(Strict):
    name: str = Field(min_length=1)
    code: str = Field(pattern=r"^\d{5}$", description="the official administrative unit code")
    kind: str = Field(min_length=1, description="Phường, Xã or Đặc khu")
    lon: float | None = Field(default=None, ge=-180, le=180, description="centroid, for labels only")
    lat: float | None = Field(default=None, ge=-90, le=90)
    area_km2: float | None = Field(default=None, gt=0)


class AreaMapping(Strict):
    """A reorganisation: `old_areas[old area][old ward]` lists the new areas the old ward became part of."""

    source: str = Field(min_length=1)
    licence: str = Field(min_length=1)
    effective: date
    new_areas: list[NewArea] = Field(min_length=1)
    old_areas: dict[str, dict[str, list[str]]] = Field(min_length=1)

    @model_validator(mode="after")
    def _consistent(self) -> AreaMapping:
        problems = []
        names = [area.name for area in self.new_areas]
        codes = [area.code for area in self.new_areas]
        for label, values in (("name", names), ("code", codes)):
            repeated = sorted({value for value in values if values.count(value) > 1})
            if repeated:
                problems.append(f"new_areas: {label} given twice: {', '.join(repeated)}")
        known = set(names)
        for old, wards in self.old_areas.items():
            if not wards:
                problems.append(f"old_areas.{old}: lists no ward")
            for ward, targets in wards.items():
                if not targets:
                    problems.append(f"old_areas.{old}.{ward}: goes to no new area")
                unknown = [target for target in targets if target not in known]
                if unknown:
                    problems.append(f"old_areas.{old}.{ward}: not in new_areas: {', '.join(unknown)}")
                if len(set(targets)) != len(targets):
                    problems.append(f"old_areas.{old}.{ward}: a new area listed twice")
        if problems:
            raise ValueError("; ".join(problems))
        return self

    @cached_property
    def shares(self) -> dict[str, dict[str, float]]:
        """Each old area's share in each new area (the shares of one old area add up to 1)."""
        result: dict[str, dict[str, float]] = {}
        for old, wards in self.old_areas.items():
            share: dict[str, float] = defaultdict(float)
            for targets in wards.values():
                for target in targets:
                    share[target] += 1 / len(targets) / len(wards)
            result[old] = dict(share)
        return result

    def new_areas_of(self, old: str) -> dict[str, float]:
        """The new areas an old area became part of, with its share in each; KeyError for an unknown area."""
        return self.shares[old]

    def apportion(self, figures: Mapping[str, float]) -> dict[str, float]:
        """Additive figures by old area (counts, sums) as figures by new area; an old area the mapping does not
        know raises KeyError rather than vanishing from the total."""
        result: dict[str, float] = defaultdict(float)
        for old, value in figures.items():
            for new, share in self.new_areas_of(old).items():
                result[new] += value * share
        return dict(result)

    def check_old_areas(self, boundary_names: Iterable[str], path: Path | str = MAPPING_FILE) -> None:
        """The old areas are exactly the areas of the boundaries file the history was placed with."""
        names = set(boundary_names)
        unmapped = sorted(names - set(self.old_areas))
        unknown = sorted(set(self.old_areas) - names)
        problems = []
        if unmapped:
            problems.append(f"old_areas: no entry for {', '.join(unmapped)} (areas of the boundaries file)")
        if unknown:
            problems.append(f"old_areas: {', '.join(unknown)}: not an area of the boundaries file")
        if problems:
            raise ConfigError("; ".join(f"{path}: {problem}" for problem in problems))


def load_area_mapping(path: Path | str) -> AreaMapping:
    """The validated mapping file; ConfigError naming the file, the entry and the field otherwise."""
    return _validate(AreaMapping, Path(path), "new_areas")
