"""The read-only open-data API under /api/v1/ for citizen developers: entities, latest observations, KPIs,
open alerts and active warnings, as JSON or GeoJSON, in pages linked by `next`, with an OpenAPI 3 description.

Open data only: no personal field (ioc.privacy.is_personal_field filters every answer last), no raw
payloads, no staff names. Callers present an API key (X-API-Key, issued by an administrator) or a session;
ioc.access refuses everyone else before a view runs, and each key is rate-limited here.
"""

from __future__ import annotations

import base64
import bisect
import json
import math
import sys
from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

import flask

from ioc.access.security import Security
from ioc.alerts.record import queue_order
from ioc.kpis.tiles import feed_kpi
from ioc.privacy import is_personal_field
from ioc.sharing import enforce as sharing

PREFIX = "/api/v1"
MAX_LIMIT = 5000
GEOJSON = "application/geo+json"
# Alert fields that name staff (who acknowledged, who it is assigned to): not open data.
STAFF_FIELDS = frozenset({"acknowledged_by", "assigned_by", "assignee", "resolved_by", "acknowledged_at",
                          "assigned_at", "resolved_at"})


def _context() -> Any:
    # the WebContext ioc.web installed on the serving app, read from it: ioc.web imports this module
    return flask.current_app.extensions["ioc"]


def without_personal(value: Any) -> Any:
    """The last filter of every answer: drop any field that ingestion would call personal, at any depth."""
    if isinstance(value, dict):
        return {key: without_personal(item) for key, item in value.items()
                if not (isinstance(key, str) and is_personal_field(key))}
    if isinstance(value, list | tuple):
        return [without_personal(item) for item in value]
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def _json(data: Any, *, status: int = 200, mimetype: str = "application/json") -> flask.Response:
    # Vietnamese names as UTF-8 text, not \u escapes: readable for the developers who use the API
    return flask.Response(json.dumps(data, ensure_ascii=False, default=str), status=status, mimetype=mimetype)


def _wants_geojson() -> bool:
    asked = flask.request.args.get("format", "").lower()
    if asked:
        return asked == "geojson"
    best = flask.request.accept_mimetypes.best_match(["application/json", GEOJSON])
    return best == GEOJSON


def _answer(items: list[dict[str, Any]], geometry: Callable[[dict[str, Any]], dict[str, Any] | None],
            *, next_path: str | None = None) -> flask.Response:
    clean = [without_personal(item) for item in items]
    if _wants_geojson():
        features = [{"type": "Feature", "id": item.get("id"), "geometry": geometry(item),
                     "properties": {k: v for k, v in item.items() if k not in ("geometry", "lon", "lat", "location")}}
                    for item in clean]
        # `links` as OGC API - Features pages a FeatureCollection
        links = [{"rel": "next", "type": GEOJSON, "href": next_path}] if next_path else []
        response = _json({"type": "FeatureCollection", "features": features, "links": links}, mimetype=GEOJSON)
    else:
        response = _json({"count": len(clean), "items": clean, "next": next_path})
    if next_path:
        response.headers["Link"] = f'<{next_path}>; rel="next"'
    return response


def _limit() -> int:
    try:
        return max(1, min(MAX_LIMIT, int(flask.request.args.get("limit", 1000))))
    except ValueError:
        return 1000


# --- paging ---------------------------------------------------------------------------------------------
# A page ends at an item; the next page starts after that item's sort key, which the `next` link carries as
# an opaque cursor. Unlike an offset, a cursor neither repeats nor skips items when the city's data changes
# between two pages (an entity added or an alert resolved shifts every offset after it).


class BadCursor(ValueError):
    """A cursor this API did not hand out."""


