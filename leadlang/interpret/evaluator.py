"""The reference interpreter: a checked policy compiled once into Python closures, run lead by lead.

`Interpreter(policy, as_of)` walks the policy's IR once and turns every
expression, aggregate, rule and step into a closure (`_compile`), so scoring a
lead is a chain of calls with no dispatch on node types and no name lookups
left to do. The closures are the semantics (language.md: three-valued logic,
exact decimals, windows, decay, by-account pools); `values.py` holds the value
rules they share. Aggregates read a lead's events grouped per source once
(`run`), and each aggregate filters that list with its own closure.
"""

from __future__ import annotations

import datetime as dt
import operator
import re
from collections import defaultdict
from itertools import groupby
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Callable, Iterable

from leadlang.builtins import BUILTINS, FIRST_PRESENT, as_timestamp
from leadlang.check.policy import Policy
from leadlang.diagnostics import DataError
from leadlang.interpret import values as V
from leadlang.interpret.enums import enum_guard
from leadlang.syntax import ast as A

_UTC = dt.timezone.utc
_ZERO = Decimal(0)
_PLAIN = ("string", "int", "number", "bool", "label")  # kinds compared as Python compares them (no date/timestamp mix)
_LEAD = operator.itemgetter("lead")
_OPS = {"=": operator.eq, "!=": operator.ne, "<": operator.lt, "<=": operator.le, ">": operator.gt, ">=": operator.ge}


@dataclass
class LeadState:
    """Everything computed for one lead; `expect` lines and `explain` read it."""

    row: dict
    account: dict | None
    events: dict[str, list[dict]]  # this lead's events per source, as-of filtered
    account_events: dict[str, list[dict]]  # its account's events (every lead's), as-of filtered
    values: dict[str, object] = field(default_factory=dict)
    members: dict[tuple[str, str], object] = field(default_factory=dict)
    explain: list[dict] = field(default_factory=list)
    fired: set[tuple[str, str]] = field(default_factory=set)
    branches: dict[str, int] = field(default_factory=dict)  # classify name -> index of the branch taken; len(branches) is `otherwise`


@dataclass
class Result:
    rows: list[dict]
    explain: list[dict]
    states: dict[str, LeadState]


EXPLAIN_COLUMNS = (("component", "string"), ("kind", "string"), ("rule", "string"), ("points", "number"))


