"""The interpreter's aggregates, each compiled into a closure over a `LeadState`: the events it
counts (`_matcher`: names, window, `where`), its value over them (`_aggregate`), and `by account`
pools computed once per account."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Callable

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
        """The closure computing an aggregate's value from its matching events."""
        f, col, as_of = e.func, e.column, self.as_of

        def checked(g, *args, s):
            try:
                return g(*args)
            except V.OutOfRange as err:
                raise self._out_of_range(e, self._key(s), err) from None

        if e.half_life is not None:  # language.md §10: integer weights, one definition on every engine
            seconds, weight = e.half_life.seconds, V.decay_weight
            if f == "count":
                return lambda m, s: checked(V.decayed_count, [weight(as_of - ev["at"], seconds) for ev in m], s=s)
            return lambda m, s: checked(V.decayed_sum, [(v, weight(as_of - ev["at"], seconds)) for ev in m if (v := ev.get(col)) is not None], s=s)
        if f == "count":
            return lambda m, s: len(m)
        if f == "active_days":
            return lambda m, s: len({(at if at.tzinfo is _UTC else at.astimezone(_UTC)).date() for ev in m if (at := ev["at"]) is not None})
        if f == "distinct_leads":
            return lambda m, s: len({ev["lead"] for ev in m})
        if f == "first":
            return lambda m, s: min((ev["at"] for ev in m), default=None)
        if f == "last":
            return lambda m, s: max((ev["at"] for ev in m), default=None)
        if f == "sum":
            def sum_(m, s):
                vals = [v for ev in m if (v := ev.get(col)) is not None]
                if all(isinstance(v, int) for v in vals):
                    return checked(V.whole, sum(vals), s=s)
                return checked(V.number, V.total(vals), s=s)
            return sum_
        if f in ("min", "max"):
            pick = min if f == "min" else max
            return lambda m, s: pick((v for ev in m if (v := ev.get(col)) is not None), default=None)

        def avg(m, s):  # the sum over the count, as `/` divides
            vals = [v for ev in m if (v := ev.get(col)) is not None]
            if not vals:
                return None
            total = checked(V.whole if all(isinstance(v, int) for v in vals) else V.number, V.total(vals), s=s)
            return checked(V.arith, "/", total, len(vals), s=s)
        return avg
