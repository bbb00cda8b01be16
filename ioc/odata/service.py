"""The OData v4 routes under /odata/v4/: the service document, $metadata, each entity set as a collection
(with /$count) and one entity by key. Same callers, same rate budget and same privacy as /api/v1: ioc.access
refuses callers without an API key or a session, ioc.api counts each call against the caller's rate."""

from __future__ import annotations

import json
import re
from dataclasses import replace
from typing import Any
from urllib.parse import quote, urlencode

import flask
import numpy as np
import pandas as pd

from ioc.api import rate_limit, without_personal
from ioc.odata.csdl import metadata_xml, service_document
from ioc.odata.errors import ODataError
from ioc.odata.filter import Compare, Literal, Node, Prop, conjuncts, equal_to, properties_of
from ioc.odata.frame import mask, records, sort, to_frame
from ioc.odata.model import EntitySet
from ioc.odata.paging import page, sort_keys
from ioc.odata.query import MAX_PAGE_SIZE, Query, check_options, page_size, read_query
from ioc.odata.sets import BY_NAME, SETS, Plan, Rows
from ioc.sharing import enforce as sharing

PREFIX = "/odata/v4"
JSON_TYPE = "application/json;odata.metadata=minimal;odata.streaming=true;IEEE754Compatible=false"
_BY_KEY = re.compile(r"(?P<set>[A-Za-z_][A-Za-z0-9_]*)\('(?P<key>(?:[^']|'')*)'\)")


def _root() -> str:
    return flask.url_for("ioc_odata.service", _external=True)


def _json(data: Any, *, status: int = 200) -> flask.Response:
    return flask.Response(json.dumps(data, ensure_ascii=False, default=str), status=status, content_type=JSON_TYPE)


def _entity_set(name: str) -> EntitySet:
    found = BY_NAME.get(name)
    if found is None:
        raise ODataError(f"no entity set '{name}' (entity sets: {', '.join(BY_NAME)})", code="NotFound", status=404)
    return found


def _combined(parts: list[Node]) -> Any:
    def apply(frame: pd.DataFrame) -> pd.Series:
        result = pd.Series(True, index=frame.index, dtype=bool)
        for part in parts:
            result &= mask(frame, part)
        return result

    return apply


def _plan(entity_set: EntitySet, parts: list[Node]) -> tuple[Plan, list[Node]]:
    """How to read the set for these filter parts, and the parts still to apply once all rows are read: the
    feeds and entities the filter pins are the only ones read, and the parts that need no costly property
    narrow the rows before the costly reads."""
    pinned: dict[str, frozenset[str]] = {}
    for slot, name in entity_set.pins.items():
        for part in parts:
            values = equal_to(part, name)
            if values is not None:
                pinned[slot] = frozenset(values) & pinned[slot] if slot in pinned else frozenset(values)
    cheap = [part for part in parts if entity_set.costly and not properties_of(part) & entity_set.costly]
    rest = [part for part in parts if part not in cheap]

    def narrow(rows: Rows) -> Rows:
        return _kept(entity_set, rows, cheap) if cheap and rows else rows

    lang = flask.request.args.get("lang", "en")
    return Plan(feeds=pinned.get("feeds"), entities=pinned.get("entities"), narrow=narrow,
                lang=lang if lang in ("vi", "en") else "en"), rest


def _filtered(entity_set: EntitySet, query: Query, *, ordered: bool = True) -> pd.DataFrame:
    """The rows the query's filter keeps, in the order they are served (unless `ordered` is False)."""
    keys = sort_keys(entity_set, query) if ordered else []
    plan, rest = _plan(entity_set, conjuncts(query.filter))
    rows = entity_set.read(flask.current_app.extensions["ioc"], plan)
    if rest and rows:
        # filter on the filter's own columns first: the other columns are then built for the rows kept only
        rows = _kept(entity_set, rows, rest)
    frame = to_frame(entity_set, rows, query.needs() | {name for name, _ in keys})
    return sort(frame, entity_set, keys) if keys else frame


def _kept(entity_set: EntitySet, rows: Rows, parts: list[Node]) -> Rows:
    needed = set().union(*(properties_of(part) for part in parts))
    kept = _combined(parts)(to_frame(entity_set, rows, needed))
    return [rows[index] for index in np.flatnonzero(kept.to_numpy())]


def _next_link(skiptoken: str) -> str:
    args = [(name, value) for name, value in flask.request.args.items(multi=True) if name != "$skiptoken"]
    args.append(("$skiptoken", skiptoken))
    return f"{flask.request.base_url}?{urlencode(args, quote_via=quote, safe='$,()*')}"


