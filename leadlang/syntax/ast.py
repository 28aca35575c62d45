"""The `.lead` syntax tree: frozen, slotted dataclasses with a `Span` on every node.

Spans never take part in equality (`compare=False`), so two trees that differ
only in layout compare equal — which is what the formatter's "meaning is
unchanged" check relies on.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Union


@dataclass(frozen=True, slots=True)
class Span:
    """Where a node stands in its source file (1-based lines and columns)."""

    file: str
    line: int
    column: int
    end_line: int
    end_column: int
    start: int = 0
    end: int = 0

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.column}"


class QuotedName(str):
    """A name written in backticks: it may be a keyword or hold spaces.

    It equals the plain string, so lookups need not care; only the keyword
    check (and the formatter) ask how it was written.
    """

    __slots__ = ()


NOWHERE = Span("<unknown>", 0, 0, 0, 0)


def _span() -> Span:
    return field(default=NOWHERE, compare=False, repr=False)


# ------------------------------------------------------------- expressions --


@dataclass(frozen=True, slots=True)
class Literal:
    """A constant: `kind` is int, number, string, bool, date or timestamp."""

    value: object
    kind: str
    span: Span = _span()


@dataclass(frozen=True, slots=True)
class ListLit:
    items: tuple[Expr, ...]
    span: Span = _span()


@dataclass(frozen=True, slots=True)
class Name:
    """A bare name: a lead field, let, signal, score, criteria or classification."""

    name: str
    span: Span = _span()


@dataclass(frozen=True, slots=True)
class Attr:
    """`base.attr`: `account.industry` or a criteria member `ucc.urgency`."""

    base: str
    attr: str
    span: Span = _span()


@dataclass(frozen=True, slots=True)
class Disqualified:
    """The built-in boolean `disqualified`."""

    span: Span = _span()


@dataclass(frozen=True, slots=True)
class Unary:
    op: str  # "-" or "not"
    operand: Expr
    span: Span = _span()


@dataclass(frozen=True, slots=True)
class Binary:
    """Logic (`and`, `or`), comparisons (`= != < <= > >=`) and arithmetic (`+ - * /`)."""

    op: str
    left: Expr
    right: Expr
    span: Span = _span()


@dataclass(frozen=True, slots=True)
class InList:
    operand: Expr
    items: Expr
    negated: bool = False
    span: Span = _span()


@dataclass(frozen=True, slots=True)
class Between:
    operand: Expr
    low: Expr
    high: Expr
    span: Span = _span()


@dataclass(frozen=True, slots=True)
class TextTest:
    """`contains`, `contains_any`, `starts_with`, `ends_with` or `matches`."""

    op: str
    operand: Expr
    arg: Expr
    span: Span = _span()


@dataclass(frozen=True, slots=True)
class IsMissing:
    """`x is missing` (or `x is present`, with `negated`)."""

    operand: Expr
    negated: bool = False
    span: Span = _span()


@dataclass(frozen=True, slots=True)
class IsLabel:
    """`fit is high`, `segment is not ignore`."""

    operand: Expr
    label: str
    negated: bool = False
    label_span: Span = _span()
    span: Span = _span()


@dataclass(frozen=True, slots=True)
class Call:
    func: str
    args: tuple[Expr, ...]
    span: Span = _span()


@dataclass(frozen=True, slots=True)
class Duration:
    seconds: int
    text: str
    unit: str
    span: Span = _span()


@dataclass(frozen=True, slots=True)
class Aggregate:
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


@dataclass(frozen=True, slots=True)
class TypeRef:
    """`string`, `int`, `number`, `bool`, `date`, `timestamp` or `enum(...)`."""

    name: str
    values: tuple[str, ...] = ()
    span: Span = _span()


@dataclass(frozen=True, slots=True)
class Field:
    name: str
    type: TypeRef
    span: Span = _span()


@dataclass(frozen=True, slots=True)
class Relation:
    """`ref("model")` or `source("source_name", "table")`."""

    kind: str
    parts: tuple[str, ...]
    span: Span = _span()

    def __str__(self) -> str:
        args = ", ".join(f'"{p}"' for p in self.parts)
        return f"{self.kind}({args})"


@dataclass(frozen=True, slots=True)
class Leads:
    relation: Relation
    key: str
    account: str | None
    fields: tuple[Field, ...]
    span: Span = _span()


@dataclass(frozen=True, slots=True)
class Accounts:
    relation: Relation
    key: str
    fields: tuple[Field, ...]
    span: Span = _span()


@dataclass(frozen=True, slots=True)
class Events:
    name: str
    relation: Relation
    lead: str | None
    at: str | None
    event_name: str | None
    fields: tuple[Field, ...]
    span: Span = _span()


# ------------------------------------------------------------- declarations --


@dataclass(frozen=True, slots=True)
class PolicyHeader:
    name: str
    title: str
    span: Span = _span()


@dataclass(frozen=True, slots=True)
class Version:
    value: str
    span: Span = _span()


@dataclass(frozen=True, slots=True)
class Owner:
    value: str
    span: Span = _span()


@dataclass(frozen=True, slots=True)
class Use:
    path: str
    span: Span = _span()


@dataclass(frozen=True, slots=True)
class Let:
    name: str
    expr: Expr
    span: Span = _span()


@dataclass(frozen=True, slots=True)
class Signal:
    name: str
    expr: Expr
    span: Span = _span()


@dataclass(frozen=True, slots=True)
class Clamp:
    low: Decimal
    high: Decimal
    span: Span = _span()


@dataclass(frozen=True, slots=True)
class Rule:
    """`id: +N when COND` (kind `when`) or `id: +N per VALUE [, max M]` (kind `per`)."""

    id: str
    points: Decimal
    kind: str
    expr: Expr
    cap: Decimal | None = None
    span: Span = _span()


@dataclass(frozen=True, slots=True)
class PointsScore:
    name: str
    clamp: Clamp | None
    rules: tuple[Rule, ...]
    span: Span = _span()


@dataclass(frozen=True, slots=True)
class DerivedScore:
    name: str
    clamp: Clamp | None
    expr: Expr
    span: Span = _span()


@dataclass(frozen=True, slots=True)
class Band:
    label: str
    threshold: Decimal | None  # None for `otherwise`
    span: Span = _span()


@dataclass(frozen=True, slots=True)
class Bands:
    score: str
    bands: tuple[Band, ...]
    score_span: Span = _span()
    span: Span = _span()


@dataclass(frozen=True, slots=True)
class Member:
    """A criteria member or a disqualify gate: `id: COND`."""

    id: str
    cond: Expr
    span: Span = _span()


@dataclass(frozen=True, slots=True)
class Criteria:
    name: str
    required: int | None  # None means `require all`
    members: tuple[Member, ...]
    span: Span = _span()


@dataclass(frozen=True, slots=True)
class Disqualify:
    gates: tuple[Member, ...]
    span: Span = _span()


@dataclass(frozen=True, slots=True)
class MatrixRow:
    band: str
    cells: tuple[str, ...]
    span: Span = _span()


@dataclass(frozen=True, slots=True)
class Matrix:
    name: str
    rows_score: str
    cols_score: str
    columns: tuple[str, ...]
    rows: tuple[MatrixRow, ...]
    header_span: Span = _span()
    span: Span = _span()


@dataclass(frozen=True, slots=True)
class Branch:
    label: str
    cond: Expr
    span: Span = _span()


@dataclass(frozen=True, slots=True)
class Classify:
    name: str
    branches: tuple[Branch, ...]
    otherwise: str
    otherwise_span: Span = _span()
    span: Span = _span()


@dataclass(frozen=True, slots=True)
class Setting:
    key: str
    value: Literal
    span: Span = _span()


@dataclass(frozen=True, slots=True)
class Action:
    label: str
    settings: tuple[Setting, ...]
    span: Span = _span()


@dataclass(frozen=True, slots=True)
class Actions:
    target: str
    actions: tuple[Action, ...]
    target_span: Span = _span()
    span: Span = _span()


# -------------------------------------------------------------------- tests --


@dataclass(frozen=True, slots=True)
class Pair:
    key: str
    value: Literal | None  # None for `missing`
    span: Span = _span()


@dataclass(frozen=True, slots=True)
class EventLine:
    name: str
    ago: Duration | None
    at: dt.datetime | None
    times: int
    pairs: tuple[Pair, ...]
    span: Span = _span()


@dataclass(frozen=True, slots=True)
class TestAsOf:
    at: dt.datetime
    span: Span = _span()


@dataclass(frozen=True, slots=True)
class TestRow:
    """A `lead { ... }` or `account { ... }` row of a test."""

    kind: str  # "lead" or "account"
    pairs: tuple[Pair, ...]
    span: Span = _span()


@dataclass(frozen=True, slots=True)
class TestEvents:
    source: str
    lines: tuple[EventLine, ...]
    span: Span = _span()


@dataclass(frozen=True, slots=True)
class Expect:
    expr: Expr
    span: Span = _span()


@dataclass(frozen=True, slots=True)
class ExpectFired:
    component: str
    rule: str
    negated: bool = False
    span: Span = _span()


@dataclass(frozen=True, slots=True)
class ExpectBecause:
    gate: str
    span: Span = _span()


TestItem = Union[TestAsOf, TestRow, TestEvents, Expect, ExpectFired, ExpectBecause]


@dataclass(frozen=True, slots=True)
class Test:
    name: str
    items: tuple[TestItem, ...]
    span: Span = _span()


Decl = Union[
    PolicyHeader, Version, Owner, Use, Leads, Accounts, Events, Let, Signal,
    PointsScore, DerivedScore, Bands, Criteria, Disqualify, Matrix, Classify,
    Actions, Test,
]


@dataclass(frozen=True, slots=True)
class Module:
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
