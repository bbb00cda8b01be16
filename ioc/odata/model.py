"""The one declaration of the OData service's entity sets and their typed properties, from which the $metadata
document, the $filter type checks and each answer's columns are all derived."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import Enum
from typing import Any

NAMESPACE = "CityIoc"


class EdmType(Enum):
    """The EDM primitive types the service uses, and how a value of each is written into a row."""

    STRING = "Edm.String"
    # Numbers are Edm.Decimal with a variable scale rather than Edm.Double: a measured value has whatever
    # precision its sensor gave, and OData clients in the wild (python-odata among them) compare Decimal
    # properties with number literals, where some treat Double as text.
    DECIMAL = "Edm.Decimal"
    INT = "Edm.Int64"
    BOOLEAN = "Edm.Boolean"
    DATETIME = "Edm.DateTimeOffset"


@dataclass(frozen=True, slots=True)
class Property:
    name: str
    type: EdmType = EdmType.STRING
    description: str = ""


@dataclass(frozen=True, slots=True)
class EntitySet:
    """One entity set: its name, its entity type's properties (the first is the key) and where its rows come
    from. `read(context, plan)` returns rows as dicts; `plan` tells it what the query needs (ioc.odata.sources)."""

    name: str
    type_name: str
    description: str
    properties: tuple[Property, ...]
    read: Callable[..., list[dict[str, Any]]] = field(compare=False)
    # properties a reader gets only at extra cost (a Redis read per row): filters on the others run first
    costly: frozenset[str] = frozenset()
    # the order rows come in without $orderby, before the key: (property, descending)
    order: tuple[tuple[str, bool], ...] = ()
    # which property pins what the reader reads (ioc.odata.sets.Plan: "feeds", "entities"), when a filter
    # says it equals given values
    pins: Mapping[str, str] = field(default_factory=dict, compare=False)

    @property
    def key(self) -> Property:
        return self.properties[0]

    def prop(self, name: str) -> Property | None:
        return next((prop for prop in self.properties if prop.name == name), None)

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(prop.name for prop in self.properties)


def coerce(prop: Property, value: Any) -> Any:
    """A source value as the declared type says, None for a missing or unusable one (a row never carries a
    value of the wrong type, so $filter and $orderby never compare text with numbers)."""
    if value is None or value == "":
        return None
    if prop.type is EdmType.STRING:
        return value if isinstance(value, str) else str(value)
    if prop.type is EdmType.BOOLEAN:
        return value if isinstance(value, bool) else None
    if prop.type is EdmType.DATETIME:
        return value.isoformat() if isinstance(value, datetime) else str(value)
    if isinstance(value, bool):
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    if number != number or number in (float("inf"), float("-inf")):
        return None
    return int(number) if prop.type is EdmType.INT else number
