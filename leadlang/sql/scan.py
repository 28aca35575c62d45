"""The event scans: every aggregate of an event source as one conditional aggregate of one GROUP BY.

`aggregate` turns an `A.Aggregate` into its SQL in its source's `EventScan` (per lead or `by
account`), from its entry in `leadlang/aggregates.py`; `decay_weight` is the integer decay weight of language.md §10 in SQL.

A `by account` aggregate with a `Rollup` costs no second pass over the events: its per-lead
partials join the leads' own aggregates in the one GROUP BY of the source (`__ag_<source>`), and the
account's value is aggregated from its leads' partials (`__aa_<source>`: one row per lead in, not one
per event). One without (`active_days`) joins every event to its lead's account (`__ae_<source>`).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Callable

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
    aggregate's `Rollup`, which merges and totals them exactly.

    A decayed `by account` aggregate has no partial of an interval alone (an event's weight depends on the
    point): `decayed` gives its conditional weighted value for the SQL of the event's age in microseconds at a
    point, and the series sums it once for each point holding the interval (`Compiler.series_scans`)."""

    partials: tuple[str, ...]
    rollup: G.Rollup | None
    kind: str
    decayed: Callable[[str], str] | None = None
    # distinct UTC dates (`whole_days`) in a series whose time is cut only at UTC midnights: the condition of the
    # events it counts, without the window; the series counts each interval's dates (`day_intervals`)
    days: str | None = None


@dataclass(frozen=True)
class Intervals:
    """A series' time cut at every as-of point p and every p - window: each point's window (p - window, p]
    (or every past event) is a run of whole intervals, so a lead's events are aggregated once per interval and
    each point merges the intervals it holds, instead of every event meeting every point whose window holds it."""

    number: str  # SQL: the interval of an event's `__at` (NULL where no point's window reaches)
    first: str | None  # SQL literals: the events the intervals hold are in (first, last]; None: every past event
    last: str
    # (number, start, end, lo) of each interval, (start, end] as literals ([start, end) if `closed_left`); lo: the
    # index of the first point holding it
    rows: list[tuple[int, str, str, int]]
    window: int | None  # seconds; None: every past event
    holders: dict[int, range]  # each interval's number -> the indices of the points whose windows hold it
    closed_left: bool = False  # `day_intervals`: [start, end), events from `first` on (else after it)


def _cuts(points: list, window: int | None) -> list:
    """A series' cut times, ascending: every point and, with a window (seconds), every point - window."""
    return sorted(set(points) | ({p - dt.timedelta(seconds=window) for p in points} if window is not None else set()))


def _case_tree(at: str, lit: list[str], lo: int, hi: int, below: str, kept=None) -> str:
    """The SQL of the interval of `at`, known to be one of intervals lo..hi: a binary tree of `at below lit[mid]`
    tests (interval j ends at cut j: `<=` for (start, end], `<` for [start, end)); NULL for a run of intervals not kept."""
    if kept is not None and all(j not in kept for j in range(lo, hi + 1)):
        return "NULL"
    if lo == hi:
        return str(lo)
    mid = (lo + hi) // 2
    return (f"CASE WHEN {at} {below} {lit[mid]} THEN {_case_tree(at, lit, lo, mid, below, kept)} "
            f"ELSE {_case_tree(at, lit, mid + 1, hi, below, kept)} END")


def intervals(d: Dialect, at: str, points: list, window: int | None) -> Intervals:
    """The intervals of `points` (ascending datetimes) for aggregates of `window` seconds (None: unbounded),
    `at` the SQL of an event's time. Unbounded, interval 0 is (-inf, first point]."""
    import bisect

    cuts = _cuts(points, window)
    # interval j is (cuts[j - 1], cuts[j]]; kept when some point's window holds it whole
    if window is None:
        kept = set(range(len(cuts)))
    else:  # some point p with cuts[j] <= p <= cuts[j - 1] + window
        reach = dt.timedelta(seconds=window)
        kept = {j for j in range(1, len(cuts)) if (i := bisect.bisect_left(points, cuts[j])) < len(points) and points[i] <= cuts[j - 1] + reach}
    lit = [d.timestamp_literal(t) for t in cuts]
    # the points p holding interval j: cuts[j] <= p (and p - window <= cuts[j - 1]), a run of them
    holders = {j: range(bisect.bisect_left(points, cuts[j]), len(points) if window is None else
                        bisect.bisect_right(points, cuts[j - 1] + reach)) for j in sorted(kept)}
    rows = [(j, lit[j - 1] if j else lit[0], lit[j], holders[j][0]) for j in sorted(kept)]
    return Intervals(_case_tree(at, lit, 0, len(cuts) - 1, "<=", kept), None if window is None else lit[0], lit[-1], rows, window, holders)


