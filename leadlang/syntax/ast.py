"""The `.lead` syntax tree: frozen, slotted dataclasses with a `Span` on every node.

Spans never take part in equality (`compare=False`), so two trees that differ
only in layout compare equal — which is what the formatter's "meaning is
unchanged" check relies on.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field, fields
from decimal import Decimal
from typing import Union

from leadlang.span import NOWHERE, Span


class _Node:
    """Equality, hashing and repr shared by every node, over the fields that compare.

    They behave as the ones `dataclass(eq=True, frozen=True)` would write for each
    class; written once here, they save Python generating and compiling three
    methods for each of the fifty-odd node classes every time leadlang starts.
    """

    __slots__ = ()

    def __eq__(self, other):
        if other.__class__ is not self.__class__:
            return NotImplemented
        return all(getattr(self, f) == getattr(other, f) for f in _compared(self.__class__))

    def __hash__(self):
        return hash((self.__class__.__name__, *(getattr(self, f) for f in _compared(self.__class__))))

    def __repr__(self):
        shown = ", ".join(f"{f.name}={getattr(self, f.name)!r}" for f in fields(self) if f.repr)
        return f"{self.__class__.__qualname__}({shown})"


_COMPARED: dict[type, tuple[str, ...]] = {}


def _compared(cls: type) -> tuple[str, ...]:
    names = _COMPARED.get(cls)
    if names is None:
        names = _COMPARED[cls] = tuple(f.name for f in fields(cls) if f.compare)
    return names


def node(cls):
    """A syntax tree node: a frozen, slotted dataclass (see `_Node`)."""
    return dataclass(frozen=True, slots=True, eq=False, repr=False)(cls)


class QuotedName(str):
    """A name written in backticks: it may be a keyword or hold spaces.

    It equals the plain string, so lookups need not care; only the keyword
    check (and the formatter) ask how it was written.
    """

    __slots__ = ()


def _span() -> Span:
    return field(default=NOWHERE, compare=False, repr=False)


# ------------------------------------------------------------- expressions --


@node
class Literal(_Node):
    """A constant: `kind` is int, number, string, bool, date or timestamp."""

    value: object
    kind: str
    span: Span = _span()


@node
class ListLit(_Node):
    items: tuple[Expr, ...]
    span: Span = _span()


@node
class Name(_Node):
    """A bare name: a lead field, let, signal, score, criteria or classification."""

    name: str
    span: Span = _span()


@node
class Attr(_Node):
    """`base.attr`: `account.industry` or a criteria member `ucc.urgency`."""

    base: str
    attr: str
    span: Span = _span()


@node
class Disqualified(_Node):
    """The built-in boolean `disqualified`."""

    span: Span = _span()


@node
class Unary(_Node):
    op: str  # "-" or "not"
    operand: Expr
    span: Span = _span()


@node
class Binary(_Node):
    """Logic (`and`, `or`), comparisons (`= != < <= > >=`) and arithmetic (`+ - * /`)."""

    op: str
    left: Expr
    right: Expr
    span: Span = _span()


@node
class InList(_Node):
    operand: Expr
    items: Expr
    negated: bool = False
    span: Span = _span()


@node
class Between(_Node):
    operand: Expr
    low: Expr
    high: Expr
    span: Span = _span()


@node
class TextTest(_Node):
    """`contains`, `contains_any`, `starts_with`, `ends_with` or `matches`."""

    op: str
    operand: Expr
    arg: Expr
    span: Span = _span()


@node
class IsMissing(_Node):
    """`x is missing` (or `x is present`, with `negated`)."""

    operand: Expr
    negated: bool = False
    span: Span = _span()


@node
class IsLabel(_Node):
    """`fit is high`, `segment is not ignore`."""

    operand: Expr
    label: str
    negated: bool = False
    label_span: Span = _span()
    span: Span = _span()


@node
class Call(_Node):
    func: str
    args: tuple[Expr, ...]
    span: Span = _span()


@node
class Duration(_Node):
    seconds: int
    text: str
    unit: str
    span: Span = _span()


@node
class Aggregate(_Node):
    """`AGG(SOURCE[.column] [names] [where C] [in last D] [half-life D] [by account])`."""

    func: str
    source: str
    column: str | None = None
    names: tuple[str, ...] | None = None
    where: Expr | None = None
    window: Duration | None = None
    half_life: Duration | None = None
    by_account: bool = False
    source_span: Span = _span()
    span: Span = _span()


Expr = Union[
    Literal, ListLit, Name, Attr, Disqualified, Unary, Binary, InList, Between,
    TextTest, IsMissing, IsLabel, Call, Aggregate,
]


# ------------------------------------------------------------------ sources --


@node
class TypeRef(_Node):
    """`string`, `int`, `number`, `bool`, `date`, `timestamp` or `enum(...)`."""

    name: str
    values: tuple[str, ...] = ()
    span: Span = _span()


@node
class Field(_Node):
    name: str
    type: TypeRef
    span: Span = _span()


@node
class Relation(_Node):
    """`ref("model")` or `source("source_name", "table")`."""

    kind: str
    parts: tuple[str, ...]
    span: Span = _span()

    def __str__(self) -> str:
        args = ", ".join(f'"{p}"' for p in self.parts)
        return f"{self.kind}({args})"


@node
class Leads(_Node):
    relation: Relation
    key: str
    account: str | None
    fields: tuple[Field, ...]
    span: Span = _span()


@node
class Accounts(_Node):
    relation: Relation
    key: str
    fields: tuple[Field, ...]
    span: Span = _span()


@node
class Events(_Node):
    name: str
    relation: Relation
    lead: str | None
    at: str | None
    event_name: str | None
    fields: tuple[Field, ...]
    span: Span = _span()


# ------------------------------------------------------------- declarations --


@node
class PolicyHeader(_Node):
    name: str
    title: str
    span: Span = _span()


@node
class Version(_Node):
    value: str
    span: Span = _span()


@node
class Owner(_Node):
    value: str
    span: Span = _span()


@node
class Use(_Node):
    path: str
    span: Span = _span()


@node
class Let(_Node):
    name: str
    expr: Expr
    span: Span = _span()


@node
class Signal(_Node):
    name: str
    expr: Expr
    span: Span = _span()


@node
class Clamp(_Node):
    low: Decimal
    high: Decimal
    span: Span = _span()


@node
class Rule(_Node):
    """`id: +N when COND` (kind `when`) or `id: +N per VALUE [, max M]` (kind `per`)."""

    id: str
    points: Decimal
    kind: str
    expr: Expr
    cap: Decimal | None = None
    span: Span = _span()


@node
class PointsScore(_Node):
    name: str
    clamp: Clamp | None
    rules: tuple[Rule, ...]
    span: Span = _span()


@node
class DerivedScore(_Node):
    name: str
    clamp: Clamp | None
    expr: Expr
    span: Span = _span()


@node
class Band(_Node):
    label: str
    threshold: Decimal | None  # None for `otherwise`
    span: Span = _span()


@node
class Bands(_Node):
    score: str
    bands: tuple[Band, ...]
    score_span: Span = _span()
    span: Span = _span()


@node
class Member(_Node):
    """A criteria member or a disqualify gate: `id: COND`."""

    id: str
    cond: Expr
    span: Span = _span()


@node
class Criteria(_Node):
    name: str
    required: int | None  # None means `require all`
    members: tuple[Member, ...]
    span: Span = _span()


@node
class Disqualify(_Node):
    gates: tuple[Member, ...]
    span: Span = _span()


@node
class MatrixRow(_Node):
    band: str
    cells: tuple[str, ...]
    span: Span = _span()


@node
class Matrix(_Node):
    name: str
    rows_score: str
    cols_score: str
    columns: tuple[str, ...]
    rows: tuple[MatrixRow, ...]
    header_span: Span = _span()
    span: Span = _span()


@node
class Branch(_Node):
    label: str
    cond: Expr
    span: Span = _span()


@node
class Classify(_Node):
    name: str
    branches: tuple[Branch, ...]
    otherwise: str
    otherwise_span: Span = _span()
    span: Span = _span()


@node
class Setting(_Node):
    key: str
    value: Literal
    span: Span = _span()


@node
class Action(_Node):
    label: str
    settings: tuple[Setting, ...]
    span: Span = _span()


@node
class Actions(_Node):
    target: str
    actions: tuple[Action, ...]
    target_span: Span = _span()
    span: Span = _span()


# -------------------------------------------------------------------- tests --


@node
class Pair(_Node):
    key: str
    value: Literal | None  # None for `missing`
    span: Span = _span()


@node
class EventLine(_Node):
    name: str
    ago: Duration | None
    at: dt.datetime | None
    times: int
    pairs: tuple[Pair, ...]
    span: Span = _span()


@node
class TestAsOf(_Node):
    at: dt.datetime
    span: Span = _span()


@node
class TestRow(_Node):
    """A `lead { ... }` or `account { ... }` row of a test."""

    kind: str  # "lead" or "account"
    pairs: tuple[Pair, ...]
    span: Span = _span()


@node
class TestEvents(_Node):
    source: str
    lines: tuple[EventLine, ...]
    span: Span = _span()


@node
class Expect(_Node):
    expr: Expr
    span: Span = _span()


@node
class ExpectFired(_Node):
    component: str
    rule: str
    negated: bool = False
    span: Span = _span()


@node
class ExpectBecause(_Node):
    gate: str
    span: Span = _span()


TestItem = Union[TestAsOf, TestRow, TestEvents, Expect, ExpectFired, ExpectBecause]


@node
class Test(_Node):
    name: str
    items: tuple[TestItem, ...]
    span: Span = _span()


Decl = Union[
    PolicyHeader, Version, Owner, Use, Leads, Accounts, Events, Let, Signal,
    PointsScore, DerivedScore, Bands, Criteria, Disqualify, Matrix, Classify,
    Actions, Test,
]


@node
class Module(_Node):
    """One parsed `.lead` file: its declarations in file order."""

    path: str
    decls: tuple[Decl, ...]
    span: Span = _span()


# ------------------------------------------------------------------ walking --


def children(node) -> list:
    """The nodes directly under `node`, in field order (spans are not nodes)."""
    out = []
    for name in getattr(node, "__dataclass_fields__", ()):
        value = getattr(node, name)
        if isinstance(value, tuple):
            out.extend(v for v in value if hasattr(v, "__dataclass_fields__") and not isinstance(v, Span))
        elif hasattr(value, "__dataclass_fields__") and not isinstance(value, Span):
            out.append(value)
    return out


def walk(node):
    """Every node under `node`, itself included, in source order (no recursion)."""
    stack = [node]
    while stack:
        n = stack.pop()
        yield n
        stack.extend(reversed(children(n)))
