"""The report page's charts as plain plotly dicts: a KPI's trend with its target and forecast, and the district map.

Plain dicts (not plotly.graph_objects) because a report holds two dozen small charts and building them
must not cost more than reading the data. The map is the city's district polygons filled by status, on
plain axes corrected for latitude: no tiles, so it works offline.
"""

from __future__ import annotations

import math
from datetime import datetime, timedelta
from typing import Any

import shapely

from ioc.areas import area_index
from ioc.config import Settings
from ioc.i18n import t
from ioc.kpis.exports.table import DistrictRow, KpiRow, district_rows, number, with_unit
from ioc.kpis.results import KpiResult, Report

# On the dark page: green met, amber near, red missed, grey no data. Colour always comes with a word.
STATUS_COLOURS = {"met": "#2ee06f", "near": "#ffb020", "missed": "#ff4d4d", "no_data": "#8aa0b8",
                  "share": "#4cc9ff"}
STATUS_FILLS = {"met": "rgba(46,224,111,0.38)", "near": "rgba(255,176,32,0.42)",
                "missed": "rgba(255,77,77,0.50)", "no_data": "rgba(138,160,184,0.18)"}
TEXT = "#f1f6fc"
MUTED = "#a9bbd0"
GRID = "rgba(169,187,208,0.15)"
FONT = "Inter, Segoe UI, Roboto, Noto Sans, DejaVu Sans, sans-serif"


def _x(moment: datetime) -> str:
    """Local wall-clock time without offset: plotly's date axis shows it as given."""
    return moment.replace(tzinfo=None).isoformat(timespec="minutes")


def trend_figure(result: KpiResult, row: KpiRow, lang: str) -> dict[str, Any]:
    """The KPI's values over the period (hourly for a day), its target (dashed) and forecast (dotted)."""
    xs = [_x(p.start) for p in result.trend]
    ys = [None if p.value is None else round(p.value, 4) for p in result.trend]
    unit = result.kpi.unit
    decimals = result.kpi.decimals
    colour = STATUS_COLOURS[result.status]
    traces: list[dict[str, Any]] = [{
        "type": "scatter", "x": xs, "y": ys, "mode": "lines+markers", "name": t("reports.trend.value", lang),
        "line": {"color": colour, "width": 3}, "marker": {"size": 5, "color": colour},
        "connectgaps": False,
        "hovertemplate": f"%{{x}}<br>%{{y:.{decimals}f}} {unit}<extra></extra>",
    }]
    end = result.trend[-1].start if result.trend else None
    forecast_x: list[str] = []
    if result.trend_unit == "day" and result.forecast.days and end is not None:
        first = end + timedelta(days=1)
        forecast_x = [_x(first + timedelta(days=n)) for n in range(len(result.forecast.days))]
        traces.append({
            "type": "scatter", "x": [xs[-1], *forecast_x], "y": [ys[-1], *(round(v, 4) for _, v in result.forecast.days)],
            "mode": "lines", "name": t("reports.trend.forecast", lang),
            "line": {"color": MUTED, "width": 2, "dash": "dot"},
            "hovertemplate": f"{t('reports.trend.forecast', lang)} %{{x}}<br>%{{y:.{decimals}f}} {unit}<extra></extra>",
        })
    span = [x for x in (xs[:1] + (forecast_x[-1:] or xs[-1:]))]
    if span:
        target = round(result.trend_target, 4)
        traces.append({
            "type": "scatter", "x": span, "y": [target, target], "mode": "lines",
            "name": t("reports.trend.target", lang), "line": {"color": TEXT, "width": 1.5, "dash": "dash"},
            "hovertemplate": f"{t('reports.trend.target', lang)} "
                             f"{with_unit(number(result.trend_target, decimals, lang), unit)}<extra></extra>",
        })
    return {
        "data": traces,
        "layout": {
            "height": 150,
            "margin": {"l": 44, "r": 8, "t": 6, "b": 26},
            "paper_bgcolor": "rgba(0,0,0,0)",
            "plot_bgcolor": "rgba(0,0,0,0)",
            "font": {"family": FONT, "color": MUTED, "size": 12},
            "showlegend": False,
            "xaxis": {"type": "date", "showgrid": False, "tickformat": "%H:%M" if result.trend_unit == "hour"
                      else "%d/%m", "nticks": 6, "fixedrange": True, **_whole_day(result)},
            "yaxis": {"gridcolor": GRID, "zeroline": False, "nticks": 4, "fixedrange": True},
            "hovermode": "x unified" if len(traces) > 1 else "closest",
        },
    }


