"""What a screen chose to see of the map: zoom from the browser's relayout, hidden sectors, drawing scale."""

from __future__ import annotations

from typing import Any

import pytest

from ioc.map_view import DETAIL_SPAN_DEGREES, ScreenView, screen_scale, screen_view, view_span


@pytest.mark.parametrize(("relayout", "previous", "span"), [
    (None, 0.05, 0.05),  # no news from the browser: as before
    ({"xaxis.range[0]": 108.19, "xaxis.range[1]": 108.23}, None, pytest.approx(0.04)),
    ({"xaxis.range": [108.23, 108.19]}, None, pytest.approx(0.04)),
    ({"xaxis.autorange": True}, 0.04, None),  # double-click: the whole city again
    ({"dragmode": "pan"}, 0.04, 0.04),
    ({"xaxis.range[0]": "a", "xaxis.range[1]": 1}, 0.04, 0.04),
])
def test_view_span_follows_the_browsers_zoom(relayout: Any, previous: float | None, span: Any) -> None:
    assert view_span(relayout, previous) == span


def test_a_screen_zoomed_in_sees_points_and_a_hidden_sector_sees_nothing() -> None:
    cluster = {"legendgroup": "transport", "meta": {"role": "cluster", "counts": [3, 4]}}
    points = {"legendgroup": "transport", "meta": {"role": "detail", "clustered": True}}
    few = {"legendgroup": "health", "meta": {"role": "detail", "clustered": False}}

    city = screen_view(None, None)
    zoomed = screen_view(None, DETAIL_SPAN_DEGREES / 2)
    hiding = screen_view(["transport"], DETAIL_SPAN_DEGREES / 2)

    assert (city.shows(cluster), city.shows(points), city.shows(few)) == (True, False, True)
    assert (zoomed.shows(cluster), zoomed.shows(points), zoomed.shows(few)) == (False, True, True)
    assert (hiding.shows(cluster), hiding.shows(points), hiding.shows(few)) == (False, False, True)
    assert city.key() != zoomed.key() != hiding.key()
    assert ScreenView().key() == city.key()


@pytest.mark.parametrize(("reported", "scale"), [(None, 1.0), (0.5, 1.0), (1.0, 1.0), (1.9, 2.0), (2.0, 2.0),
                                                 (1.3, 1.25), (9.0, 3.0), (float("nan"), 1.0), ("2", 1.0)])
def test_screen_scale_is_quarter_steps_between_one_and_three(reported: Any, scale: float) -> None:
    assert screen_scale(reported) == scale
