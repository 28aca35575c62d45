"""Run a policy's `test` blocks on the interpreter and say what failed and why."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from leadlang.check.policy import Policy
from leadlang.diagnostics import DataError
from leadlang.interpret import Interpreter, LeadState
from leadlang.interpret.values import show as _show
from leadlang.syntax import ast as A

SUBJECT = "test-lead"
ACCOUNT = "test-account"


@dataclass
class Expectation:
    """One `expect` line: its text, whether it held, and what was found (the values it read)."""

    span: A.Span
    expected: str
    actual: str
    passed: bool = False


@dataclass
class TestResult:
    name: str
    span: A.Span
    expectations: list[Expectation] = field(default_factory=list)
    fired: list[tuple[str, object]] = field(default_factory=list)  # ("fit.free_email", Decimal("-40.00") or None), in firing order
    state: LeadState | None = None

    @property
    def failures(self) -> list[Expectation]:
        return [e for e in self.expectations if not e.passed]

    @property
    def passed(self) -> bool:
        return not self.failures

    def fired_text(self) -> list[str]:
        """The fired rules as the reports print them: `fit.free_email (-40.00)`."""
        return [name + (f" ({_signed(points)})" if points is not None else "") for name, points in self.fired]


def _row(pairs: tuple[A.Pair, ...], columns) -> dict:
    row = {c: None for c in columns}
    for p in pairs:
        row[p.key] = None if p.value is None else p.value.value
    return row


def build_rows(policy: Policy, test: A.Test, as_of: dt.datetime):
    """The lead, account and event rows a test describes."""
    key, account_col = policy.leads.key, policy.leads.account
    lead_rows = [_row(i.pairs, policy.lead_types) for i in test.items if isinstance(i, A.TestRow) and i.kind == "lead"]
    for n, row in enumerate(lead_rows):
        if row.get(key) is None:
            row[key] = SUBJECT if n == 0 else f"{SUBJECT}-{n + 1}"
    account_rows = []
    if policy.accounts is not None:
        account_rows = [_row(i.pairs, policy.account_types) for i in test.items if isinstance(i, A.TestRow) and i.kind == "account"]
        for n, row in enumerate(account_rows):
            if row.get(policy.accounts.key) is None:
                row[policy.accounts.key] = ACCOUNT if n == 0 else f"{ACCOUNT}-{n + 1}"
        # A test with one account and a lead that names none means "this lead's account".
        if account_col and len(account_rows) == 1 and lead_rows and lead_rows[0].get(account_col) is None:
            lead_rows[0][account_col] = account_rows[0][policy.accounts.key]
    subject = lead_rows[0][key] if lead_rows else SUBJECT
    events: dict[str, list[dict]] = {name: [] for name in policy.events}
    for item in test.items:
        if not isinstance(item, A.TestEvents):
            continue
        ev_decl = policy.events[item.source]
        for line in item.lines:
            at = line.at if line.at is not None else as_of - dt.timedelta(seconds=line.ago.seconds)
            extra = {p.key: (None if p.value is None else p.value.value) for p in line.pairs}
            lead = extra.pop(ev_decl.lead, subject) if ev_decl.lead in extra else subject
            row = {"lead": lead, "at": at, "name": line.name, **{f.name: None for f in ev_decl.fields}, **extra}
            events[item.source].extend(dict(row) for _ in range(line.times))
    return lead_rows, account_rows, events


def run_test(policy: Policy, test: A.Test, now: dt.datetime | None = None) -> TestResult:
    as_of = next((i.at for i in test.items if isinstance(i, A.TestAsOf)), None)
    as_of = as_of or now or dt.datetime.now(dt.timezone.utc).replace(microsecond=0)
    leads, accounts, events = build_rows(policy, test, as_of)
    interp = Interpreter(policy, as_of)
    try:
        result = interp.run(leads, accounts, events)
    except DataError as err:  # a value out of range (language.md §21): the test fails, saying where
        return TestResult(test.name, test.span, expectations=[Expectation(test.span, _source(policy, test.span), str(err))])
    state = result.states[leads[0][policy.leads.key]]
    out = TestResult(test.name, test.span, state=state)
    out.fired = [(f"{e['component']}.{e['rule']}", e["points"]) for e in state.explain]
    for item in test.items:
        if isinstance(item, (A.Expect, A.ExpectFired, A.ExpectBecause)):
            out.expectations.append(Expectation(item.span, _source(policy, item.span), *_verdict(interp, item, state)))
    return out


def _verdict(interp: Interpreter, item, state: LeadState) -> tuple[str, bool]:
    """What an expectation found, and whether it held."""
    if isinstance(item, A.Expect):
        try:
            got = interp.eval(item.expr, state)
        except DataError as err:
            return str(err), False
        word = "true" if got is True else "unknown (a value is missing)" if got is None else "false"
        return f"{word}; {_context(interp, item.expr, state)}", got is True
    if isinstance(item, A.ExpectFired):
        fired = (item.component, item.rule) in state.fired
        return f"`{item.component}.{item.rule}` {'fired' if fired else 'did not fire'}", fired != item.negated
    reason = state.values.get("disqualify_reason")
    return ("not disqualified" if reason is None else f"disqualified because `{reason}`"), reason == item.gate


def _signed(points) -> str:
    return f"+{points}" if points >= 0 else str(points)


def _source(policy: Policy, span: A.Span) -> str:
    text = policy.texts.get(span.file, "")
    if span.end and span.end <= len(text):
        return text[span.start:span.end]
    return ""


def _context(interp: Interpreter, expr: A.Expr, state: LeadState) -> str:
    """The values the expectation read, e.g. "segment = heartbreaker, fit = 45.00"."""
    seen: dict[str, str] = {}
    stack = [expr]
    while stack:
        e = stack.pop()
        if isinstance(e, (A.Name, A.Attr, A.Aggregate, A.Call)):
            text = e.name if isinstance(e, A.Name) else f"{e.base}.{e.attr}" if isinstance(e, A.Attr) else _source(interp.policy, e.span)
            if isinstance(e, A.Name) and interp.policy.ref(e).kind == "score" and e.name in interp.policy.bands and e.name not in seen:
                band = interp.policy.band_column(e.name)
                seen[band] = _show(state.values.get(band))
            seen.setdefault(text, _show(interp.eval(e, state)))
            if not isinstance(e, A.Call):
                continue
        if isinstance(e, A.Disqualified):
            seen["disqualified"] = _show(state.values.get("disqualified"))
        stack.extend(A.children(e))
    return ", ".join(f"{k} = {v}" for k, v in reversed(list(seen.items()))) or "no values read"




def run_tests(policy: Policy, now: dt.datetime | None = None) -> list[TestResult]:
    """Every `test` block of the policy, in file order."""
    return [run_test(policy, t, now) for t in policy.tests]
