"""The event aggregates of leadlang, one entry each: the single table every stage reads.

Per aggregate: what it reads of each matching event (the event itself, its time, its UTC date, its
lead, or the written column), which columns it takes, its result type, its Python implementation
(the interpreter's, the oracle), its standard SQL as one conditional aggregate, its value over no
events, what `half-life` makes of it, and the values it can give (for lint). The checker
(`check/exprs.py`), the interpreter (`interpret/aggregates.py`), the SQL compiler (`sql/scan.py`,
`sql/compiler.py`) and lint (`lint/ranges.py`) know no aggregate by name: adding one is an entry
here and its name in the grammar's `AGGREGATE` terminal, and `tests/test_aggregates.py` runs it on
every engine against the interpreter automatically.

Only the standard library is imported here: the check path stays fast.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from decimal import Decimal
from typing import Callable

# What an aggregate reads of each matching event (its Python implementation gets the present ones):
EVENT = "event"  # the event itself (SQL: 1)
AT = "at"  # its time
DAY = "day"  # the UTC calendar date of its time
LEAD = "lead"  # the lead it belongs to
COLUMN = "column"  # the written column (`sum(product.seats)`); events where it is missing are skipped

NUMERIC = "numeric"  # the column must be a number
ORDERED = "ordered"  # a number, a date or a timestamp


@dataclass(frozen=True, slots=True)
class Rollup:
    """How a `by account` aggregate is computed exactly from per-lead partials: each lead's events
    are aggregated once, in the pass that computes the leads' own aggregates, and the account's value
    from its leads' partials (the SQL compiler's `__ag_`/`__aa_` CTEs, sql.md). Only where that is
    exact for every value: sums of 64-bit ints or decimals, counts, minima and maxima."""

    # (dialect, the conditional value as `sql` gets it) -> the SQL of each per-lead partial
    partials: tuple[Callable, ...]
    # (dialect, the partials' columns over the account's leads, the result's kind) -> the account's value
    total: Callable
    # the SQL aggregate merging each partial over disjoint sets of events into the partial of their union
    # (a series' per-(lead, interval) partials into per-(lead, as-of) ones: `sql/scan.py` `Piece`)
    merges: tuple[str, ...] = ()
    # whether `total` over partial rows of one lead is that lead's own value (not for a count of leads)
    own: bool = True


@dataclass(frozen=True, slots=True)
class Decayed:
    """What `half-life` makes of an aggregate (language.md §10): each event weighted, in ten-billionths."""

    returns: str
    # on (value, weight) pairs of the matching events (the value as `reads` gives it; weights from `values.decay_weight`)
    python: Callable
    # (dialect, the conditional weighted value `CASE WHEN cond THEN [x *] weight END`) -> SQL
    sql: Callable
    rollup: Rollup | None = None  # `by account` from per-lead partials (the weights' exact sums)


@dataclass(frozen=True, slots=True)
class Aggregate:
    name: str
    reads: str  # EVENT, AT, DAY, LEAD or COLUMN
    columns: str | None  # with COLUMN: what the column must be (NUMERIC, ORDERED); None: takes no column
    returns: str | None  # the result's kind; None: the column's own type
    python: Callable  # on the present values it reads of the matching events (a list; the events themselves for EVENT)
    # (dialect, the conditional value `CASE WHEN cond THEN x END`, the result's kind) -> its standard SQL
    sql: Callable
    empty: int | None = None  # its value over no events; None: missing
    decayed: Decayed | None = None  # None: `half-life` is refused (E204)
    rollup: Rollup | None = None  # None: `by account` reads the account's events themselves (a join of every event)
    # The values it can give when present, for lint: (the `A.Aggregate` node) -> a `lint.logic.Range`, or None for anything.
    value_range: Callable | None = None
    # a count of distinct UTC dates: a series cut only at UTC midnights counts them per interval and adds them up
    # (sql/scan.py `day_intervals`), for a lead or `by account` alike
    whole_days: bool = False


# ------------------------------------------------------------ implementations --
def _values():
    from leadlang.interpret import values  # the interpreter's exact arithmetic, loaded when an aggregate runs
    return values


def sum_values(values: list):
    """Whole numbers summed as 64-bit ints, any other as exact decimals (out of range: `OutOfRange`)."""
    V = _values()
    if all(isinstance(v, int) for v in values):
        return V.whole(sum(values))
    return V.number(V.total(values))


def avg_values(values: list):
    """The sum over the count, divided as `/` divides."""
    if not values:
        return None
    V = _values()
    total = (V.whole if all(isinstance(v, int) for v in values) else V.number)(V.total(values))
    return V.arith("/", total, len(values))


def distinct(values: list) -> int:
    return len(set(values))


def smallest(values: list):
    return min(values, default=None)


def largest(values: list):
    return max(values, default=None)


def decayed_count(pairs) -> Decimal:
    return _values().decayed_count([w for _, w in pairs])


def decayed_sum(pairs) -> Decimal:
    return _values().decayed_sum(pairs)


# ----------------------------------------------------------------------- SQL --
def _sum_sql(d, v, kind):
    return _sum_of(d, f"SUM({v})", kind)


def _sum_of(d, total, kind):
    # a sum is a value like any other: 64-bit or DECIMAL(28, 10), an overflow an error
    return f"CAST({total} AS {d.type_name('int' if kind == 'int' else 'number')})"


def _avg_sql(d, v, kind):
    # the sum over the count, divided as `/` divides (exact, 10 places); a sum out of range is an error
    return d.divide(f"SUM({v})", f"COUNT({v})")


def _call_sql(sql_name: str) -> Callable:
    return lambda d, v, kind: f"{sql_name}({v})"


def _count_distinct_sql(d, v, kind):
    return f"COUNT(DISTINCT {v})"


def _decayed_count_sql(d, v):
    return _weights(d, f"SUM({v})")


def _weights(d, total, kind="number"):
    # a decayed count is the exact sum of the events' weights, in ten-billionths (`values.decayed_count`)
    return d.ten_billionths(total)


def _decayed_sum_sql(d, v):
    return _weighted(d, f"SUM({v})")


def _weighted(d, total, kind="number"):
    # value x weight exactly (ints as DECIMAL(19, 0)), summed, rounded once to 10 places (`values.decayed_sum`)
    return d.ten_billionths(f"ROUND({total}, 0)")


# ------------------------------------------------------------------ rollups --
def _sql_of(sql_name: str) -> Callable:
    return lambda d, v: f"{sql_name}({v})"


def _same(sql_name: str) -> Rollup:
    """An aggregate that is its own rollup: the minimum of the leads' minima."""
    return Rollup((_sql_of(sql_name),), lambda d, p, kind: f"{sql_name}({p[0]})", (sql_name,))


