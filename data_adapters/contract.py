"""Everything a reader imports, from one place: the reader contract, the model, the vocabulary, HTTP and paging.

A reader module imports this module only (plus the standard library and its format's own parser), so what
a reader may depend on is one short list, and `ioc` can change behind it.

    from data_adapters.contract import Batch, Entity, FeedContext, PayloadError, Reader, register
"""

from __future__ import annotations

from data_adapters.base import (
    FeedContext,
    PayloadError,
    Reader,
    as_float,
    load_json,
    lon_lat,
    parse_time,
    read_records,
    refuse_if_nothing_kept,
    register,
    text_encoding,
)
from data_adapters.http import DEFAULT_MAX_PAGES, Paging, fetch_pages, get, parsed
from ioc.model import Batch, Entity, Event, Observation, RecordProblem, Scalar, Severity, to_iso, utcnow
from ioc.privacy import is_personal_field, is_personal_key, pseudonym
from ioc.vocabulary import (
    CENTIMETRE,
    CITY_UNITS,
    KMH,
    LEVEL_UNITS,
    MICROGRAMS_PER_M3,
    MOLAR_MASS_G,
    POLLUTANTS,
    conversion,
    convert,
    fold,
    is_water_level,
    known_unit,
    metric_name,
    snake_case,
    squash,
    unit_symbol,
)

__all__ = [
    "CENTIMETRE", "CITY_UNITS", "DEFAULT_MAX_PAGES", "KMH", "LEVEL_UNITS", "MICROGRAMS_PER_M3", "MOLAR_MASS_G", "POLLUTANTS", "Batch", "Entity",
    "Event", "FeedContext", "Observation", "Paging", "PayloadError", "Reader", "Scalar", "Severity",
    "as_float", "conversion", "convert", "fetch_pages", "fold", "get", "is_personal_field", "is_personal_key",
    "is_water_level", "known_unit", "load_json", "lon_lat", "metric_name", "parse_time", "parsed", "pseudonym",
    "read_records", "RecordProblem", "refuse_if_nothing_kept", "register", "snake_case", "squash", "text_encoding", "to_iso", "unit_symbol",
    "utcnow",
]