def whole_days(points: list, window: int | None) -> bool:
    """Whether a series' time is cut only at UTC midnights: every point is one and the window is whole days."""
    return all(p.astimezone(dt.timezone.utc).time() == dt.time(0) for p in points) and (window is None or window % 86400 == 0)


def day_intervals(d: Dialect, at: str, points: list, window: int | None) -> Intervals:
    """`intervals` for `whole_days` series, closed on the left: interval j is [cuts[j - 1], cuts[j]) (0 is
    (-inf, cuts[0]) without a window), and the last, `len(cuts)`, is the instant of the last point. A UTC date is
    then in one interval whole, so a window [p - window, p)'s distinct dates add up over its intervals; the
    window (p - window, p] differs by the instant p - window (its date counts unless that date's events are all
    at that instant: role 1, "first") and the instant p (role 2, "after": the interval starting at p)."""
    cuts = _cuts(points, window)
    lit = [d.timestamp_literal(t) for t in cuts]
    last, first = len(cuts), 0 if window is None else 1
    none = d.cast("NULL", "timestamp")
    rows = [(j, lit[j - 1] if j else none, lit[min(j, last - 1)], 0) for j in range(first, last + 1)]
    return Intervals(_case_tree(at, lit, first, last, "<"), None if window is None else lit[0], lit[-1], rows, window, {}, closed_left=True)


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
    # in a series, a group of `by account` pieces: partials per (account, interval), merged per (account, as-of) into
    # `rolled` (over the partials as `"ip"."<column>"` and the point's place among the interval's holders `"cv"."__r"`)
    account: bool = False
    # in a series, a group of `day_intervals`: flags per (lead or account, interval, UTC date), which `pieces` read
    day_flags: list[tuple[str, str]] = field(default_factory=list)

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
        if spec.whole_days and c.series and c.q(AS_OF) not in timeless and whole_days(c.series, None if e.window is None else e.window.seconds):
            c.pieces[column] = Piece((), None, c.kind(e), days=timeless)
    else:
        value = _decayed_value(c, e, cond)(f"({d.epoch_us(c.q(AS_OF))} - {d.epoch_us(c.q(AT))})")
        sql, rollup = spec.decayed.sql(d, value), spec.decayed.rollup
        if e.by_account and rollup is not None and rollup.own and c.series:
            c.pieces[column] = Piece((), rollup, c.kind(e), decayed=_decayed_value(c, e, timeless))
    if not e.by_account:
        scan.by_lead.append((column, sql))
    elif rollup is None:
        scan.by_account.append((column, sql))
    else:
        partials = [scan.partial(partial(d, value), c.q) for partial in rollup.partials]
        scan.rolled.append((column, rollup.total(d, partials, c.kind(e))))
    return column


def _decayed_value(c: Compiler, e: A.Aggregate, cond: str) -> Callable[[str], str]:
    """The conditional weighted value of decayed aggregate `e` (`cond` without the window) for an event whose age
    at a point, in microseconds, is the SQL it is given."""
    d, spec = c.d, G.AGGREGATES[e.func]

    def value(age_us: str) -> str:
        weight = decay_weight(d, age_us, e.half_life.seconds)
        if spec.reads == G.COLUMN:  # value x weight exactly (ints as DECIMAL(19, 0))
            whole = c.p.event_types[e.source][e.column].kind == "int"
            weight = f"CAST({c.q(e.column)} AS {d.exact_int if whole else d.numeric}) * {weight}"
        return f"CASE WHEN {cond} THEN {weight} END"
    return value


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
