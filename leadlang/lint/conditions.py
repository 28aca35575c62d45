"""Conditions as three-valued formulas over subjects' value regions: verdicts, shadowing, equivalence."""

from __future__ import annotations

import bisect
import datetime as dt
import itertools
import math
from decimal import Decimal
from typing import Iterator

from leadlang.check.policy import Ref
from leadlang.check.types import Type
from leadlang.lint.logic import MISSING, OTHER, Atom, Subject, atoms, evaluate, regions
from leadlang.syntax import ast as A

MAX_COMBINATIONS = 20_000
_MAX_PROBE_EVALUATIONS = 200_000  # per bucket of equivalence_keys
_MULTI_PROBES = 64  # combinations tried for a condition of several subjects
_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.timezone.utc)
_FLIP = {"=": "=", "!=": "!=", "<": ">", "<=": ">=", ">": "<", ">=": "<="}


class Conditions:
    """The condition questions of `Analysis` (its part; `self` is the `Analysis`)."""

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
        if self.refers(e, "signal"):
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
