"""The reference interpreter: evaluates a checked policy lead by lead, as of one time."""

from __future__ import annotations

import datetime as dt
import re
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Callable, Iterable

from leadlang.check.policy import Policy
from leadlang.diagnostics import DataError
from leadlang.interpret import values as V
from leadlang.interpret.enums import enum_guard
from leadlang.syntax import ast as A


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
    in_event: bool = False  # evaluating a `where` over one event row


@dataclass
class Result:
    rows: list[dict]
    explain: list[dict]
    states: dict[str, LeadState]


EXPLAIN_COLUMNS = (("component", "string"), ("kind", "string"), ("rule", "string"), ("points", "number"))


class Interpreter:
    """Evaluate `policy` over in-memory rows; one `LeadState` per lead."""

    def __init__(self, policy: Policy, as_of: dt.datetime):
        self.policy = policy
        self.as_of = as_of
        self._regex: dict[str, re.Pattern] = {}
        self._valid = enum_guard(policy)  # a value outside its enum is missing, as in SQL
        self._dispatch: dict[type, Callable] = {
            A.Literal: lambda e, s: e.value,
            A.ListLit: lambda e, s: tuple(i.value for i in e.items),
            A.Name: self._name,
            A.Attr: self._attr,
            A.Disqualified: lambda e, s: s.values["disqualified"],
            A.Unary: self._unary,
            A.Binary: self._binary,
            A.InList: self._in_list,
            A.Between: self._between,
            A.TextTest: self._text,
            A.IsMissing: lambda e, s: (self.eval(e.operand, s) is None) != e.negated,
            A.IsLabel: self._is_label,
            A.Call: self._call,
            A.Aggregate: self._aggregate,
        }

    # ------------------------------------------------------------------ run --
    def run(self, leads: list[dict], accounts: list[dict], events: dict[str, list[dict]]) -> Result:
        p = self.policy
        leads, accounts, events = self._valid(leads, accounts, events)
        key, account_col = p.leads.key, p.leads.account
        accounts_by_key = {a[p.accounts.key]: a for a in accounts} if p.accounts else {}
        lead_account = {l[key]: l.get(account_col) if account_col else None for l in leads}
        per_lead: dict[str, dict[str, list]] = defaultdict(lambda: defaultdict(list))
        per_account: dict[str, dict[str, list]] = defaultdict(lambda: defaultdict(list))
        for source, rows in events.items():
            for ev in rows:
                lead = ev.get("lead")
                if lead not in lead_account or ev["at"] > self.as_of:
                    continue  # unknown leads and the future are invisible
                per_lead[lead][source].append(ev)
                acct = lead_account[lead]
                if acct is not None:
                    per_account[acct][source].append(ev)
        out_rows, explain, states = [], [], {}
        for lead in sorted(leads, key=lambda r: r[key]):
            k = lead[key]
            acct = lead_account[k]
            state = LeadState(
                row=lead,
                account=accounts_by_key.get(acct) if acct is not None else None,
                events=per_lead.get(k, {}),
                account_events=per_account.get(acct, {}) if acct is not None else {},
            )
            self.score(state)
            states[k] = state
            out_rows.append(self.output_row(state))
            explain.extend({key: k, **e} for e in state.explain)
        return Result(out_rows, explain, states)

    def score(self, s: LeadState) -> None:
        p = self.policy
        s.values["policy"] = p.label
        s.values["as_of"] = self.as_of
        for step in p.steps:
            if step.kind == "signal":
                s.values[step.name] = self.eval(p.signals[step.name].expr, s)
            elif step.kind == "score":
                s.values[step.name] = self._score(p.scores[step.name], s)
            elif step.kind == "band":
                s.values[f"{step.name}_band"] = band_of(p.bands[step.name], s.values[step.name])
            elif step.kind == "criteria":
                self._criteria(p.criteria[step.name], s)
            elif step.kind == "disqualify":
                self._disqualify(s)
            elif step.kind == "classification":
                s.values[step.name] = self._classify(p.classifications[step.name], s)
        for target, actions in p.actions.items():
            label = s.values[target]
            for act in actions.actions:
                if act.label == label:
                    for setting in act.settings:
                        s.values[setting.key] = setting.value.value

    def output_row(self, s: LeadState) -> dict:
        row = {}
        for o in self.policy.outputs:
            if o.role == "key":
                row[o.name] = s.row[o.name]
            else:
                value = s.values.get(o.name)
                row[o.name] = str(value) if isinstance(value, A.QuotedName) else value  # a `label` is plain text
        return row

    # ------------------------------------------------------------ components --
    def _score(self, sc, s: LeadState) -> Decimal:
        if isinstance(sc, A.DerivedScore):
            value = self.eval(sc.expr, s)
            total = V.to_decimal(0 if value is None else value)
        else:
            total = Decimal(0)
            for r in sc.rules:
                points = self._rule_points(r, s)
                if points:
                    total = self._checked(r, s, V.arith, "+", total, points)
                    s.fired.add((sc.name, r.id))
                    s.explain.append({"component": sc.name, "kind": "rule", "rule": r.id, "points": V.round2(points)})
        if sc.clamp is not None:
            total = min(max(total, sc.clamp.low), sc.clamp.high)
        return V.round2(total)

    def _rule_points(self, r: A.Rule, s: LeadState) -> Decimal:
        if r.kind == "when":
            return r.points if self.eval(r.expr, s) is True else Decimal(0)
        value = self.eval(r.expr, s)
        if value is None:
            return Decimal(0)
        points = self._checked(r, s, V.arith, "*", r.points, V.to_decimal(value))
        if r.cap is not None and abs(points) > r.cap:
            points = r.cap if points > 0 else -r.cap
        return points

    def _checked(self, node, s: LeadState, f, *args):
        """`f(*args)`; a value out of range is a DataError naming the policy line and the lead."""
        try:
            return f(*args)
        except V.OutOfRange as err:
            what = "a whole number (64-bit)" if err.kind == "int" else "a number (below 10^18, 10 decimal places)"
            key = s.row.get(self.policy.key)
            raise DataError(f'{node.span.file}:{node.span.line}: for lead "{V.show(key)}", the value computed here is out of range for {what}') from None

    def _criteria(self, cr: A.Criteria, s: LeadState) -> None:
        met = 0
        for m in cr.members:
            # A member whose condition is unknown did not fire: it reads as false.
            truth = self.eval(m.cond, s) is True
            s.members[(cr.name, m.id)] = truth
            if truth:
                met += 1
                s.fired.add((cr.name, m.id))
                s.explain.append({"component": cr.name, "kind": "member", "rule": m.id, "points": None})
        need = len(cr.members) if cr.required is None else cr.required
        s.values[cr.name] = met >= need
        s.values[f"{cr.name}_met"] = met

    def _disqualify(self, s: LeadState) -> None:
        reason = None
        for g in self.policy.gates:
            if self.eval(g.cond, s) is True:
                s.fired.add(("disqualify", g.id))
                s.explain.append({"component": "disqualify", "kind": "gate", "rule": g.id, "points": None})
                if reason is None:
                    reason = g.id
        s.values["disqualified"] = reason is not None
        s.values["disqualify_reason"] = reason

    def _classify(self, c, s: LeadState) -> str:
        if isinstance(c, A.Matrix):
            if s.values["disqualified"]:
                return "disqualified"
            row_band = s.values[f"{c.rows_score}_band"]
            col_band = s.values[f"{c.cols_score}_band"]
            row = next(r for r in c.rows if r.band == row_band)
            return row.cells[c.columns.index(col_band)]
        for i, b in enumerate(c.branches):
            if self.eval(b.cond, s) is True:
                s.branches[c.name] = i
                return b.label
        s.branches[c.name] = len(c.branches)
        return c.otherwise

    # ------------------------------------------------------------ expressions --
    def eval(self, e: A.Expr, s: LeadState):
        return self._dispatch[type(e)](e, s)

    def _name(self, e: A.Name, s: LeadState):
        n = e.name
        if s.in_event and n in s.row:
            return s.row[n]  # inside `where`, the event's own column wins, as the checker resolves it
        if n in self.policy.let_values:
            return self.policy.let_values[n]
        if n in s.values:
            return s.values[n]
        return s.row.get(n)

    def _attr(self, e: A.Attr, s: LeadState):
        if (e.base, e.attr) in s.members:
            return s.members[(e.base, e.attr)]
        return None if s.account is None else s.account.get(e.attr)

    def _unary(self, e: A.Unary, s: LeadState):
        v = self.eval(e.operand, s)
        if e.op == "not":
            return V.logic_not(v)
        return None if v is None else -v

    def _binary(self, e: A.Binary, s: LeadState):
        op = e.op
        if op == "and":
            left = self.eval(e.left, s)
            return False if left is False else V.logic_and(left, self.eval(e.right, s))
        if op == "or":
            left = self.eval(e.left, s)
            return True if left is True else V.logic_or(left, self.eval(e.right, s))
        left, right = self.eval(e.left, s), self.eval(e.right, s)
        if op in ("+", "-", "*", "/"):
            return self._checked(e, s, V.arith, op, left, right)
        return V.compare(op, left, right)

    def _in_list(self, e: A.InList, s: LeadState):
        v = self.eval(e.operand, s)
        items = self.eval(e.items, s)
        if v is None or items is None:
            return None
        found = any(V.compare("=", v, i) for i in items)
        return found != e.negated

    def _between(self, e: A.Between, s: LeadState):
        return V.logic_and(V.compare(">=", self.eval(e.operand, s), self.eval(e.low, s)), V.compare("<=", self.eval(e.operand, s), self.eval(e.high, s)))

    def _text(self, e: A.TextTest, s: LeadState):
        text, arg = self.eval(e.operand, s), self.eval(e.arg, s)
        if text is None or arg is None:
            return None
        op = e.op
        if op == "contains":
            return arg in text
        if op == "contains_any":
            return any(a in text for a in arg)
        if op == "starts_with":
            return text.startswith(arg)
        if op == "ends_with":
            return text.endswith(arg)
        rx = self._regex.get(arg)
        if rx is None:
            rx = self._regex[arg] = re.compile(arg)
        return rx.search(text) is not None

    def _is_label(self, e: A.IsLabel, s: LeadState):
        name = e.operand.name
        label = s.values.get(f"{name}_band") if name in self.policy.bands and name not in self.policy.classifications else s.values.get(name)
        return (label == e.label) != e.negated

    def _call(self, e: A.Call, s: LeadState):
        f = e.func
        if f == "coalesce":
            for a in e.args:
                v = self.eval(a, s)
                if v is not None:
                    return v
            return None
        args = [self.eval(a, s) for a in e.args]
        if any(a is None for a in args):
            return None  # every other function of a missing value is missing
        x = args[0]
        if f == "lower":
            return x.lower()
        if f == "upper":
            return x.upper()
        if f == "trim":
            return V.sql_trim(x)
        if f == "length":
            return len(x)
        if f == "domain":
            return V.email_domain(x)
        if f == "days_since":
            return V.days_between(x, self.as_of)
        if f == "abs":
            return abs(x)
        if any(isinstance(a, dt.datetime) for a in args):
            args = [V.as_timestamp(a) for a in args]  # a date among timestamps is its midnight UTC
        return min(args) if f == "least" else max(args)

    # ------------------------------------------------------------- aggregates --
    def _aggregate(self, e: A.Aggregate, s: LeadState):
        pool = s.account_events if e.by_account else s.events  # a lead without an account has none
        matching = list(self._matching(e, pool.get(e.source, ())))
        f = e.func
        if f == "count":
            if e.half_life is None:
                return len(matching)
            return self._checked(e, s, V.round_decayed, V.total(self._decay(ev, e.half_life) for ev in matching))
        if f == "active_days":
            return len({ev["at"].astimezone(dt.timezone.utc).date() for ev in matching})
        if f == "distinct_leads":
            return len({ev["lead"] for ev in matching})
        if f == "first":
            return min((ev["at"] for ev in matching), default=None)
        if f == "last":
            return max((ev["at"] for ev in matching), default=None)
        col = e.column
        present = [ev for ev in matching if ev.get(col) is not None]
        if f == "sum":
            if e.half_life is not None:
                return self._checked(e, s, V.round_decayed, V.total(V.CONTEXT.multiply(V.to_decimal(ev[col]), self._decay(ev, e.half_life)) for ev in present))
            vals = [ev[col] for ev in present]
            if all(isinstance(v, int) for v in vals):
                return self._checked(e, s, V.whole, sum(vals))
            return self._checked(e, s, V.number, V.total(vals))
        if not present:
            return None
        vals = [ev[col] for ev in present]
        if f == "min":
            return min(vals)
        if f == "max":
            return max(vals)
        total = self._checked(e, s, V.whole if all(isinstance(v, int) for v in vals) else V.number, V.total(vals))
        return self._checked(e, s, V.arith, "/", total, len(vals))  # the sum over the count, as `/` divides

    def _matching(self, e: A.Aggregate, events: Iterable[dict]):
        names = e.names
        start = self.as_of - dt.timedelta(seconds=e.window.seconds) if e.window is not None else None
        for ev in events:
            if names is not None and ev.get("name") not in names:
                continue
            if start is not None and not ev["at"] > start:
                continue
            if e.where is not None and self._event_eval(e.where, ev) is not True:
                continue
            yield ev

    def _decay(self, ev: dict, half_life: A.Duration) -> Decimal:
        age = (self.as_of - ev["at"]).total_seconds()
        return V.to_decimal(0.5 ** (age / half_life.seconds))

    def _event_eval(self, e: A.Expr, ev: dict):
        """Evaluate a `where` condition with the event's own columns in scope."""
        state = LeadState(row=ev, account=None, events={}, account_events={}, in_event=True)
        return self.eval(e, state)


