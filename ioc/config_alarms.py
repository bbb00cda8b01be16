"""The alarm-handling sections of rules.yaml: flood grouping (`grouping:`) and recurring maintenance windows
(`maintenance:`), validated at load with the rest of the file (ioc.config.RuleFile)."""

from __future__ import annotations

import re
from typing import Literal

from pydantic import Field, field_validator, model_validator

from ioc.config_base import SLUG, Strict, Text

# what an alarm may be grouped by: its rule, its rule's kind, its sector, the agency to act, its area
GROUP_LABELS = ("rule", "kind", "sector", "agency", "area")
_CLOCK = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


Label = Literal["rule", "kind", "sector", "agency", "area"]


def _distinct(labels: list[str] | None) -> list[str] | None:
    if labels is not None and len(set(labels)) != len(labels):
        raise ValueError("a label is named twice")
    return labels


class FloodLimit(Strict):
    """EEMUA 191's flood: more than `alarms` alarms raised within `minutes` (10 in 10 minutes by default).
    While it holds, `group_by` (when given) folds the queue coarser than the usual labels, so a storm that
    trips sensors in every district still reads as a few lines."""

    alarms: int = Field(default=10, ge=1)
    minutes: float = Field(default=10, gt=0)
    group_by: list[Label] | None = Field(default=None, min_length=1)

    _check_labels = field_validator("group_by")(_distinct)


class Grouping(Strict):
    """How related alarms fold into one queue line, Alertmanager-like.

    `group_by` names the labels alarms share in one group (GROUP_LABELS); `kinds` the rule kinds whose alarms
    group (relayed warnings stay lines of their own: each is its own message). A group line appears once
    `min_members` alarms share it. Its summary (count, worst severity, last time) is brought up to date
    `group_wait_seconds` after its first alarm and then every `group_interval_seconds`; alarms that joined
    since show on the line as new, so the line stays still while a storm adds to it and nothing is hidden.
    """

    group_by: list[Label] = Field(default_factory=lambda: ["rule", "area"], min_length=1)
    kinds: list[str] = Field(default_factory=lambda: ["threshold", "rate_of_change", "staleness", "geofence"])
    min_members: int = Field(default=2, ge=2)
    group_wait_seconds: float = Field(default=30, ge=0)
    group_interval_seconds: float = Field(default=300, gt=0)
    flood: FloodLimit = Field(default_factory=FloodLimit)

    _check_labels = field_validator("group_by")(_distinct)

    def labels(self, flood: bool) -> list[str]:
        """The labels the queue folds by now: the flood's own while there is one, else `group_by`."""
        return list(self.flood.group_by or self.group_by) if flood else list(self.group_by)


class MaintenanceWindow(Strict):
    """A recurring maintenance window: on the given weekdays from `start` to `end` (local time, an end before
    the start runs past midnight), the rules raise no alarms for the named feeds or areas."""

    id: str = Field(pattern=SLUG)
    reason: Text
    feeds: list[str] = Field(default_factory=list)
    areas: list[str] = Field(default_factory=list)
    weekdays: list[Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]] = Field(
        default_factory=lambda: list(WEEKDAYS), min_length=1)
    start: str
    end: str

    @field_validator("start", "end")
    @classmethod
    def _clock(cls, value: str) -> str:
        if not _CLOCK.match(value):
            raise ValueError(f"'{value}' is not a time of day as HH:MM")
        return value

    @model_validator(mode="after")
    def _covers_something(self) -> MaintenanceWindow:
        if not self.feeds and not self.areas:
            raise ValueError("a maintenance window names feeds or areas (or both)")
        if self.start == self.end:
            raise ValueError("start and end are the same time")
        return self
