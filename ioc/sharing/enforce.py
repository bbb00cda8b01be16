"""The one gate every /api/v1 and /odata/v4 request of a peer IOC goes through: the peer's agreement must be in
force and allow the route's dataset; KPIs outside the agreement are left out; below `city` granularity a row
route answers with rollups (ioc.sharing.rollups) instead of entity rows. Other callers pass untouched."""

from __future__ import annotations

import json
from collections.abc import Callable
from functools import cache
from typing import Any

import flask
import redis

from ioc.audit import AuditTrail
from ioc.auth import current_address
from ioc.sharing import rollups
from ioc.sharing.agreements import HOLDER_PREFIX, Agreement

REFUSAL_AUDIT_SECONDS = 60
# /api/v1 path -> dataset; a path not listed here (the OpenAPI description) describes, and serves no data
API_DATASETS = {"/entities": "entities", "/observations/latest": "observations", "/kpis": "kpis",
                "/alerts": "alerts", "/events": "events", "/history": "history", "/feeds": "feeds"}
# OData entity set -> dataset
ODATA_DATASETS = {"Entities": "entities", "Observations": "observations", "Kpis": "kpis", "KpiCatalogue": "kpis",
                  "Alerts": "alerts"}
ODATA_SETS = {dataset: name for name, dataset in ODATA_DATASETS.items() if name != "KpiCatalogue"}


def _peer() -> str | None:
    client = getattr(flask.g, "ioc_api_client", None) or ""
    holder = client.removeprefix("key:") if client.startswith("key:") else ""
    return holder[len(HOLDER_PREFIX):] if holder.startswith(HOLDER_PREFIX) else None


def _refuse(kind: str, status: int, message: str, peer: str, context: Any) -> flask.Response:
    store = context.store
    try:
        # audited on our side, once a minute per peer: a refused peer keeps polling
        if store.redis.set(store.keys.sharing_refused(peer), "1", nx=True, ex=REFUSAL_AUDIT_SECONDS):
            AuditTrail(store.redis, store.keys).record(actor=f"peer:{peer}", action="sharing.refused",
                                                       object=flask.request.path, address=current_address(),
                                                       note=message)
    except redis.RedisError:
        pass  # the refusal stands without its audit line
    if kind == "odata":
        body: dict[str, Any] = {"error": {"code": str(status), "message": message}}
    else:
        body = {"error": message, "status": status}
    return flask.Response(json.dumps(body, ensure_ascii=False), status=status, mimetype="application/json")


def _dataset(kind: str) -> tuple[str | None, str | None, str]:
    """(dataset, OData set name, form) of the request: form is 'collection', 'key', 'count' or 'describe'."""
    args = flask.request.view_args or {}
    if kind == "api":
        rule = flask.request.url_rule.rule if flask.request.url_rule else ""
        return API_DATASETS.get(rule.removeprefix("/api/v1")), None, "collection"
    resource = str(args.get("resource") or "")
    if not resource:
        return None, None, "describe"
    if flask.request.url_rule is not None and flask.request.url_rule.rule.endswith("/$count"):
        return ODATA_DATASETS.get(resource), resource, "count"
    name, _, rest = resource.partition("(")
    return ODATA_DATASETS.get(name), name, "key" if rest else "collection"


def _key_of(resource: str) -> str:
    return resource.partition("(")[2].rstrip(")").strip("'").replace("''", "'")


@cache
def _centres(boundaries: str, name_property: str) -> dict[str, tuple[float, float]]:
    from ioc.areas import AreaIndex
    from ioc.config import resolve_path

    index = AreaIndex(resolve_path(boundaries), name_property)
    points = index.frame.geometry.representative_point()
    return {name: (round(point.x, 5), round(point.y, 5)) for name, point in zip(index.names, points, strict=True)}


