"""The event scans: every aggregate of an event source as one conditional aggregate of one GROUP BY.

`aggregate` turns an `A.Aggregate` into its SQL in its source's `EventScan` (per lead or `by
account`), from its entry in `leadlang/aggregates.py`; `decay_weight` is the integer decay weight of language.md §10 in SQL.

A `by account` aggregate with a `Rollup` costs no second pass over the events: its per-lead
partials join the leads' own aggregates in the one GROUP BY of the source (`__ag_<source>`), and the
account's value is aggregated from its leads' partials (`__aa_<source>`: one row per lead in, not one
per event). One without (`active_days`) joins every event to its lead's account (`__ae_<source>`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from leadlang import aggregates as G
from leadlang.sql.dialects import Dialect
from leadlang.syntax import ast as A

if TYPE_CHECKING:
    from leadlang.sql.compiler import Compiler

LEAD, AT, NAME = "__lead", "__at", "__name"
AS_OF = "__as_of"


@dataclass(frozen=True)
class Piece:
    """An aggregate a series computes from partials of disjoint stretches of time (`Intervals`): the SQL of
    each partial over a lead's events of one interval (without the window: the intervals hold it), and the
    aggregate's `Rollup`, which merges and totals them exactly."""

    partials: tuple[str, ...]
    rollup: G.Rollup
    kind: str


@dataclass(frozen=True)
class Intervals:
    """A series' time cut at every as-of point p and every p - window: each point's window (p - window, p]
    (or every past event) is a run of whole intervals, so a lead's events are aggregated once per interval and
    each point merges the intervals it holds, instead of every event meeting every point whose window holds it."""

    number: str  # SQL: the interval of an event's `__at` (NULL where no point's window reaches)
    first: str | None  # SQL literals: the events the intervals hold are in (first, last]; None: every past event
    last: str
    rows: list[tuple[int, str, str]]  # (number, start, end) literals of each interval, (start, end]
    window: int | None  # seconds; None: every past event


def intervals(d: Dialect, at: str, points: list, window: int | None) -> Intervals:
    """The intervals of `points` (ascending datetimes) for aggregates of `window` seconds (None: unbounded),
    `at` the SQL of an event's time. Unbounded, interval 0 is (-inf, first point]."""
    import bisect
    import datetime as dt

    cuts = sorted(set(points) | ({p - dt.timedelta(seconds=window) for p in points} if window is not None else set()))
    # interval j is (cuts[j - 1], cuts[j]]; kept when some point's window holds it whole
    if window is None:
        kept = set(range(len(cuts)))
    else:  # some point p with cuts[j] <= p <= cuts[j - 1] + window
        reach = dt.timedelta(seconds=window)
        kept = {j for j in range(1, len(cuts)) if (i := bisect.bisect_left(points, cuts[j])) < len(points) and points[i] <= cuts[j - 1] + reach}
    lit = [d.timestamp_literal(t) for t in cuts]

    def pick(lo: int, hi: int) -> str:  # the interval of an `at` known to be in (cuts[lo - 1], cuts[hi]]
        if all(j not in kept for j in range(lo, hi + 1)):
            return "NULL"
        if lo == hi:
            return str(lo)
        mid = (lo + hi) // 2
        return f"CASE WHEN {at} <= {lit[mid]} THEN {pick(lo, mid)} ELSE {pick(mid + 1, hi)} END"

    rows = [(j, lit[j - 1] if j else lit[0], lit[j]) for j in sorted(kept)]
    return Intervals(pick(0, len(cuts) - 1), None if window is None else lit[0], lit[-1], rows, window)


@dataclass
class EventScan:
    """One events source: its columns, and every aggregate read from it in one GROUP BY."""

    name: str
    relation: str
    columns: list[tuple[str, str]]  # (output name, SQL)
    by_lead: list[tuple[str, str]] = field(default_factory=list)  # (column, aggregate SQL)
    # `by account`, from the events joined to their lead's account: (column, aggregate SQL)
    by_account: list[tuple[str, str]] = field(default_factory=list)
    # per-lead partials of the `by account` aggregates rolled up, in `by_lead`'s GROUP BY: (column, aggregate SQL)
    partials: list[tuple[str, str]] = field(default_factory=list)
    # `by account`, from the account's leads' partials: (column, SQL over the partials as `"ag_<name>"."<column>"`)
    rolled: list[tuple[str, str]] = field(default_factory=list)
    # in a series, a group of one window: the intervals its events fall in, and for decomposable aggregates the
    # per-(lead, interval) partials (`__ip_<name>`) `by_lead` and `partials` are then merged from: (column, SQL)
    intervals: Intervals | None = None
    pieces: list[tuple[str, str]] = field(default_factory=list)

    @property
    def per_lead(self) -> bool:
        """Whether the source is aggregated per lead (`__ag_<name>`): its own aggregates or partials."""
        return bool(self.by_lead or self.partials)

    @property
    def pools(self) -> bool:
        """Whether a lead's values read the events of the other leads of its account."""
        return bool(self.by_account or self.rolled)

    def piece(self, sql: str, q) -> str:
        """The per-(lead, interval) column computing `sql`, as `"ip"."<column>"`."""
        return f"{q('ip')}.{q(_column(self.pieces, self.pieces, sql, '__ip'))}"

    def partial(self, sql: str, q) -> str:
        """The per-lead column computing `sql` (a lead's own aggregate if one computes it), as `"ag_<name>"."<column>"`."""
        return f"{q('ag_' + self.name)}.{q(_column(self.by_lead + self.partials, self.partials, sql, '__part'))}"


