"""Questions over the archive for any period, answered by DuckDB over the day partitions they touch."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb

from ioc.archive.files import KINDS, TIME_COLUMN, files_of

# the column `--entity` matches, per kind
ID_COLUMN = {"observations": "entity", "entities": "entity", "events": "event", "alerts": "alert"}
_SID_MS = "CAST(split_part(sid, '-', 1) AS BIGINT)"
_SID_SEQ = "CAST(split_part(sid, '-', 2) AS BIGINT)"
HISTORY_LIMIT = 1_000_000  # rows one question returns at most: a year of a busy feed is for a notebook


def history(root: Path, kind: str, *, start: datetime, end: datetime, feed: str | None = None,
            entity: str | None = None, limit: int = HISTORY_LIMIT,
            paged: bool = False, after: tuple[str, str, int] | None = None) -> list[dict[str, Any]]:
    """Rows of `kind` whose time lies in [start, end), of one feed and entity or all, oldest first; times as
    ISO 8601 in UTC like the live API's. `paged` keeps each row's `sid` and `n`, and with `after` (a row's
    time, `sid` and `n`) only the rows after that one are returned."""
    if kind not in KINDS:
        raise ValueError(f"unknown kind {kind!r}: one of {', '.join(KINDS)}")
    start, end = _utc(start), _utc(end)
    files = files_of(Path(root), kind, start.date(), end.date(), feed)
    if not files or end <= start:
        return []
    column = TIME_COLUMN[kind]
    sources = ", ".join("'" + str(path).replace("'", "''") + "'" for path in files)
    where = [f'"{column}" >= ?::TIMESTAMPTZ', f'"{column}" < ?::TIMESTAMPTZ']
    params: list[Any] = [start.isoformat(), end.isoformat()]
    if entity:
        where.append(f'"{ID_COLUMN[kind]}" = ?')
        params.append(entity)
    # stream ids order by their two numbers, not as text
    order = f"\"{column}\", {_SID_MS}, {_SID_SEQ}, n"
    if after is not None:
        where.append(f"({order}) > (?::TIMESTAMPTZ, ?, ?, ?)")
        ms, _, seq = after[1].partition("-")
        params += [after[0], int(ms), int(seq or 0), int(after[2])]
    kept = "*" if paged else "* EXCLUDE (sid, n)"
    # the folders' day= and feed= are for choosing files; the feed is a column of its own
    sql = (f"SELECT {kept} FROM read_parquet([{sources}], union_by_name = true, hive_partitioning = false) "
           f"WHERE {' AND '.join(where)} ORDER BY {order} LIMIT {int(limit)}")
    with duckdb.connect() as connection:
        connection.execute("SET TimeZone = 'UTC'")
        result = connection.sql(sql, params=params)
        # DuckDB 1.x names it fetch_arrow_table, 2.x to_arrow_table
        table = (getattr(result, "to_arrow_table", None) or result.fetch_arrow_table)()
    return [{name: _plain(value) for name, value in row.items()} for row in table.to_pylist()]


def _utc(moment: datetime) -> datetime:
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _plain(value: Any) -> Any:
    if isinstance(value, datetime):
        return _utc(value).isoformat(timespec="seconds")
    return value
