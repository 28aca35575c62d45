"""Sound reasoning over a checked policy: score ranges, missing values, conditions.

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

import bisect
import datetime as dt
import itertools
import math
from dataclasses import fields, is_dataclass, replace
from decimal import Decimal
from functools import cached_property
from typing import Iterator

from leadlang.check.policy import Policy, Ref
from leadlang.check.types import Type
from leadlang.lint.logic import ANYTHING, INF, MISSING, NONNEGATIVE, OTHER, Atom, Range, Subject, atoms, evaluate, point, regions
from leadlang.syntax import ast as A

MAX_COMBINATIONS = 20_000
MAX_INLINED = 200  # nodes: a bigger signal stays a name (a subject of its own)
_MAX_PROBE_EVALUATIONS = 200_000  # per bucket of equivalence_keys
_MULTI_PROBES = 64  # combinations tried for a condition of several subjects
_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.timezone.utc)
_FLIP = {"=": "=", "!=": "!=", "<": ">", "<=": ">=", ">": "<", ">=": "<="}
_NEVER_MISSING_AGGREGATES = ("count", "active_days", "distinct_leads", "sum")


class Analysis:
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

    def const(self, e: A.Expr):
        """The constant value of a literal, a let or `-literal`, else None."""
        if isinstance(e, A.Literal):
            return e.value
        if isinstance(e, A.Name) and e.name in self.policy.lets and not isinstance(self.policy.let_values.get(e.name), tuple):
            return self.policy.let_values.get(e.name)
        if isinstance(e, A.Unary) and e.op == "-":
            v = self.const(e.operand)
            return -v if isinstance(v, (int, Decimal)) else None
        return None

    def const_list(self, e: A.Expr) -> tuple | None:
        if isinstance(e, A.ListLit) and all(isinstance(i, A.Literal) for i in e.items):
            return tuple(i.value for i in e.items)
        if isinstance(e, A.Name) and isinstance(self.policy.let_values.get(e.name), tuple):
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
            if e.name in self.policy.lets:
                return self.policy.lets[e.name].expr
            if e.name in self.policy.signals:
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
            return e.func not in _NEVER_MISSING_AGGREGATES
        if isinstance(e, A.Call):
            if e.func == "coalesce":
                return all(self.maybe_missing(a) for a in e.args)
            return e.func == "domain" or any(self.maybe_missing(a) for a in e.args)
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
            if e.func == "active_days" and e.window is not None:
                # distinct UTC dates in (as_of - D, as_of]: at most D in whole days, rounded up, plus one
                return Range(Decimal(0), Decimal(math.ceil(e.window.seconds / 86400) + 1))
            return NONNEGATIVE if e.func in ("count", "active_days", "distinct_leads") else ANYTHING
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
            if e.func == "length":
                return NONNEGATIVE
            if e.func == "days_since" and isinstance(e.args[0], A.Aggregate) and e.args[0].func in ("first", "last") and e.args[0].column is None:
                return NONNEGATIVE  # events after the as-of time are ignored, so they are never in the future
            if e.func == "abs":
                r = self.value_range(e.args[0])
                if r.low >= 0:
                    return r
                return -r if r.high <= 0 else Range(Decimal(0), max(-r.low, r.high))
            if e.func in ("least", "greatest", "coalesce"):
                rs = [self.value_range(a) for a in e.args]
                if e.func == "least":
                    return Range(min(r.low for r in rs), min(r.high for r in rs))
                if e.func == "greatest":
                    return Range(max(r.low for r in rs), max(r.high for r in rs))
                out = rs[0]
                for r in rs[1:]:
                    out = out | r
                return out
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

    # ---------------------------------------------------------- conditions --
    def formula(self, e: A.Expr, depth: int = 0):
        """A condition as a formula over atoms (see the module docstring)."""
        if depth:
            return self._formula(e, depth)
        hit = self._formulas.get(id(e))
        if hit is None or hit[0] is not e:
            hit = self._formulas[id(e)] = (e, self._formula(e, 0))
        return hit[1]

    def _formula(self, e: A.Expr, depth: int):
        p = self.policy
        if depth > 50:
            return self._opaque(e)
        if isinstance(e, A.Binary) and e.op in ("and", "or"):
            return (e.op, self.formula(e.left, depth + 1), self.formula(e.right, depth + 1))
        if isinstance(e, A.Unary) and e.op == "not":
            return ("not", self.formula(e.operand, depth + 1))
        c = self.const(e)
        if isinstance(c, bool):
            return ("const", c)
        if isinstance(e, A.Name) and e.name in p.signals:
            return self.formula(p.signals[e.name].expr, depth + 1)
        if isinstance(e, (A.Name, A.Attr, A.Disqualified)):
            return Atom(self._subject(e), "truth")
        if isinstance(e, A.IsMissing):
            return Atom(self._subject(e.operand), "present" if e.negated else "missing")
        if isinstance(e, A.IsLabel):
            return Atom(self._label_subject(p.ref(e)), "!=" if e.negated else "=", e.label)
        if isinstance(e, A.Binary) and e.op in _FLIP:
            return self._comparison(e)
        if isinstance(e, A.InList):
            items = self.const_list(e.items)
            subject_type = self.type_of(e.operand)
            if items is not None and subject_type is not None and self._understood(subject_type):
                return Atom(self._subject(e.operand), "not in" if e.negated else "in", frozenset(self._key(v) for v in items))
            return self._opaque(e)
        if isinstance(e, A.Between):
            low, high = self.const(e.low), self.const(e.high)
            t = self.type_of(e.operand)
            if low is not None and high is not None and t is not None and t.kind in ("int", "number", "date", "timestamp"):
                s = self._subject(e.operand)
                return ("and", Atom(s, ">=", self._key(low)), Atom(s, "<=", self._key(high)))
            return self._opaque(e)
        return self._opaque(e)

    def _comparison(self, e: A.Binary):
        op, left, right = e.op, e.left, e.right
        if self.const(left) is not None and self.const(right) is None:
            op, left, right = _FLIP[op], right, left
        c = self.const(right)
        t = self.type_of(left)
        if c is None or t is None or self.const(left) is not None:
            return self._opaque(e)
        if isinstance(left, A.Name) and self.policy.ref(left).kind == "classification":
            return Atom(self._label_subject(self.policy.ref(left)), op, c) if op in ("=", "!=") else self._opaque(e)
        if not self._understood(t) or (t.kind in ("string", "bool") and op not in ("=", "!=")):
            return self._opaque(e)
        return Atom(self._subject(left), op, self._key(c))

    @staticmethod
    def _understood(t: Type) -> bool:
        return t.kind in ("int", "number", "date", "timestamp", "string", "bool")

    def _key(self, v):
        """A constant as the analysis compares it: numbers and times as Decimals."""
        if isinstance(v, bool) or isinstance(v, str):
            return v
        if isinstance(v, dt.datetime):
            return Decimal((v - _EPOCH).total_seconds()).normalize()
        if isinstance(v, dt.date):
            return Decimal((dt.datetime(v.year, v.month, v.day, tzinfo=dt.timezone.utc) - _EPOCH).total_seconds())
        return Decimal(v)

    def _subject(self, e: A.Expr):
        key = self._intern(("expr", self.canon(e)))
        if key not in self._subjects:
            t = self.type_of(e)
            missing = self.maybe_missing(e)
            if t is None or not self._understood(t):
                info = Subject("opaque", missing=missing)
            elif t.kind in ("int", "number"):
                info = Subject("ordered", discrete=t.kind == "int", range=self.value_range(e), missing=missing)
            elif t.kind in ("date", "timestamp"):
                info = Subject("ordered", missing=missing)  # continuous seconds: a superset of the dates
            elif t.kind == "string":
                info = Subject("string", values=t.values, missing=missing)
            else:
                info = Subject("bool", missing=missing)
            self._subjects[key] = info
        return key

    def _intern(self, key: tuple) -> tuple:
        """A short stand-in for a subject's canonical expression: atoms are hashed often, deep trees slowly."""
        short = self._interned.get(key)
        if short is None:
            short = self._interned[key] = (key[0], len(self._interned))
        return short

    def _label_subject(self, ref: Ref):
        """The labels a band or classification can take (only the reachable bands)."""
        key = ("label", ref.name)
        if key not in self._subjects:
            if ref.kind == "band":
                labels = tuple(sorted(self.reachable_bands(ref.name)))
            else:
                labels = self.policy.labels[ref.name]
            self._subjects[key] = Subject("label", values=labels, missing=False)
        return key

    def _opaque(self, e: A.Expr) -> Atom:
        key = self._intern(("opaque", self.canon(e)))
        self._subjects.setdefault(key, Subject("opaque", missing=self.maybe_missing(e)))
        return Atom(key, "truth")

    def _domain(self, subject, tests: list[Atom], present: bool = False) -> list:
        info = self._subjects[subject]
        values: list = []
        if info.kind in ("bool", "opaque"):
            values = [True, False]
        elif info.kind == "label":
            values = list(info.values)
        elif info.kind == "string":
            named = {a.value for a in tests if a.op in ("=", "!=")} | {v for a in tests if a.op in ("in", "not in") for v in a.value}
            if info.values:
                values = list(info.values)
            else:
                values = sorted(v for v in named if isinstance(v, str)) + [OTHER]
        else:
            values = regions(info, tests)
        if info.missing and not present:
            values.append(MISSING)
        return values

    def worlds(self, *conds: A.Expr, present: bool = False) -> Iterator[tuple] | None:
        """The truth values of `conds` in every combination of subject regions, or None if too many.

        With `present`, only the combinations where no value is missing.
        """
        formulas = [self.formula(c) for c in conds]
        tests: dict[object, list[Atom]] = {}
        for f in formulas:
            for a in atoms(f):
                tests.setdefault(a.subject, []).append(a)
        subjects = list(tests)
        domains = [self._domain(s, tests[s], present) for s in subjects]
        if math.prod(len(d) for d in domains) > MAX_COMBINATIONS:
            return None
        return (tuple(evaluate(f, dict(zip(subjects, combo))) for f in formulas) for combo in itertools.product(*domains))

    def verdict(self, cond: A.Expr) -> str | None:
        """"never" (never true), "always" (true for every lead) or None (it depends, or unknown)."""
        hit = self._verdicts.get(id(cond))
        if hit is None or hit[0] is not cond:
            hit = self._verdicts[id(cond)] = (cond, self._verdict(cond))
        return hit[1]

    def _verdict(self, cond: A.Expr) -> str | None:
        worlds = self.worlds(cond)
        if worlds is None:
            return None
        seen = set()
        for w in worlds:
            seen.add(w[0] is True)
            if len(seen) == 2:
                return None  # true in one world, not in another: it depends
        return "always" if seen == {True} else "never" if seen == {False} else None

    def always_when_present(self, cond: A.Expr) -> bool:
        """Whether `cond` is true for every lead whose tested values are all present."""
        if any(a.op in ("missing", "present") for a in atoms(self.formula(cond))):
            return False  # it says what happens to missing values: nothing to point out
        worlds = self.worlds(cond, present=True)
        return worlds is not None and all(w[0] is True for w in worlds)

    def shadowed(self, cond: A.Expr, earlier: list[A.Expr]) -> bool:
        """Whether `cond` is never the first true condition after `earlier`."""
        worlds = self.worlds(cond, *earlier)
        return worlds is not None and not any(w[0] is True and True not in w[1:] for w in worlds)

    def equivalent(self, a: A.Expr, b: A.Expr) -> bool:
        """Whether two conditions fire for exactly the same leads."""
        if self.canon(a) == self.canon(b):
            return True
        if {x.subject for x in atoms(self.formula(a))} != {x.subject for x in atoms(self.formula(b))}:
            return False  # different subjects: equivalence is possible but rare, and not worth the search
        worlds = self.worlds(a, b)
        return worlds is not None and all((x is True) == (y is True) for x, y in worlds)

    def equivalence_keys(self, conds: list[A.Expr]) -> list[tuple]:
        """One key per condition such that `equivalent(a, b)` implies equal keys.

        Comparing every pair of n conditions is quadratic; conditions with
        different keys are never equivalent, so only those sharing a key need
        `equivalent`. A key is the condition's subjects and where it is true
        among probe values every subject can take (values `equivalent` would
        also try, or that lie in a region it tries): agreeing on every world
        of the pair implies agreeing on each probe. Single comparisons with
        a constant (most rules) are keyed by bisection, not by evaluation.
        """
        formulas = [self.formula(c) for c in conds]
        subject_sets = [frozenset(a.subject for a in atoms(f)) for f in formulas]
        buckets: dict[frozenset, list[int]] = {}
        for i, subjects in enumerate(subject_sets):
            buckets.setdefault(subjects, []).append(i)
        keys: list[tuple] = [()] * len(conds)
        for subjects, members in buckets.items():
            for i, key in zip(members, self._bucket_keys(sorted(subjects, key=repr), [formulas[i] for i in members])):
                keys[i] = (subjects, key)
        return keys

    def _bucket_keys(self, subjects: list, formulas: list) -> list:
        if not subjects:
            return [evaluate(f, {}) is True for f in formulas]
        tests: dict[object, list[Atom]] = {s: [] for s in subjects}
        for f in formulas:
            for a in atoms(f):
                tests[a.subject].append(a)
        probes = {s: self._probes(s, tests[s]) for s in subjects}
        if len(subjects) == 1:
            (s,) = subjects
            values = probes[s]
            generic = sum(not _single_test(f) for f in formulas)
            if generic * len(values) > _MAX_PROBE_EVALUATIONS:  # fewer probes: still a sound key
                step = -(-generic * len(values) // _MAX_PROBE_EVALUATIONS)
                missing = values[-1] is MISSING
                values = (values[:-1] if missing else values)[::step] + ([MISSING] if missing else [])
            index = {v: i for i, v in enumerate(values) if v is not MISSING}
            return [self._probe_key(f, values, index) for f in formulas]
        # several subjects: a fixed, deterministic sample of their combinations
        envs = [{s: probes[s][(k * (7 + 2 * j) + j) % len(probes[s])] for j, s in enumerate(subjects)} for k in range(_MULTI_PROBES)]
        return [tuple(evaluate(f, env) is True for env in envs) for f in formulas]

    def _probes(self, subject, tests: list[Atom]) -> list:
        """Values of `subject` every world of `equivalent` covers: sorted for ordered subjects, MISSING last."""
        info = self._subjects[subject]
        if info.kind == "ordered":
            r = info.range
            cuts = {a.value for a in tests if isinstance(a.value, Decimal)}
            cuts |= {v for a in tests if a.op in ("in", "not in") for v in a.value if isinstance(v, Decimal)}
            found: set[Decimal] = set()
            for c in cuts:
                if not c.is_finite():
                    continue
                near = (Decimal(math.floor(c)) + d for d in (-1, 0, 1)) if info.discrete else (c - 1, c, c + 1)
                found |= {v for v in near if r.low <= v <= r.high}
            values: list = sorted(found) or regions(info, [])
        else:
            values = self._domain(subject, tests, present=True)
        if info.missing:
            values.append(MISSING)
        return values

    @staticmethod
    def _probe_key(f, values: list, index: dict) -> tuple:
        """Where `f` (of one subject) is true among the probe values, as runs of indices.

        A comparison with a constant is keyed by bisection, `=`/`in` and their
        negations by looking the constants up in `index` (probe value -> index);
        anything else by evaluating it at every probe.
        """
        n = len(values) - (values[-1] is MISSING)
        if _single_test(f):
            if f.op in ("=", "!=", "in", "not in"):
                hits = {index[v] for v in (f.value if f.op in ("in", "not in") else (f.value,)) if v in index}
                if f.op in ("!=", "not in"):  # true at every other present value: the runs between the hits
                    bounds = [-1, *sorted(hits), n]
                    return tuple((lo + 1, hi) for lo, hi in zip(bounds, bounds[1:]) if lo + 1 < hi)
                return _runs_of(sorted(hits))
            if isinstance(f.value, Decimal) and n and isinstance(values[0], Decimal):
                cut = (bisect.bisect_left if f.op in ("<", ">=") else bisect.bisect_right)(values, f.value, 0, n)
                run = (0, cut) if f.op in ("<", "<=") else (cut, n)
                return (run,) if run[0] < run[1] else ()
        (subject,) = {a.subject for a in atoms(f)}
        return _true_runs([evaluate(f, {subject: v}) is True for v in values])

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
        """What the policy reads anywhere (tests included): names, criteria members, event sources and columns,
        and in `read` the (kind, declaration) of every name occurrence as the checker resolved it."""
        refs: dict[str, set] = {"names": set(), "attrs": set(), "sources": set(), "columns": set(), "read": set()}
        for module in self.policy.modules:
            for decl in module.decls:
                for n in walk(decl):
                    if isinstance(n, (A.Name, A.Attr)):
                        ref = self.policy.ref(n)
                        refs["read"].add((ref.kind, ref.name))
                    if isinstance(n, A.Name):
                        refs["names"].add(n.name)
                    elif isinstance(n, A.Attr):
                        refs["attrs"].add(n.base)
                    elif isinstance(n, A.Aggregate):
                        refs["sources"].add(n.source)
                        if n.column is not None:
                            refs["columns"].add((n.source, n.column))
                        if n.where is not None:
                            refs["columns"] |= {(n.source, x.name) for x in walk(n.where) if isinstance(x, A.Name)}
        return refs


walk = A.walk  # every AST node under a node, in source order


def _single_test(f) -> bool:
    """One comparison of a subject with constants, keyed without evaluating it at every probe."""
    return isinstance(f, Atom) and f.op in ("<", "<=", ">", ">=", "=", "!=", "in", "not in")


def _runs_of(indices: list[int]) -> tuple[tuple[int, int], ...]:
    runs: list[tuple[int, int]] = []
    for i in indices:
        if runs and runs[-1][1] == i:
            runs[-1] = (runs[-1][0], i + 1)
        else:
            runs.append((i, i + 1))
    return tuple(runs)


def _true_runs(truths: list[bool]) -> tuple[tuple[int, int], ...]:
    """The maximal runs of True as (start, end) index pairs: a compact, canonical key."""
    runs, start = [], None
    for i, t in enumerate(truths):
        if t and start is None:
            start = i
        elif not t and start is not None:
            runs.append((start, i))
            start = None
    if start is not None:
        runs.append((start, len(truths)))
    return tuple(runs)
