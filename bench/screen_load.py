"""The screens benchmark's load process: signed-in screens refreshing a Dash page at their Interval's pace.

Run by `bench/screens.py` (--role load), one process per row, so its CPU is its own and is reported: asyncio
with one httpx connection pool, a client (cookies, session) per screen. It prints one JSON line: the
callback it chose, the refresh times, errors, unserved ticks, bytes, the /healthz probe and its CPU share.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import time
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import httpx
import orjson

from bench.dash_screen import (
    NotFound,
    carry_back,
    find_refresh,
    find_router,
    request_body,
    returned_values,
    walk_components,
)


class _Form(HTMLParser):
    """The hidden fields of the sign-in form (its CSRF token among them)."""

    def __init__(self) -> None:
        super().__init__()
        self.hidden: dict[str, str] = {}

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        fields = dict(attrs)
        if tag == "input" and fields.get("type") == "hidden" and fields.get("name"):
            self.hidden[str(fields["name"])] = fields.get("value") or ""


class Screen:
    """One browser screen: its own client (cookies, session), its page's components, its refresh state."""

    def __init__(self, number: int, client: httpx.AsyncClient) -> None:
        self.number, self.client = number, client
        self.samples: list[float] = []
        self.timings: list[float] = []
        self.wire_bytes = 0
        self.errors: list[str] = []
        self.ticks = self.unserved = 0
        self.in_flight = False

    async def sign_in(self, name: str, password: str) -> None:
        form = _Form()
        form.feed((await self.client.get("/login")).text)
        reply = await self.client.post("/login", data={**form.hidden, "username": name, "password": password})
        if reply.status_code not in (302, 303) or reply.headers.get("location", "").startswith("/login"):
            raise RuntimeError(f"sign-in of {name} answered {reply.status_code}")

    async def open_page(self, page: str) -> tuple[Any, dict[str, Any], dict[str, Any]]:
        """What the browser loads: the app layout, the callbacks, then the page the router renders."""
        layout = (await self.client.get("/_dash-layout")).raise_for_status().json()
        deps = (await self.client.get("/_dash-dependencies")).raise_for_status().json()
        components = walk_components(layout)
        router = find_router(deps)
        pathname = next(i for i in router["inputs"] if i["property"] == "pathname")
        key = (pathname["id"], "pathname")
        body = request_body(
            router,
            components,
            overrides={key: page, (pathname["id"], "search"): ""},
            changed=[f"{pathname['id']}.pathname"],
        )
        answer = await self.client.post("/_dash-update-component", json=body)
        if answer.status_code != 200:
            raise RuntimeError(f"rendering {page} answered HTTP {answer.status_code}: {answer.text[:200]}")
        reply = answer.json()
        page_components: dict[str, Any] = {}
        for value in reply.get("response", {}).values():
            for prop_value in value.values():
                page_components.update(walk_components(prop_value))
        return deps, {**components, **page_components}, page_components

    async def refresh(self, body: dict[str, Any], measured: bool) -> dict[str, Any] | None:
        self.in_flight = True
        began = time.perf_counter()
        try:
            reply = await self.client.post(
                "/_dash-update-component",
                content=orjson.dumps(body),
                headers={"Content-Type": "application/json"},
            )
        except httpx.HTTPError as exc:
            self.errors.append(type(exc).__name__)
            return None
        finally:
            self.in_flight = False
        elapsed = time.perf_counter() - began
        if reply.status_code not in (200, 204):
            self.errors.append(f"HTTP {reply.status_code}")
            return None
        if measured:
            self.samples.append(elapsed)
            self.wire_bytes += reply.num_bytes_downloaded
            timing = reply.headers.get("server-timing")
            if timing:
                self.timings.append(
                    sum(
                        float(part.split("dur=")[1].split(";")[0]) / 1000
                        for part in timing.split(",")
                        if "dur=" in part
                    )
                )
        return orjson.loads(reply.content) if reply.status_code == 200 else {}