class Interpreter:
    """Evaluate `policy` over in-memory rows; one `LeadState` per lead.

    The policy is compiled into closures once, here; `run` scores rows, `eval`
    evaluates any checked expression (a test's `expect`) on a scored lead."""

    def __init__(self, policy: Policy, as_of: dt.datetime):
        self.policy = policy
        self.as_of = as_of
        self._regex: dict[str, re.Pattern] = {}
        self._valid = enum_guard(policy)  # a value outside its enum is missing, as in SQL
        self._lead_fns: dict[int, Callable] = {}  # id(expression) -> closure over a LeadState
        self._pooled: dict[tuple[int, int], object] = {}  # (id(by-account aggregate), id(account pool)) -> value, for one `run`
        self._steps = [self._step(step) for step in policy.steps] + [self._actions(t, a) for t, a in policy.actions.items()]
        self._outputs = [(o.name, o.role == "key") for o in policy.outputs]
        self._texts = [o.name for o in policy.outputs if o.role != "key" and o.kind == "string"]
        self._by_account = uses_account_events(policy)

    # ------------------------------------------------------------------ run --
    def run(self, leads: list[dict], accounts: list[dict], events: dict[str, list[dict]], keep_states: bool = True) -> Result:
        p, as_of = self.policy, self.as_of
        leads, accounts, events = self._valid(leads, accounts, events)
        key, account_col = p.leads.key, p.leads.account
        accounts_by_key = {a[p.accounts.key]: a for a in accounts} if p.accounts else {}
        lead_account = {l[key]: l.get(account_col) if account_col else None for l in leads}
        per_lead: dict[str, dict[str, list]] = defaultdict(dict)
        per_account: dict[str, dict[str, list]] = defaultdict(lambda: defaultdict(list))
        pooled = self._by_account
        self._pooled.clear()  # the pools of the previous rows are gone
        for source, rows in events.items():
            # rows come grouped by lead from `io.stream_dataset`; any order works, in runs
            for lead, run in groupby(rows, _LEAD):
                if lead not in lead_account:
                    continue  # unknown leads are invisible
                seen = [ev for ev in run if ev["at"] <= as_of]  # and so is the future
                if not seen:
                    continue
                mine = per_lead[lead]
                if source in mine:
                    mine[source].extend(seen)
                else:
                    mine[source] = seen
                if pooled and (acct := lead_account[lead]) is not None:
                    per_account[acct][source].extend(seen)
        out_rows, explain, states = [], [], {}
        steps, no_events = self._steps, {}
        for lead in sorted(leads, key=lambda r: r[key]):
            k = lead[key]
            acct = lead_account[k]
            state = LeadState(
                row=lead,
                account=accounts_by_key.get(acct) if acct is not None else None,
                events=per_lead.get(k, no_events),
                account_events=per_account.get(acct, no_events) if acct is not None else no_events,
            )
            state.values["policy"] = p.label
            state.values["as_of"] = as_of
            for step in steps:
                step(state)
            if keep_states:
                states[k] = state
            out_rows.append(self.output_row(state))
            explain.extend({key: k, **e} for e in state.explain)
        return Result(out_rows, explain, states)

    def score(self, s: LeadState) -> None:
        s.values["policy"] = self.policy.label
        s.values["as_of"] = self.as_of
        for step in self._steps:
            step(s)

    def output_row(self, s: LeadState) -> dict:
        values, lead = s.values, s.row
        row = {name: lead[name] if is_key else values.get(name) for name, is_key in self._outputs}
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

    # ---------------------------------------------------------------- steps --
    def _step(self, step) -> Callable[[LeadState], None]:
        p, name = self.policy, step.name
        if step.kind == "signal":
            f = self._compile(p.signals[name].expr, event=False)

            def signal(s):
                s.values[name] = f(s)
            return signal
        if step.kind == "score":
            return self._score(p.scores[name])
        if step.kind == "band":
            bands, band = p.bands[name], p.band_column(name)

            def band_step(s):
                s.values[band] = band_of(bands, s.values[name])
            return band_step
        if step.kind == "criteria":
            return self._criteria(p.criteria[name])
        if step.kind == "disqualify":
            return self._disqualify()
        return self._classify(p.classifications[name])

    def _actions(self, target: str, actions) -> Callable[[LeadState], None]:
        """The settings of every action of the label a lead landed on, in file order."""
        acts = [(a.label, [(st.key, st.value.value) for st in a.settings]) for a in actions.actions]

        def act(s):
            label = s.values[target]
            for when, settings in acts:
                if when == label:
                    for key, value in settings:
                        s.values[key] = value
        return act

    def _score(self, sc) -> Callable[[LeadState], None]:
        name, clamp = sc.name, sc.clamp
        low, high = (clamp.low, clamp.high) if clamp is not None else (None, None)
        if isinstance(sc, A.DerivedScore):
            f = self._compile(sc.expr, event=False)

            def derived(s):
                value = f(s)
                total = V.to_decimal(0 if value is None else value)
                if clamp is not None:
                    total = min(max(total, low), high)
                s.values[name] = V.round2(total)
            return derived
        rules = [(r, r.id, self._rule_points(r)) for r in sc.rules]
        round2 = V.round2
        # every rule's points (a literal, a product `number` made, or a cap) fit: the partial sums need only a range check
        fits = all(V.fits(r.points) and (r.cap is None or V.fits(r.cap)) for r in sc.rules)
        add = V.add_numbers if fits else (lambda a, b: V.arith("+", a, b))

        def points_score(s):
            total = _ZERO
            for r, rid, points_of in rules:
                points = points_of(s)
                if points:
                    try:
                        total = add(total, points)
                    except V.OutOfRange as err:
                        raise self._out_of_range(r, self._key(s), err) from None
                    s.fired.add((name, rid))
                    s.explain.append({"component": name, "kind": "rule", "rule": rid, "points": round2(points)})
            if clamp is not None:
                total = min(max(total, low), high)
            s.values[name] = round2(total)
        return points_score

    def _rule_points(self, r: A.Rule) -> Callable[[LeadState], Decimal]:
        f, points, cap = self._compile(r.expr, event=False), r.points, r.cap
        if r.kind == "when":
            return lambda s: points if f(s) is True else _ZERO
        arith, to_decimal = V.arith, V.to_decimal

        def per(s):
            value = f(s)
            if value is None:
                return _ZERO
            try:
                got = arith("*", points, to_decimal(value))
            except V.OutOfRange as err:
                raise self._out_of_range(r, self._key(s), err) from None
            if cap is not None and abs(got) > cap:
                got = cap if got > 0 else -cap
            return got
        return per

    def _criteria(self, cr: A.Criteria) -> Callable[[LeadState], None]:
        name, met_name = cr.name, self.policy.met_column(cr.name)
        members = [((cr.name, m.id), m.id, self._compile(m.cond, event=False)) for m in cr.members]
        need = len(cr.members) if cr.required is None else cr.required

        def criteria(s):
            met = 0
            for key, mid, cond in members:
                # A member whose condition is unknown did not fire: it reads as false.
                truth = cond(s) is True
                s.members[key] = truth
                if truth:
                    met += 1
                    s.fired.add(key)
                    s.explain.append({"component": name, "kind": "member", "rule": mid, "points": None})
            s.values[name] = met >= need
            s.values[met_name] = met
        return criteria

    def _disqualify(self) -> Callable[[LeadState], None]:
        gates = [(g.id, self._compile(g.cond, event=False)) for g in self.policy.gates]

        def disqualify(s):
            reason = None
            for gid, cond in gates:
                if cond(s) is True:
                    s.fired.add(("disqualify", gid))
                    s.explain.append({"component": "disqualify", "kind": "gate", "rule": gid, "points": None})
                    if reason is None:
                        reason = gid
            s.values["disqualified"] = reason is not None
            s.values["disqualify_reason"] = reason
        return disqualify

    def _classify(self, c) -> Callable[[LeadState], None]:
        name = c.name
        if isinstance(c, A.Matrix):
            rows_band, cols_band = self.policy.band_column(c.rows_score), self.policy.band_column(c.cols_score)
            cells = {(row.band, col): cell for row in c.rows for col, cell in zip(c.columns, row.cells)}

            def matrix(s):
                v = s.values
                v[name] = "disqualified" if v["disqualified"] else cells[(v[rows_band], v[cols_band])]
            return matrix
        branches = [(i, b.label, self._compile(b.cond, event=False)) for i, b in enumerate(c.branches)]
        otherwise, last = c.otherwise, len(c.branches)

        def classify(s):
            for i, label, cond in branches:
                if cond(s) is True:
                    s.branches[name] = i
                    s.values[name] = label
                    return
            s.branches[name] = last
            s.values[name] = otherwise
        return classify

    # ---------------------------------------------------------- expressions --
    def _compile(self, e: A.Expr, event: bool) -> Callable:
        """A closure computing `e`: over a `LeadState`, or with `event`, over one event row
        (a `where` condition, where the event's own columns are in scope)."""
        return getattr(self, "_c_" + type(e).__name__)(e, event)

    def _c_Literal(self, e: A.Literal, event: bool):
        value = e.value
        return lambda s: value

    def _c_ListLit(self, e: A.ListLit, event: bool):
        value = tuple(i.value for i in e.items)
        return lambda s: value

    def _c_Name(self, e: A.Name, event: bool):
        n, lets = e.name, self.policy.let_values
        if event:  # the event's own column wins, as the checker resolves it; then a `let`
            if n in lets:
                value = lets[n]
                return lambda ev: ev.get(n, value)
            return lambda ev: ev.get(n)
        if n in lets:
            value = lets[n]
            return lambda s: value

        def name(s):
            values = s.values
            return values[n] if n in values else s.row.get(n)
        return name

    def _c_Attr(self, e: A.Attr, event: bool):
        if event:
            return lambda ev: None  # no criteria and no account inside `where`
        key, attr = (e.base, e.attr), e.attr

        def attr_(s):
            if key in s.members:
                return s.members[key]
            account = s.account
            return None if account is None else account.get(attr)
        return attr_

    def _c_Disqualified(self, e: A.Disqualified, event: bool):
        return lambda s: s.values["disqualified"]

    def _c_Unary(self, e: A.Unary, event: bool):
        f = self._compile(e.operand, event)
        if e.op == "not":
            return lambda s: None if (v := f(s)) is None else not v
        return lambda s: None if (v := f(s)) is None else -v

    def _c_Binary(self, e: A.Binary, event: bool):
        op, left, right = e.op, self._compile(e.left, event), self._compile(e.right, event)
        if op == "and":
            def and_(s):
                a = left(s)
                return False if a is False else V.logic_and(a, right(s))
            return and_
        if op == "or":
            def or_(s):
                a = left(s)
                return True if a is True else V.logic_or(a, right(s))
            return or_
        if op in ("+", "-", "*", "/"):
            arith = V.arith

            def arithmetic(s):
                try:
                    return arith(op, left(s), right(s))
                except V.OutOfRange as err:
                    raise self._out_of_range(e, self._key(s), err) from None
            return arithmetic
        if self._plain(e.left) and self._plain(e.right):  # no date among timestamps: Python compares them as they are
            cmp = _OPS[op]

            def compare_plain(s):
                a, b = left(s), right(s)
                return None if a is None or b is None else cmp(a, b)
            return compare_plain
        compare = V.compare
        return lambda s: compare(op, left(s), right(s))

    def _plain(self, e: A.Expr) -> bool:
        t = self.policy.types.get(id(e))
        return t is not None and t.kind in _PLAIN

    def _c_InList(self, e: A.InList, event: bool):
        f, items, negated = self._compile(e.operand, event), self._compile(e.items, event), e.negated
        fixed = isinstance(e.items, A.ListLit) or (isinstance(e.items, A.Name) and e.items.name in self.policy.let_values and not event)
        if fixed:
            values = items(None)
            if values is not None and all(type(i) is str for i in values):  # text: `=` is membership
                members = frozenset(values)
                return lambda s: None if (v := f(s)) is None else (v in members) != negated
        compare = V.compare

        def in_list(s):
            v, found_in = f(s), items(s)
            if v is None or found_in is None:
                return None
            return any(compare("=", v, i) for i in found_in) != negated
        return in_list

    def _c_Between(self, e: A.Between, event: bool):
        f, low, high = self._compile(e.operand, event), self._compile(e.low, event), self._compile(e.high, event)
        compare, both = V.compare, V.logic_and
        return lambda s: both(compare(">=", f(s), low(s)), compare("<=", f(s), high(s)))

    def _c_TextTest(self, e: A.TextTest, event: bool):
        f, arg, op = self._compile(e.operand, event), self._compile(e.arg, event), e.op
        if op == "contains":
            test = lambda text, a: a in text  # noqa: E731
        elif op == "contains_any":
            test = lambda text, a: any(x in text for x in a)  # noqa: E731
        elif op == "starts_with":
            test = str.startswith
        elif op == "ends_with":
            test = str.endswith
        else:
            regex = self._regex

            def test(text, a):
                rx = regex.get(a)
                if rx is None:
                    rx = regex[a] = re.compile(a)
                return rx.search(text) is not None

        def text_test(s):
            text, a = f(s), arg(s)
            return None if text is None or a is None else test(text, a)
        return text_test

    def _c_IsMissing(self, e: A.IsMissing, event: bool):
        f, negated = self._compile(e.operand, event), e.negated
        return lambda s: (f(s) is None) != negated

    def _c_IsLabel(self, e: A.IsLabel, event: bool):
        which, label, negated = self.policy.ref(e).column, e.label, e.negated
        return lambda s: (s.values.get(which) == label) != negated

    def _c_Call(self, e: A.Call, event: bool):
        """A built-in function (leadlang/builtins.py) with its null behaviour."""
        fn, args = BUILTINS[e.func], [self._compile(a, event) for a in e.args]
        if fn.takes is None:  # one common type: a date among timestamps is its midnight UTC, as in SQL
            kinds = [getattr(self.policy.types.get(id(a)), "kind", None) for a in e.args]
            if "date" in kinds and "timestamp" in kinds:
                args = [(lambda f: lambda s: as_timestamp(f(s)))(a) if k == "date" else a for a, k in zip(args, kinds)]
        if fn.nulls == FIRST_PRESENT:
            def first_present(s):
                for a in args:
                    v = a(s)
                    if v is not None:
                        return v
                return None
            return first_present
        impl, as_of = fn.python, self.as_of
        if len(args) == 1:  # the common case, without building a list per call
            (arg,) = args
            if fn.as_of:
                def call_one_at(s):
                    x = arg(s)
                    return None if x is None else impl(x, as_of)
                return call_one_at

            def call_one(s):
                x = arg(s)
                return None if x is None else impl(x)
            return call_one

        def call(s):
            values = [a(s) for a in args]
            if None in values:  # a function of a missing value is missing
                return None
            return impl(*values, as_of) if fn.as_of else impl(*values)
        return call

    # ------------------------------------------------------------ aggregates --
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

        if e.half_life is not None:
            seconds = e.half_life.seconds
            to_decimal, multiply = V.to_decimal, V.CONTEXT.multiply

            def decay(ev):  # a float, as a Decimal exactly as written (`to_decimal`)
                return Decimal(repr(0.5 ** ((as_of - ev["at"]).total_seconds() / seconds)))
            if f == "count":
                return lambda m, s: checked(V.round_decayed, V.total(decay(ev) for ev in m), s=s)
            return lambda m, s: checked(V.round_decayed, V.total(multiply(to_decimal(ev[col]), decay(ev)) for ev in m if ev.get(col) is not None), s=s)
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


