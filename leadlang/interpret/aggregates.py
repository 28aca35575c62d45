"""The interpreter's aggregates, each compiled into a closure over a `LeadState`: the events it
counts (`_matcher`: names, window, `where`), its value over them (`_aggregate`), and `by account`
pools computed once per account.

An event is a tuple laid out by `event_layout` (the lead, the time, the name, then the further columns
the policy reads); its time is whole microseconds since 1970-01-01 UTC (`micros`), so a window is an
integer comparison and a decay weight's age an integer difference, exactly as the SQL computes them.
"""

from __future__ import annotations

import datetime as dt
from typing import Callable

from leadlang.aggregates import AGGREGATES, AT, DAY, EVENT, LEAD
from leadlang.interpret import values as V
from leadlang.syntax import ast as A

EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.timezone.utc)
_US = dt.timedelta(microseconds=1)
US_PER_SECOND = 1_000_000
US_PER_DAY = 86_400 * US_PER_SECOND
LEAD_AT, TIME_AT, NAME_AT = 0, 1, 2  # an event tuple's first three positions
_UNSET = object()


def micros(at: dt.datetime) -> int:
    """An aware timestamp as whole microseconds since 1970-01-01 UTC (an event's time in its tuple)."""
    return (at - EPOCH) // _US


def timestamp(us: int) -> dt.datetime:
    """`micros`' inverse: the UTC timestamp of whole microseconds since 1970-01-01."""
    return EPOCH + dt.timedelta(microseconds=us)


def event_tuples(keys: tuple[str, ...], as_of_us: int) -> Callable[[list[dict]], list[tuple]]:
    """Event rows as dicts (keyed by `Column.key`) -> tuples laid out by `keys` (`event_layout`), the
    events after the as-of time dropped."""
    rest = keys[3:]

    def tuples(rows: list[dict]) -> list[tuple]:
        out = []
        for r in rows:
            at = micros(r["at"])
            if at <= as_of_us:
                out.append((r.get("lead"), at, r.get("name"), *[r.get(k) for k in rest]))
        return out
    return tuples


def event_getter(positions: dict[str, int], key: str) -> Callable[[tuple], object]:
    """The closure reading column `key` of an event tuple as a value (the time as a timestamp)."""
    i = positions[key]
    if i == TIME_AT:
        return lambda ev: timestamp(ev[TIME_AT])
    return lambda ev: ev[i]


class Aggregates:
    """`Interpreter`'s part compiling aggregate expressions (`_c_Aggregate`)."""

    def _c_Aggregate(self, e: A.Aggregate, event: str | bool):
        source, match, compute, eid = e.source, self._matcher(e), self._aggregate(e), id(e)
        if not e.by_account:
            def aggregate(s):
                try:
                    return compute(match(s.events.get(source, ())))
                except V.OutOfRange as err:
                    raise self._out_of_range(e, self._key(s), err) from None
            return aggregate

        def by_account(s):
            # the same for every lead of the account (a `where` sees only the event): computed once per account
            pool = s.pool  # shared by the account's leads (a lead without an account: its own pool, no events)
            value = pool.get(eid, _UNSET)
            if value is _UNSET:
                try:
                    value = pool[eid] = compute(match(s.account_events.get(source, ())))
                except V.OutOfRange as err:
                    raise self._out_of_range(e, self._key(s), err) from None
            return value
        return by_account

    def _matcher(self, e: A.Aggregate) -> Callable[[list], list]:
        """The closure keeping the events an aggregate counts: its names, its window (time after
        as-of minus the window, in microseconds), its `where` (true, not unknown)."""
        names = None if e.names is None else frozenset(e.names)
        start = self.as_of_us - e.window.seconds * US_PER_SECOND if e.window is not None else None
        where = None if e.where is None else self._compile(e.where, event=e.source)
        if where is None:
            if names is None:
                return (lambda evs: evs) if start is None else (lambda evs: [ev for ev in evs if ev[1] > start])
            if start is None:
                return lambda evs: [ev for ev in evs if ev[2] in names]
            return lambda evs: [ev for ev in evs if ev[2] in names and ev[1] > start]
        return lambda evs: [ev for ev in evs if (names is None or ev[2] in names) and (start is None or ev[1] > start) and where(ev) is True]

    def _aggregate(self, e: A.Aggregate) -> Callable[[list], object]:
        """The closure computing an aggregate's value from its matching events: its entry's Python
        implementation (`leadlang/aggregates.py`) on what it reads of them (`OutOfRange` when it does not fit)."""
        spec, positions = AGGREGATES[e.func], self._positions[e.source]
        python, inputs = spec.python, _reader(spec.reads, e.column, positions)  # inputs None: the events themselves
        if spec.reads == AT:  # the implementation picks among the times in microseconds: its result as a timestamp
            python = (lambda pick: lambda times: None if (us := pick(times)) is None else timestamp(us))(python)
        if e.half_life is not None:  # language.md §10: integer weights, one definition on every engine
            python = spec.decayed.python
            inputs = _weighted(_value_of(spec.reads, e.column, positions), self.as_of_us, e.half_life.seconds)
        return python if inputs is None else lambda m: python(inputs(m))


def _value_of(reads: str, column: str | None, positions: dict[str, int]) -> Callable[[tuple], object]:
    """What an aggregate reads of one event (None: missing, the event skipped); `_reader` for a list."""
    if reads == EVENT:
        return lambda ev: ev
    if reads == DAY:
        return lambda ev: ev[TIME_AT] // US_PER_DAY
    if reads == AT:
        return lambda ev: ev[TIME_AT]
    if reads == LEAD:
        return lambda ev: ev[LEAD_AT]
    return event_getter(positions, column)


def _weighted(one: Callable[[tuple], object], as_of_us: int, seconds: int) -> Callable[[list], list]:
    """(value, decay weight) of each matching event whose value is present (language.md §10)."""
    weight, half_life_us = V.decay_weight, float(seconds * US_PER_SECOND)
    return lambda m: [(v, weight(as_of_us - ev[TIME_AT], half_life_us)) for ev in m if (v := one(ev)) is not None]


def _reader(reads: str, column: str | None, positions: dict[str, int]) -> Callable[[list], list] | None:
    """What an aggregate reads of its matching events, present values only; None: the events themselves.
    A time is read in microseconds (`AT`: its implementation picks one; `DAY`: the UTC day's number since
    1970-01-01, which tells dates apart as the dates do)."""
    if reads == EVENT:
        return None
    if reads == DAY:
        return lambda m: [ev[TIME_AT] // US_PER_DAY for ev in m]
    if reads == AT:
        return lambda m: [ev[TIME_AT] for ev in m]
    if reads == LEAD:
        return lambda m: [v for ev in m if (v := ev[LEAD_AT]) is not None]
    one = event_getter(positions, column)
    if positions[column] == TIME_AT:
        return lambda m: [one(ev) for ev in m]
    i = positions[column]
    return lambda m: [v for ev in m if (v := ev[i]) is not None]
