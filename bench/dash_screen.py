"""What one open browser screen says to a Dash server: callback discovery, request bodies, state carried back.

Pure functions over the JSON the server sends (`/_dash-layout`, `/_dash-dependencies`, callback responses), so
the screens benchmark finds the control room's refresh from the running server, never from our source, and
its tests run on a recorded dependency list.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

WILDCARDS = ('["ALL"]', '["MATCH"]', '["ALLSMALLER"]')


class NotFound(LookupError):
    """The server offers no callback of the kind asked for; the message says what was looked for."""


def percentile(values: Sequence[float], q: float) -> float | None:
    """The q-th percentile (0-100) by linear interpolation between closest ranks; None for no values."""
    if not values:
        return None
    ordered = sorted(values)
    rank = (len(ordered) - 1) * q / 100
    low, high = math.floor(rank), math.ceil(rank)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def id_key(component_id: Any) -> str:
    """A component id as Dash spells it in dependency lists and changedPropIds (dict ids: sorted JSON)."""
    if isinstance(component_id, Mapping):
        return json.dumps(component_id, sort_keys=True, separators=(",", ":"))
    return str(component_id)


def split_output(output: str) -> list[tuple[str, str]]:
    """`..a.figure...b.children..` (several outputs) or `a.figure` (one) as [(id, property)]."""
    parts = output[2:-2].split("...") if output.startswith("..") and output.endswith("..") else [output]
    return [(part.rsplit(".", 1)[0], part.rsplit(".", 1)[1]) for part in parts]


def walk_components(tree: Any) -> dict[str, dict[str, Any]]:
    """Every component with an id in a layout tree, by id key: {"type", "namespace", "props"}."""
    found: dict[str, dict[str, Any]] = {}
    stack = [tree]
    while stack:
        node = stack.pop()
        if isinstance(node, list):
            stack.extend(node)
        elif isinstance(node, Mapping):
            props = node.get("props")
            if isinstance(props, Mapping) and "type" in node:
                if "id" in props:
                    found[id_key(props["id"])] = dict(node)
                stack.extend(props.values())
            else:
                stack.extend(node.values())
    return found


@dataclass(frozen=True, slots=True)
class Choice:
    """The callback a screen keeps calling, and the Interval that drives it."""

    callback: Mapping[str, Any]
    map_output: tuple[str, str]
    interval_id: str
    others: tuple[str, ...] = ()  # outputs of callbacks that matched too but were not on the page

    def describe(self) -> str:
        inputs = ", ".join(f"{i['id']}.{i['property']}" for i in self.callback.get("inputs", []))
        states = ", ".join(f"{s['id']}.{s['property']}" for s in self.callback.get("state", []))
        text = f"{self.callback['output']} <- inputs [{inputs}] state [{states}]"
        return text + (f" (also matched, not on the page: {'; '.join(self.others)})" if self.others else "")


def _is_interval(component: Mapping[str, Any] | None) -> bool:
    return component is None or component.get("type") == "Interval"


def find_refresh(
    dependencies: Iterable[Mapping[str, Any]], page: Mapping[str, Mapping[str, Any]] | None
) -> Choice:
    """The callback whose outputs include a map's figure and whose inputs include an Interval's n_intervals.

    `page`: the components of the screen's page (from `walk_components`); when given, both the map and the
    Interval must be on it, so another page's live map (the alerts page has one) is not taken instead.
    """
    matches: list[Choice] = []
    for callback in dependencies:
        if callback.get("clientside_function"):
            continue
        maps = [
            (cid, prop)
            for cid, prop in split_output(str(callback.get("output", "")))
            if prop == "figure" and "map" in cid.lower()
        ]
        ticks = [i["id"] for i in callback.get("inputs", []) if i.get("property") == "n_intervals"]
        if maps and ticks:
            matches.append(Choice(callback=callback, map_output=maps[0], interval_id=ticks[0]))
    if not matches:
        raise NotFound(
            "no callback has an output <id containing 'map'>.figure and an input <Interval>.n_intervals"
        )
    if page is None:
        on_page = matches
    else:
        on_page = [
            m
            for m in matches
            if m.map_output[0] in page and m.interval_id in page and _is_interval(page.get(m.interval_id))
        ]
    if not on_page:
        raise NotFound(
            f"{len(matches)} map refresh callback(s) found, none with its map and Interval on the page: "
            + "; ".join(m.callback["output"] for m in matches)
        )
    others = tuple(".".join(m.map_output) for m in matches if m not in on_page)
    best = max(on_page, key=lambda m: len(split_output(m.callback["output"])))
    return Choice(
        callback=best.callback, map_output=best.map_output, interval_id=best.interval_id, others=others
    )


def find_router(dependencies: Iterable[Mapping[str, Any]]) -> Mapping[str, Any]:
    """The callback that renders a page from the address bar: an output `children`, an input `pathname`.

    Dash pages' own router (its page container, `_pages_content`) comes first; a header that only marks
    the active link reads the pathname too and is taken only when nothing else does.
    """
    candidates = []
    for callback in dependencies:
        outputs = split_output(str(callback.get("output", "")))
        inputs = {i.get("property") for i in callback.get("inputs", [])}
        if "pathname" in inputs and any(prop == "children" for _, prop in outputs):
            candidates.append(
                (
                    any(cid == "_pages_content" for cid, _ in outputs),
                    "search" in inputs,
                    -len(outputs),
                    callback,
                )
            )
    if not candidates:
        raise NotFound("no callback renders pages (an output .children with a .pathname input)")
    return max(candidates, key=lambda c: c[:3])[3]


def _matches(pattern: Mapping[str, Any], candidate: Any) -> bool:
    if not isinstance(candidate, Mapping) or set(candidate) != set(pattern):
        return False
    return all(isinstance(value, list) or candidate[key] == value for key, value in pattern.items())


def _values(
    spec: Mapping[str, Any],
    components: Mapping[str, Mapping[str, Any]],
    carried: Mapping[tuple[str, str], Any],
    overrides: Mapping[tuple[str, str], Any],
) -> Any:
    """One input or state item as the browser sends it; a pattern-matching id becomes a list of matches."""
    cid, prop = spec["id"], spec["property"]
    if any(w in cid for w in WILDCARDS):
        pattern = json.loads(cid)
        return [
            {
                "id": c["props"]["id"],
                "property": prop,
                **({"value": c["props"][prop]} if prop in c["props"] else {}),
            }
            for c in components.values()
            if _matches(pattern, c["props"].get("id"))
        ]
    item: dict[str, Any] = {"id": json.loads(cid) if cid.startswith("{") else cid, "property": prop}
    key = (cid, prop)
    if key in overrides:
        item["value"] = overrides[key]
    elif key in carried:
        item["value"] = carried[key]
    elif prop in components.get(cid, {}).get("props", {}):
        item["value"] = components[cid]["props"][prop]
    return item


def request_body(
    callback: Mapping[str, Any],
    components: Mapping[str, Mapping[str, Any]],
    *,
    carried: Mapping[tuple[str, str], Any] | None = None,
    overrides: Mapping[tuple[str, str], Any] | None = None,
    changed: Sequence[str] = (),
) -> dict[str, Any]:
    """The `/_dash-update-component` body: inputs and state from the layout, what the callback returned
    before (`carried`), and the values a browser event set (`overrides`, e.g. the Interval's count)."""
    carried, overrides = carried or {}, overrides or {}
    outputs = [
        {"id": json.loads(cid) if cid.startswith("{") else cid, "property": prop}
        for cid, prop in split_output(callback["output"])
    ]
    return {
        "output": callback["output"],
        "outputs": outputs if callback["output"].startswith("..") else outputs[0],
        "inputs": [_values(i, components, carried, overrides) for i in callback.get("inputs", [])],
        "state": [_values(s, components, carried, overrides) for s in callback.get("state", [])],
        "changedPropIds": list(changed),
    }


def returned_values(response: Mapping[str, Any]) -> dict[tuple[str, str], Any]:
    """What a callback response set, by (id key, property); outputs it left alone are absent."""
    return {
        (str(cid), prop): value
        for cid, props in (response.get("response") or {}).items()
        for prop, value in props.items()
    }


def carry_back(
    callback: Mapping[str, Any], carried: dict[tuple[str, str], Any], returned: Mapping[tuple[str, str], Any]
) -> None:
    """Keep what the browser would send next time: an output that is also this callback's input or state
    gets the value last returned (a Dash Patch is applied to the value it patches)."""
    reads = {(s["id"], s["property"]) for s in [*callback.get("state", []), *callback.get("inputs", [])]}
    for key, value in returned.items():
        if key in reads:
            carried[key] = apply_patch(carried.get(key), value) if _is_patch(value) else value


def _is_patch(value: Any) -> bool:
    return isinstance(value, Mapping) and "__dash_patch_update" in value


def apply_patch(value: Any, patch: Mapping[str, Any]) -> Any:
    """The value after a Dash `Patch` (the operations the browser's renderer applies)."""
    root: dict[str, Any] = {"v": json.loads(json.dumps(value))}
    for op in patch.get("operations", []):
        *parents, last = ["v", *op["location"]]
        target: Any = root
        for step in parents:
            target = target[step]
        _apply(target, last, op["operation"], op.get("params", {}))
    return root["v"]


def _apply(target: Any, last: Any, name: str, params: Mapping[str, Any]) -> None:
    value = params.get("value")
    if name == "Assign":
        target[last] = value
    elif name == "Delete":
        del target[last]
    elif name == "Merge":
        target[last].update(value)
    elif name == "Extend":
        target[last].extend(value)
    elif name == "Append":
        target[last].append(value)
    elif name == "Prepend":
        target[last].insert(0, value)
    elif name == "Insert":
        target[last].insert(params["index"], value)
    elif name == "Remove":
        target[last].remove(value)
    elif name == "Clear":
        target[last].clear()
    elif name == "Reverse":
        target[last].reverse()
    elif name == "Add":
        target[last] += value
    elif name == "Sub":
        target[last] -= value
    elif name == "Mul":
        target[last] *= value
    elif name == "Div":
        target[last] /= value
    else:
        raise ValueError(f"unknown Dash patch operation {name!r}")
