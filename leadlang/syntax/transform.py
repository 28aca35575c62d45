"""Lark's parse tree to the syntax tree: `Build`, the expressions' builder with the sources, declarations and tests."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from leadlang.syntax import ast as A
from leadlang.syntax.literals import BadLiteral, parse_timestamp, unquote
from leadlang.syntax.transform_exprs import BadSpan, ExprBuilder


class Build(ExprBuilder):
    """Parse tree -> AST: a whole policy (or a chunk of one). Each method is called as `method(meta, *children)`."""

    # -- sources
    def ref_relation(self, meta, model):
        return A.Relation("ref", (unquote(model),), self.sp(meta))

    def source_relation(self, meta, source, table):
        return A.Relation("source", (unquote(source), unquote(table)), self.sp(meta))

    def type_ref(self, meta, tok):
        return A.TypeRef(tok.value, (), self.sp(meta))

    def enum_type(self, meta, *values):
        return A.TypeRef("enum", tuple(unquote(v) for v in values), self.sp(meta))

    def field_decl(self, meta, name, type_ref):
        return A.Field(name, type_ref, self.sp(meta))

    def leads(self, meta, relation, key, account, *fields):
        return A.Leads(relation, key, account, tuple(f for f in fields if f is not None), self.sp(meta))

    def accounts(self, meta, relation, key, *fields):
        return A.Accounts(relation, key, tuple(f for f in fields if f is not None), self.sp(meta))

    def event_lead(self, meta, name):
        return ("lead", name, self.sp(meta))

    def event_at(self, meta, name):
        return ("at", name, self.sp(meta))

    def event_name(self, meta, name):
        return ("name", name, self.sp(meta))

    def events(self, meta, name, relation, *items):
        roles: dict[str, str] = {}
        fields = []
        for item in items:
            if item is None:
                continue
            if isinstance(item, tuple):
                role, column, span = item
                if role in roles:
                    raise BadSpan(f"the `{role}` column is given twice", span)
                roles[role] = column
            else:
                fields.append(item)
        return A.Events(name, relation, roles.get("lead"), roles.get("at"), roles.get("name"), tuple(fields), self.sp(meta))

    # -- declarations
    def policy_header(self, meta, name, title):
        return A.PolicyHeader(name, unquote(title), self.sp(meta))

    def version(self, meta, value):
        return A.Version(unquote(value), self.sp(meta))

    def owner(self, meta, value):
        return A.Owner(unquote(value), self.sp(meta))

    def use(self, meta, path):
        return A.Use(unquote(path), self.sp(meta))

    def let(self, meta, name, expr):
        return A.Let(name, expr, self.sp(meta))

    def signal(self, meta, name, expr):
        return A.Signal(name, expr, self.sp(meta))

    def clamp(self, meta, low, high):
        return A.Clamp(Decimal(low.value), Decimal(high.value), self.sp(meta))

    def when_rule(self, meta, id_, points, expr):
        return A.Rule(id_, Decimal(points.value), "when", expr, None, self.sp(meta))

    def per_rule(self, meta, id_, points, expr, cap):
        return A.Rule(id_, Decimal(points.value), "per", expr, None if cap is None else Decimal(cap.value), self.sp(meta))

    def points_score(self, meta, name, clamp, *rules):
        return A.PointsScore(name, clamp, tuple(r for r in rules if r is not None), self.sp(meta))

    def derived_score(self, meta, name, clamp, expr):
        return A.DerivedScore(name, clamp, expr, self.sp(meta))

    def threshold_band(self, meta, label, threshold):
        return A.Band(label, Decimal(threshold.value), self.sp(meta))

    def otherwise_band(self, meta, label):
        return A.Band(label, None, self.sp(meta))

    def bands(self, meta, score, *bands):
        return A.Bands(score, tuple(bands), self.sp(meta), self.sp(meta))

    def require_all(self, meta):
        return None

    def require_k(self, meta, k):
        return int(k.value)

    def member(self, meta, id_, cond):
        return A.Member(id_, cond, self.sp(meta))

    def criteria(self, meta, name, required, *members):
        return A.Criteria(name, required, tuple(m for m in members if m is not None), self.sp(meta))

    def disqualify(self, meta, *gates):
        return A.Disqualify(tuple(g for g in gates if g is not None), self.sp(meta))

    def matrix_header(self, meta, *labels):
        return (tuple(labels), self.sp(meta))

    def matrix_row(self, meta, band, *cells):
        return A.MatrixRow(band, tuple(cells), self.sp(meta))

    def matrix(self, meta, name, rows_score, cols_score, header, *rows):
        columns, header_span = header
        return A.Matrix(name, rows_score, cols_score, columns, tuple(rows), header_span, self.sp(meta))

    def branch(self, meta, label, cond):
        return A.Branch(label, cond, self.sp(meta))

    def classify(self, meta, name, *rest):
        *branches, otherwise = rest
        return A.Classify(name, tuple(branches), otherwise, self.sp(meta), self.sp(meta))

    def setting(self, meta, key, value):
        if value is None:
            raise BadSpan("an action value cannot be `missing`", self.sp(meta))
        return A.Setting(key, value, self.sp(meta))

    def action(self, meta, label, *settings):
        return A.Action(label, tuple(settings), self.sp(meta))

    def actions(self, meta, target, *actions):
        return A.Actions(target, tuple(a for a in actions if a is not None), self.sp(meta), self.sp(meta))

    # -- tests
    def pair(self, meta, key, value):
        return A.Pair(key, value, self.sp(meta))

    def test_as_of(self, meta, moment):
        return A.TestAsOf(self._moment(moment), self.sp(meta))

    def _moment(self, tok) -> dt.datetime:
        try:
            return parse_timestamp(tok.value)
        except (ValueError, OverflowError):
            raise BadLiteral(f"`{tok.value}` is not a valid timestamp", tok) from None

    def test_lead(self, meta, *pairs):
        return A.TestRow("lead", tuple(p for p in pairs if p is not None), self.sp(meta))

    def test_account(self, meta, *pairs):
        return A.TestRow("account", tuple(p for p in pairs if p is not None), self.sp(meta))

    def ago(self, meta, tok):
        return self.duration(tok)

    def at(self, meta, moment):
        return self._moment(moment)

    def event_line(self, meta, name, when, times, *pairs):
        pairs = tuple(p for p in pairs if p is not None)
        count = 1 if times is None else int(times.value.replace("_", ""))
        ago = when if isinstance(when, A.Duration) else None
        at = when if isinstance(when, dt.datetime) else None
        return A.EventLine(unquote(name), ago, at, count, pairs or (), self.sp(meta))

    def test_events(self, meta, source, *lines):
        return A.TestEvents(source, tuple(line for line in lines if line is not None), self.sp(meta))

    def expect(self, meta, expr):
        return A.Expect(expr, self.sp(meta))

    def expect_fired(self, meta, _tok, component, rule):
        return A.ExpectFired(component, rule, False, self.sp(meta))

    def expect_not_fired(self, meta, _tok, component, rule):
        return A.ExpectFired(component, rule, True, self.sp(meta))

    def expect_because(self, meta, gate):
        return A.ExpectBecause(gate, self.sp(meta))

    def test(self, meta, name, *items):
        return A.Test(unquote(name), tuple(i for i in items if i is not None), self.sp(meta))

    def start(self, meta, *decls):
        return tuple(d for d in decls if d is not None)