def collection(resource: str) -> flask.Response:
    keyed = _BY_KEY.fullmatch(resource)
    if keyed:
        return _one(_entity_set(keyed.group("set")), keyed.group("key").replace("''", "'"))
    entity_set = _entity_set(resource)
    query = read_query(entity_set, flask.request.args.items(multi=True))
    frame = _filtered(entity_set, query)
    size = page_size(flask.request.headers)
    rows, token = page(frame, entity_set, query, size)
    context = f"{_root()}$metadata#{entity_set.name}"
    if query.selected:
        context += f"({','.join(query.select)})"
    body: dict[str, Any] = {"@odata.context": context}
    if query.count:
        body["@odata.count"] = len(frame)
    body["value"] = [without_personal(row) for row in records(rows, entity_set, query.select)]
    if token:
        body["@odata.nextLink"] = _next_link(token)
    response = _json(body)
    if size < MAX_PAGE_SIZE:
        response.headers["Preference-Applied"] = f"odata.maxpagesize={size}"
    return response


def count(resource: str) -> flask.Response:
    """`/Set/$count`: how many rows the $filter keeps, as plain text ($top and $skip do not apply)."""
    entity_set = _entity_set(resource)
    args = [(name, value) for name, value in flask.request.args.items(multi=True)
            if name not in ("$top", "$skip", "$orderby", "$select", "$count")]
    query = replace(read_query(entity_set, args), select=())  # only what the filter reads is built
    return flask.Response(str(len(_filtered(entity_set, query, ordered=False))), mimetype="text/plain")


def _one(entity_set: EntitySet, key: str) -> flask.Response:
    check_options(flask.request.args.items(multi=True))
    query = read_query(entity_set, [(n, v) for n, v in flask.request.args.items(multi=True) if n == "$select"])
    match = Compare("eq", Prop(entity_set.key.name, entity_set.key.type), Literal(key, "string"))
    frame = _filtered(entity_set, Query(match, query.select, (), None, 0, False, None, query.selected),
                      ordered=False)
    if not len(frame):
        raise ODataError(f"no {entity_set.type_name} with {entity_set.key.name} '{key}'", code="NotFound", status=404)
    row = without_personal(records(frame.iloc[:1], entity_set, query.select)[0])
    return _json({"@odata.context": f"{_root()}$metadata#{entity_set.name}/$entity", **row})


def service() -> flask.Response:
    check_options(flask.request.args.items(multi=True))
    return _json(service_document(SETS, _root()))


def metadata() -> flask.Response:
    fmt = flask.request.args.get("$format", "xml").split(";")[0].strip().lower()
    if fmt not in ("xml", "application/xml"):
        raise ODataError("$metadata is served as CSDL XML only", target="$format")
    return flask.Response(metadata_xml(SETS, max_page_size=MAX_PAGE_SIZE), mimetype="application/xml")


def _error(error: ODataError) -> flask.Response:
    return _json(error.body(), status=error.status)


def _odata_shaped(response: flask.Response) -> flask.Response:
    """Every answer says its OData version; refusals made before a view ran (no key: 401, over the rate: 429)
    take OData's error shape, so OData clients read their message."""
    response.headers["OData-Version"] = "4.0"
    if response.status_code >= 400 and response.mimetype == "application/json":
        body = response.get_json(silent=True)
        if isinstance(body, dict) and isinstance(body.get("error"), str):
            response.set_data(json.dumps(ODataError(body["error"], code=str(response.status_code),
                                                    status=response.status_code).body(), ensure_ascii=False))
            response.headers["Content-Type"] = JSON_TYPE
    return response


def install(server: flask.Flask, security: Any) -> flask.Blueprint:
    """Register the OData routes; ioc.access has already refused callers without a key or a session."""
    blueprint = flask.Blueprint("ioc_odata", __name__, url_prefix=PREFIX)
    blueprint.add_url_rule("/", "service", service, methods=["GET"])
    blueprint.add_url_rule("/$metadata", "metadata", metadata, methods=["GET"])
    blueprint.add_url_rule("/<resource>", "collection", collection, methods=["GET"])
    blueprint.add_url_rule("/<resource>/$count", "count", count, methods=["GET"])
    blueprint.register_error_handler(ODataError, _error)
    blueprint.after_request(_odata_shaped)
    rate_limit(blueprint, security)
    sharing.install(blueprint, "odata")  # a peer IOC reads only what its agreement allows
    # every row of a set, for the sharing gate's rollups (handed over here: ioc.sharing may not import ioc.odata)
    server.extensions["ioc_rows"] = {entity_set.name: (lambda context, of=entity_set: of.read(context, Plan()))
                                     for entity_set in SETS}
    server.register_blueprint(blueprint)
    return blueprint
