"""Sound reasoning over a checked policy: score ranges, missing values, conditions.

`Analysis` holds the caches and the shared lookups (constants, lets and signals inlined);
its questions are written by job: ranges.py (ranges, missing values), conditions.py (formulas).

The lint rules ask three kinds of question, and every answer here is
conservative: "yes" only when it holds for every possible lead.

- *Ranges.* `value_range(expr)` and `score_range(name)` over-approximate the
  values an expression or score can take (interval arithmetic with infinite
  ends; a `when` rule adds 0 or its points, a `per` rule 0 or points x value,
  capped; then clamp and rounding as the evaluator does them).
- *Missing values.* `maybe_missing(expr)` is false only for expressions that
  can never be missing (literals, scores, counts, criteria, labels, ...).
- *Conditions.* A condition becomes a formula over atoms; each atom compares
  one *subject* (a field, signal, aggregate, label ... after inlining lets and
  boolean signals) with constants. Each subject's possible values are split
  into the few regions the constants tell apart (below, at and between the
  constants; the enum's values and "any other string"; missing if it can be),
  and the formula is evaluated in three-valued logic on every combination.
  Treating subjects as independent only adds combinations, so "never true" and
  "always true" remain certain; a subject the analysis does not understand is
  an opaque true / false / unknown value. Too many combinations: no answer.
"""

from __future__ import annotations

import itertools
from dataclasses import fields, is_dataclass, replace
from decimal import Decimal
from functools import cached_property

from leadlang.check.policy import Policy
from leadlang.check.types import Type
from leadlang.lint.conditions import Conditions
from leadlang.lint.logic import Range, Subject
from leadlang.lint.ranges import Ranges
from leadlang.syntax import ast as A

MAX_INLINED = 200  # nodes: a bigger signal stays a name (a subject of its own)


class Analysis(Ranges, Conditions):
    """The questions lint rules ask of one checked policy, with answers cached."""

    def __init__(self, policy: Policy):
        self.policy = policy
        self._subjects: dict[object, Subject] = {}
        self._interned: dict[tuple, tuple[str, int]] = {}  # (kind, canonical expression) -> (kind, number)
        self._score_ranges: dict[str, Range] = {}
        self._canon_signals: dict[str, object] = {}
        self._missing_signals: dict[str, bool] = {}
        self._canon: dict[int, tuple[object, object]] = {}  # id(node) -> (node, canon): each node inlined once
        self._formulas: dict[int, tuple[object, object]] = {}  # id(condition) -> (condition, formula)
        self._verdicts: dict[int, tuple[object, str | None]] = {}  # id(condition) -> (condition, verdict)

    # ----------------------------------------------------------- lookups --
    def type_of(self, e: A.Expr) -> Type | None:
        return self.policy.types.get(id(e))

    def refers(self, e: A.Expr, kind: str) -> bool:
        """Whether `e` is a name the checker resolved to a declaration of `kind` (`let`, `signal`, ...)."""
        ref = self.policy.refs.get(id(e)) if isinstance(e, A.Name) else None
        return ref is not None and ref.kind == kind

    def const(self, e: A.Expr):
        """The constant value of a literal, a let or `-literal`, else None."""
        if isinstance(e, A.Literal):
            return e.value
        if self.refers(e, "let") and not isinstance(self.policy.let_values.get(e.name), tuple):
            return self.policy.let_values.get(e.name)
        if isinstance(e, A.Unary) and e.op == "-":
            v = self.const(e.operand)
            return -v if isinstance(v, (int, Decimal)) else None
        return None

    def const_list(self, e: A.Expr) -> tuple | None:
        if isinstance(e, A.ListLit) and all(isinstance(i, A.Literal) for i in e.items):
            return tuple(i.value for i in e.items)
        if self.refers(e, "let") and isinstance(self.policy.let_values.get(e.name), tuple):
            return self.policy.let_values[e.name]
        return None

    def canon(self, e):
        """`e` with lets and signals inlined: the identity of a subject."""
        hit = self._canon.get(id(e))
        if hit is not None and hit[0] is e:
            return hit[1]
        out = self._canon_uncached(e)
        self._canon[id(e)] = (e, out)  # the node is kept, so its id is not reused
        return out

    def _canon_uncached(self, e):
        if isinstance(e, A.Name):
            if self.refers(e, "let"):
                return self.policy.lets[e.name].expr
            if self.refers(e, "signal"):
                return self._canon_signal(e)
            return e
        if isinstance(e, A.Aggregate) or not is_dataclass(e):
            return e  # inside `where`, names are the events' own columns
        changes = {}
        for f in fields(e):
            v = getattr(e, f.name)
            if is_dataclass(v) and not isinstance(v, A.Span):
                changes[f.name] = self.canon(v)
            elif isinstance(v, tuple) and v and all(is_dataclass(x) for x in v):
                changes[f.name] = tuple(self.canon(x) for x in v)
        return replace(e, **changes) if changes else e

    def _canon_signal(self, e: A.Name):
        """A signal's inlined expression, or its name when that would grow too big to compare."""
        if e.name not in self._canon_signals:
            self._canon_signals[e.name] = e  # stands in while the signal is inlined
            inlined = self.canon(self.policy.signals[e.name].expr)
            small = sum(1 for _ in itertools.islice(walk(inlined), MAX_INLINED + 1)) <= MAX_INLINED
            self._canon_signals[e.name] = inlined if small else e
        return self._canon_signals[e.name]

    # --------------------------------------------------------------- usage --
    @cached_property
    def conditions(self) -> list[tuple[str, str, A.Expr, A.Span]]:
        """Every rule, gate, criterion member and classify branch condition: (what, name, cond, span)."""
        p = self.policy
        out = []
        for sc in p.scores.values():
            if isinstance(sc, A.PointsScore):
                out += [("rule", f"{sc.name}.{r.id}", r.expr, r.span) for r in sc.rules if r.kind == "when"]
        out += [("gate", g.id, g.cond, g.span) for g in p.gates]
        for cr in p.criteria.values():
            out += [("criterion", f"{cr.name}.{m.id}", m.cond, m.span) for m in cr.members]
        for c in p.classifications.values():
            if isinstance(c, A.Classify):
                out += [("branch", f"{c.name}.{b.label}", b.cond, b.span) for b in c.branches]
        return out

    @cached_property
    def references(self) -> dict[str, set]:
        """What the policy reads anywhere (tests included): criteria members, event sources and columns,
        and in `read` the (kind, declaration) of every name occurrence as the checker resolved it.
        Who reads one declaration is `policy.uses(kind, name)`."""
        refs: dict[str, set] = {"attrs": set(), "sources": set(), "columns": set(), "read": set()}
        for module in self.policy.modules:
            for decl in module.decls:
                for n in walk(decl):
                    if isinstance(n, (A.Name, A.Attr)):
                        ref = self.policy.ref(n)
                        refs["read"].add((ref.kind, ref.name))
                    if isinstance(n, A.Attr):
                        refs["attrs"].add(n.base)
                    elif isinstance(n, A.Aggregate):
                        refs["sources"].add(n.source)
                        if n.column is not None:
                            refs["columns"].add((n.source, n.column))
                        if n.where is not None:
                            refs["columns"] |= {(n.source, x.name) for x in walk(n.where) if isinstance(x, A.Name)}
        return refs


walk = A.walk  # every AST node under a node, in source order
