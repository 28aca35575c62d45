"""Every built-in function of `leadlang/builtins.py`, on every engine, against the interpreter.

The policy is generated from the table: each function applied to fields of every kind, at its
least number of arguments and one more, kept where the checker accepts it. Adding a function to
the table adds it here; the data (`datagen.make_rows`, plus a lead with every field missing) has
missing values in every field, so each function also meets missing arguments.
"""

from __future__ import annotations

import itertools

import pytest
from conftest import assert_one_statement_per_what, checked_signals
from datagen import AS_OF, make_rows
from test_differential import assert_agree

from leadlang.builtins import BUILTINS
from leadlang.interpret import evaluate
from leadlang.sql import DIALECTS
from leadlang.sql.dialects import Dialect

KINDS = ("string", "int", "number", "bool", "date", "timestamp")
HEADER = """policy builtins "Every built-in function"
  version "1"
  owner "tests"

leads from ref("stg_leads") key lead_id {
""" + "".join(f"  {k}_{i} {k}\n" for k in KINDS for i in (1, 2)) + "}\n\nlet emails = [\"ana@Acme.io\", \"bo@\", \"no-at\", \" pad@x.com \"]\n\n"


def _candidates():
    """(function, signal name, expression) for every function at its least arity and one more,
    over fields of every kind (a different field at each position)."""
    for fn in BUILTINS.values():
        arities = [n for n in (fn.min_args, fn.min_args + 1) if fn.max_args is None or n <= fn.max_args]
        for n in arities:
            for kinds in itertools.product(KINDS, repeat=n):
                args = ", ".join(f"{k}_{i % 2 + 1}" for i, k in enumerate(kinds))
                yield fn.name, f"{fn.name}_{'_'.join(kinds)}", f"{fn.name}({args})"


POLICY, APPLIES = checked_signals(HEADER, _candidates(), "builtins.lead")


def _rows(seed):
    leads, accounts, events = make_rows(POLICY, seed, n_leads=48)
    leads.append({name: None for name in POLICY.lead_types} | {"lead_id": "L-all-missing"})
    return leads, accounts, events


def test_every_function_is_generated_with_several_argument_types():
    for name in BUILTINS:
        assert sum(fn == name for fn in APPLIES.values()) >= 1, f"no expression of `{name}` type-checks"
    assert len(APPLIES) >= 3 * len(BUILTINS)


def test_every_function_gives_present_and_missing_values():
    """On the test data each function gives a value for some lead and is missing for another
    (an argument missing), so the comparison on the engines exercises both."""
    rows = evaluate(POLICY, *_rows(1), AS_OF).rows
    for name in BUILTINS:
        signals = [s for s, fn in APPLIES.items() if fn == name]
        assert any(r[s] is not None for r in rows for s in signals), name
        assert any(r[s] is None for r in rows for s in signals), name


@pytest.mark.parametrize("seed", [1, 2])
def test_engines_agree_with_the_interpreter(engine, seed):
    assert_agree(engine, POLICY, *_rows(seed))


@pytest.mark.parametrize("dialect", sorted(DIALECTS))
def test_every_dialect_compiles_every_function(dialect):
    """Every function spelling compiles to one statement the dialect's own parser reads."""
    assert_one_statement_per_what(POLICY, dialect, AS_OF)


def test_dialect_spellings_name_known_operations():
    """A spelling for a name no stage asks for is a typo; each template's placeholders are its arguments."""
    known = set(Dialect.FUNCTIONS) | set(BUILTINS)
    for d in DIALECTS.values():
        assert set(d.FUNCTIONS) <= known, d.name
        for name in d.FUNCTIONS:
            d.call(name, ["x0", "x1", "x2"])  # a placeholder beyond the arguments would raise
