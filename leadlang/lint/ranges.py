"""Ranges and missing values: what a numeric expression or score can take, and whether a value can be missing."""

from __future__ import annotations

from decimal import Decimal

from leadlang.aggregates import AGGREGATES
from leadlang.builtins import BUILTINS, FIRST_PRESENT
from leadlang.lint.logic import ANYTHING, INF, Range, point
from leadlang.syntax import ast as A


class Ranges:
    """The range and missingness questions of `Analysis` (its part; `self` is the `Analysis`)."""

    # -------------------------------------------------------- missingness --
    def maybe_missing(self, e: A.Expr) -> bool:
        p = self.policy
        if isinstance(e, (A.Literal, A.ListLit, A.Disqualified, A.IsMissing, A.IsLabel)):
            return False
        if isinstance(e, A.Name):
            n, kind = e.name, p.ref(e).kind
            if kind == "signal":
                if n not in self._missing_signals:
                    self._missing_signals[n] = True  # stands in while it is worked out
                    self._missing_signals[n] = self.maybe_missing(p.signals[n].expr)
                return self._missing_signals[n]
            if kind in ("let", "score", "criteria", "criteria_met", "classification"):
                return False
            return n != p.leads.key  # a lead field (the key is always there)
        if isinstance(e, A.Attr):
            return e.base == "account"  # a criteria member is true or false
        if isinstance(e, A.Aggregate):
            return AGGREGATES[e.func].empty is None  # missing over no events
        if isinstance(e, A.Call):
            fn = BUILTINS[e.func]
            if fn.nulls == FIRST_PRESENT:
                return all(self.maybe_missing(a) for a in e.args)
            return fn.can_miss or any(self.maybe_missing(a) for a in e.args)
        if isinstance(e, A.Binary):
            if e.op == "/" and not self._nonzero(e.right):
                return True  # dividing by zero gives missing
            return self.maybe_missing(e.left) or self.maybe_missing(e.right)
        if isinstance(e, A.Unary):
            return self.maybe_missing(e.operand)
        if isinstance(e, A.InList):
            return self.maybe_missing(e.operand) or self.maybe_missing(e.items)
        if isinstance(e, A.Between):
            return any(self.maybe_missing(x) for x in (e.operand, e.low, e.high))
        if isinstance(e, A.TextTest):
            return self.maybe_missing(e.operand) or self.maybe_missing(e.arg)
        return True

    # -------------------------------------------------------------- ranges --
    def value_range(self, e: A.Expr) -> Range:
        """The values a numeric expression can take when it is not missing."""
        p = self.policy
        c = self.const(e)
        if isinstance(c, (int, Decimal)) and not isinstance(c, bool):
            return point(c)
        if isinstance(e, A.Name):
            ref = p.ref(e)
            if ref.kind == "score":
                return self.score_range(ref.name)
            if ref.kind == "signal":
                return self.value_range(p.signals[ref.name].expr)
            if ref.kind == "criteria_met":
                return Range(Decimal(0), Decimal(len(p.criteria[ref.name].members)))
            return ANYTHING
        if isinstance(e, A.Aggregate):
            rule = AGGREGATES[e.func].value_range
            found = rule(e) if rule is not None else None
            return ANYTHING if found is None else found
        if isinstance(e, A.Unary) and e.op == "-":
            return -self.value_range(e.operand)
        if isinstance(e, A.Binary) and e.op in ("+", "-", "*"):
            left, right = self.value_range(e.left), self.value_range(e.right)
            return left + right if e.op == "+" else left + -right if e.op == "-" else left * right
        if isinstance(e, A.Binary) and e.op == "/" and self._nonzero(e.right):
            left, c = self.value_range(e.left), Decimal(self.const(e.right))
            ends = sorted([left.low / c, left.high / c])
            return Range(ends[0], ends[1])
        if isinstance(e, A.Call):
            rule = BUILTINS[e.func].value_range
            found = rule(self, e.args) if rule is not None else None
            return ANYTHING if found is None else found
        return ANYTHING

    def _nonzero(self, e: A.Expr) -> bool:
        c = self.const(e)
        return isinstance(c, (int, Decimal)) and not isinstance(c, bool) and c != 0

    def score_range(self, name: str) -> Range:
        """Every value score `name` can take, after clamp and rounding."""
        if name in self._score_ranges:
            return self._score_ranges[name]
        self._score_ranges[name] = ANYTHING  # stands in while a (checked-away) cycle is followed
        sc = self.policy.scores[name]
        if isinstance(sc, A.DerivedScore):
            total = self.value_range(sc.expr)
            if self.maybe_missing(sc.expr):
                total = total | point(0)  # a missing result counts as 0
        else:
            total = point(0)
            for r in sc.rules:
                total = total + self.rule_range(r)
        if sc.clamp is not None:
            total = total.clamp(sc.clamp.low, sc.clamp.high)
        self._score_ranges[name] = total.rounded()
        return self._score_ranges[name]

    def rule_range(self, r: A.Rule) -> Range:
        """The points one rule can add."""
        if r.kind == "when":
            verdict = self.verdict(r.expr)
            if verdict == "never":
                return point(0)
            if verdict == "always":
                return point(r.points)
            return point(0) | point(r.points)
        points = (point(r.points) * self.value_range(r.expr)) | point(0)
        return points.clamp(-r.cap, r.cap) if r.cap is not None else points

    def band_ranges(self, score: str) -> list[tuple[A.Band, Decimal, Decimal]]:
        """Each band of `score` with the values it takes: low <= v < high."""
        out, high = [], INF
        for band in self.policy.bands[score].bands:
            low = -INF if band.threshold is None else band.threshold
            out.append((band, low, high))
            high = low
        return out

    def reachable_bands(self, score: str) -> set[str]:
        r = self.score_range(score)
        return {band.label for band, low, high in self.band_ranges(score) if r.meets(low, high)}
