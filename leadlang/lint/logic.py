"""The pieces of the condition analysis that need no policy: intervals, atoms, regions, three-valued logic."""

from __future__ import annotations

import math
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Iterator

INF = Decimal("Infinity")
MISSING = object()  # a subject's "missing" region
OTHER = object()  # any string the condition does not name


@dataclass(frozen=True)
class Range:
    """A closed interval of possible values; ends may be infinite."""

    low: Decimal
    high: Decimal

    def __or__(self, other: Range) -> Range:
        return Range(min(self.low, other.low), max(self.high, other.high))

    def __add__(self, other: Range) -> Range:
        return Range(self.low + other.low, self.high + other.high)

    def __neg__(self) -> Range:
        return Range(-self.high, -self.low)

    def __mul__(self, other: Range) -> Range:
        products = [_mul(a, b) for a in (self.low, self.high) for b in (other.low, other.high)]
        return Range(min(products), max(products))

    def clamp(self, low: Decimal, high: Decimal) -> Range:
        return Range(min(max(self.low, low), high), min(max(self.high, low), high))

    def rounded(self) -> Range:
        return Range(round2(self.low), round2(self.high))

    def meets(self, low: Decimal, high: Decimal) -> bool:
        """Whether some value v of the range has low <= v < high."""
        return self.high >= low and self.low < high


ANYTHING = Range(-INF, INF)
NONNEGATIVE = Range(Decimal(0), INF)


def point(v) -> Range:
    return Range(Decimal(v), Decimal(v))


def _mul(a: Decimal, b: Decimal) -> Decimal:
    return Decimal(0) if a == 0 or b == 0 else a * b  # 0 x infinity is 0 here: a bound, not a value


def round2(v: Decimal) -> Decimal:
    return v if v.is_infinite() else v.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


@dataclass(frozen=True)
class Atom:
    """One test of one subject: `op` is a comparison, in, not in, missing, present or truth."""

    subject: object
    op: str
    value: object = None


# A condition formula: ("and", f, g), ("or", f, g), ("not", f), ("const", bool) or an Atom.


@dataclass(frozen=True)
class Subject:
    """What the analysis knows of one subject: its kind, type and range."""

    kind: str  # ordered, string, bool, label, opaque
    discrete: bool = False
    values: tuple = ()  # an enum's values or a label set: the whole domain
    range: Range = ANYTHING
    missing: bool = True


def atoms(f) -> Iterator[Atom]:
    if isinstance(f, Atom):
        yield f
    elif f[0] != "const":
        for g in f[1:]:
            yield from atoms(g)


def regions(info: Subject, tests: list[Atom]) -> list[Decimal]:
    """One value from each region the constants (and the range's ends) tell apart."""
    r = info.range
    cuts = {a.value for a in tests if isinstance(a.value, Decimal)}
    cuts |= {v for a in tests if a.op in ("in", "not in") for v in a.value if isinstance(v, Decimal)}
    cuts |= {x for x in (r.low, r.high) if x.is_finite()}
    cuts = sorted(c for c in cuts if r.low <= c <= r.high)
    if not cuts:
        return [Decimal(0) if r.low <= 0 <= r.high else (r.low if r.low.is_finite() else r.high)]
    reps = list(cuts)
    for a, b in zip(cuts, cuts[1:]):
        if info.discrete:
            inner = Decimal(math.floor(a) + 1)
            if inner < b:
                reps.append(inner)
        else:
            reps.append((a + b) / 2)
    below, above = Decimal(math.floor(cuts[0]) - 1), Decimal(math.floor(cuts[-1]) + 1)
    reps += [x for x in (below, above) if r.low <= x <= r.high]
    return reps


def eval_atom(a: Atom, v):
    if v is MISSING:
        return True if a.op == "missing" else False if a.op == "present" else None
    op = a.op
    if op == "missing":
        return False
    if op == "present":
        return True
    if op == "truth":
        return v
    if op in ("in", "not in"):
        return (v in a.value) != (op == "not in")
    if op == "=":
        return v == a.value
    if op == "!=":
        return v != a.value
    if v is OTHER or isinstance(v, (str, bool)) or not isinstance(a.value, Decimal):
        return None  # never produced: ordering atoms are built on numbers and times only
    return {"<": v < a.value, "<=": v <= a.value, ">": v > a.value, ">=": v >= a.value}[op]


def evaluate(f, env):
    if isinstance(f, Atom):
        return eval_atom(f, env[f.subject])
    tag = f[0]
    if tag == "const":
        return f[1]
    if tag == "not":
        v = evaluate(f[1], env)
        return None if v is None else not v
    left, right = evaluate(f[1], env), evaluate(f[2], env)
    if tag == "and":
        return False if False in (left, right) else None if None in (left, right) else True
    return True if True in (left, right) else None if None in (left, right) else False
