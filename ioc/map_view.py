"""What one screen chose to see of the city map, and how large it draws: hidden sectors, zoomed in past the
clusters or not, and its scale (2 on a 3840 px wall). Plain values, so a tick can compare them."""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

# The browser shows points instead of clusters once the view is narrower than this (degrees of longitude).
DETAIL_SPAN_DEGREES = 0.09


@dataclass(frozen=True, slots=True)
class ScreenView:
    """What one screen chose to see: sectors it hides, and whether it is zoomed in past the clusters."""

    hidden: frozenset[str] = frozenset()
    zoomed: bool = False
    # how much larger than a 1920 px screen this one draws its type and markers (2 on a 3840 px wall)
    scale: float = 1.0

    def key(self) -> str:
        return f"{int(self.zoomed)}:{','.join(sorted(self.hidden))}"

    def shows(self, trace: Mapping[str, Any]) -> bool:
        """Whether a feed's cluster or point trace is visible: one of the two per feed, none when hidden."""
        if trace.get("legendgroup") in self.hidden:
            return False
        meta = trace.get("meta") or {}
        if meta.get("role") == "cluster":
            return bool(meta.get("counts")) and not self.zoomed
        return not meta.get("clustered") or self.zoomed


WHOLE_CITY = ScreenView()  # a screen as first drawn: every layer, zoomed out


def view_span(relayout: Mapping[str, Any] | None, previous: float | None) -> float | None:
    """The map's width in degrees of longitude after a zoom or pan (None: the whole city, as first drawn)."""
    if not relayout:
        return previous
    if relayout.get("xaxis.autorange"):
        return None
    low, high = relayout.get("xaxis.range[0]"), relayout.get("xaxis.range[1]")
    if low is None or high is None:
        bounds = relayout.get("xaxis.range")
        if isinstance(bounds, list | tuple) and len(bounds) == 2:
            low, high = bounds
    if isinstance(low, int | float) and isinstance(high, int | float):
        return abs(float(high) - float(low))
    return previous


def screen_view(hidden: Iterable[str] | None, span: float | None, scale: float | None = None) -> ScreenView:
    return ScreenView(hidden=frozenset(hidden or ()), zoomed=span is not None and span < DETAIL_SPAN_DEGREES,
                      scale=screen_scale(scale))


def screen_scale(reported: float | None) -> float:
    """A screen's drawing scale from what its browser reports (root font size / 18 px), in quarter steps
    between 1 and 3, so a window a few pixels wider does not redraw the map and odd values draw nothing odd."""
    if not isinstance(reported, int | float) or not math.isfinite(reported):
        return 1.0
    return min(3.0, max(1.0, round(reported * 4) / 4))


def scaled(trace: dict[str, Any], scale: float) -> dict[str, Any]:
    """The trace with its marker sizes, outline widths and text sizes times `scale` (a copy; shared layers are
    never changed)."""
    if scale == 1.0:
        return trace
    out = dict(trace)
    if "marker" in trace:
        marker = out["marker"] = dict(trace["marker"])
        size = marker.get("size")
        if isinstance(size, list):
            marker["size"] = [round(value * scale, 1) for value in size]
        elif isinstance(size, int | float):
            marker["size"] = size * scale
        if "line" in marker:
            marker["line"] = {**marker["line"], "width": marker["line"].get("width", 1) * scale}
    if "textfont" in trace:
        out["textfont"] = {**trace["textfont"], "size": trace["textfont"].get("size", 13) * scale}
    if "line" in trace:  # an area's outline
        out["line"] = {**trace["line"], "width": trace["line"].get("width", 1) * scale}
    return out
