"""The feed-freshness board: one row per configured feed with its health, worst first, refused records and payloads;
a feed out of service or in a maintenance window says so instead of its health (ioc.alerts.service)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from ioc.config import Settings
from ioc.i18n import age_text, local_time, t
from ioc.model import from_iso
from ioc.store import FeedHealth, Store

# Worst first: an operator must see a broken feed without scrolling.
# Out of service and maintenance are neither healthy nor failed: after the failures, before the healthy.
STATUS_ORDER = ("failing", "stale", "never", "out_of_service", "maintenance", "ok", "disabled")
# A refused payload can be 256 KiB; the screen shows its head, the integrator fetches the rest from Redis.
PAYLOAD_PREVIEW_CHARS = 4000


@dataclass(frozen=True, slots=True)
class FeedRow:
    """One row of the board, already in the interface language."""

    feed: str
    status: str  # one of STATUS_ORDER
    status_text: str
    agency: str
    sector: str
    sector_colour: str
    reader: str
    cadence_text: str
    last_success_text: str
    last_success_ago: str
    lag_seconds: float | None
    lag_text: str
    record_count: int | None
    record_change: int | None
    latency_text: str
    last_error: str
    last_error_at_text: str
    consecutive_failures: int
    # records the last stored poll's reader refused or repaired (counts only: a reason may quote the value it
    # refused, so the reasons are in the details panel, behind the raw-payload permission)
    records_refused: int = 0
    records_repaired: int = 0
    problems_text: str = ""

    @property
    def attention(self) -> bool:
        """Whether the row needs an operator's eye (drawn highlighted); a feed taken out of service does not."""
        return self.status in ("failing", "stale", "never")


@dataclass(frozen=True, slots=True)
class RejectedPayload:
    """A payload a reader refused, as the details panel shows it."""

    at_text: str
    error: str
    size_text: str
    truncated: bool
    preview: str


def feed_status(health: FeedHealth | None, enabled: bool, now: datetime, service: str | None = None) -> str:
    """The row's status; `service` (out_of_service, maintenance) is what an operator declared for the feed."""
    if not enabled:
        return "disabled"
    if service:
        return service
    if health is None or health.last_success is None:
        # a feed that fails before its first success is failing, not merely waiting
        return "failing" if health and health.consecutive_failures else "never"
    if health.consecutive_failures:
        return "failing"
    return "stale" if health.stale_at(now) else "ok"


def feed_rows(
    settings: Settings, health: Mapping[str, FeedHealth | None], lang: str, now: datetime,
    service: Mapping[str, str] | None = None,
) -> list[FeedRow]:
    """Every configured feed, failing and stale first, then in configuration order; `service` maps a feed out
    of service or in maintenance to that state."""
    rows = []
    for position, feed in enumerate(settings.feeds):
        state = health.get(feed.name)
        status = feed_status(state, feed.enabled, now, (service or {}).get(feed.name))
        sector = settings.sector(feed.sector)
        lag = (now - state.last_success).total_seconds() if state and state.last_success else None
        rows.append(
            (
                STATUS_ORDER.index(status),
                position,
                FeedRow(
                    feed=feed.name,
                    status=status,
                    status_text=t(f"feeds.status.{status}", lang),
                    agency=feed.agency_name.get(lang),
                    sector=sector.name.get(lang) if sector else feed.sector,
                    sector_colour=sector.colour if sector else "#7f7f7f",
                    reader=feed.reader,
                    cadence_text=t("feeds.every", lang, n=_seconds(feed.interval)),
                    last_success_text=local_time(state.last_success if state else None, "%H:%M:%S %d/%m"),
                    last_success_ago=age_text(lag, lang),
                    lag_seconds=round(lag, 1) if lag is not None else None,
                    lag_text=_lag_text(lag, feed.interval, lang),
                    record_count=state.record_count if state and state.last_success else None,
                    record_change=(
                        state.record_count - state.previous_record_count if state and state.last_success else None
                    ),
                    latency_text=(
                        f"{state.fetch_latency_ms:,.0f} ms" if state and state.fetch_latency_ms is not None else "—"
                    ),
                    last_error=(state.last_error if state else "") or "",
                    last_error_at_text=local_time(state.last_error_at, "%H:%M:%S %d/%m")
                    if state and state.last_error_at
                    else "",
                    consecutive_failures=state.consecutive_failures if state else 0,
                    **_problems(state, lang),
                ),
            )
        )
    rows.sort(key=lambda item: (item[0], item[1]))
    return [row for _, _, row in rows]


def status_counts(rows: list[FeedRow]) -> dict[str, int]:
    counts = dict.fromkeys(STATUS_ORDER, 0)
    for row in rows:
        counts[row.status] += 1
    return counts


def rejected_payloads(store: Store, feed: str) -> list[RejectedPayload]:
    """The feed's most recent refused payloads, newest first, trimmed for the screen."""
    return [_rejected(item) for item in store.rejected_payloads(feed)]


def _rejected(item: Mapping[str, Any]) -> RejectedPayload:
    payload = str(item.get("payload") or "")
    return RejectedPayload(
        at_text=local_time(from_iso(item.get("at"))),
        error=str(item.get("error") or ""),
        size_text=f"{int(item.get('bytes') or 0):,} B",
        truncated=bool(item.get("truncated")) or len(payload) > PAYLOAD_PREVIEW_CHARS,
        preview=payload[:PAYLOAD_PREVIEW_CHARS],
    )


def _problems(state: FeedHealth | None, lang: str) -> dict[str, Any]:
    if state is None or not (state.records_refused or state.records_repaired):
        return {}
    return {
        "records_refused": state.records_refused,
        "records_repaired": state.records_repaired,
        "problems_text": t("feeds.records.problems", lang, refused=state.records_refused,
                           repaired=state.records_repaired),
    }


def _seconds(value: float) -> str:
    return f"{value:g}"


def _lag_text(lag: float | None, interval: float, lang: str) -> str:
    """Lag against the expected cadence: '×1.4' means 40 % later than the feed promises."""
    if lag is None:
        return "—"
    return t("feeds.lag_ratio", lang, ratio=f"{lag / interval:.1f}")
