"""Lark's parse tree to the syntax tree, first half: the dispatch, names, literals and expressions."""

from __future__ import annotations

import dataclasses
import datetime as dt

from lark import Token, Transformer_NonRecursive
from lark.exceptions import VisitError

from leadlang.span import NOWHERE, Span
from leadlang.syntax import ast as A
from leadlang.syntax import chunks
from leadlang.syntax import hints as fixes
from leadlang.syntax.literals import DURATION_UNITS, BadLiteral, number, parse_timestamp, unquote


def _span(path: str, meta, lines: int = 0, chars: int = 0) -> Span:
    """The span of a tree node, in a text that starts `lines` lines and `chars` characters into its file."""
    if getattr(meta, "empty", True) and not hasattr(meta, "line"):
        return NOWHERE
    return Span(path, meta.line + lines, meta.column, meta.end_line + lines, meta.end_column, meta.start_pos + chars, meta.end_pos + chars)


def tok_span(path: str, tok: Token) -> Span:
    return Span(path, tok.line, tok.column, tok.end_line, tok.end_column, tok.start_pos, tok.end_pos)


class BadSpan(Exception):
    def __init__(self, message: str, span: Span):
        self.message, self.span = message, span


class ExprBuilder(Transformer_NonRecursive):
    """Parse tree -> AST, for expressions (`Build` adds the declarations). Method names are the grammar's rule names and aliases.

    Each method is called as `method(meta, *children)`. The dispatch below does
    what `v_args(inline=True, meta=True)` would, without Lark wrapping the
    method anew on every call (a third of the transform's time).
    """

    def __init__(self, path: str, lines: int = 0, chars: int = 0):
        super().__init__(visit_tokens=False)
        self.path = path
        self.lines, self.chars = lines, chars  # where the text parsed starts in its file

    def _call_userfunc(self, tree, new_children=None):
        children = tree.children if new_children is None else new_children
        method = getattr(type(self), tree.data, None)
        if method is None:
            return self.__default__(tree.data, children, tree.meta)
        try:
            return method(self, tree.meta, *children)
        except Exception as e:
            raise VisitError(tree.data, tree, e) from e

    def sp(self, meta) -> Span:
        return _span(self.path, meta, self.lines, self.chars)

    def tok_sp(self, tok: Token) -> Span:
        span = tok_span(self.path, tok)
        return chunks.relocate(span, self.lines, self.chars) if self.lines or self.chars else span

    # -- names and literals
    def name(self, meta, tok):
        if tok.type == "QUOTED_NAME":
            return A.QuotedName(tok.value[1:-1])
        return tok.value

    def int_lit(self, meta, tok):
        return A.Literal(int(tok.value.replace("_", "")), "int", self.sp(meta))

    def decimal_lit(self, meta, tok):
        return A.Literal(number(tok.value), "number", self.sp(meta))

    def points_lit(self, meta, tok):
        value = number(tok.value)
        if value == value.to_integral_value() and "." not in tok.value:
            return A.Literal(int(value), "int", self.sp(meta))
        return A.Literal(value, "number", self.sp(meta))

    def neg_int_lit(self, meta, tok):
        return A.Literal(-int(tok.value.replace("_", "")), "int", self.sp(meta))

    def neg_decimal_lit(self, meta, tok):
        return A.Literal(-number(tok.value), "number", self.sp(meta))

    def string_lit(self, meta, tok):
        return A.Literal(unquote(tok), "string", self.sp(meta))

    def true_lit(self, meta):
        return A.Literal(True, "bool", self.sp(meta))

    def false_lit(self, meta):
        return A.Literal(False, "bool", self.sp(meta))

    def missing_lit(self, meta):
        return None

    def date_lit(self, meta, tok):
        try:
            return A.Literal(dt.date.fromisoformat(tok.value), "date", self.sp(meta))
        except ValueError:
            raise BadLiteral(f"`{tok.value}` is not a valid date", tok) from None

    def timestamp_lit(self, meta, tok):
        try:
            return A.Literal(parse_timestamp(tok.value), "timestamp", self.sp(meta))
        except (ValueError, OverflowError):  # OverflowError: an offset that moves it out of 0001..9999 in UTC
            raise BadLiteral(f"`{tok.value}` is not a valid timestamp", tok) from None

    def list(self, meta, *items):
        return A.ListLit(tuple(i for i in items if i is not None), self.sp(meta))

    def duration(self, tok) -> A.Duration:
        count_text, unit = tok.value.split()
        unit = unit.rstrip("s")
        count = int(count_text.replace("_", ""))
        if unit in ("month", "year"):
            raise BadLiteral(f"`{tok.value}` is not a duration leadlang accepts", tok, fixes.unfixed_length(count, unit))
        return A.Duration(count * DURATION_UNITS[unit], f"{count} {unit}{'' if count == 1 else 's'}", unit, self.tok_sp(tok))

    # -- expressions
    def ref(self, meta, name):
        return A.Name(name, self.sp(meta))

    def attr(self, meta, base, attr):
        return A.Attr(base, attr, self.sp(meta))

    def disqualified(self, meta):
        return A.Disqualified(self.sp(meta))

    def or_(self, meta, *operands):
        return self._chain("or", operands, meta)

    def and_(self, meta, *operands):
        return self._chain("and", operands, meta)

    def _chain(self, op: str, operands, meta) -> A.Binary:
        """`a and b and c and d` as a balanced tree, ((a and b) and (c and d)): a chain of 5,000
        conditions nests 13 deep, so no stage walking it recursively runs out of stack, and the
        depth limit counts nesting, not length. (`and` and `or` are associative, also when unknown.)"""
        level = list(operands)
        while len(level) > 2:
            level = [self._pair(op, level[i], level[i + 1]) if i + 1 < len(level) else level[i] for i in range(0, len(level), 2)]
        return A.Binary(op, level[0], level[1], self.sp(meta))

    def _pair(self, op: str, left, right) -> A.Binary:
        a, b = left.span, right.span
        return A.Binary(op, left, right, Span(self.path, a.line, a.column, b.end_line, b.end_column, a.start, b.end))

    def not_(self, meta, operand):
        return A.Unary("not", operand, self.sp(meta))

    def neg(self, meta, operand):
        if isinstance(operand, A.Literal) and operand.kind in ("int", "number"):
            return A.Literal(-operand.value, operand.kind, self.sp(meta))
        return A.Unary("-", operand, self.sp(meta))

    def compare_op(self, meta, tok):
        return tok.value

    def compare(self, meta, left, op, right):
        return A.Binary(op, left, right, self.sp(meta))

    def add_op(self, meta, tok):
        return tok.value

    def mul_op(self, meta, tok):
        return tok.value

    def arith(self, meta, left, op, right):
        return A.Binary(op, left, right, self.sp(meta))

    def in_list(self, meta, operand, items):
        return A.InList(operand, items, False, self.sp(meta))

    def not_in_list(self, meta, operand, _tok, items):
        return A.InList(operand, items, True, self.sp(meta))

    def between(self, meta, operand, low, high):
        return A.Between(operand, low, high, self.sp(meta))

    def contains(self, meta, operand, arg):
        return A.TextTest("contains", operand, arg, self.sp(meta))

    def contains_any(self, meta, operand, _tok, arg):
        return A.TextTest("contains_any", operand, arg, self.sp(meta))

    def starts_with(self, meta, operand, _tok, arg):
        return A.TextTest("starts_with", operand, arg, self.sp(meta))

    def ends_with(self, meta, operand, _tok, arg):
        return A.TextTest("ends_with", operand, arg, self.sp(meta))

    def matches(self, meta, operand, pattern):
        lit = A.Literal(unquote(pattern), "string", self.tok_sp(pattern))
        return A.TextTest("matches", operand, lit, self.sp(meta))

    def _is(self, meta, operand, label, negated):
        if label == "missing":
            return A.IsMissing(operand, negated, self.sp(meta))
        if label == "present":
            return A.IsMissing(operand, not negated, self.sp(meta))
        end = self.sp(meta)
        label_span = Span(self.path, end.end_line, end.end_column - len(label), end.end_line, end.end_column, end.end - len(label), end.end)
        return A.IsLabel(operand, label, negated, label_span, end)

    def is_(self, meta, operand, label):
        return self._is(meta, operand, label, False)

    def is_not(self, meta, operand, _tok, label):
        return self._is(meta, operand, label, True)

    def call(self, meta, func, *args):
        return A.Call(func, tuple(a for a in args if a is not None), self.sp(meta))

    def aggregate(self, meta, func, query):
        return dataclasses.replace(query, func=func.value, span=self.sp(meta))

    def event_query(self, meta, source, column, names, where, window, half_life, by_account):
        if isinstance(names, Token):
            names = (unquote(names),)
        elif isinstance(names, A.ListLit):
            names = tuple(self._event_name(i) for i in names.items)
        return A.Aggregate(
            func="", source=source, column=column, names=names, where=where, window=window,
            half_life=half_life, by_account=by_account is not None, source_span=self.sp(meta), span=self.sp(meta),
        )

    def _event_name(self, item):
        if isinstance(item, A.Literal) and item.kind == "string":
            return item.value
        raise BadSpan("event names must be strings", getattr(item, "span", NOWHERE))

    def where(self, meta, expr):
        return expr

    def window(self, meta, _tok, duration):
        return self.duration(duration)

    def half_life(self, meta, _tok, duration):
        return self.duration(duration)
