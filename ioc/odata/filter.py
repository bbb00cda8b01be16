"""A small, strict parser of the $filter subset the service supports, type-checked against an entity set.

Supported: eq ne gt ge lt le, and or not, parentheses, string, number, date-time (with Z or an offset),
true/false and null literals, and contains / startswith / endswith of a text property. Anything else is
refused with an ODataError naming the position and what was found, never half-understood.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from ioc.odata.errors import ODataError
from ioc.odata.model import EdmType, EntitySet

COMPARISONS = frozenset({"eq", "ne", "gt", "ge", "lt", "le"})
FUNCTIONS = frozenset({"contains", "startswith", "endswith"})
MAX_LENGTH = 2000  # a filter longer than this is not a query someone wrote; refuse before parsing
MAX_DEPTH = 32  # nesting of parentheses and `not`: bounds the parser's recursion

_TOKEN = re.compile(r"""
    (?P<space>\s+)
  | (?P<string>'(?:[^']|'')*')
  | (?P<datetime>\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?(?:Z|[+-]\d{2}:\d{2})?)
  | (?P<number>-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?)
  | (?P<name>[A-Za-z_][A-Za-z0-9_]*)
  | (?P<punct>[(),])
""", re.VERBOSE)


@dataclass(frozen=True, slots=True)
class Literal:
    value: Any
    kind: str  # 'string', 'number', 'datetime', 'boolean' or 'null'


@dataclass(frozen=True, slots=True)
class Prop:
    name: str
    type: EdmType


@dataclass(frozen=True, slots=True)
class Compare:
    op: str
    left: Prop | Literal
    right: Prop | Literal


@dataclass(frozen=True, slots=True)
class Call:
    function: str
    prop: Prop
    text: str


@dataclass(frozen=True, slots=True)
class Logical:
    op: str  # 'and' or 'or'
    left: Node
    right: Node


@dataclass(frozen=True, slots=True)
class Not:
    operand: Node


Node = Compare | Call | Logical | Not

_KIND_OF_TYPE = {EdmType.STRING: "string", EdmType.DECIMAL: "number", EdmType.INT: "number",
                 EdmType.BOOLEAN: "boolean", EdmType.DATETIME: "datetime"}


def _fail(message: str, position: int | None = None) -> ODataError:
    where = f" at position {position + 1}" if position is not None else ""
    return ODataError(f"$filter{where}: {message}", target="$filter")


def _tokens(text: str) -> list[tuple[str, str, int]]:
    found: list[tuple[str, str, int]] = []
    position = 0
    while position < len(text):
        match = _TOKEN.match(text, position)
        if match is None:
            raise _fail(f"unexpected '{text[position]}'", position)
        kind = match.lastgroup or ""
        if kind != "space":
            found.append((kind, match.group(), position))
        position = match.end()
    return found


class _Parser:
    def __init__(self, text: str, entity_set: EntitySet) -> None:
        self.tokens = _tokens(text)
        self.at = 0
        self.entity_set = entity_set
        self.depth = 0
        self.end = len(text)

    def peek(self) -> tuple[str, str, int] | None:
        return self.tokens[self.at] if self.at < len(self.tokens) else None

    def take(self) -> tuple[str, str, int]:
        token = self.peek()
        if token is None:
            raise _fail("the expression ends too early", self.end)
        self.at += 1
        return token

    def expect(self, text: str) -> None:
        kind, value, position = self.take()
        if value != text:
            raise _fail(f"expected '{text}', found '{value}'", position)

    def word_is(self, word: str) -> bool:
        token = self.peek()
        return token is not None and token[0] == "name" and token[1] == word

    def parse(self) -> Node:
        if not self.tokens:
            raise _fail("empty")
        node = self.disjunction()
        token = self.peek()
        if token is not None:
            raise _fail(f"unexpected '{token[1]}' after a complete expression", token[2])
        return node

    def disjunction(self) -> Node:
        node = self.conjunction()
        while self.word_is("or"):
            self.take()
            node = Logical("or", node, self.conjunction())
        return node

    def conjunction(self) -> Node:
        node = self.negation()
        while self.word_is("and"):
            self.take()
            node = Logical("and", node, self.negation())
        return node

    def negation(self) -> Node:
        if self.word_is("not"):
            self.take()
            return Not(self.nested(self.negation))
        return self.primary()

    def nested(self, rule: Any) -> Node:
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise _fail(f"nested deeper than {MAX_DEPTH} levels")
        try:
            return rule()
        finally:
            self.depth -= 1

    def primary(self) -> Node:
        token = self.peek()
        if token is not None and token[1] == "(":
            self.take()
            node = self.nested(self.disjunction)
            self.expect(")")
            return node
        if token is not None and token[0] == "name" and token[1] in FUNCTIONS:
            return self.call()
        if token is not None and token[0] == "name" and self.at + 1 < len(self.tokens) \
                and self.tokens[self.at + 1][1] == "(":
            raise _fail(f"function '{token[1]}' is not supported (only {', '.join(sorted(FUNCTIONS))})", token[2])
        return self.comparison()

    def call(self) -> Call:
        _, function, position = self.take()
        self.expect("(")
        operand = self.operand()
        self.expect(",")
        text = self.operand()
        self.expect(")")
        if not isinstance(operand, Prop) or operand.type is not EdmType.STRING:
            raise _fail(f"{function}() takes a text property first", position)
        if not isinstance(text, Literal) or text.kind != "string":
            raise _fail(f"{function}() takes a quoted text second", position)
        return Call(function, operand, text.value)

    def comparison(self) -> Compare:
        left = self.operand()
        kind, op, position = self.take()
        if kind != "name" or op not in COMPARISONS:
            raise _fail(f"expected one of {', '.join(sorted(COMPARISONS))}, found '{op}'", position)
        right = self.operand()
        _check_types(op, left, right, position)
        return Compare(op, left, right)

    def operand(self) -> Prop | Literal:
        kind, value, position = self.take()
        if kind == "string":
            return Literal(value[1:-1].replace("''", "'"), "string")
        if kind == "number":
            return Literal(float(value), "number")
        if kind == "datetime":
            return Literal(_datetime(value, position), "datetime")
        if kind == "name":
            if value in ("true", "false"):
                return Literal(value == "true", "boolean")
            if value == "null":
                return Literal(None, "null")
            prop = self.entity_set.prop(value)
            if prop is None:
                raise _fail(f"'{value}' is not a property of {self.entity_set.name} "
                            f"(properties: {', '.join(self.entity_set.names)})", position)
            return Prop(prop.name, prop.type)
        raise _fail(f"expected a property or a value, found '{value}'", position)


def _datetime(text: str, position: int) -> datetime:
    if not (text.endswith("Z") or re.search(r"[+-]\d{2}:\d{2}$", text)):
        raise _fail(f"date-time '{text}' needs a time zone: Z or an offset like +07:00", position)
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise _fail(f"'{text}' is not a valid date-time", position) from None


def _kind(operand: Prop | Literal) -> str:
    return _KIND_OF_TYPE[operand.type] if isinstance(operand, Prop) else operand.kind


def _check_types(op: str, left: Prop | Literal, right: Prop | Literal, position: int) -> None:
    if not (isinstance(left, Prop) or isinstance(right, Prop)):
        raise _fail("a comparison needs a property on one side", position)
    kinds = {_kind(left), _kind(right)}
    if "null" in kinds:
        if op not in ("eq", "ne"):
            raise _fail(f"null compares with eq and ne only, not {op}", position)
        return
    if len(kinds) > 1:
        raise _fail(f"cannot compare {_kind(left)} with {_kind(right)}", position)
    if kinds == {"boolean"} and op not in ("eq", "ne"):
        raise _fail(f"true/false compare with eq and ne only, not {op}", position)


def parse_filter(text: str, entity_set: EntitySet) -> Node:
    """The checked syntax tree of a $filter on `entity_set`; ODataError (400) for anything unsupported."""
    if len(text) > MAX_LENGTH:
        raise _fail(f"longer than {MAX_LENGTH} characters")
    return _Parser(text, entity_set).parse()


def properties_of(node: Node) -> set[str]:
    """The properties a filter reads (to know which costly ones a query needs)."""
    if isinstance(node, Compare):
        return {side.name for side in (node.left, node.right) if isinstance(side, Prop)}
    if isinstance(node, Call):
        return {node.prop.name}
    if isinstance(node, Not):
        return properties_of(node.operand)
    return properties_of(node.left) | properties_of(node.right)


def conjuncts(node: Node | None) -> list[Node]:
    """The filter split at its top-level `and`s: each part may be applied on its own, in any order."""
    if node is None:
        return []
    if isinstance(node, Logical) and node.op == "and":
        return conjuncts(node.left) + conjuncts(node.right)
    return [node]


def equal_to(node: Node, name: str) -> set[str] | None:
    """The values `name` must equal for `node` to hold (`name eq 'x'`, or several of them joined by `or`);
    None when the node does not pin it (used to read only the feeds a filter names)."""
    if isinstance(node, Compare) and node.op == "eq":
        sides = (node.left, node.right)
        prop = next((side for side in sides if isinstance(side, Prop)), None)
        literal = next((side for side in sides if isinstance(side, Literal)), None)
        if prop is not None and prop.name == name and literal is not None and literal.kind == "string":
            return {literal.value}
        return None
    if isinstance(node, Logical) and node.op == "or":
        left, right = equal_to(node.left, name), equal_to(node.right, name)
        return left | right if left is not None and right is not None else None
    return None