def _encode_cursor(key: list[Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(key, ensure_ascii=False).encode()).decode().rstrip("=")


def _decode_cursor(text: str, like: list[Any] | None) -> list[Any]:
    try:
        key = json.loads(base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)))
    except (ValueError, UnicodeDecodeError):
        raise BadCursor(text) from None
    if not isinstance(key, list) or not key:
        raise BadCursor(text)
    # a sort key of the collection it came from: same length, same kinds of value (an int may stand for a float)
    if like is not None and (len(key) != len(like) or any(
            type(part) is not type(model) and not (type(part) is int and type(model) is float)
            for part, model in zip(key, like, strict=True))):
        raise BadCursor(text)
    return key


def _page(items: list[Any], sort_key: Callable[[Any], list[Any]]) -> tuple[list[Any], str | None]:
    """The page of `items` the request asks for (`cursor`, `limit`), and the path of the next page (None on
    the last page). Items are served in `sort_key` order."""
    ordered = sorted(items, key=sort_key)
    cursor = flask.request.args.get("cursor")
    if cursor:
        after = _decode_cursor(cursor, sort_key(ordered[0]) if ordered else None)
        ordered = ordered[bisect.bisect_right([sort_key(item) for item in ordered], after):]
    limit = _limit()
    page = ordered[:limit]
    if len(ordered) <= limit:
        return page, None
    query = [(name, value) for name, value in flask.request.args.items(multi=True) if name != "cursor"]
    query.append(("cursor", _encode_cursor(sort_key(page[-1]))))
    return page, f"{flask.request.script_root}{flask.request.path}?{urlencode(query)}"


def _point(item: dict[str, Any]) -> dict[str, Any] | None:
    if item.get("geometry"):
        return item["geometry"]
    if item.get("lon") is not None and item.get("lat") is not None:
        return {"type": "Point", "coordinates": [item["lon"], item["lat"]]}
    location = item.get("location")
    if location:
        return {"type": "Point", "coordinates": list(location)}
    return None


def _public_entity(entity: dict[str, Any]) -> dict[str, Any]:
    return {key: entity.get(key) for key in ("id", "type", "agency", "sector", "feed", "name", "district", "lon",
                                             "lat", "geometry", "attributes", "observed_at")}


def _matching_entities(args: Any) -> list[dict[str, Any]]:
    context = _context()
    feeds = [feed.name for feed in context.settings.feeds if feed.enabled]
    wanted_feed = args.get("feed")
    if wanted_feed:
        feeds = [name for name in feeds if name == wanted_feed]
    entities = [entity for name in feeds for entity in context.store.entities_of_feed(name)]
    for field_name in ("type", "district", "sector", "agency"):
        wanted = args.get(field_name)
        if wanted:
            entities = [e for e in entities if str(e.get(field_name) or "").lower() == wanted.lower()]
    return entities


# --- views ----------------------------------------------------------------------------------------------


def _by_id(item: dict[str, Any]) -> list[Any]:
    return [str(item.get("id") or "")]


def entities() -> flask.Response:
    found, next_path = _page(_matching_entities(flask.request.args), _by_id)
    return _answer([_public_entity(entity) for entity in found], _point, next_path=next_path)


def latest_observations() -> flask.Response:
    """The newest observation of each numeric attribute of the matching entities, with its unit."""
    context = _context()
    store = context.store
    # pages of entities (`limit` of them), each with the rows of its metrics
    found, next_path = _page(_matching_entities(flask.request.args), _by_id)
    metric_wanted = flask.request.args.get("metric")
    pairs = [(entity, metric) for entity in found for metric, value in (entity.get("attributes") or {}).items()
             if isinstance(value, int | float) and not isinstance(value, bool)
             and (not metric_wanted or metric == metric_wanted) and not is_personal_field(metric)]
    pipe = store.redis.pipeline(transaction=False)
    for entity, metric in pairs:
        pipe.xrevrange(store.keys.observations(entity["id"], metric), count=1)
    rows = []
    for (entity, metric), newest in zip(pairs, pipe.execute(), strict=True):
        if not newest:
            continue
        fields = newest[0][1]
        rows.append({"entity_id": entity["id"], "type": entity.get("type"), "district": entity.get("district"),
                     "metric": metric, "value": _number(fields.get("v")), "unit": fields.get("u", ""),
                     "time": fields.get("t"), "lon": entity.get("lon"), "lat": entity.get("lat")})
    return _answer(rows, _point, next_path=next_path)