def _column(known: list[tuple[str, str]], into: list[tuple[str, str]], sql: str, prefix: str) -> str:
    """The column of `known` computing `sql`, else a new one `<prefix>N` added to `into`."""
    column = next((c for c, s in known if s == sql), None)
    if column is None:
        column = f"{prefix}{len(into) + 1}"
        into.append((column, sql))
    return column


def aggregate(c: Compiler, e: A.Aggregate) -> str:
    """The column of aggregate `e` (one per distinct aggregate), its SQL added to its source's `EventScan`."""
    key = e  # equal aggregates written in two places share one column (spans do not compare)
    if key in c.aggregates:
        return c.aggregates[key]
    column = f"__agg{len(c.aggregates) + 1}"
    c.aggregates[key] = column
    scan = c.scans[e.source]
    ev = c.p.events[e.source]
    d = c.d
    conds = []
    if e.names is not None:
        conds.append(f"{c.q(NAME)} IN ({', '.join(d.literal(n) for n in e.names)})")
    if e.where is not None:
        conds.append(c.expr(e.where, ev))
    timeless = " AND ".join(conds) or "TRUE"  # without the window: a series' intervals hold it
    if e.window is not None:
        conds.insert(1 if e.names is not None else 0, f"{c.q(AT)} > {d.minus_seconds(c.q(AS_OF), e.window.seconds)}")
    cond = " AND ".join(conds) or "TRUE"
    spec = G.AGGREGATES[e.func]
    if e.half_life is None:
        value = f"CASE WHEN {cond} THEN {_reads(c, spec.reads, e.column)} END"
        sql, rollup = spec.sql(d, value, c.kind(e)), spec.rollup
        whole = f"CASE WHEN {timeless} THEN {_reads(c, spec.reads, e.column)} END"
        if rollup is not None and (e.by_account or rollup.own) and c.q(AS_OF) not in whole:
            c.pieces[column] = Piece(tuple(partial(d, whole) for partial in rollup.partials), rollup, c.kind(e))
    else:
        weight = decay_weight(d, f"({d.epoch_us(c.q(AS_OF))} - {d.epoch_us(c.q(AT))})", e.half_life.seconds)
        if spec.reads == G.COLUMN:  # value x weight exactly (ints as DECIMAL(19, 0))
            whole = c.p.event_types[e.source][e.column].kind == "int"
            weight = f"CAST({c.q(e.column)} AS {d.exact_int if whole else d.numeric}) * {weight}"
        value = f"CASE WHEN {cond} THEN {weight} END"
        sql, rollup = spec.decayed.sql(d, value), spec.decayed.rollup
    if not e.by_account:
        scan.by_lead.append((column, sql))
    elif rollup is None:
        scan.by_account.append((column, sql))
    else:
        partials = [scan.partial(partial(d, value), c.q) for partial in rollup.partials]
        scan.rolled.append((column, rollup.total(d, partials, c.kind(e))))
    return column


def _reads(c: Compiler, reads: str, column: str | None) -> str:
    """What an aggregate reads of each event, in SQL (`leadlang/aggregates.py`'s `reads`)."""
    if reads == G.EVENT:
        return "1"
    if reads == G.AT:
        return c.q(AT)
    if reads == G.DAY:
        return c.d.utc_date(c.q(AT))
    if reads == G.LEAD:
        return c.q(LEAD)
    return c.q(column)


def decay_weight(d: Dialect, age_us: str, half_life_seconds: int) -> str:
    """An event's decay weight in ten-billionths, as `values.decay_weight` computes it (language.md §10):
    `K = floor(0.5 ^ (age_us / half_life_us) * 2^60)` from doubles, then `round(K * 5^10 / 2^50)` in
    64-bit integers, as `(K >> 26) * 5^10 + ((K mod 2^26) * 5^10 + 2^49) >> 26`, all `>> 24`.
    The exponent is capped at 61 (every weight beyond is 0) so no engine underflows."""
    x = f"CAST({age_us} AS {d.double}) / CAST({half_life_seconds * 1_000_000} AS {d.double})"
    k = f"CAST(FLOOR(POWER(0.5, LEAST({x}, CAST(61 AS {d.double}))) * CAST({2 ** 60} AS {d.double})) AS {d.bigint})"
    low = d.shift_right(f"{d.low_bits(k, 26)} * 9765625 + {2 ** 49}", 26)
    return d.shift_right(f"{d.shift_right(k, 26)} * 9765625 + {low}", 24)
