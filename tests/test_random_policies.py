"""Random valid policies on random edge data: every engine agrees with the interpreter."""

from __future__ import annotations

import os

import pytest
from conftest import checked
from datagen import AS_OF, make_rows
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_differential import assert_agree, catalog_safe, tables_for

from leadlang.diagnostics import DataError
from leadlang.interpret import evaluate
from leadlang.sql import to_sql


SCHEMA = '''policy random "Random"
  version "1"
leads from ref("leads") key id account acct {
  s string
  e enum("a", "b", "c")
  n int
  x number
  b bool
  d date
  t timestamp
}
accounts from ref("accts") key acct {
  size int
}
events ev from ref("events") {
  lead lead_id
  at   at
  name name
  v    int
  w    number
  k    string
}
'''

NAMES = ['"e1"', '["e1", "e2"]', '"e3"', ""]
WINDOWS = ["", "in last 1 day", "in last 7 days", "in last 30 days", "in last 12 hours"]
LABELS = ['"a"', '"b"']
REGEXES = ['"^a"', '"[0-9]+"', '"(io|com)$"', '"a|b"']
STRINGS = ['"a"', '"O\'Brien"', '"x@y.io"', '"café"', '""', '" padded "']


@st.composite
def number(draw, depth=0):
    atoms = [
        "n", "x", "account.size", "length(s)", "days_since(t)", "days_since(d)", "abs(n)",
        str(draw(st.integers(-5, 50))), f"{draw(st.integers(0, 99))}.{draw(st.integers(0, 99)):02d}",
    ]
    agg = draw(st.sampled_from(["count", "sum", "avg", "min", "max", "active_days", "distinct_leads"]))
    col = {"sum": "ev.v", "avg": "ev.w", "min": "ev.w", "max": "ev.v"}.get(agg, "ev")
    names = draw(st.sampled_from(NAMES))
    where = draw(st.sampled_from(["", "where v > 2", 'where k = "a"', "where w is present"]))
    window = draw(st.sampled_from(WINDOWS))
    decay = draw(st.sampled_from(["", "half-life 3 days"])) if agg in ("count", "sum") else ""
    by = draw(st.sampled_from(["", "by account"]))
    atoms.append(f"{agg}({col} {names} {where} {window} {decay} {by})")
    if depth >= 2 or draw(st.booleans()):
        return draw(st.sampled_from(atoms))
    a, b = draw(number(depth + 1)), draw(number(depth + 1))
    form = draw(st.sampled_from(["({a} + {b})", "({a} - {b})", "({a} * {b})", "({a} / {b})", "least({a}, {b})", "greatest({a}, {b})", "coalesce({a}, {b})", "-{a}"]))
    return form.format(a=a, b=b)


@st.composite
def condition(draw, depth=0):
    atoms = [
        f"{draw(number())} {draw(st.sampled_from(['=', '!=', '<', '<=', '>', '>=']))} {draw(number())}",
        f"s {draw(st.sampled_from(['contains', 'starts with', 'ends with']))} {draw(st.sampled_from(STRINGS))}",
        "lower(s) contains any [" + draw(st.sampled_from(STRINGS)) + ', "b"]',
        f"s {draw(st.sampled_from(['in', 'not in']))} [" + draw(st.sampled_from(STRINGS)) + ', "a"]',
        f'e {draw(st.sampled_from(["=", "!="]))} {draw(st.sampled_from(LABELS))}',
        f"s matches {draw(st.sampled_from(REGEXES))}",
        "b", "b = false", f"{draw(st.sampled_from(['s', 'n', 'x', 't', 'account.size']))} is {draw(st.sampled_from(['missing', 'present']))}",
        f"t > 2024-05-{draw(st.integers(1, 31)):02d}T12:00:00Z", f"d <= 2024-05-{draw(st.integers(1, 31)):02d}",
        f"t >= d", f"n between {draw(st.integers(-5, 10))} and {draw(st.integers(10, 60))}",
        'domain(s) = "y.io"',
    ]
    if depth >= 2 or draw(st.booleans()):
        return draw(st.sampled_from(atoms))
    a, b = draw(condition(depth + 1)), draw(condition(depth + 1))
    return draw(st.sampled_from([f"({a} and {b})", f"({a} or {b})", f"not ({a})"]))


@st.composite
def policies(draw) -> str:
    lines = [SCHEMA]
    for i in range(draw(st.integers(0, 2))):
        lines.append(f"signal sig{i} = {draw(number())}")
    for name in ("fit", "eng"):
        clamp = draw(st.sampled_from(["", "clamp 0 to 100", "clamp -20 to 20"]))
        rules = []
        for r in range(draw(st.integers(1, 5))):
            points = draw(st.sampled_from(["+10", "-5", "+0.125", "+2.5", "-0.125", "+33"]))
            if draw(st.booleans()):
                rules.append(f"  r{r}: {points} when {draw(condition())}")
            else:
                cap = draw(st.sampled_from(["", ", max 20", ", max 0.5"]))
                rules.append(f"  r{r}: {points} per {draw(number())}{cap}")
        lines.append(f"score {name} {clamp} {{\n" + "\n".join(rules) + "\n}")
    lines.append(f"score total = 0.5 * fit + 0.25 * eng + {draw(number())}")
    lines.append("bands fit { high >= 20, mid >= 0, low otherwise }")
    lines.append("bands eng { high >= 10, low otherwise }")
    lines.append(f"criteria chk require {draw(st.integers(1, 2))} of {{\n  a: {draw(condition())}\n  b: {draw(condition())}\n}}")
    lines.append(f"disqualify {{\n  g1: {draw(condition())}\n  g2: {draw(condition())}\n}}")
    lines.append("matrix seg: eng by fit {\n       | low | mid | high\n  high | p   | q   | r\n  low  | s   | t   | u\n}")
    lines.append(f"classify stage {{\n  one when chk and {draw(condition())}\n  two when seg is r or chk.a\n  otherwise three\n}}")
    return "\n".join(lines) + "\n"


def _check(text):
    return checked(text, "random.lead")


# Spark plans each statement for seconds, so it sees fewer random policies in one run.
EXAMPLES = {
    "duckdb": int(os.environ.get("LEADLANG_RANDOM_EXAMPLES", "25")),
    "postgres": int(os.environ.get("LEADLANG_RANDOM_EXAMPLES", "25")),
    "spark": int(os.environ.get("LEADLANG_RANDOM_EXAMPLES_SPARK", "6")),
}


@pytest.mark.parametrize("engine_name", ["duckdb", "postgres", "spark"])
def test_random_policies_agree(engine_name, request):
    engine = request.getfixturevalue(f"{engine_name}_engine")

    @settings(max_examples=EXAMPLES[engine_name], deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.large_base_example])
    @given(policies(), st.integers(0, 10_000))
    def agree(text, seed):
        policy = _check(text)
        rows = make_rows(policy, seed, n_leads=30, n_events=150)
        try:
            evaluate(policy, *rows, AS_OF)
        except DataError as err:  # a value past the range: every engine stops too (language.md §21)
            assert "out of range" in str(err), err
            assert_refused(engine, policy, *rows)
            return
        assert_agree(engine, policy, *rows)

    agree()


def assert_refused(engine, policy, leads, accounts, events):
    tables = tables_for(policy, leads, accounts, events)
    mapping = catalog_safe(engine, tables)
    with pytest.raises(Exception) as err:
        engine.run(to_sql(policy, engine.name, AS_OF, mapping), tables)
    assert not isinstance(err.value, (AssertionError, TypeError, ValueError)), err.value
