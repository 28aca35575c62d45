"""A policy's `test` blocks as dbt `unit_tests`.

Each test block becomes one unit test of the scored model: its lead, account and event rows are
the `given` rows of the relations the model reads (built by `leadlang.testing.build_rows`, as
`leadlang test` builds them), the var `leadlang_as_of` is the test's `as of`, and the expected
rows hold, for every lead of the test, the output columns the block's `expect` lines read, with
the values the interpreter computes (the block passes on the interpreter, so those values satisfy
every expectation). A block that expects rules to fire or criteria members to hold also gets a
unit test of the explanation model, expecting every explanation row of its leads.
"""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal

from leadlang.check.policy import Policy
from leadlang.dbt.models import AS_OF_VAR, EXPLAIN_SUFFIX, jinja_call, target
from leadlang.syntax import ast as A

# A test block without `as of` is run as of this fixed time, so that the output never changes.
DEFAULT_AS_OF = dt.datetime(2024, 1, 1, tzinfo=dt.timezone.utc)


class FailingTests(Exception):
    """A test block fails on the interpreter: its unit test would assert a wrong outcome."""


def yaml_value(v):
    """A fixture value dbt casts to the column's type: exact text for decimals, dates and times."""
    if v is None or isinstance(v, (bool, int, str)):
        return v
    if isinstance(v, Decimal):
        return format(v, "f")
    if isinstance(v, dt.datetime):
        return v.astimezone(dt.timezone.utc).isoformat(sep=" ")
    if isinstance(v, dt.date):
        return v.isoformat()
    return str(v)


def _row(values: dict) -> dict:
    return {k: yaml_value(v) for k, v in values.items() if v is not None}


def asserted(policy: Policy, test: A.Test) -> tuple[list[str], bool]:
    """The output columns a test's expectations read, and whether it expects fired rules or members."""
    outputs = [o.name for o in policy.outputs]
    wanted: set[str] = set()
    explain = False
    for item in test.items:
        if isinstance(item, A.ExpectFired):
            explain = True
        elif isinstance(item, A.ExpectBecause):
            wanted |= {"disqualified", "disqualify_reason"}
        elif isinstance(item, A.Expect):
            for n in A.walk(item.expr):
                if isinstance(n, (A.Name, A.Attr, A.Disqualified, A.IsLabel)):
                    ref = policy.ref(n)
                    wanted.add(ref.column)  # the output column read; None for fields and lets
                    explain |= ref.kind == "member"
    return [c for c in outputs if c in wanted and c != policy.key], explain


def slug(text: str) -> str:
    """A unit test name from a test block's: dbt names tables after it, and PostgreSQL allows 63 bytes."""
    return re.sub(r"[^a-z0-9]+", "_", text.lower())[:40].strip("_") or "test"


def unit_tests(policy: Policy, tables: dict[str, str], model: str) -> list[dict]:
    """The `unit_tests:` entries of `model` (and its explanation model) for the policy's test blocks."""
    from leadlang.interpret import evaluate
    from leadlang.testing.runner import build_rows, run_test

    out: list[dict] = []
    names: set[str] = set()
    failing = []
    for test in policy.tests:
        as_of = next((i.at for i in test.items if isinstance(i, A.TestAsOf)), DEFAULT_AS_OF)
        if not run_test(policy, test, as_of).passed:
            failing.append(test.name)
            continue
        leads, accounts, events = build_rows(policy, test, as_of)
        result = evaluate(policy, leads, accounts, events, as_of)
        given = [{"input": _input(policy.leads.relation, tables), "rows": [_row(r) for r in leads]}]
        if policy.accounts is not None:
            given.append({"input": _input(policy.accounts.relation, tables), "rows": [_row(r) for r in accounts]})
        by_relation: dict[str, dict] = {}
        for source, ev in policy.events.items():
            entry = by_relation.setdefault(_input(ev.relation, tables), {"input": _input(ev.relation, tables), "rows": []})
            entry["rows"] += [
                _row({ev.lead: r["lead"], ev.at: r["at"], ev.event_name: r["name"], **{f.name: r.get(f.name) for f in ev.fields}})
                for r in events[source]
            ]
        given += by_relation.values()
        columns, explain = asserted(policy, test)
        name, n = slug(test.name), 1
        while name in names or name + EXPLAIN_SUFFIX in names:
            n += 1
            name = f"{slug(test.name)}_{n}"
        names |= {name, name + EXPLAIN_SUFFIX}
        where = f"{test.span.file}:{test.span.line}" if test.span.file else f"line {test.span.line}"
        common = {"overrides": {"vars": {AS_OF_VAR: yaml_value(as_of)}}, "given": given}
        rows = [{policy.key: r[policy.key], **{c: yaml_value(r[c]) for c in columns}} for r in result.rows]
        out.append({
            "name": name,
            "description": f'test "{test.name}" ({where}): the columns its expectations read',
            "model": model,
            **common,
            "expect": {"rows": rows},
        })
        if explain:
            why = [{policy.key: e[policy.key], "component": e["component"], "kind": e["kind"], "rule": e["rule"],
                    "points": yaml_value(e["points"])} for e in result.explain]
            out.append({
                "name": f"{name}{EXPLAIN_SUFFIX}",
                "description": f'test "{test.name}" ({where}): its fired rules and true criteria members',
                "model": model + EXPLAIN_SUFFIX,
                **common,
                "expect": {"rows": why},
            })
    if failing:
        raise FailingTests(f"{policy.path}: test{'s' if len(failing) > 1 else ''} " + ", ".join(f'"{t}"' for t in failing)
                        + " fail on the interpreter, so no unit test can expect their outcome; `leadlang test` shows why")
    return out


def _input(rel: A.Relation, tables: dict[str, str]) -> str:
    return jinja_call(*target(rel, tables))
