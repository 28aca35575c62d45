"""The syntax tree of expressions: literals, names, operators, calls, durations and event aggregates."""

from __future__ import annotations

from typing import Union

from leadlang.span import Span
from leadlang.syntax.ast.node import Node, node, span_field


@node
class Literal(Node):
    """A constant: `kind` is int, number, string, bool, date or timestamp."""

    value: object
    kind: str
    span: Span = span_field()


@node
class ListLit(Node):
    items: tuple[Expr, ...]
    span: Span = span_field()


@node
class Name(Node):
    """A bare name: a lead field, let, signal, score, criteria or classification."""

    name: str
    span: Span = span_field()


@node
class Attr(Node):
    """`base.attr`: `account.industry` or a criteria member `ucc.urgency`."""

    base: str
    attr: str
    span: Span = span_field()


@node
class Disqualified(Node):
    """The built-in boolean `disqualified`."""

    span: Span = span_field()


@node
class Unary(Node):
    op: str  # "-" or "not"
    operand: Expr
    span: Span = span_field()


@node
class Binary(Node):
    """Logic (`and`, `or`), comparisons (`= != < <= > >=`) and arithmetic (`+ - * /`)."""

    op: str
    left: Expr
    right: Expr
    span: Span = span_field()


@node
class InList(Node):
    operand: Expr
    items: Expr
    negated: bool = False
    span: Span = span_field()


@node
class Between(Node):
    operand: Expr
    low: Expr
    high: Expr
    span: Span = span_field()


@node
class TextTest(Node):
    """`contains`, `contains_any`, `starts_with`, `ends_with` or `matches`."""

    op: str
    operand: Expr
    arg: Expr
    span: Span = span_field()


@node
class IsMissing(Node):
    """`x is missing` (or `x is present`, with `negated`)."""

    operand: Expr
    negated: bool = False
    span: Span = span_field()


@node
class IsLabel(Node):
    """`fit is high`, `segment is not ignore`."""

    operand: Expr
    label: str
    negated: bool = False
    label_span: Span = span_field()
    span: Span = span_field()


@node
class Call(Node):
    func: str
    args: tuple[Expr, ...]
    span: Span = span_field()


@node
class Duration(Node):
    seconds: int
    text: str
    unit: str
    span: Span = span_field()


@node
class Aggregate(Node):
    """`AGG(SOURCE[.column] [names] [where C] [in last D] [half-life D] [by account])`."""

    func: str
    source: str
    column: str | None = None
    names: tuple[str, ...] | None = None
    where: Expr | None = None
    window: Duration | None = None
    half_life: Duration | None = None
    by_account: bool = False
    source_span: Span = span_field()
    span: Span = span_field()


Expr = Union[
    Literal, ListLit, Name, Attr, Disqualified, Unary, Binary, InList, Between,
    TextTest, IsMissing, IsLabel, Call, Aggregate,
]