def _rows(dataset: str, context: Any) -> list[dict[str, Any]]:
    if dataset == "events":
        return context.store.active_events()
    # the OData sets' readers, handed over by ioc.odata's install (it imports ioc.api, which installs this gate)
    return flask.current_app.extensions["ioc_rows"][ODATA_SETS[dataset]](context)


def _rolled_up(kind: str, dataset: str, agreement: Agreement, context: Any, set_name: str | None
               ) -> flask.Response:
    city = context.settings.city
    by_area = agreement.granularity == "ward"
    centres = _centres(city.boundaries, city.area_name_property) if by_area else {}
    items = rollups.ROLLUPS[dataset](_rows(dataset, context), by_area=by_area, centre=centres.get)
    if kind == "odata":
        body: dict[str, Any] = {"@odata.context": f"{flask.request.url_root}odata/v4/$metadata#{set_name}"
                                                  f"(rollup:{agreement.granularity})", "value": items}
    else:
        body = {"count": len(items), "items": items, "next": None, "granularity": agreement.granularity}
    return flask.Response(json.dumps(body, ensure_ascii=False, default=str), mimetype="application/json")


def _kpis_only(response: flask.Response, agreement: Agreement) -> flask.Response:
    if not agreement.kpis or response.status_code != 200 or response.mimetype != "application/json":
        return response
    body = json.loads(response.get_data())
    for field in ("items", "value", "catalogue"):
        if isinstance(body.get(field), list):
            body[field] = [row for row in body[field] if agreement.allows_kpi(str(row.get("id") or ""))]
    if isinstance(body.get("count"), int) and isinstance(body.get("items"), list):
        body["count"] = len(body["items"])
    response.set_data(json.dumps(body, ensure_ascii=False))
    return response


def gate(kind: str) -> flask.Response | None:
    """Before a /api/v1 (`kind` 'api') or /odata/v4 ('odata') view: None lets a caller that is not a peer (or
    a peer reading with `city` granularity) through to the view; otherwise the answer the agreement allows."""
    peer = _peer()
    if peer is None:
        return None
    context = flask.current_app.extensions["ioc"]
    store = context.store
    raw = store.redis.hgetall(store.keys.sharing_agreement(peer))  # read each request: a revocation is at once
    agreement = Agreement.from_hash(peer, raw) if raw else None
    if agreement is None or not agreement.in_force():
        return _refuse(kind, 403, "no sharing agreement in force for this peer", peer, context)
    dataset, set_name, form = _dataset(kind)
    if dataset is None:
        # descriptions (service document, $metadata, OpenAPI) carry no data; an unknown set is the view's 404
        return None
    if dataset not in agreement.datasets:
        return _refuse(kind, 403, f"the sharing agreement does not include {dataset}", peer, context)
    if dataset == "kpis":
        if form == "key" and not agreement.allows_kpi(_key_of(str(flask.request.view_args["resource"]))):
            return _refuse(kind, 403, "the sharing agreement does not include this KPI", peer, context)
        if form == "count" and agreement.kpis:
            return _refuse(kind, 403, "read the set: the agreement names its KPIs", peer, context)
        return _kpis_only(_run_view(), agreement)
    if agreement.granularity == "city" or dataset == "feeds" or form == "count":
        return None  # the open data as published, each feed's health, or a number of rows
    if dataset == "history" or form == "key":
        return _refuse(kind, 403, f"{dataset} rows are shared at city granularity only; this agreement is "
                                  f"{agreement.granularity}", peer, context)
    return _rolled_up(kind, dataset, agreement, context, set_name)


def _run_view() -> flask.Response:
    view: Callable[..., Any] = flask.current_app.view_functions[flask.request.endpoint or ""]
    return flask.make_response(view(**(flask.request.view_args or {})))


def install(blueprint: flask.Blueprint, kind: str) -> None:
    """Put the gate in front of every route of `blueprint` (after the caller is known and counted)."""
    blueprint.before_request(lambda: gate(kind))
