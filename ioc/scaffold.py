"""`ioc adapters new NAME`: writes a bespoke agency's reader module, a sample payload and a passing test."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from ioc.config import PROJECT_ROOT

NAME = re.compile(r"^[a-z][a-z0-9_]*$")

READER_TEMPLATE = '''"""Reader of {title}'s bespoke JSON feed: a list of stations with one measured value each."""

from __future__ import annotations

from typing import Any

from data_adapters.contract import (
    Batch,
    Entity,
    FeedContext,
    Observation,
    PayloadError,
    Reader,
    as_float,
    convert,
    load_json,
    lon_lat,
    parse_time,
    read_records,
    register,
)


@register
class {class_name}(Reader):
    """Personal data needs nothing here: the store scrubs every batch before it is written."""

    id = "{reader_id}"

    def parse(self, payload: bytes, feed: FeedContext) -> Batch:
        document = load_json(payload)
        if not isinstance(document, list):
            raise PayloadError("expected a JSON list of records")
        # TODO(integrator): name the metric in the city's terms; `unit` may be any spelling or UN/CEFACT code
        metric = str(feed.mapping.get("metric", "value"))
        published_unit = str(feed.mapping.get("unit", ""))
        batch = Batch()

        def read(where: str, record: Any) -> None:
            if not isinstance(record, dict):
                raise PayloadError(f"{{where}}: expected an object")
            if "id" not in record:
                raise PayloadError(f"{{where}}.id: missing")
            time = parse_time(record.get("time"), field_name=f"{{where}}.time")
            value, unit = convert(as_float(record.get("value"), field_name=f"{{where}}.value"), published_unit)
            entity = Entity(
                id=feed.urn(record["id"]),
                type=feed.mapping.get("entity_type", "{entity_type}"),
                agency=feed.agency,
                sector=feed.sector,
                name=str(record.get("name", "")),
                location=lon_lat(record.get("lon"), record.get("lat"), field_name=f"{{where}}"),
                attributes={{metric: value, "status": record.get("status", "")}},
                observed_at=time,
            )
            # added only once the whole record is read, so a refused record leaves nothing behind
            batch.entities.append(entity)
            batch.observations.append(Observation(entity.id, metric, value, unit, time))

        # a bad record is refused alone and counted with its reason (the feeds page shows it); the others are kept
        return read_records(batch, ((f"records[{{index}}]", record) for index, record in enumerate(document)), read)
'''

TEST_TEMPLATE = '''"""The {reader_id} reader against its recorded payload, and what is particular to it.

Empty, malformed, truncated and schema-drifted payloads are the shared failure cases of the contract test
(tests/data_adapters/test_contract.py), which holds this reader to them through tests/fixtures/{reader_id}/.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from data_adapters.base import FeedContext, PayloadError, get_reader

SAMPLE = Path(__file__).parents[1] / "fixtures" / "{reader_id}" / "normal.json"
FEED = FeedContext(name="{feed_name}", agency="{feed_name}", sector="utilities")


def parse(payload: bytes, feed: FeedContext = FEED):  # noqa: ANN201
    return get_reader("{reader_id}").parse(payload, feed)


def test_the_recorded_payload_parses() -> None:
    batch = parse(SAMPLE.read_bytes())
    assert [e.id for e in batch.entities] == ["urn:ioc:danang:{feed_name}:st-1", "urn:ioc:danang:{feed_name}:st-2"]
    assert batch.entities[0].location == (108.2208, 16.0678)
    assert batch.observations[1].value == 7.5
    assert batch.observations[0].time.utcoffset() is not None


@pytest.mark.parametrize(
    ("payload", "where"),
    [(b"[{{\\"id\\": \\"x\\", \\"lon\\": \\"east\\", \\"lat\\": 16, \\"value\\": 1, "
      b"\\"time\\": \\"2026-11-27T08:00:00Z\\"}}]", "records\\\\[0\\\\]"),
     (b"[{{\\"lon\\": 108.2, \\"lat\\": 16}}]", "records\\\\[0\\\\]\\\\.id")],
    ids=["wrong_type", "no_id"],
)
def test_a_bad_record_is_refused_by_its_place(payload: bytes, where: str) -> None:
    with pytest.raises(PayloadError, match=where):  # the only record: nothing left, so the payload is refused
        parse(payload)
    batch = parse(payload.replace(b"[", b"[" + SAMPLE.read_bytes().strip()[1:-1] + b",", 1))
    assert len(batch.entities) == 2 and [p.where for p in batch.refused] == ["records[2]"]


def test_an_empty_list_is_an_empty_batch() -> None:
    assert parse(b"[]").entities == []


def test_the_unit_becomes_the_citys() -> None:
    feed = FeedContext(name="{feed_name}", agency="{feed_name}", sector="utilities",
                       mapping={{"metric": "pm25", "unit": "mg/m3"}})
    reading = parse(SAMPLE.read_bytes(), feed).observations[0]
    assert (reading.metric, reading.value, reading.unit) == ("pm25", 3250.0, "µg/m³")
'''

SAMPLE = """[
  {"id": "st-1", "name": "Station 1", "lon": 108.2208, "lat": 16.0678, "value": 3.25, "status": "ok",
   "time": "2026-11-27T08:00:00+07:00"},
  {"id": "st-2", "name": "Station 2", "lon": 108.2119, "lat": 16.0412, "value": 7.5, "status": "ok",
   "time": "2026-11-27T08:00:00+07:00"}
]
"""


@dataclass(frozen=True, slots=True)
class Scaffold:
    module: Path
    test: Path
    fixture: Path
    reader_id: str


def new_adapter(name: str, root: Path = PROJECT_ROOT) -> Scaffold:
    """Write the reader, its test and a sample payload; register the module. Refuses to overwrite."""
    if not NAME.match(name):
        raise ValueError(f"'{name}' is not a module name: use lower_snake, e.g. 'seaport_vessels'")
    reader_id = name.replace("_", "-")
    module = root / "data_adapters" / f"{name}.py"
    test = root / "tests" / "data_adapters" / f"test_{name}.py"
    fixture = root / "tests" / "fixtures" / reader_id / "normal.json"
    for path in (module, test, fixture):
        if path.exists():
            raise FileExistsError(f"{path} exists already")
    registry = root / "data_adapters" / "__init__.py"
    text = registry.read_text(encoding="utf-8")
    if f'"{name}"' in text:
        raise FileExistsError(f"{registry} lists '{name}' already")
    words = name.split("_")
    module.write_text(
        READER_TEMPLATE.format(
            title=" ".join(words).capitalize(), class_name="".join(w.capitalize() for w in words) + "Reader",
            reader_id=reader_id, entity_type="".join(w.capitalize() for w in words),
        ),
        encoding="utf-8",
    )
    test.write_text(TEST_TEMPLATE.format(reader_id=reader_id, feed_name=reader_id), encoding="utf-8")
    fixture.parent.mkdir(parents=True, exist_ok=True)
    fixture.write_text(SAMPLE, encoding="utf-8")
    registry.write_text(text.replace("\n]\n", f'\n    "{name}",\n]\n', 1), encoding="utf-8")
    return Scaffold(module=module, test=test, fixture=fixture, reader_id=reader_id)