def band_of(bands: A.Bands, score: Decimal) -> str:
    for b in bands.bands:
        if b.threshold is None or score >= b.threshold:
            return b.label
    return bands.bands[-1].label


def uses_account_events(policy: Policy) -> bool:
    """Whether some aggregate of the policy reads `by account` (so a lead needs its account's leads' events)."""
    decls = [*policy.signals.values(), *policy.scores.values(), *policy.criteria.values(), *policy.gates, *policy.classifications.values()]
    return any(isinstance(n, A.Aggregate) and n.by_account for d in decls for n in A.walk(d))


def evaluate_chunks(policy: Policy, chunks: Iterable, as_of: dt.datetime, explain: bool = True) -> Result:
    """`evaluate` over `io.stream_dataset`'s chunks (leads in key order, each with all its events):
    the same rows, with only one chunk's events in memory. `states` stays empty. Not for
    policies that `uses_account_events`: a chunk need not hold an account's other leads."""
    interpreter, rows, why = Interpreter(policy, as_of), [], []
    for chunk in chunks:
        result = interpreter.run(chunk.leads, chunk.accounts, chunk.events)
        rows.extend(result.rows)
        if explain:
            why.extend(result.explain)
    return Result(rows, why, {})


def evaluate(policy: Policy, leads: list[dict], accounts: list[dict], events: dict[str, list[dict]], as_of: dt.datetime) -> Result:
    """Score every lead of the given rows as of `as_of`: the interpreter's public entry."""
    return Interpreter(policy, as_of).run(leads, accounts, events)
