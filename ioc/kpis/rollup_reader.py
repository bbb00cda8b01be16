"""Reading KPI rollups back for reports: all (KPI, scope) pairs of a date range in one Redis pipeline."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from datetime import date
from zoneinfo import ZoneInfo

from ioc.kpis.aggregates import Agg, hour_above
from ioc.kpis.catalogue import Kpi
from ioc.kpis.periods import months_between
from ioc.store import Store


def _parse_hash(raw: Mapping[str, str], extremes: Sequence[tuple[str, float]]) -> dict[int, Agg]:
    """Fields `<slot>:<stat>` of one hourly or daily hash (and its extremes) into one Agg per slot."""
    slots: dict[int, Agg] = {}
    for name, text in raw.items():
        slot_text, _, stat = name.partition(":")
        agg = slots.get(int(slot_text))
        if agg is None:
            agg = slots[int(slot_text)] = Agg()
        if stat == "n":
            agg.n = int(text)
        elif stat == "s":
            agg.s = float(text)
        elif stat == "k":
            agg.k = int(text)
        elif stat == "d":
            agg.d = float(text)
        elif stat[0] == "q":
            agg.bins[stat[1:]] = int(text)
        elif stat[0] == "a":
            agg.above += text == "1"
    for member, score in extremes:
        slot_text, _, which = member.partition(":")
        agg = slots.setdefault(int(slot_text), Agg())
        if which == "lo":
            agg.lo = score
        else:
            agg.hi = score
    return slots


class RollupReader:
    """Reads rollups back for reports: all (KPI, scope) pairs of a date range in one pipeline."""

    def __init__(self, store: Store, zone: ZoneInfo) -> None:
        self.store = store
        self.keys = store.keys
        self.zone = zone

    def version(self) -> int:
        return int(self.store.redis.get(self.keys.kpi_rollup_version()) or 0)

    def scopes(self, kpi_ids: Sequence[str]) -> dict[str, dict[str, str]]:
        """KPI id -> {scope: label} of every scope the KPI has data for."""
        pipe = self.store.redis.pipeline(transaction=False)
        for kpi_id in kpi_ids:
            pipe.hgetall(self.keys.kpi_scopes(kpi_id))
        return dict(zip(kpi_ids, pipe.execute(), strict=True))

    def days(
        self, wanted: Sequence[tuple[Kpi, str]], first: date, last: date
    ) -> dict[tuple[str, str], dict[date, Agg]]:
        """(KPI id, scope) -> {local date: Agg} for the days first..last that hold data."""
        months = months_between(first, last)
        pipe = self.store.redis.pipeline(transaction=False)
        plan: list[tuple[str, str, str, bool]] = []
        for kpi, scope in wanted:
            with_extremes = kpi.aggregate in ("min", "max")
            for month in months:
                pipe.hgetall(self.keys.kpi_days(kpi.id, scope, month))
                if with_extremes:
                    pipe.zrange(self.keys.kpi_day_extremes(kpi.id, scope, month), 0, -1, withscores=True)
                plan.append((kpi.id, scope, month, with_extremes))
        results = iter(pipe.execute())
        found: dict[tuple[str, str], dict[date, Agg]] = defaultdict(dict)
        for kpi_id, scope, month, with_extremes in plan:
            raw = next(results)
            extremes = next(results) if with_extremes else ()
            year, month_number = (int(part) for part in month.split("-"))
            for slot, agg in _parse_hash(raw, extremes).items():
                day = date(year, month_number, slot)
                if first <= day <= last:
                    found[(kpi_id, scope)][day] = agg
        return found

    def hours(self, wanted: Sequence[tuple[Kpi, str]], day: date) -> dict[tuple[str, str], dict[int, Agg]]:
        """(KPI id, scope) -> {local hour: Agg} of one day."""
        pipe = self.store.redis.pipeline(transaction=False)
        for kpi, scope in wanted:
            pipe.hgetall(self.keys.kpi_hours(kpi.id, scope, day.isoformat()))
            pipe.zrange(self.keys.kpi_hour_extremes(kpi.id, scope, day.isoformat()), 0, -1, withscores=True)
        results = iter(pipe.execute())
        found: dict[tuple[str, str], dict[int, Agg]] = {}
        for kpi, scope in wanted:
            raw, extremes = next(results), next(results)
            slots = _parse_hash(raw, extremes)
            if kpi.aggregate == "hours_above":
                for agg in slots.values():
                    agg.above = int(hour_above(kpi, agg))
            found[(kpi.id, scope)] = slots
        return found

    def polls(self, feeds: Sequence[str], first: date, last: date) -> dict[str, dict[date, int]]:
        """Feed -> {local date: successful polls (capped per hour at the expected count)}."""
        months = months_between(first, last)
        pipe = self.store.redis.pipeline(transaction=False)
        for feed in feeds:
            for month in months:
                pipe.hgetall(self.keys.feed_polls_days(feed, month))
        results = iter(pipe.execute())
        found: dict[str, dict[date, int]] = {}
        for feed in feeds:
            per_day: dict[date, int] = {}
            for month in months:
                year, month_number = (int(part) for part in month.split("-"))
                for slot, count in next(results).items():
                    day = date(year, month_number, int(slot))
                    if first <= day <= last:
                        per_day[day] = int(count)
            found[feed] = per_day
        return found

    def polls_by_hour(self, feeds: Sequence[str], day: date) -> dict[str, dict[int, int]]:
        pipe = self.store.redis.pipeline(transaction=False)
        for feed in feeds:
            pipe.hgetall(self.keys.feed_polls_hours(feed, day.isoformat()))
        return {
            feed: {int(hour): int(count) for hour, count in raw.items()}
            for feed, raw in zip(feeds, pipe.execute(), strict=True)
        }

    def fresh_hours(self, agencies: Sequence[str], first: date, last: date) -> dict[str, set[tuple[date, int]]]:
        """Agency -> the (local date, hour) pairs in which its data was fresh."""
        months = months_between(first, last)
        pipe = self.store.redis.pipeline(transaction=False)
        for agency in agencies:
            for month in months:
                pipe.hkeys(self.keys.agency_fresh(agency, month))
        results = iter(pipe.execute())
        found: dict[str, set[tuple[date, int]]] = {}
        for agency in agencies:
            hours: set[tuple[date, int]] = set()
            for month in months:
                year, month_number = (int(part) for part in month.split("-"))
                for name in next(results):
                    day_text, _, hour_text = name.partition(":")
                    day = date(year, month_number, int(day_text))
                    if first <= day <= last:
                        hours.add((day, int(hour_text)))
            found[agency] = hours
        return found
