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

import datetime as dt
import itertools
import random
import re
from decimal import Decimal
from types import SimpleNamespace

import pytest
from conftest import assert_one_statement_per_what, checked_signals
from datagen import AS_OF, make_rows
from engines import interpreted
from test_differential import assert_agree, assert_same_result, catalog_safe, tables_for

from leadlang.aggregates import AGGREGATES
from leadlang.interpret import evaluate
from leadlang.lint.analysis import Analysis
from leadlang.sql import DIALECTS, to_sql
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
            if column not in (None, "int") and form not in ("", " by account"):
                continue  # every form over int columns; the other kinds plain and rolled up by account (each Spark column costs seconds)
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


def test_by_account_reads_each_event_once_where_the_table_says_it_rolls_up():
    """An aggregate with a `rollup` (a decayed one: its `Decayed.rollup`) is computed `by account` from
    per-lead partials in the source's one per-lead pass (`__ag_`, then `__aa_` over its rows): no join of
    every event to its account (`__ae_`). One without (`active_days`) joins the events. The engines'
    agreement above checks the values; this checks the shape that makes it cost one scan of the events."""
    expressions = {name: expr for func, name, expr in _candidates()}
    for name, func in APPLIES.items():
        node = POLICY.signals[name].expr
        if not node.by_account:
            continue
        spec = AGGREGATES[func]
        rolls_up = (spec.rollup if node.half_life is None else spec.decayed.rollup) is not None
        one, _ = checked_signals(HEADER, [(func, "s", expressions[name])], "one.lead")
        sql = to_sql(one, "duckdb", AS_OF)
        assert ('"__aa_ev"' in sql, '"__ae_ev"' in sql) == (rolls_up, not rolls_up), name


# a series whose windows (7, 2 and 30 days, unbounded) cut the data's times at many places, one point the last one
SERIES = [AS_OF - dt.timedelta(days=9), AS_OF - dt.timedelta(days=2, hours=12), AS_OF - dt.timedelta(days=1), AS_OF]


def test_a_series_agrees_with_the_interpreter_at_every_point(engine):
    """`history`'s one statement gives every aggregate in every form at each point what the interpreter gives
    scoring at that point: the decomposable ones merged from per-(lead, interval) partials, the others from the
    events joined to the points."""
    leads, accounts, events = _rows(1)
    oracle = [row for rows in zip(*(evaluate(POLICY, leads, accounts, events, t).rows for t in SERIES)) for row in rows]
    tables = tables_for(POLICY, leads, accounts, events)
    with interpreted(engine):
        got = engine.run(to_sql(POLICY, engine.name, SERIES[0], catalog_safe(engine, tables), series=SERIES), tables)
    assert_same_result(POLICY, SimpleNamespace(rows=oracle, explain=[]), got, [], engine.name)


MIDNIGHTS = [AS_OF.replace(hour=0) - dt.timedelta(days=d) for d in (12, 5, 3, 2, 0)]  # whole days apart, irregularly
DAYS, DAY_SIGNALS = checked_signals(HEADER, [(f, n, e) for f, n, e in _candidates() if AGGREGATES[f].whole_days], "days.lead")


def _on_every_edge(seed: int):
    """`_rows`' events retimed onto the edges of midnight windows: every point, every point - window (the forms'
    7, 30 and 2 days), a microsecond either side, and noon of those dates, so some dates hold only the midnight
    instant and others that instant and later events too."""
    rng = random.Random(seed)
    us, noon = dt.timedelta(microseconds=1), dt.timedelta(hours=12)
    cuts = {p - dt.timedelta(days=w) for p in MIDNIGHTS for w in (0, 2, 7, 30)}
    moments = sorted({c + off for c in cuts for off in (dt.timedelta(0), us, -us, noon)} | {MIDNIGHTS[0] - dt.timedelta(days=90)})
    leads, accounts, events = _rows(seed)
    return leads, accounts, {"ev": [dict(e, at=rng.choice(moments)) for e in events["ev"]]}


def test_distinct_days_of_a_midnight_series_add_up_over_its_intervals(engine):
    """A series whose points are UTC midnights and whose windows are whole days counts distinct dates per
    interval [start, end) and adds them up (`day_intervals`): each row equals the interpreter's at its point, for
    `active_days` in every form (a lead's own and `by account`, windowed, filtered, unbounded), on events at
    every cut, a microsecond either side, and later on the same dates."""
    leads, accounts, events = _on_every_edge(3)
    oracle = [row for rows in zip(*(evaluate(DAYS, leads, accounts, events, t).rows for t in MIDNIGHTS)) for row in rows]
    moved = [name for name in DAY_SIGNALS if len({r[name] for r in oracle}) > 2]
    assert len(moved) == len(DAY_SIGNALS), set(DAY_SIGNALS) - set(moved)
    tables = tables_for(DAYS, leads, accounts, events)
    sql = to_sql(DAYS, engine.name, MIDNIGHTS[0], catalog_safe(engine, tables), series=MIDNIGHTS)
    assert "one row per UTC date of the interval" in sql and "SELECT e.*, cv." not in sql  # no event joined to its points
    with interpreted(engine):
        got = engine.run(sql, tables)
    assert_same_result(DAYS, SimpleNamespace(rows=oracle, explain=[]), got, [], engine.name)


def test_a_series_merges_partials_exactly_where_the_table_allows():
    """In a series, an aggregate whose `Rollup` merges exactly (no `half-life`, a rollup that is a lead's own
    value or is taken `by account`; with `half-life`, `by account`) is computed per lead or account and interval
    (`__ip_`), never by joining each event to the points its window holds; the others join each event to the
    points holding its interval (an equi-join, no range join of events). A `by account` aggregate whose total
    over any partials is exact is aggregated per account and interval, with no per-lead stage. The engines'
    agreement above checks the values."""
    expressions = {name: expr for func, name, expr in _candidates()}
    for name, func in APPLIES.items():
        node = POLICY.signals[name].expr
        spec = AGGREGATES[func]
        if node.half_life is None:
            rollup = spec.rollup
            merges = rollup is not None and (node.by_account or rollup.own)
        else:
            rollup = spec.decayed.rollup
            merges = rollup is not None and node.by_account and rollup.own
        one, _ = checked_signals(HEADER, [(func, "s", expressions[name])], "one.lead")
        sql = to_sql(one, "duckdb", AS_OF, series=SERIES)
        joined = 'JOIN "__cv_ev__1" cv ON cv."__iv" = e."__iv"' in sql
        assert ('"__ip_ev__1"' in sql, joined) == (merges, not merges), name
        if merges:
            pooled = node.by_account and rollup.own
            assert ('GROUP BY "__account", "__iv"' in sql, '"__ag_ev__1"' in sql) == (pooled, not pooled), name
        assert 'JOIN "__params" p ON e.' not in sql, name
