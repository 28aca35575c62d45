"""The `test` blocks of every `ok_` case under tests/cases, on the interpreter and on every SQL engine.

The semantics corpus (`ok_sem_<section>.lead`, one file per section of docs/language.md) is data: each
`test` block gives its leads, accounts and events and its `expect` lines, computed by hand from the
specification. Each case runs

- on the interpreter, as `leadlang test` runs it: every expectation holds;
- on DuckDB, PostgreSQL and Spark, batched: the rows of all the case's test blocks that share an
  as-of time are one data set (each block's keys prefixed with its number so blocks stay apart),
  scored by one `to_sql` statement and explained by another. The engine's rows equal the
  interpreter's cell for cell, and every expectation holds again when the output values it reads
  (signals, scores, bands, criteria, gates, classifications, actions) are the engine's and the rules
  that fired are the engine's explanation rows.

Per engine that is two queries per case file and as-of time, so the corpus costs Spark a few jobs, run
without whole-stage code generation (`engines.interpreted`): compiling each large statement to Java was
most of their time; the other Spark tests keep code generation.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
from decimal import Decimal
from pathlib import Path

import pytest
from datagen import AS_OF
from engines import interpreted
from test_differential import assert_same_result, catalog_safe, tables_for

from leadlang.check import load
from leadlang.interpret import Interpreter, evaluate
from leadlang.sql import to_sql
from leadlang.syntax import ast as A
from leadlang.testing import run_tests
from leadlang.testing.runner import build_rows

ROOT = Path(__file__).parent.parent
CASES = sorted(p for p in (ROOT / "tests" / "cases").glob("ok_*.lead"))


@functools.cache
def case(path: Path):
    return load(path)


def _as_of(test: A.Test) -> dt.datetime:
    return next((i.at for i in test.items if isinstance(i, A.TestAsOf)), AS_OF)


def _prefixed(policy, n: int, leads, accounts, events):
    """One test block's rows with every key (lead, account, event's lead) prefixed `t<n>/`."""
    tag = f"t{n}/"
    key, link = policy.leads.key, policy.leads.account

    def pre(v):
        return None if v is None else tag + v

    leads = [{**r, key: pre(r[key]), **({link: pre(r[link])} if link else {})} for r in leads]
    if policy.accounts is not None:
        accounts = [{**r, policy.accounts.key: pre(r[policy.accounts.key])} for r in accounts]
    events = {s: [{**e, "lead": pre(e["lead"])} for e in rows] for s, rows in events.items()}
    return leads, accounts, events


def batches(policy):
    """{as_of: (leads, accounts, events, [(subject key, test)])}: the case's test blocks merged per as-of time."""
    out: dict[dt.datetime, tuple] = {}
    for n, test in enumerate(policy.tests):
        as_of = _as_of(test)
        leads, accounts, events = _prefixed(policy, n, *build_rows(policy, test, as_of))
        all_leads, all_accounts, all_events, tests = out.setdefault(as_of, ([], [], {s: [] for s in policy.events}, []))
        all_leads.extend(leads)
        all_accounts.extend(accounts)
        for s, rows in events.items():
            all_events[s].extend(rows)
        tests.append((leads[0][policy.key], test))  # the first lead is the subject of the `expect` lines
    return out


def _like(want, got):
    """The engine's value in the interpreter's type (a DOUBLE read back as the Decimal it stands for)."""
    if isinstance(want, Decimal) and isinstance(got, float):
        return Decimal(str(got))
    return got


def expectations_on(policy, interp: Interpreter, test: A.Test, state, row: dict, fired: set) -> list[str]:
    """The `expect` lines of `test` that fail when the subject's outputs are the engine's `row` and
    `fired` its explanation rows' (component, rule) pairs."""
    values = dict(state.values)
    for column, v in row.items():
        if column in values and column != policy.key:
            values[column] = _like(values[column], v)
    engine_state = dataclasses.replace(state, values=values, fired=fired)
    failed = []
    for item in test.items:
        if isinstance(item, A.Expect):
            if interp.eval(item.expr, engine_state) is not True:
                text = policy.texts[item.span.file][item.span.start:item.span.end]
                read = ", ".join(f"{k} = {v!r}" for k, v in row.items() if k in text)
                failed.append(f"line {item.span.line}: {text} (on the engine: {read})")
        elif isinstance(item, A.ExpectFired):
            if ((item.component, item.rule) in fired) == item.negated:
                failed.append(f"line {item.span.line}: fired {item.component}.{item.rule}")
        elif isinstance(item, A.ExpectBecause):
            if row.get("disqualify_reason") != item.gate:
                failed.append(f"line {item.span.line}: because {item.gate}")
    return failed


def _tested(paths):
    return [p for p in paths if case(p).tests]


@pytest.mark.parametrize("path", _tested(CASES), ids=lambda p: p.stem)
def test_case_tests_pass_on_the_interpreter(path):
    policy = case(path)
    results = run_tests(policy, now=AS_OF)
    failures = [f"{r.name}: line {f.span.line}: {f.expected} -> {f.actual}" for r in results for f in r.failures]
    assert not failures, "\n".join(failures)


@pytest.mark.parametrize("path", _tested(CASES), ids=lambda p: p.stem)
def test_case_tests_pass_on_the_engine(engine, path):
    policy = case(path)
    for as_of, (leads, accounts, events, tests) in batches(policy).items():
        oracle = evaluate(policy, leads, accounts, events, as_of)
        tables = tables_for(policy, leads, accounts, events)
        mapping = catalog_safe(engine, tables)
        with interpreted(engine):  # Spark: no per-query Java compilation (tests/engines.py)
            got = engine.run(to_sql(policy, engine.name, as_of, mapping), tables)
            why = engine.run(to_sql(policy, engine.name, as_of, mapping, what="explain"), tables)
        assert_same_result(policy, oracle, got, why, engine.name)
        rows = {r[policy.key]: r for r in got}
        fired: dict[str, set] = {}
        for r in why:  # a rule, a criteria member or a gate that fired
            fired.setdefault(r[policy.key], set()).add((r["component"], r["rule"]))
        interp = Interpreter(policy, as_of)
        failures = []
        for subject, test in tests:
            failed = expectations_on(policy, interp, test, oracle.states[subject], rows[subject], fired.get(subject, set()))
            failures += [f"{test.name}: {f}" for f in failed]
        assert not failures, f"{engine.name}, as of {as_of:%Y-%m-%dT%H:%M:%SZ}:\n" + "\n".join(failures)