def band_of(bands: A.Bands, score: Decimal) -> str:
    for b in bands.bands:
        if b.threshold is None or score >= b.threshold:
            return b.label
    return bands.bands[-1].label


def uses_account_events(policy: Policy) -> bool:
    """Whether some aggregate of the policy reads `by account` (so a lead needs its account's leads' events)."""
    decls = [*policy.signals.values(), *policy.scores.values(), *policy.criteria.values(), *policy.gates, *policy.classifications.values()]
    return any(isinstance(n, A.Aggregate) and n.by_account for d in decls for n in A.walk(d))


def evaluate_chunks(policy: Policy, chunks: Iterable, as_of: dt.datetime, explain: bool = True, sink: Callable | None = None) -> Result:
    """`evaluate` over `io.stream_dataset`'s chunks (leads in key order, each with all its events;
    for a policy that `uses_account_events`, every lead of an account in one chunk): the same rows,
    with only one chunk in memory. With `sink`, each chunk's `Result` goes to `sink` as it is scored
    and is then dropped (the returned `Result` is empty); `states` stays empty either way."""
    interpreter, rows, why = Interpreter(policy, as_of), [], []
    for chunk in chunks:
        result = interpreter.run(chunk.leads, chunk.accounts, chunk.events, keep_states=False)
        if not explain:
            result.explain = []
        if sink is not None:
            sink(result)
            continue
        rows.extend(result.rows)
        why.extend(result.explain)
    return Result(rows, why, {})


def evaluate(policy: Policy, leads: list[dict], accounts: list[dict], events: dict[str, list[dict]], as_of: dt.datetime) -> Result:
    """Score every lead of the given rows as of `as_of`: the interpreter's public entry."""
    return Interpreter(policy, as_of).run(leads, accounts, events)