def _number(text: Any) -> Any:
    try:
        return float(text)
    except (TypeError, ValueError):
        return text


def kpis() -> flask.Response:
    """Each feed's headline number (as on the control room's tiles) and the city's KPI catalogue."""
    context = _context()
    lang = flask.request.args.get("lang", "en")
    rows = []
    for feed in context.settings.feeds:
        if not feed.enabled:
            continue
        value = feed_kpi(feed, context.store.entities_of_feed(feed.name))
        rows.append({"id": f"feed:{feed.name}", "feed": feed.name, "agency": feed.agency,
                     "sector": feed.sector, "label": value.label.get(lang), "value": value.value,
                     "unit": value.unit})
    catalogue = []
    try:
        from ioc.kpis.catalogue import load_catalogue

        catalogue = [{"id": kpi.id, "name": kpi.name.get(lang), "sector": kpi.sector, "agency": kpi.agency,
                      "unit": kpi.unit, "target": kpi.target, "better": kpi.better}
                     for kpi in load_catalogue(context.settings).kpis]
    except (ImportError, ValueError, OSError):
        catalogue = []  # a city without a KPI catalogue still serves its feed KPIs
    return _json(without_personal({"count": len(rows), "items": rows, "catalogue": catalogue}))


def alerts() -> flask.Response:
    context = _context()
    # in queue order (most severe, then longest waiting), which is also the cursor's order
    records, next_path = _page(context.store.alerts.records(limit=sys.maxsize), lambda r: list(queue_order(r)))
    items = [{key: value for key, value in record.to_dict().items() if key not in STAFF_FIELDS}
             for record in records]
    return _answer(items, _point, next_path=next_path)


def events() -> flask.Response:
    """Warnings and incidents the agencies published that are still in force (CAP and others)."""
    context = _context()
    rows = []
    found, next_path = _page(context.store.active_events(), _by_id)
    for raw in found:
        row = {key: raw.get(key) or None for key in ("id", "type", "agency", "sector", "headline", "description",
                                                      "severity", "urgency", "certainty", "district", "onset",
                                                      "expires", "status")}
        row["lon"] = float(raw["lon"]) if raw.get("lon") else None
        row["lat"] = float(raw["lat"]) if raw.get("lat") else None
        rows.append(row)
    return _answer(rows, _point, next_path=next_path)


def feeds() -> flask.Response:
    """Each feed's health as its board shows it (status, last success, lag), no payloads and no errors' text."""
    from ioc.feed_board import feed_rows
    from ioc.model import utcnow

    context = _context()
    settings = context.settings
    rows = feed_rows(settings, context.store.all_health(feed.name for feed in settings.feeds),
                     flask.request.args.get("lang", "en"), utcnow())
    return _json({"count": len(rows), "items": [
        {"id": row.feed, "agency": row.agency, "sector": row.sector, "status": row.status,
         "last_success": row.last_success_text, "lag_seconds": row.lag_seconds, "records": row.record_count}
        for row in rows], "next": None})