async def run_screens(args: argparse.Namespace) -> dict[str, Any]:
    accounts = json.loads(Path(args.accounts).read_text())[: args.screens]
    transport = httpx.AsyncHTTPTransport(
        limits=httpx.Limits(max_connections=args.screens + 8, max_keepalive_connections=args.screens + 8)
    )
    timeout = httpx.Timeout(args.timeout)
    screens = [
        Screen(n, httpx.AsyncClient(base_url=args.url, transport=transport, timeout=timeout))
        for n in range(args.screens)
    ]
    gate = asyncio.Semaphore(8)  # sign-ins hash a password on the server: no need to send them all at once

    async def prepare(screen: Screen, account: dict[str, str]) -> tuple[Any, dict[str, Any], dict[Any, Any]]:
        """Sign in, open the page and draw it once, as a screen does when it is opened (not measured)."""
        async with gate:
            await screen.sign_in(account["name"], account["password"])
            deps, components, page = await screen.open_page(args.page)
            choice, carried = find_refresh(deps, page), {}
            first = await screen.refresh(
                request_body(choice.callback, components, overrides={(choice.interval_id, "n_intervals"): 0}),
                False,
            )
            carry_back(choice.callback, carried, returned_values(first or {}))
        return choice, components, carried

    try:
        prepared = await asyncio.gather(*(prepare(s, a) for s, a in zip(screens, accounts, strict=True)))
    except NotFound as exc:
        return {"not_found": str(exc)}
    except (RuntimeError, httpx.HTTPError) as exc:
        return {"failed": f"{type(exc).__name__}: {exc}"}
    choice = prepared[0][0]
    interval_ms = float(prepared[0][1].get(choice.interval_id, {}).get("props", {}).get("interval") or 1000)
    loop = asyncio.get_running_loop()
    start = loop.time() + 1.0
    measured_from = start + args.warmup  # a fresh server's first refreshes (imports, caches) are not timed
    end = measured_from + args.seconds

    async def screen_loop(screen: Screen, components: dict[str, Any], carried: dict[Any, Any]) -> None:
        callback, tick_key = choice.callback, (choice.interval_id, "n_intervals")
        interval, count = interval_ms / 1000, 0
        due = start + random.uniform(0, interval)  # screens opened at different moments
        while due < end:
            await asyncio.sleep(max(0.0, due - loop.time()))
            measured, count = due >= measured_from, count + 1
            screen.ticks += measured
            body = request_body(
                callback,
                components,
                carried=carried,
                overrides={tick_key: count},
                changed=[f"{choice.interval_id}.n_intervals"],
            )
            reply = await screen.refresh(body, measured)
            if reply:
                carry_back(callback, carried, returned_values(reply))
            due += interval
            while due <= loop.time() and due < end:  # fired while the refresh was still out
                screen.unserved += due >= measured_from
                screen.ticks += due >= measured_from
                count, due = count + 1, due + interval

    async def probe(samples: list[float], failures: list[str]) -> None:
        async with httpx.AsyncClient(base_url=args.url, timeout=timeout) as bare:
            await asyncio.sleep(max(0.0, measured_from - loop.time()))
            while loop.time() < end:
                began = time.perf_counter()
                try:
                    reply = await bare.get("/healthz")
                    (samples if reply.status_code == 200 else failures).append(time.perf_counter() - began)
                except httpx.HTTPError as exc:
                    failures.append(type(exc).__name__)
                await asyncio.sleep(0.5)

    health: list[float] = []
    health_failures: list[str] = []
    cpu0, wall0 = time.process_time(), time.perf_counter()
    tasks = [asyncio.create_task(screen_loop(s, *p[1:])) for s, p in zip(screens, prepared, strict=True)]
    tasks.append(asyncio.create_task(probe(health, health_failures)))
    _, pending = await asyncio.wait(tasks, timeout=end - loop.time() + args.grace)
    for task in pending:
        task.cancel()
    unfinished = sum(s.in_flight for s in screens)  # still out past the grace: never served
    await asyncio.gather(*pending, return_exceptions=True)
    cpu, wall = time.process_time() - cpu0, time.perf_counter() - wall0
    await transport.aclose()
    samples = [x for s in screens for x in s.samples]
    return {
        "callback": choice.describe(),
        "interval_ms": interval_ms,
        "samples": samples,
        "timings": [x for s in screens for x in s.timings],
        "errors": [e for s in screens for e in s.errors],
        "ticks": sum(s.ticks for s in screens),
        "unserved": sum(s.unserved for s in screens) + unfinished,
        "unfinished": unfinished,
        "wire_bytes": sum(s.wire_bytes for s in screens),
        "health": health,
        "health_failures": health_failures,
        "load_cpu": cpu / wall if wall else 0.0,
    }
