"""Reader of CSV exports (hospital beds, tourism, schools): header row + the feed's field mapping."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from typing import Any

from data_adapters.contract import Batch, FeedContext, PayloadError, Reader, read_records, register
from data_adapters.mapping import ROOT_PREFIX, MappedRecords, check_mapping, load_mapping

# what spreadsheet exports use: "," in English locales, ";" where the decimal mark is "," (vi-VN Excel)
DELIMITERS = (",", ";", "\t", "|")


@register
class CsvReader(Reader):
    """One record per row; the mapping in agencies.yaml says which column is what."""

    id = "csv"

    def check_mapping(self, mapping: dict[str, Any]) -> None:
        checked = check_mapping(mapping)
        if checked.records:
            raise ValueError("records: a CSV has one record per row; `records` is for the json reader")
        for label, path in checked.field_paths():
            if path.startswith(ROOT_PREFIX):
                raise ValueError(f"{label}: '{path}' reads a JSON document; a CSV has none")

    def parse(self, payload: bytes, feed: FeedContext) -> Batch:
        mapping = load_mapping(feed, self.id)
        encoding = "utf-8-sig" if mapping.encoding.lower().replace("_", "-") in ("utf-8", "utf8") else mapping.encoding
        try:
            text = payload.decode(encoding)
        except UnicodeDecodeError as exc:
            raise PayloadError(
                f"not {mapping.encoding} text (byte {exc.start}); set `encoding:` in the feed's mapping"
            ) from None
        if not text.strip():
            raise PayloadError("empty file: a CSV needs a header row")
        delimiter = mapping.delimiter or sniff_delimiter(text)
        rows = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
        records = MappedRecords(mapping, feed)
        batch = records.batch()
        try:
            header = [cell.strip() for cell in next(rows)]
            present = set(header)
            for label, column in records.columns():
                if column in present:
                    continue
                problem = f"column '{column}': missing (mapping {label}); the header has {', '.join(header)}"
                if column == mapping.id:  # without its id no row can be told apart: nothing to trust
                    raise PayloadError(f"row 1 (header), {problem}")
                # an export that leaves out one mapped column still says everything else
                batch.note("row 1 (header)", f"{problem}; read without it", refused=False)

            def numbered() -> Iterator[tuple[str, tuple[list[str], int]]]:
                pending: tuple[list[str], int] | None = None
                for row in rows:
                    if not any(cell.strip() for cell in row):
                        continue  # blank lines between blocks are common in hand-edited exports
                    if pending is not None:
                        yield f"row {pending[1]}", pending
                    pending = (row, rows.line_num)
                if pending is not None:
                    row, number = pending
                    if len(row) < len(header):  # a last row cut short is a truncated file: nothing to trust
                        raise PayloadError(f"row {number}: {len(row)} values for {len(header)} columns "
                                           "(a truncated file)")
                    yield f"row {number}", pending

            def read(_where: str, item: tuple[list[str], int]) -> None:
                row, number = item
                if len(row) != len(header):  # a delimiter inside an unquoted value: this row only
                    raise PayloadError(f"row {number}: {len(row)} values for {len(header)} columns "
                                       "(a delimiter inside an unquoted value?)")
                records.add(dict(zip(header, row, strict=True)), lambda column: f"row {number}, column {column}")

            return read_records(batch, numbered(), read)
        except csv.Error as exc:
            raise PayloadError(f"row {rows.line_num}: {exc}") from None


def sniff_delimiter(text: str) -> str:
    """The delimiter the header line uses most (csv.Sniffer guesses wrong on short files)."""
    header = text.lstrip("\ufeff").splitlines()[0]
    counts = {d: header.count(d) for d in DELIMITERS}
    best = max(DELIMITERS, key=lambda d: counts[d])
    return best if counts[best] else ","