def history() -> flask.Response:
    """Archived rows of any period (ioc.archive): observations, entity records, events or alert transitions."""
    from ioc.archive import history as archived
    from ioc.archive import load_archive_settings
    from ioc.archive.files import KINDS, TIME_COLUMN
    from ioc.model import from_iso

    args = flask.request.args
    kind = args.get("kind", "observations")
    try:
        start, end = from_iso(args.get("from")), from_iso(args.get("to"))
    except ValueError:
        start = end = None
    if kind not in KINDS or start is None or end is None:
        return _json({"error": f"from and to: ISO date-times; kind: one of {', '.join(KINDS)}", "status": 400},
                     status=400)
    after = None
    if args.get("cursor"):
        key = _decode_cursor(args["cursor"], ["", "", 0])
        after = (str(key[0]), str(key[1]), int(key[2]))
    settings = _context().settings
    folder = load_archive_settings(settings.directory).directory()
    limit = _limit()
    rows = archived(folder, kind, start=start, end=end, feed=args.get("feed"), entity=args.get("entity"),
                    limit=limit + 1, paged=True, after=after)
    next_path = None
    if len(rows) > limit:
        rows = rows[:limit]
        last = rows[-1]
        query = [(name, value) for name, value in args.items(multi=True) if name != "cursor"]
        query.append(("cursor", _encode_cursor([last[TIME_COLUMN[kind]], last["sid"], last["n"]])))
        next_path = f"{flask.request.script_root}{flask.request.path}?{urlencode(query)}"
    items = []
    for row in rows:
        row = {key: value for key, value in row.items() if key not in ("sid", "n", "actor", "note")}  # staff
        if "record" in row:
            row["record"] = json.loads(row["record"])
        items.append(row)
    return _answer(items, _point, next_path=next_path)


def openapi() -> flask.Response:
    return _json(openapi_document())


def openapi_document() -> dict[str, Any]:
    filters = [
        {"name": name, "in": "query", "required": False, "schema": {"type": "string"}, "description": text}
        for name, text in (("type", "entity type, e.g. AirQualityObserved"), ("district", "area name"),
                           ("sector", "sector id"), ("agency", "agency id"), ("feed", "feed name"))
    ]
    common = [
        {"name": "format", "in": "query", "required": False,
         "schema": {"type": "string", "enum": ["json", "geojson"]},
         "description": "geojson gives a FeatureCollection (also with Accept: application/geo+json)"},
        {"name": "limit", "in": "query", "required": False,
         "schema": {"type": "integer", "minimum": 1, "maximum": MAX_LIMIT},
         "description": "items per page (entities per page for /observations/latest)"},
        {"name": "cursor", "in": "query", "required": False, "schema": {"type": "string"},
         "description": "where the page starts: do not build it, follow the previous page's `next` link "
                        "(also its Link header, and `links` in GeoJSON)"},
    ]

    def operation(summary: str, parameters: list[dict[str, Any]], geo: bool = True) -> dict[str, Any]:
        content: dict[str, Any] = {"application/json": {"schema": {"$ref": "#/components/schemas/List"}}}
        if geo:
            content[GEOJSON] = {"schema": {"$ref": "#/components/schemas/FeatureCollection"}}
        return {"get": {
            "summary": summary, "parameters": parameters, "security": [{"apiKey": []}],
            "responses": {"200": {"description": "OK", "content": content},
                          "401": {"description": "no or unknown API key"},
                          "429": {"description": "too many requests for this key; see Retry-After"}},
        }}

    return {
        "openapi": "3.0.3",
        "info": {"title": "City IOC open data", "version": "1",
                 "description": "Read-only city data without personal data. Ask the city for an API key."},
        "servers": [{"url": PREFIX}],
        "components": {
            "securitySchemes": {"apiKey": {"type": "apiKey", "in": "header", "name": "X-API-Key"}},
            "schemas": {
                "List": {"type": "object", "properties": {
                    "count": {"type": "integer", "description": "items on this page"},
                    "items": {"type": "array", "items": {"type": "object"}},
                    "next": {"type": "string", "nullable": True,
                             "description": "path of the next page; null on the last page"}}},
                "FeatureCollection": {"type": "object", "properties": {
                    "type": {"type": "string", "enum": ["FeatureCollection"]},
                    "features": {"type": "array", "items": {"type": "object"}},
                    "links": {"type": "array", "description": "rel=next: the next page, absent on the last",
                              "items": {"type": "object"}}}},
            },
        },
        "paths": {
            "/entities": operation("Entities (stations, sensors, vehicles, requests) by type and area",
                                   filters + common),
            "/observations/latest": operation(
                "The newest observation of each metric of the matching entities",
                [*filters, {"name": "metric", "in": "query", "required": False, "schema": {"type": "string"}},
                 *common]),
            "/kpis": operation("Each feed's headline number and the city's KPI catalogue",
                               [{"name": "lang", "in": "query", "required": False,
                                 "schema": {"type": "string", "enum": ["vi", "en"]}}], geo=False),
            "/alerts": operation("Open alerts", common),
            "/feeds": operation("Each feed's health: status, last success, lag", [], geo=False),
            "/events": operation("Warnings and incidents in force", common),
            "/history": operation(
                "Archived rows of any period: observations, entity records, events, alert transitions",
                [{"name": "from", "in": "query", "required": True, "schema": {"type": "string"}},
                 {"name": "to", "in": "query", "required": True, "schema": {"type": "string"}},
                 {"name": "kind", "in": "query", "required": False,
                  "schema": {"type": "string", "enum": ["observations", "entities", "events", "alerts"]}},
                 {"name": "feed", "in": "query", "required": False, "schema": {"type": "string"}},
                 {"name": "entity", "in": "query", "required": False, "schema": {"type": "string"}}, *common]),
        },
    }