def _whole_day(result: KpiResult) -> dict[str, Any]:
    """A day's hourly chart spans the whole day, so a morning's report shows how much of it is still to come."""
    if result.trend_unit != "hour" or not result.trend:
        return {}
    start = result.trend[0].start
    return {"range": [_x(start - timedelta(minutes=30)), _x(start + timedelta(hours=23, minutes=30))]}


def district_map_figure(report: Report, settings: Settings, kpi_id: str | None, lang: str) -> dict[str, Any]:
    """The districts filled by the chosen KPI's status, numbered by league-table rank, value on hover."""
    index = area_index(settings.city)
    rows: dict[str, DistrictRow] = {}
    if kpi_id:
        rows = {row.district: row for row in district_rows(report, kpi_id, lang)}
    traces: list[dict[str, Any]] = []
    label_x: list[float] = []
    label_y: list[float] = []
    label_text: list[str] = []
    hover: list[str] = []
    # parts of a total have no status: their blue deepens with their part (a choropleth of the values)
    largest = max((row.value for row in rows.values() if row.status == "share" and row.value), default=0.0)
    for name, geometry in zip(index.names, index.frame.geometry, strict=True):
        row = rows.get(name)
        status = row.status if row else "no_data"
        fill = (f"rgba(76,201,255,{0.12 + 0.6 * (row.value or 0) / largest:.2f})" if status == "share" and largest
                else STATUS_FILLS.get(status, STATUS_FILLS["no_data"]))
        xs: list[float | None] = []
        ys: list[float | None] = []
        for polygon in getattr(geometry, "geoms", [geometry]):
            if xs:
                xs.append(None)
                ys.append(None)
            xs.extend(round(x, 5) for x, _ in polygon.exterior.coords)
            ys.extend(round(y, 5) for _, y in polygon.exterior.coords)
        detail = f"<b>{name}</b><br>{row.value_text} · {row.status_text}" if row else f"<b>{name}</b>"
        traces.append({
            "type": "scatter", "x": xs, "y": ys, "mode": "lines", "fill": "toself",
            "fillcolor": fill, "line": {"color": STATUS_COLOURS[status], "width": 2},
            "name": name, "hoveron": "fills", "text": detail, "hoverinfo": "text", "showlegend": False,
        })
        anchor = shapely.get_coordinates(geometry.representative_point())[0]
        label_x.append(round(float(anchor[0]), 5))
        label_y.append(round(float(anchor[1]), 5))
        label_text.append(str(row.rank) if row and row.rank else "–")
        hover.append(detail)
    traces.append({
        "type": "scatter", "x": label_x, "y": label_y, "mode": "markers+text", "text": label_text,
        "textfont": {"color": "#04101f", "size": 14, "family": FONT, "weight": 700},
        "marker": {"size": 24, "color": "#f1f6fc", "line": {"color": "#04101f", "width": 1}},
        "hovertext": hover, "hoverinfo": "text", "showlegend": False, "name": "rank",
    })
    minx, miny, maxx, maxy = index.bounds()
    # a degree of longitude is shorter than a degree of latitude by cos(latitude)
    ratio = 1 / math.cos(math.radians((miny + maxy) / 2))
    return {
        "data": traces,
        "layout": {
            "height": 460,
            "margin": {"l": 0, "r": 0, "t": 0, "b": 0},
            "paper_bgcolor": "rgba(0,0,0,0)",
            "plot_bgcolor": "rgba(0,0,0,0)",
            "font": {"family": FONT, "color": TEXT},
            "xaxis": {"visible": False, "range": [minx - 0.01, maxx + 0.01], "fixedrange": True},
            "yaxis": {"visible": False, "scaleanchor": "x", "scaleratio": ratio, "fixedrange": True},
            "hoverlabel": {"font": {"size": 15}},
        },
    }
