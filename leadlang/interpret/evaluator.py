"""The reference interpreter: a checked policy compiled once into Python closures, run lead by lead.

`Interpreter(policy, as_of)` walks the policy's IR once and turns every
expression, aggregate, rule and step into a closure (`_compile`), so scoring a
lead is a chain of calls with no dispatch on node types and no name lookups
left to do. The closures are the semantics (language.md: three-valued logic,
exact decimals, windows, decay, by-account pools); `values.py` holds the value
rules they share. The compilers are split by job: `steps.py` (signals, scores,
bands, criteria, gates, classifications, actions), `expressions.py`,
`aggregates.py`; this module runs them. Aggregates read a lead's events grouped
per source once (`run_rows`), and each aggregate filters that list with its own closure. An event is a
tuple laid out by `event_layout`, its time in microseconds (`aggregates.micros`).
"""

from __future__ import annotations

import datetime as dt
import gc
import operator
import re
from collections import defaultdict
from contextlib import contextmanager
from itertools import groupby
from typing import Callable, Iterable, Iterator

from leadlang.check.policy import Policy
from leadlang.diagnostics import DataError
from leadlang.interpret import values as V
from leadlang.interpret.aggregates import Aggregates, event_tuples, micros
from leadlang.interpret.enums import enum_guard
from leadlang.interpret.expressions import Expressions
from leadlang.interpret.state import EXPLAIN_COLUMNS, LeadState, Result
from leadlang.interpret.steps import Steps
from leadlang.syntax import ast as A

__all__ = ["EXPLAIN_COLUMNS", "Interpreter", "LeadState", "Result", "evaluate", "evaluate_chunks", "event_layout", "uses_account_events"]

_LEAD = operator.itemgetter(0)  # an event tuple's lead


class Interpreter(Steps, Expressions, Aggregates):
    """Evaluate `policy` over in-memory rows; one `LeadState` per lead.

    The policy is compiled into closures once, here; `run` scores rows, `eval`
    evaluates any checked expression (a test's `expect`) on a scored lead."""

    def __init__(self, policy: Policy, as_of: dt.datetime, explain: bool = True):
        self.policy = policy
        self.as_of = as_of
        self.explain = explain  # without it, `LeadState.explain` stays empty (`fired` is kept either way)
        self.as_of_us = micros(as_of)
        self._layout = event_layout(policy)
        self._positions = {name: {key: i for i, key in enumerate(keys)} for name, keys in self._layout.items()}
        self._tuples = {name: event_tuples(keys, self.as_of_us) for name, keys in self._layout.items()}
        self._regex: dict[str, re.Pattern] = {}
        self._valid = enum_guard(policy, self._positions)  # a value outside its enum is missing, as in SQL
        self._lead_fns: dict[int, Callable] = {}  # id(expression) -> closure over a LeadState
        self._output_names = [o.name for o in policy.outputs]
        self._keys = [o.name for o in policy.outputs if o.role == "key"]
        self._computed = {"policy", "as_of", "disqualified", "disqualify_reason", *policy.signals, *policy.scores, *policy.classifications,
                          *policy.criteria, *map(policy.met_column, policy.criteria), *map(policy.band_column, policy.bands),
                          *(st.key for acts in policy.actions.values() for a in acts.actions for st in a.settings),
                          *(o.name for o in policy.outputs if o.role != "key")}  # every name `LeadState.values` may hold
        self._steps = [self._step(step) for step in policy.steps] + [self._actions(t, a) for t, a in policy.actions.items()]
        self._texts = [o.name for o in policy.outputs if o.role != "key" and o.kind == "string"]
        self._by_account = uses_account_events(policy)

    # ------------------------------------------------------------------ run --
    def run(self, leads: list[dict], accounts: list[dict], events: dict[str, list[dict]], keep_states: bool = True) -> Result:
        """Score `leads`; every row is a dict keyed by `Column.key` (`data.stream.load_dataset`'s rows, a test
        block's), in any order; the events after the as-of time are dropped."""
        tuples = self._tuples
        return self.run_rows(leads, accounts, {n: tuples[n](rows) for n, rows in events.items() if n in tuples}, keep_states, seen=True)

    def run_rows(self, leads: list[dict], accounts: list[dict], events: dict[str, list[tuple]], keep_states: bool = True,
                 seen: bool = False) -> Result:
        """Score `leads`; `events` are tuples laid out by `event_layout`, grouped by lead (`data.stream.stream_dataset`'s
        order; any order works, in runs). With `seen`, the caller has already dropped the events after the as-of time."""
        p, as_of, as_of_us = self.policy, self.as_of, self.as_of_us
        leads, accounts, events = self._valid(leads, accounts, events)
        key, account_col = p.leads.key, p.leads.account
        accounts_by_key = {a[p.accounts.key]: a for a in accounts} if p.accounts else {}
        lead_account = {l[key]: l.get(account_col) if account_col else None for l in leads}
        per_lead: dict[str, dict[str, list]] = defaultdict(dict)
        per_account: dict[str, dict[str, list]] = defaultdict(lambda: defaultdict(list))
        pooled = self._by_account
        for source, rows in events.items():
            for lead, run in groupby(rows, _LEAD):
                if lead not in lead_account:
                    continue  # unknown leads are invisible
                mine = list(run) if seen else [ev for ev in run if ev[1] <= as_of_us]  # and so is the future
                if not mine:
                    continue
                have = per_lead[lead]
                if source in have:
                    have[source].extend(mine)
                else:
                    have[source] = mine
                if pooled and (acct := lead_account[lead]) is not None:
                    per_account[acct][source].extend(mine)
        out_rows, explain, states = [], [], {}
        steps, no_events, no_pool = self._steps, {}, {}
        pools: dict[str, dict] = defaultdict(dict)  # account -> its `by account` aggregates' values (`LeadState.pool`)
        for lead in sorted(leads, key=lambda r: r[key]):
            k = lead[key]
            acct = lead_account[k]
            if acct is None:
                state = LeadState(lead, None, per_lead.get(k, no_events), no_events, pool=no_pool)
            else:
                state = LeadState(lead, accounts_by_key.get(acct), per_lead.get(k, no_events), per_account.get(acct, no_events), pool=pools[acct])
            state.values["policy"] = p.label
            state.values["as_of"] = as_of
            for step in steps:
                step(state)
            if keep_states:
                states[k] = state
            out_rows.append(self.output_row(state))
            if state.explain:
                explain.extend({key: k, **e} for e in state.explain)
        return Result(out_rows, explain, states)

    def score(self, s: LeadState) -> None:
        s.values["policy"] = self.policy.label
        s.values["as_of"] = self.as_of
        for step in self._steps:
            step(s)

    def output_row(self, s: LeadState) -> dict:
        """The lead's output row: its key column(s) from the lead's row, every other column from its values (None if unset)."""
        names, lead = self._output_names, s.row
        row = dict(zip(names, map(s.values.get, names)))
        for name in self._keys:
            row[name] = lead[name]
        for name in self._texts:
            if type(row[name]) is A.QuotedName:
                row[name] = str(row[name])  # a `label` is plain text
        return row

    def eval(self, e: A.Expr, s: LeadState):
        """The value of a checked expression for a scored lead."""
        f = self._lead_fns.get(id(e))
        if f is None:
            f = self._lead_fns[id(e)] = self._compile(e, event=False)
        return f(s)

    def _out_of_range(self, node, key, err: V.OutOfRange) -> DataError:
        """A value out of range: a DataError naming the policy line and the lead."""
        what = "a whole number (64-bit)" if err.kind == "int" else "a number (below 10^18, 10 decimal places)"
        return DataError(f'{node.span.file}:{node.span.line}: for lead "{V.show(key)}", the value computed here is out of range for {what}')

    def _key(self, s) -> object:
        return s.row.get(self.policy.key) if isinstance(s, LeadState) else None