def _summed(total: Callable) -> Rollup:
    """The leads' exact sums (the partial of a sum, a count or a decayed weight), summed again."""
    return Rollup((_sql_of("SUM"),), lambda d, p, kind: total(d, f"SUM({p[0]})", kind), ("SUM",))


_COUNTS = Rollup((_sql_of("COUNT"),), lambda d, p, kind: f"CAST(SUM({p[0]}) AS {d.type_name('int')})", ("SUM",))
# a lead counts once if any of its events matches
_LEADS = Rollup((_sql_of("COUNT"),), lambda d, p, kind: f"COUNT(CASE WHEN {p[0]} > 0 THEN 1 END)", ("SUM",), own=False)
_AVERAGES = Rollup((_sql_of("SUM"), _sql_of("COUNT")), lambda d, p, kind: d.divide(f"SUM({p[0]})", f"SUM({p[1]})"), ("SUM", "SUM"))


# -------------------------------------------------------------------- ranges --
def _logic():
    from leadlang.lint import logic  # lint's range arithmetic, loaded only when lint asks
    return logic


def _nonnegative(e):
    return _logic().NONNEGATIVE


def _active_days_range(e):
    if e.window is None:
        return _logic().NONNEGATIVE
    # distinct UTC dates in (as_of - D, as_of]: at most D in whole days, rounded up, plus one
    return _logic().Range(Decimal(0), Decimal(math.ceil(e.window.seconds / 86400) + 1))


# --------------------------------------------------------------------- table --
AGGREGATES: dict[str, Aggregate] = {a.name: a for a in (
    Aggregate("count", EVENT, None, "int", len, _call_sql("COUNT"), empty=0,
              decayed=Decayed("number", decayed_count, _decayed_count_sql, _summed(_weights)),
              rollup=_COUNTS, value_range=_nonnegative),
    Aggregate("sum", COLUMN, NUMERIC, None, sum_values, _sum_sql, empty=0,
              decayed=Decayed("number", decayed_sum, _decayed_sum_sql, _summed(_weighted)),
              rollup=_summed(_sum_of)),
    Aggregate("min", COLUMN, ORDERED, None, smallest, _call_sql("MIN"), rollup=_same("MIN")),
    Aggregate("max", COLUMN, ORDERED, None, largest, _call_sql("MAX"), rollup=_same("MAX")),
    Aggregate("avg", COLUMN, NUMERIC, "number", avg_values, _avg_sql, rollup=_AVERAGES),
    Aggregate("first", AT, None, "timestamp", smallest, _call_sql("MIN"), rollup=_same("MIN")),
    Aggregate("last", AT, None, "timestamp", largest, _call_sql("MAX"), rollup=_same("MAX")),
    # distinct days of the account's leads are not the sum of each lead's: no rollup
    Aggregate("active_days", DAY, None, "int", distinct, _count_distinct_sql, empty=0,
              value_range=_active_days_range, whole_days=True),
    Aggregate("distinct_leads", LEAD, None, "int", distinct, _count_distinct_sql, empty=0, rollup=_LEADS,
              value_range=_nonnegative),
)}

DECAYS = " and ".join(f"`{a.name}`" for a in AGGREGATES.values() if a.decayed is not None)  # what `half-life` decays, for E204
