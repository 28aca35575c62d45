"""The built-in functions of leadlang, one entry each: the single table every stage reads.

Per function: how many arguments it takes, its type rule (as data: what every argument must be
and what it returns), its Python implementation (the interpreter's, the oracle), what it does
with a missing argument, how its standard SQL is built from the dialect's spellings, and the
values it can give (for lint). The checker (`check/checker.py`), the interpreter
(`interpret/evaluator.py`), the SQL compiler (`sql/compiler.py`) and lint (`lint/analysis.py`)
know no function by name: adding one is an entry here, plus its spelling in a dialect's
`FUNCTIONS` table where its warehouse writes it differently (`sql/dialects.py`), and
`tests/test_builtins.py` runs it on every engine against the interpreter automatically.

Only the standard library is imported here: the check path stays fast.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Callable

SECONDS_PER_DAY = 86400


@dataclass(frozen=True, slots=True)
class Takes:
    """What every argument of a function must be: a `Type` property and how an error says it."""

    test: str  # `textual`, `temporal` or `numeric` (properties of check.types.Type)
    says: str  # "a string", in "`lower` needs a string, not int"


STRING = Takes("textual", "a string")
TEMPORAL = Takes("temporal", "a date or timestamp")
NUMERIC = Takes("numeric", "a number")

PROPAGATE = "propagate"  # any argument missing: the result is missing (the function is not called)
FIRST_PRESENT = "first present"  # the first argument that is not missing, else missing (coalesce)


@dataclass(frozen=True, slots=True)
class Builtin:
    name: str
    min_args: int
    max_args: int | None  # None: any number
    # The type rule. `takes`: what every argument must be, or None for "the arguments share one
    # type" (`check.types.common`; a date among timestamps is its midnight UTC), which is then
    # the result's type. `returns`: the result's kind, or None for the argument's own type.
    takes: Takes | None
    returns: str | None
    python: Callable | None  # on present arguments (as many as written, of the common type); None for FIRST_PRESENT
    nulls: str = PROPAGATE
    compares: bool = False  # a common type that is ordered: no bools (nor lists)
    as_of: bool = False  # `python` takes the as-of time after the arguments; `sql` gets its SQL
    can_miss: bool = False  # missing for some present arguments too (lint's "may be missing")
    # The standard SQL from the arguments' SQL (temporal arguments as timestamps, common ones
    # unified) and the as-of time's: (dialect, args, as_of) -> SQL. None: `dialect.call(name, args)`,
    # which is the dialect's `FUNCTIONS[name]` spelling, else `NAME(arg, ...)`.
    sql: Callable | None = None
    # The values it can give when present, for lint: (analysis, argument nodes) -> a `lint.logic.Range`,
    # or None for anything.
    value_range: Callable | None = None


# ------------------------------------------------------------ implementations --
def as_timestamp(value):
    """Dates compare with timestamps as midnight UTC."""
    if isinstance(value, dt.datetime):
        return value
    if isinstance(value, dt.date):
        return dt.datetime(value.year, value.month, value.day, tzinfo=dt.timezone.utc)
    return value


def days_between(start, end: dt.datetime) -> int:
    """Whole days from `start` to `end`, rounded down."""
    seconds = (end - as_timestamp(start)).total_seconds()
    return int(seconds // SECONDS_PER_DAY)


def email_domain(email: str):
    """The lower-cased part after the last `@`; missing when there is none."""
    if "@" not in email:
        return None
    domain = email.rsplit("@", 1)[1].lower()
    return domain or None


def sql_trim(text: str) -> str:
    """SQL's TRIM: spaces only, both ends."""
    return text.strip(" ")


# ----------------------------------------------------------------------- SQL --
def _domain_sql(d, args, as_of):
    return f"NULLIF(LOWER({d.call('after_last_at', args)}), '')"


def _days_since_sql(d, args, as_of):
    return f"CAST(FLOOR(({d.epoch(as_of)} - {d.epoch(args[0])}) / 86400) AS {d.bigint})"


def _null_guarded(name: str) -> Callable:
    """LEAST/GREATEST skip NULLs on some warehouses; in leadlang a function of a missing value is missing."""
    def sql(d, args, as_of):
        call = d.call(name, args)
        if not d.least_skips_nulls:
            return call
        nulls = " OR ".join(f"{a} IS NULL" for a in args)
        return f"(CASE WHEN {nulls} THEN NULL ELSE {call} END)"
    return sql


# -------------------------------------------------------------------- ranges --
def _logic():
    from leadlang.lint import logic  # lint's range arithmetic, loaded only when lint asks
    return logic


def _nonnegative(an, args):
    return _logic().NONNEGATIVE


def _days_since_range(an, args):
    from leadlang.aggregates import AGGREGATES, AT
    from leadlang.syntax import ast as A
    a = args[0]
    if isinstance(a, A.Aggregate) and AGGREGATES[a.func].reads == AT:
        return _logic().NONNEGATIVE  # events after the as-of time are ignored, so they are never in the future
    return None


def _abs_range(an, args):
    r, Range = an.value_range(args[0]), _logic().Range
    if r.low >= 0:
        return r
    return -r if r.high <= 0 else Range(Decimal(0), max(-r.low, r.high))


def _ends(pick: Callable) -> Callable:
    def value_range(an, args):
        rs = [an.value_range(a) for a in args]
        return _logic().Range(pick(r.low for r in rs), pick(r.high for r in rs))
    return value_range


def _union_range(an, args):
    rs = [an.value_range(a) for a in args]
    out = rs[0]
    for r in rs[1:]:
        out = out | r
    return out


# --------------------------------------------------------------------- table --
BUILTINS: dict[str, Builtin] = {b.name: b for b in (
    Builtin("lower", 1, 1, STRING, "string", str.lower),
    Builtin("upper", 1, 1, STRING, "string", str.upper),
    Builtin("trim", 1, 1, STRING, "string", sql_trim),
    Builtin("length", 1, 1, STRING, "int", len, value_range=_nonnegative),
    Builtin("domain", 1, 1, STRING, "string", email_domain, can_miss=True, sql=_domain_sql),
    Builtin("coalesce", 1, None, None, None, None, nulls=FIRST_PRESENT, value_range=_union_range),
    Builtin("days_since", 1, 1, TEMPORAL, "int", days_between, as_of=True, sql=_days_since_sql, value_range=_days_since_range),
    Builtin("abs", 1, 1, NUMERIC, None, abs, value_range=_abs_range),
    Builtin("least", 2, None, None, None, min, compares=True, sql=_null_guarded("least"), value_range=_ends(min)),
    Builtin("greatest", 2, None, None, None, max, compares=True, sql=_null_guarded("greatest"), value_range=_ends(max)),
)}
