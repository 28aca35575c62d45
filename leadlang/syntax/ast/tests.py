"""The syntax tree of `test` blocks: the as-of time, lead and account rows, event lines and expectations."""

from __future__ import annotations

import datetime as dt
from typing import Union

from leadlang.span import Span
from leadlang.syntax.ast.exprs import Duration, Expr, Literal
from leadlang.syntax.ast.node import Node, node, span_field


@node
class Pair(Node):
    key: str
    value: Literal | None  # None for `missing`
    span: Span = span_field()


@node
class EventLine(Node):
    name: str
    ago: Duration | None
    at: dt.datetime | None
    times: int
    pairs: tuple[Pair, ...]
    span: Span = span_field()


@node
class TestAsOf(Node):
    at: dt.datetime
    span: Span = span_field()


@node
class TestRow(Node):
    """A `lead { ... }` or `account { ... }` row of a test."""

    kind: str  # "lead" or "account"
    pairs: tuple[Pair, ...]
    span: Span = span_field()


@node
class TestEvents(Node):
    source: str
    lines: tuple[EventLine, ...]
    span: Span = span_field()


@node
class Expect(Node):
    expr: Expr
    span: Span = span_field()


@node
class ExpectFired(Node):
    component: str
    rule: str
    negated: bool = False
    span: Span = span_field()


@node
class ExpectBecause(Node):
    gate: str
    span: Span = span_field()


TestItem = Union[TestAsOf, TestRow, TestEvents, Expect, ExpectFired, ExpectBecause]


@node
class Test(Node):
    name: str
    items: tuple[TestItem, ...]
    span: Span = span_field()
