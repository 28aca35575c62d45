"""The syntax tree of declarations: sources, `let`, signals, scores, bands, criteria, gates, matrices, classify, actions, the module."""

from __future__ import annotations

from decimal import Decimal
from typing import Union

from leadlang.span import Span
from leadlang.syntax.ast.exprs import Expr, Literal
from leadlang.syntax.ast.node import Node, node, span_field
from leadlang.syntax.ast.tests import Test


@node
class TypeRef(Node):
    """`string`, `int`, `number`, `bool`, `date`, `timestamp` or `enum(...)`."""

    name: str
    values: tuple[str, ...] = ()
    span: Span = span_field()


@node
class Field(Node):
    name: str
    type: TypeRef
    span: Span = span_field()


@node
class Relation(Node):
    """`ref("model")` or `source("source_name", "table")`."""

    kind: str
    parts: tuple[str, ...]
    span: Span = span_field()

    def __str__(self) -> str:
        args = ", ".join(f'"{p}"' for p in self.parts)
        return f"{self.kind}({args})"


@node
class Leads(Node):
    relation: Relation
    key: str
    account: str | None
    fields: tuple[Field, ...]
    span: Span = span_field()


@node
class Accounts(Node):
    relation: Relation
    key: str
    fields: tuple[Field, ...]
    span: Span = span_field()


@node
class Events(Node):
    name: str
    relation: Relation
    lead: str | None
    at: str | None
    event_name: str | None
    fields: tuple[Field, ...]
    span: Span = span_field()


# ------------------------------------------------------------- declarations --


@node
class PolicyHeader(Node):
    name: str
    title: str
    span: Span = span_field()


@node
class Version(Node):
    value: str
    span: Span = span_field()


@node
class Owner(Node):
    value: str
    span: Span = span_field()


@node
class Use(Node):
    path: str
    span: Span = span_field()


@node
class Let(Node):
    name: str
    expr: Expr
    span: Span = span_field()


@node
class Signal(Node):
    name: str
    expr: Expr
    span: Span = span_field()


@node
class Clamp(Node):
    low: Decimal
    high: Decimal
    span: Span = span_field()


@node
class Rule(Node):
    """`id: +N when COND` (kind `when`) or `id: +N per VALUE [, max M]` (kind `per`)."""

    id: str
    points: Decimal
    kind: str
    expr: Expr
    cap: Decimal | None = None
    span: Span = span_field()


@node
class PointsScore(Node):
    name: str
    clamp: Clamp | None
    rules: tuple[Rule, ...]
    span: Span = span_field()


@node
class DerivedScore(Node):
    name: str
    clamp: Clamp | None
    expr: Expr
    span: Span = span_field()


@node
class Band(Node):
    label: str
    threshold: Decimal | None  # None for `otherwise`
    span: Span = span_field()


@node
class Bands(Node):
    score: str
    bands: tuple[Band, ...]
    score_span: Span = span_field()
    span: Span = span_field()


@node
class Member(Node):
    """A criteria member or a disqualify gate: `id: COND`."""

    id: str
    cond: Expr
    span: Span = span_field()


@node
class Criteria(Node):
    name: str
    required: int | None  # None means `require all`
    members: tuple[Member, ...]
    span: Span = span_field()


@node
class Disqualify(Node):
    gates: tuple[Member, ...]
    span: Span = span_field()


@node
class MatrixRow(Node):
    band: str
    cells: tuple[str, ...]
    span: Span = span_field()


@node
class Matrix(Node):
    name: str
    rows_score: str
    cols_score: str
    columns: tuple[str, ...]
    rows: tuple[MatrixRow, ...]
    header_span: Span = span_field()
    span: Span = span_field()


@node
class Branch(Node):
    label: str
    cond: Expr
    span: Span = span_field()


@node
class Classify(Node):
    name: str
    branches: tuple[Branch, ...]
    otherwise: str
    otherwise_span: Span = span_field()
    span: Span = span_field()


@node
class Setting(Node):
    key: str
    value: Literal
    span: Span = span_field()


@node
class Action(Node):
    label: str
    settings: tuple[Setting, ...]
    span: Span = span_field()


@node
class Actions(Node):
    target: str
    actions: tuple[Action, ...]
    target_span: Span = span_field()
    span: Span = span_field()


Decl = Union[
    PolicyHeader, Version, Owner, Use, Leads, Accounts, Events, Let, Signal,
    PointsScore, DerivedScore, Bands, Criteria, Disqualify, Matrix, Classify,
    Actions, Test,
]


@node
class Module(Node):
    """One parsed `.lead` file: its declarations in file order."""

    path: str
    decls: tuple[Decl, ...]
    span: Span = span_field()
