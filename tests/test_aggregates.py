"""Every event aggregate of `leadlang/aggregates.py`, on every engine, against the interpreter.

The policy is generated from the table: each aggregate over no column and over a column of every
kind, in every form an aggregate takes (event names, `where`, a window, `half-life`, `by account`,
and all of them at once), kept where the checker accepts it. Adding an aggregate to the table adds
it here. The data (`datagen.make_rows`) puts events on, just inside and just outside every window,
after the as-of time, with every column sometimes missing, leads with no events and leads with no
account, so each aggregate also meets missing values and empty windows. One scoring and one
explanation query per engine (the engines start once per session: Spark pays two queries).
"""

from __future__ import annotations

import itertools
import re
from decimal import Decimal

import pytest
from conftest import assert_one_statement_per_what, checked_signals
from datagen import AS_OF, make_rows
from engines import interpreted
from test_differential import assert_agree

from leadlang.aggregates import AGGREGATES
from leadlang.interpret import evaluate
from leadlang.lint.analysis import Analysis
from leadlang.sql import DIALECTS
from leadlang.syntax.grammar import grammar_path

KINDS = ("string", "int", "number", "bool", "date", "timestamp")
FORMS = (
    "",
    ' "view"',
    " where bool_1",
    " in last 7 days",
    " half-life 3 days",
    ' ["view", "click"] where int_1 > 0 in last 30 days half-life 5 days by account',
    " by account",
    " in last 2 days by account",
)
HEADER = """policy aggregates "Every event aggregate"
  version "1"
  owner "tests"

leads from ref("stg_leads") key lead_id account account_id {
  plan string
}

events ev from ref("stg_events") {
  lead lead_id
  at   at
  name name
""" + "".join(f"  {k}_1 {k}\n" for k in KINDS) + "}\n\n"


def _candidates():
    """(aggregate, signal name, expression) for every aggregate over no column and each column kind,
    in every form over no column and an int column."""
    for agg in AGGREGATES.values():
        for column, (n, form) in itertools.product((None, *KINDS), enumerate(FORMS)):
            if column not in (None, "int") and n > 0:
                continue  # every form over int columns; the other kinds plain (each Spark column costs seconds)
            source = "ev" if column is None else f"ev.{column}_1"
            yield agg.name, f"{agg.name}_{column or 'events'}_{n}", f"{agg.name}({source}{form})"


POLICY, APPLIES = checked_signals(HEADER, _candidates(), "aggregates.lead")


def _rows(seed):
    return make_rows(POLICY, seed, n_leads=40, n_events=300)


def test_every_aggregate_is_generated_in_every_form():
    for agg in AGGREGATES.values():
        mine = [s for s, a in APPLIES.items() if a == agg.name]
        forms = {int(s.rsplit("_", 1)[1]) for s in mine}
        want = {n for n, form in enumerate(FORMS) if "half-life" not in form or agg.decayed is not None}
        assert forms == want, agg.name
        if agg.columns is not None:  # a column of each kind it takes
            assert {s.split("_")[-2] for s in mine} >= {"int", "number"}, agg.name


def test_every_aggregate_gives_present_empty_and_missing_values():
    """Each aggregate is computed over matching events for some lead and over none for another: its
    empty value (0) or missing, as its entry says; lint's "may be missing" says the same."""
    rows = evaluate(POLICY, *_rows(1), AS_OF).rows
    for agg in AGGREGATES.values():
        signals = [s for s, a in APPLIES.items() if a == agg.name]
        values = [r[s] for r in rows for s in signals]
        assert any(v is not None and v != agg.empty for v in values), agg.name
        assert agg.empty in values, agg.name  # no events in the window: 0 or missing


def test_lint_ranges_and_missingness_hold_on_the_values():
    """Lint's answers from the table hold on every value the interpreter gives: a signal lint calls
    never missing is never missing, and every numeric value lies in lint's range for it."""
    analysis = Analysis(POLICY)
    for seed in (1, 2):
        rows = evaluate(POLICY, *_rows(seed), AS_OF).rows
        for name in APPLIES:
            expr = POLICY.signals[name].expr
            values = [r[name] for r in rows]
            if not analysis.maybe_missing(expr):
                assert None not in values, name
            r = analysis.value_range(expr)
            for v in values:
                if isinstance(v, (int, Decimal)) and not isinstance(v, bool):
                    assert r.low <= v <= r.high, (name, v, r)


def test_the_grammar_knows_every_aggregate():
    text = grammar_path().read_text(encoding="utf-8")
    names = re.search(r"^AGGREGATE\.\d+: /\(([\w|]+)\)", text, re.M).group(1).split("|")
    assert sorted(names) == sorted(AGGREGATES)


@pytest.mark.parametrize("seed", [1])
def test_engines_agree_with_the_interpreter(engine, seed):
    with interpreted(engine):  # Spark: no per-query Java compilation (tests/engines.py); test_differential keeps it
        assert_agree(engine, POLICY, *_rows(seed))


@pytest.mark.parametrize("dialect", sorted(DIALECTS))
def test_every_dialect_compiles_every_aggregate(dialect):
    """Every aggregate in every form compiles to one statement the dialect's own parser reads."""
    assert_one_statement_per_what(POLICY, dialect, AS_OF)
