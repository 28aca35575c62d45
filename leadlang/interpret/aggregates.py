"""The interpreter's aggregates, each compiled into a closure over a `LeadState`: the events it
counts (`_matcher`: names, window, `where`), its value over them (`_aggregate`), and `by account`
pools computed once per account."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Callable

from leadlang.aggregates import AGGREGATES, COLUMN, DAY, EVENT
from leadlang.interpret import values as V
from leadlang.syntax import ast as A

if TYPE_CHECKING:
    from leadlang.interpret.state import LeadState

_UTC = dt.timezone.utc


class Aggregates:
    """`Interpreter`'s part compiling aggregate expressions (`_c_Aggregate`)."""

    def _c_Aggregate(self, e: A.Aggregate, event: bool):
        source, match, value = e.source, self._matcher(e), self._aggregate(e)
        if not e.by_account:
            return lambda s: value(match(s.events.get(source, ())), s)
        pooled = self._pooled

        def by_account(s):
            # the same for every lead of the account (a `where` sees only the event): computed once per pool
            pool = s.account_events  # a lead without an account has none
            key = (id(e), id(pool))
            if key not in pooled:
                pooled[key] = value(match(pool.get(source, ())), s)
            return pooled[key]
        return by_account

    def _matcher(self, e: A.Aggregate) -> Callable[[list], list]:
        """The closure keeping the events an aggregate counts: its names, its window, its `where`."""
        names = None if e.names is None else frozenset(e.names)
        start = self.as_of - dt.timedelta(seconds=e.window.seconds) if e.window is not None else None
        where = None if e.where is None else self._compile(e.where, event=True)
        if where is None:
            if names is None:
                return (lambda evs: evs) if start is None else (lambda evs: [ev for ev in evs if ev["at"] > start])
            if start is None:
                return lambda evs: [ev for ev in evs if ev.get("name") in names]
            return lambda evs: [ev for ev in evs if ev.get("name") in names and ev["at"] > start]
        return lambda evs: [ev for ev in evs if (names is None or ev.get("name") in names) and (start is None or ev["at"] > start) and where(ev) is True]

    def _aggregate(self, e: A.Aggregate) -> Callable[[list, LeadState], object]:
        """The closure computing an aggregate's value from its matching events: its entry's Python
        implementation (`leadlang/aggregates.py`) on what it reads of them."""
        spec, as_of = AGGREGATES[e.func], self.as_of
        python, inputs = spec.python, _reader(spec.reads, e.column)  # inputs None: the events themselves
        if e.half_life is not None:  # language.md §10: integer weights, one definition on every engine
            python, inputs = spec.decayed.python, _weighted(_value_of(spec.reads, e.column), as_of, e.half_life.seconds)

        def value(m, s):
            try:
                return python(m if inputs is None else inputs(m))
            except V.OutOfRange as err:
                raise self._out_of_range(e, self._key(s), err) from None
        return value


def _utc_date(at: dt.datetime) -> dt.date:
    return (at if at.tzinfo is _UTC else at.astimezone(_UTC)).date()


def _value_of(reads: str, column: str | None) -> Callable[[dict], object]:
    """What an aggregate reads of one event (None: missing, the event skipped)."""
    if reads == EVENT:
        return lambda ev: ev
    if reads == DAY:
        return lambda ev: None if (at := ev["at"]) is None else _utc_date(at)
    key = column if reads == COLUMN else reads
    return lambda ev: ev.get(key)


def _weighted(one: Callable[[dict], object], as_of: dt.datetime, seconds: int) -> Callable[[list], list]:
    """(value, decay weight) of each matching event whose value is present (language.md §10)."""
    weight = V.decay_weight
    return lambda m: [(v, weight(as_of - ev["at"], seconds)) for ev in m if (v := one(ev)) is not None]


def _reader(reads: str, column: str | None) -> Callable[[list], list] | None:
    """What an aggregate reads of its matching events, present values only; None: the events themselves."""
    if reads == EVENT:
        return None
    if reads == DAY:
        return lambda m: [_utc_date(at) for ev in m if (at := ev["at"]) is not None]
    key = column if reads == COLUMN else reads  # AT, LEAD: the event's own `at`, `lead`
    return lambda m: [v for ev in m if (v := ev.get(key)) is not None]