def aggregates(policy: Policy) -> Iterator[A.Aggregate]:
    """Every aggregate of the policy's declarations."""
    decls = [*policy.signals.values(), *policy.scores.values(), *policy.criteria.values(), *policy.gates, *policy.classifications.values()]
    return (n for d in decls for n in A.walk(d) if isinstance(n, A.Aggregate))


def uses_account_events(policy: Policy) -> bool:
    """Whether some aggregate of the policy reads `by account` (so a lead needs its account's leads' events)."""
    return any(n.by_account for n in aggregates(policy))


def event_layout(policy: Policy) -> dict[str, tuple[str, ...]]:
    """Each events source's tuple layout: `lead`, `at`, `name`, then the further columns the interpreter
    reads (the column an aggregate over the source computes on, every name in its `where`), in declaration
    order. `data.stream` hands out events laid out so; `Interpreter.run` lays out dict rows so."""
    reads: dict[str, set[str]] = {name: set() for name in policy.events}
    for agg in aggregates(policy):
        reads[agg.source] |= {agg.column} - {None}
        if agg.where is not None:
            reads[agg.source] |= {n.name for n in A.walk(agg.where) if isinstance(n, A.Name)}
    return {name: ("lead", "at", "name", *(f.name for f in ev.fields if f.name in reads[name] and f.name not in ("lead", "at", "name")))
            for name, ev in policy.events.items()}


def evaluate_chunks(policy: Policy, chunks: Iterable, as_of: dt.datetime, explain: bool = True, sink: Callable | None = None,
                    seen: bool = False) -> Result:
    """`evaluate` over `data.stream.stream_dataset`'s chunks (leads in key order, each with all its events;
    for a policy that `uses_account_events`, every lead of an account in one chunk): the same rows,
    with only one chunk in memory. With `sink`, each chunk's `Result` goes to `sink` as it is scored
    and is then dropped (the returned `Result` is empty); `states` stays empty either way. `seen`:
    the chunks hold no event after `as_of` (`stream_dataset(..., as_of=as_of)` dropped them)."""
    interpreter, rows, why = Interpreter(policy, as_of, explain=explain), [], []
    each = iter(chunks)
    try:
        with fewer_collections():
            for chunk in each:
                result = interpreter.run_rows(chunk.leads, chunk.accounts, chunk.events, keep_states=False, seen=seen)
                if sink is not None:
                    sink(result)
                    continue
                rows.extend(result.rows)
                why.extend(result.explain)
    finally:  # a failure releases the reading at once (`stream_dataset`'s DuckDB files), not when the traceback goes
        if hasattr(each, "close"):
            each.close()
    return Result(rows, why, {})


@contextmanager
def fewer_collections():
    """Python's cycle collector, run rarely while chunks are scored: a chunk's rows, events and states hold
    no cycles and go with their last reference, so the collector's passes over hundreds of thousands of
    live event rows would find nothing. What exists before (the compiled policy, the parser's tables) is
    frozen out of the collections; the settings are restored afterwards."""
    threshold = gc.get_threshold()
    gc.freeze()
    gc.set_threshold(200_000, 100, 100)
    try:
        yield
    finally:
        gc.set_threshold(*threshold)
        gc.unfreeze()


def evaluate(policy: Policy, leads: list[dict], accounts: list[dict], events: dict[str, list[dict]], as_of: dt.datetime) -> Result:
    """Score every lead of the given rows as of `as_of`: the interpreter's public entry."""
    return Interpreter(policy, as_of).run(leads, accounts, events)