ROUTES: dict[str, Callable[[], flask.Response]] = {
    "/entities": entities,
    "/observations/latest": latest_observations,
    "/kpis": kpis,
    "/alerts": alerts,
    "/events": events,
    "/history": history,
    "/feeds": feeds,
}


def _rate_limited(security: Security) -> flask.Response | None:
    client = getattr(flask.g, "ioc_api_client", None)
    if client is None or flask.request.path == f"{PREFIX}/openapi.json":
        return None
    count, remaining = security.throttle.hit("api", client, 60)
    limit = security.roles.api.requests_per_minute
    flask.g.ioc_api_rate = (limit, max(0, limit - count), remaining)
    if count <= limit:
        return None
    response = _json({"error": "too many requests for this key", "status": 429}, status=429)
    response.headers["Retry-After"] = str(remaining)
    return response


def _rate_headers(response: flask.Response) -> flask.Response:
    rate = getattr(flask.g, "ioc_api_rate", None)
    if rate:
        response.headers["X-RateLimit-Limit"] = str(rate[0])
        response.headers["X-RateLimit-Remaining"] = str(rate[1])
        response.headers["X-RateLimit-Reset"] = str(rate[2])
    response.headers["Access-Control-Allow-Origin"] = "*"  # open data: any web app may read it with its key
    return response


def _bad_cursor(_: BadCursor) -> flask.Response:
    return _json({"error": "cursor: not one this API gave; follow the `next` link of the previous page",
                  "status": 400}, status=400)


def install(server: flask.Flask, security: Security) -> flask.Blueprint:
    """Register the API's routes; ioc.access has already refused callers without a key or a session."""
    blueprint = flask.Blueprint("ioc_api", __name__, url_prefix=PREFIX)
    for path, view in ROUTES.items():
        blueprint.add_url_rule(path, view.__name__, view, methods=["GET"])
    blueprint.add_url_rule("/openapi.json", "openapi", openapi, methods=["GET"])
    blueprint.register_error_handler(BadCursor, _bad_cursor)
    rate_limit(blueprint, security)
    sharing.install(blueprint, "api")  # a peer IOC reads only what its agreement allows
    server.register_blueprint(blueprint)
    return blueprint


def rate_limit(blueprint: flask.Blueprint, security: Security) -> None:
    """Count each call of `blueprint` against its caller's API rate (one budget per key across the open-data
    routes, /api/v1 and OData alike) and put the rate headers on its answers."""
    blueprint.before_request(lambda: _rate_limited(security))
    blueprint.after_request(_rate_headers)
